"""The outbox export: files written aside and renamed, a manifest written last; a kill -9 in the middle
of an export leaves every manifested day complete and nothing else presented as ready."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from orchestration.recall import export
from orchestration.recall.export import (
    MANIFEST_SUFFIX,
    PARTIAL_SUFFIX,
    export_day,
    manifest_path,
    read_manifest,
    ready_days,
    remove_partials,
    verify_day,
)

REPO = Path(__file__).resolve().parents[1]
DAY = date(2026, 1, 5)


def frame(rows: int, tag: str = "a") -> pd.DataFrame:
    return pd.DataFrame({"action_id": [f"{tag}{i}" for i in range(rows)], "step": 1, "channel": "push"})


def files_of(day: date) -> set[str]:
    stem = day.isoformat()
    return {f"{stem}.parquet", f"{stem}.csv", f"holdout/{stem}.parquet", f"holdout/{stem}.csv"}


def test_a_day_is_written_with_its_manifest_last(tmp_path):
    written = export_day(tmp_path, DAY, {DAY.isoformat(): frame(3), f"holdout/{DAY}": frame(2, "c")})
    manifest = read_manifest(tmp_path, DAY)
    assert {f["name"] for f in manifest["files"]} == files_of(DAY) == {f.name for f in written}
    rows = {f["name"]: f["rows"] for f in manifest["files"]}
    assert rows[f"{DAY}.parquet"] == 3 and rows[f"holdout/{DAY}.csv"] == 2
    assert pd.read_parquet(tmp_path / f"{DAY}.parquet")["action_id"].tolist() == ["a0", "a1", "a2"]
    assert verify_day(tmp_path, DAY) == [] and ready_days(tmp_path) == [DAY]
    # The manifest is the newest file of the day: written after everything it lists.
    newest = max((tmp_path / name).stat().st_mtime_ns for name in files_of(DAY))
    assert manifest_path(tmp_path, DAY).stat().st_mtime_ns >= newest
    assert not list(tmp_path.rglob(f"*{PARTIAL_SUFFIX}"))


def _zoned(times: list[str | None], zone: str) -> pd.Series:
    utc = pd.Series(pd.to_datetime(times, format="ISO8601")).dt.tz_localize("UTC")
    return utc.dt.tz_convert(zone).astype(f"datetime64[us, {zone}]")


@pytest.mark.parametrize("zone", ["UTC", "Etc/UTC", "America/New_York", "Asia/Kolkata", "America/St_Johns"])
@pytest.mark.parametrize("times", [
    ["2026-03-08 06:59:59.5", "2026-03-08 07:00:00", None, "2026-11-01 05:30:00.000001"],  # DST, microseconds
    ["2026-03-08 06:59:59", "2026-03-08 07:00:00", None, "1969-12-31 23:59:59"],  # whole seconds
    ["2026-03-08 06:59:59.5", None, "2026-03-08 07:00:00.123"],  # milliseconds are enough
    [None, None], [],
])
def test_the_csv_writes_zoned_times_as_pandas_writes_them(tmp_path, zone, times):
    """The CSV's text is the delivery side's contract: the zoned times are formatted a column at a time, and the
    file is the very file pandas writes from the frame itself."""
    rows = pd.DataFrame({"scheduled_at": _zoned(times, zone), "step": range(len(times)),
                         "journey_started_at": _zoned(times, "UTC")})
    export_day(tmp_path, DAY, {DAY.isoformat(): rows})
    assert (tmp_path / f"{DAY}.csv").read_text() == rows.to_csv(index=False)


def test_a_changed_file_no_longer_verifies(tmp_path):
    export_day(tmp_path, DAY, {DAY.isoformat(): frame(3)})
    (tmp_path / f"{DAY}.csv").write_text("action_id\nforged\n")
    assert verify_day(tmp_path, DAY) == [f"{DAY}.csv: differs from the manifest"]
    (tmp_path / f"{DAY}.parquet").unlink()
    assert f"{DAY}.parquet: listed but missing" in verify_day(tmp_path, DAY)


def test_a_failed_re_export_withdraws_the_day_instead_of_mixing_versions(tmp_path, monkeypatch):
    export_day(tmp_path, DAY, {DAY.isoformat(): frame(3)})
    real = export._write_aside
    calls = []

    def fail_on_second_file(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 2:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(export, "_write_aside", fail_on_second_file)
    with pytest.raises(OSError):
        export_day(tmp_path, DAY, {DAY.isoformat(): frame(5, "new")})
    # The new Parquet replaced the old one, the CSV is still the old one: the day must not be ready.
    assert read_manifest(tmp_path, DAY) is None and ready_days(tmp_path) == []
    monkeypatch.setattr(export, "_write_aside", real)
    export_day(tmp_path, DAY, {DAY.isoformat(): frame(5, "new")})
    assert verify_day(tmp_path, DAY) == [] and pd.read_csv(tmp_path / f"{DAY}.csv")["action_id"].iloc[0] == "new0"


def test_remove_partials_deletes_only_unfinished_files(tmp_path):
    export_day(tmp_path, DAY, {DAY.isoformat(): frame(1), f"holdout/{DAY}": frame(1)})
    leftovers = [tmp_path / f".{DAY}.csv.123{PARTIAL_SUFFIX}", tmp_path / "holdout" / f".{DAY}.csv.9{PARTIAL_SUFFIX}"]
    for path in leftovers:
        path.write_text("half a file")
    assert sorted(remove_partials(tmp_path)) == sorted(leftovers)
    assert verify_day(tmp_path, DAY) == [] and not any(p.exists() for p in leftovers)


EXPORTER = """
import sys
from datetime import date, timedelta
from pathlib import Path
import numpy as np
import pandas as pd
from orchestration.recall.export import export_day

out, first, big = Path(sys.argv[1]), date.fromisoformat(sys.argv[2]), int(sys.argv[3])
def rows(n, day):
    return pd.DataFrame({"action_id": [f"{day}_{i}" for i in range(n)], "step": np.ones(n, dtype=int),
                         "message": ["a long enough rendered message to make the CSV slow to write"] * n})
for k, n in enumerate([50, 50, big]):
    day = first + timedelta(days=k)
    export_day(out, day, {day.isoformat(): rows(n, day), f"holdout/{day}": rows(n // 10 + 1, day)})
    print(f"exported {day}", flush=True)
"""


def test_kill_9_during_an_export_leaves_every_manifested_day_complete(tmp_path):
    out = tmp_path / "outbox"
    big_day = DAY + timedelta(days=2)
    proc = subprocess.Popen([sys.executable, "-c", EXPORTER, str(out), DAY.isoformat(), "2000000"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first_file = out / f"{big_day}.parquet"
    try:
        deadline = time.monotonic() + 120
        while not first_file.exists():  # the first file of the large day is in place: kill mid-export
            assert proc.poll() is None, f"exporter ended early: {proc.stderr.read()}"
            assert time.monotonic() < deadline, "the large day's first file never appeared"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert big_day not in ready_days(out), "the export finished before the kill: make the large day larger"

    # Every day with a manifest is complete; the killed day is not presented as ready.
    assert ready_days(out) == [DAY, DAY + timedelta(days=1)]
    for day in ready_days(out):
        assert verify_day(out, day) == []
    listed = {e["name"] for day in ready_days(out) for e in read_manifest(out, day)["files"]}
    finals = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")}
    unlisted = finals - listed - {f"{day}{MANIFEST_SUFFIX}" for day in ready_days(out)}
    # What is not listed belongs to the killed day, which has no manifest (the delivery side ignores it).
    assert unlisted and {name.split("/")[-1].split(".")[0] for name in unlisted} == {big_day.isoformat()}
    hidden = [p for p in out.rglob(".*") if p.is_file()]
    assert all(p.name.endswith(PARTIAL_SUFFIX) for p in hidden)

    # The next export cleans up and completes the day.
    remove_partials(out)
    export_day(out, big_day, {big_day.isoformat(): frame(4), f"holdout/{big_day}": frame(1)})
    assert verify_day(out, big_day) == [] and not list(out.rglob(f"*{PARTIAL_SUFFIX}"))
    assert json.loads(manifest_path(out, big_day).read_text())["day"] == big_day.isoformat()
