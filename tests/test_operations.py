"""Operations through real runs on a small simulated world: BI readers never break a run and always
read one complete version, bi/ holds no personal data, a warehouse of the previous version is upgraded
with its outbox history intact, a killed run is marked failed by the next one, a bad strategy library
or a lock on the warehouse stops a run before it writes (in one line), and runs leave no per-run
folders behind."""

from __future__ import annotations

import gc
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from orchestration.bi import BI_TABLES, DATABASE, SNAPSHOT_TABLE
from orchestration.config import Settings
from orchestration.recall.export import ready_days, verify_day
from orchestration.runner import failure_messages, run_days
from orchestration.simulator import SimulationConfig, simulate, write_world
from orchestration.warehouse.migrations import MIGRATIONS
from tests.previous_schema import PREVIOUS_SCHEMA, downgrade_to_previous_schema

pytestmark = pytest.mark.duration(200)  # builds its world through the pipeline: scheduled first
REPO = Path(__file__).resolve().parents[1]
WORLD = SimulationConfig(n_users=300, n_days=34, seed=5, campaign_every_days=10)
START = WORLD.start_date
HISTORY_LAST = START + timedelta(days=21)  # the history: one backfill run up to here
FAST_DAYS = [HISTORY_LAST + timedelta(days=k) for k in (1, 2)]
SLOW_DAYS = [HISTORY_LAST + timedelta(days=k) for k in range(1, 11)]


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ops_world")
    write_world(simulate(WORLD), root / "landing", root / "truth")
    return root


def settings_for(home: Path, world: Path, **overrides) -> Settings:
    return Settings.under(home, landing=world / "landing", truth=world / "truth", **overrides)


@pytest.fixture(scope="module")
def history(tmp_path_factory, world) -> Path:
    home = tmp_path_factory.mktemp("ops_history")
    assert run_days(settings_for(home, world), START, HISTORY_LAST).success
    return home


def copy_home(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("dbt"))
    return target


# ------------------------------------------------------------------------------- readers during runs

READER = r"""
import duckdb, json, sys, time
from pathlib import Path

mode, bi, warehouse, stop, out = sys.argv[1], Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4]), Path(sys.argv[5])

def read(con, parquet=False):
    snap = con.execute("select snapshot_id, latest_day, table_name, row_count, location from bi_snapshot").fetchall()
    problems = []
    if len({row[0] for row in snap}) != 1:
        problems.append(f"several snapshot ids: {sorted({row[0] for row in snap})}")
    for _, _, table, rows, location in snap:
        found = con.execute(f'select count(*) from "{table}"').fetchall()[0][0]
        if found != rows:
            problems.append(f"{table}: {found} rows, the snapshot says {rows}")
        if parquet and rows:  # the version's Parquet folder, as a tool reading Parquet would
            files = duckdb.sql(f"select count(*) from read_parquet('{location}/**/*.parquet')").fetchall()[0][0]
            if files != rows:
                problems.append(f"{location}: {files} rows, the snapshot says {rows}")
    tiers = con.execute("select max(tier_date) from risk_tiers").fetchall()[0][0]
    daily = con.execute("select max(report_date) from churn_health_daily").fetchall()[0][0]
    if not tiers == daily == snap[0][1]:
        problems.append(f"latest days disagree: tiers {tiers}, churn_health_daily {daily}, snapshot {snap[0][1]}")
    return {"snapshot": snap[0][0], "tables": sorted(row[2] for row in snap), "problems": problems}

with out.open("w") as log:
    def write(entry):
        log.write(json.dumps(entry, default=str) + "\n")
        log.flush()
    if mode == "hold":  # one connection through every run
        con = duckdb.connect(str(bi / "bi.duckdb"), read_only=True)
        while not stop.exists():
            try:
                write(read(con))
            except Exception as exc:
                write({"error": repr(exc)})
            time.sleep(0.2)
    elif mode == "reconnect":  # a new connection every second, and the version's Parquet files read
        while not stop.exists():
            try:
                with duckdb.connect(str(bi / "bi.duckdb"), read_only=True) as con:
                    entry = read(con, parquet=True)
                write(entry)
            except Exception as exc:
                write({"error": repr(exc)})
            time.sleep(1)
    else:  # a careless tool that reconnects to the warehouse itself every second
        while not stop.exists():
            try:
                with duckdb.connect(warehouse, read_only=True) as con:
                    con.execute("select count(*) from recall_actions").fetchall()
                write({"warehouse": "read"})
            except Exception as exc:
                write({"warehouse": "locked" if "lock" in str(exc) else repr(exc)})
            time.sleep(1)
"""


@dataclass
class ReadersRun:
    home: Path
    runs_succeeded: list[bool]
    failures: list[str]
    reads: dict[str, list[dict]]
    final_snapshot: str
    dirs_after_each_run: list[set[str]]
    files_after_each_run: list[set[str]]
    leftover_temp: list[str]


def run_with_readers(home: Path, world: Path, days: list[date], tmp: Path, monkeypatch) -> ReadersRun:
    settings = settings_for(home, world)
    stop, logs = tmp / "stop", {mode: tmp / f"{mode}.jsonl" for mode in ("hold", "reconnect", "warehouse")}
    readers = {
        mode: subprocess.Popen([sys.executable, "-c", READER, mode, str(settings.bi_dir), str(settings.warehouse),
                                str(stop), str(log)], stderr=subprocess.PIPE, text=True)
        for mode, log in logs.items()
    }
    scratch = tmp / "tempdir"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # what the runs leave in the temp folder
    try:
        deadline = time.monotonic() + 60
        while not all(log.exists() and log.read_text().strip() for log in logs.values()):
            assert time.monotonic() < deadline, "the readers did not start"
            time.sleep(0.1)
        succeeded, failures, dirs, files = [], [], [], []
        for day in days:
            result = run_days(settings, day, day, raise_on_error=False, log_level="CRITICAL")
            succeeded.append(result.success)
            failures.extend(f"{day}: {message}" for message in failure_messages(result))
            dirs.append({p.relative_to(home).as_posix() for p in home.rglob("*") if p.is_dir()})
            files.append({p.relative_to(home).as_posix() for p in home.rglob("*") if p.is_file()})
        with duckdb.connect(str(settings.bi_dir / DATABASE), read_only=True) as con:
            final = con.execute(f"select any_value(snapshot_id) from {SNAPSHOT_TABLE}").fetchall()[0][0]
        deadline = time.monotonic() + 30  # let the reconnecting reader see the last version too
        while final not in logs["reconnect"].read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.touch()
        for reader in readers.values():
            try:
                reader.wait(timeout=30)
            except subprocess.TimeoutExpired:
                reader.kill()
        monkeypatch.undo()
    for mode, reader in readers.items():
        assert reader.returncode == 0, f"reader {mode} crashed: {reader.stderr.read()}"
    reads = {mode: [json.loads(line) for line in log.read_text().splitlines()] for mode, log in logs.items()}
    gc.collect()  # Dagster's in-memory instance of each run keeps a temporary folder while it is referenced
    leftover = sorted(p.name for p in scratch.iterdir())
    return ReadersRun(home, succeeded, failures, reads, final, dirs, files, leftover)


def assert_readers_saw_complete_versions(result: ReadersRun) -> None:
    assert result.runs_succeeded and all(result.runs_succeeded), f"runs: {result.runs_succeeded}: {result.failures}"
    expected_tables = sorted(table.name for table in BI_TABLES)
    for mode in ("hold", "reconnect"):
        reads = result.reads[mode]
        assert reads, f"{mode}: no reads"
        assert [r for r in reads if "error" in r or r["problems"]] == [], f"{mode}: a read saw no complete version"
        assert all(r["tables"] == expected_tables for r in reads)
    # The held connection keeps the version it opened; the reconnecting reader follows the new ones.
    assert len({r["snapshot"] for r in result.reads["hold"]}) == 1
    seen = [r["snapshot"] for r in result.reads["reconnect"]]
    assert len(set(seen)) >= 2 and seen[-1] == result.final_snapshot
    # The careless reader of the warehouse was shut out while runs held the file, and broke nothing.
    assert any(r["warehouse"] == "locked" for r in result.reads["warehouse"])


@pytest.fixture(scope="module")
def readers_run(tmp_path_factory, history, world) -> ReadersRun:
    home = copy_home(history, tmp_path_factory.mktemp("ops_readers") / "home")
    with pytest.MonkeyPatch.context() as monkeypatch:
        return run_with_readers(home, world, FAST_DAYS, tmp_path_factory.mktemp("ops_readers_io"), monkeypatch)


def test_bi_readers_never_break_a_run_and_read_one_complete_version(readers_run):
    assert_readers_saw_complete_versions(readers_run)


@pytest.mark.slow
def test_bi_readers_through_ten_daily_runs(tmp_path, history, world):
    home = copy_home(history, tmp_path / "home")
    with pytest.MonkeyPatch.context() as monkeypatch:
        result = run_with_readers(home, world, SLOW_DAYS, tmp_path, monkeypatch)
    assert len(result.runs_succeeded) == 10
    assert_readers_saw_complete_versions(result)


def test_after_daily_runs_bi_holds_the_warehouses_rows(readers_run):
    """Each publication rewrote every day its run changed (the run's days, their late rows' days, the measurement's)
    and shared the rest: every table of bi/ equals its warehouse table, column for column."""
    with duckdb.connect() as con:
        con.execute(f"attach '{readers_run.home / 'warehouse.duckdb'}' as warehouse (read_only)")
        con.execute(f"attach '{readers_run.home / 'bi' / DATABASE}' as bi (read_only)")
        for table in BI_TABLES:
            columns = ", ".join(f'"{column}"' for column in table.columns)
            kept, published = f'select {columns} from warehouse.main."{table.source}"', f'select {columns} from bi."{table.name}"'
            differ = con.execute(f"select (select count(*) from ({kept} except all {published})), "
                                 f"(select count(*) from ({published} except all {kept})), (select count(*) from ({kept}))"
                                 ).fetchall()[0]
            assert differ[:2] == (0, 0) and differ[2] > 0, (table.name, differ)


# ----------------------------------------------------------------------------------- bi/ contents


def string_cells(con: duckdb.DuckDBPyConnection, relation: str) -> set[str]:
    """Every non-null value of every column of `relation`, as text (one scan: the columns unpivoted)."""
    rows = con.execute(f"select distinct value from (unpivot (select columns(*)::varchar from {relation}) "
                       "on columns(*) into name name value value)").fetchall()
    return {value for (value,) in rows}


def parquet_cells(path: Path) -> set[str]:
    """string_cells of a Parquet file (read with Arrow: a DuckDB query per small file costs more than the file)."""
    cells: set[str] = set()
    for column in pq.read_table(path).columns:
        cells.update(pc.unique(pc.drop_null(column.cast(pa.string()))).to_pylist())
    return cells


def test_bi_holds_no_phone_nickname_or_message(readers_run, world):
    bi = readers_run.home / "bi"
    with duckdb.connect() as con:
        users = con.execute(f"select distinct phone, nickname from read_parquet('{world}/landing/*/users.parquet')").fetchall()
    with duckdb.connect(str(readers_run.home / "warehouse.duckdb"), read_only=True) as con:
        messages = {m for (m,) in con.execute(
            "select distinct message from restricted.recall_messages where message is not null").fetchall()}
        codes = {c for (c,) in con.execute("select distinct coupon_code from recall_actions where coupon_code is not null").fetchall()}
    phones, nicknames = {p for p, _ in users if p}, {n for _, n in users if n}
    assert len(phones) > 200 and len(nicknames) > 200 and len(messages) > 10
    # Every phone and nickname ends in an anchor the search can find (then a needle inside a longer text is one of
    # the anchor's candidates): one pass per text instead of one per needle.
    assert all(PHONE.fullmatch(p) for p in phones) and all(NICKNAME_END.search(n) for n in nicknames)

    # Every file of bi/: each version's database and Parquet files, its manifest, whatever else is there.
    files = sorted(p for p in bi.rglob("*") if p.is_file())
    assert {p.suffix for p in files} == {".duckdb", ".parquet", ".json"}, sorted({p.name for p in files})
    scanned: dict[str, set[str]] = {}
    for path in files:
        where = path.relative_to(bi).as_posix()
        if path.suffix == ".duckdb":
            with duckdb.connect(str(path), read_only=True) as con:
                for (table,) in con.execute("select table_name from information_schema.tables").fetchall():
                    scanned[f"{where}:{table}"] = string_cells(con, f'"{table}"')
        elif path.suffix == ".parquet":
            scanned[where] = parquet_cells(path)
        else:
            scanned[where] = {path.read_text()}
    versions = {p.parent.name for p in bi.glob("versions/*/bi.duckdb")}
    assert len(versions) == 3  # the history's version and one per daily run
    for table in BI_TABLES:  # every table scanned in every version, in bi.duckdb and as Parquet
        assert {f"versions/{v}/bi.duckdb:{table.name}" for v in versions} <= set(scanned)
        assert {v for v in versions if any(w.startswith(f"versions/{v}/{table.name}/") for w in scanned)} == versions
    for where, cells in scanned.items():
        text = "\n".join(cells)
        assert not cells & (phones | nicknames | messages | codes), where
        assert not embedded(text, PHONE, phones), f"{where}: a phone number"
        assert not embedded(text, NICKNAME_END, nicknames), f"{where}: a nickname"


PHONE = re.compile(r"\+861\d{10}")  # the simulator's phone numbers
NICKNAME_END = re.compile(r"_\d{4}$")  # the simulator's nicknames end so


def embedded(text: str, anchor: re.Pattern, needles: set[str]) -> set[str]:
    """The needles found anywhere in `text`, every needle ending in a match of `anchor`: at each place the anchor
    (without its `$`) matches, the text ending there is tried at every needle length."""
    lengths = {len(n) for n in needles}
    found = set()
    for match in re.finditer(anchor.pattern.rstrip("$"), text):
        end = match.end()
        found.update(text[end - k:end] for k in lengths if end >= k)
    return found & needles


def test_bi_tables_hold_the_warehouse_rows_and_allowed_columns(readers_run):
    """After a backfill and daily runs that each rewrote only their days, every table of bi/ equals
    its warehouse table, row for row (the incremental publication missed no changed day)."""
    bi_dir, warehouse = readers_run.home / "bi", readers_run.home / "warehouse.duckdb"
    with duckdb.connect() as con:
        con.execute(f"attach '{bi_dir / DATABASE}' as bi (read_only)")
        con.execute(f"attach '{warehouse}' as wh (read_only)")
        snapshot = {t: (rows, day) for t, rows, day in con.execute(
            f"select table_name, row_count, latest_day from bi.{SNAPSHOT_TABLE}").fetchall()}
        for table in BI_TABLES:
            columns = [c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_catalog = 'bi' and table_name = ? "
                "order by ordinal_position", [table.name]).fetchall()]
            assert columns == list(table.columns)
            listed = ", ".join(f'"{c}"' for c in table.columns)
            count, = con.execute(f"select count(*) from wh.{table.source}").fetchall()[0]
            assert snapshot[table.name][0] == count > 0, table.name
            for left, right in (("bi." + table.name, "wh." + table.source), ("wh." + table.source, "bi." + table.name)):
                differ = con.execute(f"select count(*) from (select {listed} from {left} except all "
                                     f"select {listed} from {right})").fetchall()[0][0]
                assert differ == 0, f"{left} has {differ} rows that {right} has not"
        tiers_by_stage = con.execute("select lifecycle_stage, count(*) from bi.risk_tiers where tier_date = ? group by 1",
                                     [FAST_DAYS[-1]]).fetchall()
        stages = con.execute("select lifecycle_stage, users from bi.churn_health_stages where report_date = ?",
                             [FAST_DAYS[-1]]).fetchall()
    assert {day for _, day in snapshot.values()} == {FAST_DAYS[-1]}
    assert sorted(stages) == sorted(tiers_by_stage) and sum(n for _, n in stages) > 250


def test_runs_leave_no_per_run_folders_or_temporary_files(readers_run):
    def outside_versions(paths: set[str]) -> set[str]:
        return {p for p in paths if not p.startswith("bi/versions/")}

    first, second = readers_run.dirs_after_each_run
    assert outside_versions(first) == outside_versions(second), f"new folders: {sorted(second - first)}"
    new_files = outside_versions(readers_run.files_after_each_run[1] - readers_run.files_after_each_run[0])
    day = FAST_DAYS[1].isoformat()
    # Per business day by design: the outbox files and manifest, and the dated report.
    expected = {f"outbox/{day}.parquet", f"outbox/{day}.csv", f"outbox/{day}.manifest.json",
                f"outbox/holdout/{day}.parquet", f"outbox/holdout/{day}.csv", f"reports/recall_report_{day}.html"}
    assert new_files == expected
    # One BI version per run, of which the newest few are kept (a version shares its unchanged days).
    versions = [{p.split("/")[2] for p in files if p.startswith("bi/versions/")}
                for files in readers_run.dirs_after_each_run]
    assert len(versions[1] - versions[0]) == 1 and len(versions[1]) <= Settings.model_fields["bi_keep_versions"].default
    assert not [f for f in readers_run.files_after_each_run[1] if ".partial" in f]  # nothing half written
    assert not [f for f in readers_run.files_after_each_run[1] if f.startswith("bi/pending")]  # nothing owed
    assert readers_run.leftover_temp == []


# ------------------------------------------------------------- upgrade, killed run, the command line


def cli(home: Path, world: Path, dagster_home: Path, day: date) -> subprocess.Popen:
    """`churn-recall run <day>` as an operator types it, with a persistent Dagster instance."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CHURN_RECALL_")},
           "CHURN_RECALL_HOME": str(home), "CHURN_RECALL_LANDING": str(world / "landing"),
           "CHURN_RECALL_TRUTH": str(world / "truth"), "DAGSTER_HOME": str(dagster_home)}
    return subprocess.Popen([sys.executable, "-m", "orchestration.cli", "run", day.isoformat()], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def kill_inside_a_step(process: subprocess.Popen, dagster_home: Path) -> str:
    """Wait until the process's run has started a step, kill -9 it; the run's id."""
    instance = dg.DagsterInstance.from_config(str(dagster_home))
    deadline = time.monotonic() + 300
    try:
        while True:
            assert process.poll() is None, f"the run ended before it could be killed: {process.communicate()}"
            assert time.monotonic() < deadline, "the run never started a step"
            started = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
            if started and instance.get_records_for_run(started[0].run_id, of_type=dg.DagsterEventType.STEP_START).records:
                break
            time.sleep(0.2)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    return started[0].run_id


def test_a_previous_version_warehouse_is_upgraded_and_a_killed_run_marked_failed_by_the_next(
    tmp_path, history, world, readers_run
):
    """What an operator does after pulling the new code: `churn-recall run` on the old warehouse (no
    `make clean`); that run is killed; the next one marks it failed, completes, and keeps the history."""
    home = copy_home(history, tmp_path / "home")
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        downgrade_to_previous_schema(con)
        before = con.execute("select * from recall_actions order by action_id").df()
    assert len(before) > 100 and before["status"].eq("queued").any()
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    day = FAST_DAYS[0]

    killed_id = kill_inside_a_step(cli(home, world, dagster_home, day), dagster_home)
    instance = dg.DagsterInstance.from_config(str(dagster_home))
    assert instance.get_run_by_id(killed_id).status == dg.DagsterRunStatus.STARTED  # what Dagster alone leaves

    out, err = cli(home, world, dagster_home, day).communicate(timeout=900)
    assert f"pipeline run {day}..{day}: success" in out, f"{out}\n{err}"
    instance = dg.DagsterInstance.from_config(str(dagster_home))
    assert instance.get_run_by_id(killed_id).status == dg.DagsterRunStatus.FAILURE
    # the day's run, then the next day's model refits (orchestration/defs/refits)
    assert [(r.job_name, r.status) for r in instance.get_runs() if r.run_id != killed_id] == [
        ("model_refits", dg.DagsterRunStatus.SUCCESS), ("daily_pipeline", dg.DagsterRunStatus.SUCCESS)]
    assert f"run {killed_id} was left STARTED" in err

    # The upgrade kept the outbox history, and the day is decided from it as if no upgrade had happened.
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        log = con.execute("select version from schema_migrations order by version").fetchall()
        kept = con.execute("select * from recall_actions where action_date <= ? order by action_id",
                           [HISTORY_LAST]).df()
        upgraded_day = con.execute("select * from recall_actions where action_date = ? order by action_id", [day]).df()
        moved = con.execute("select action_id, message from restricted.recall_messages "
                            "where action_date <= ? order by action_id", [HISTORY_LAST]).df()
    assert [v for (v,) in log] == [m.version for m in MIGRATIONS]
    # Every column but the rendered message is kept in place; the messages moved, one per action.
    previous_columns = [part.split()[0] for part in PREVIOUS_SCHEMA["recall_actions"].split(", ")
                        if part.split()[0] != "message"]
    pd.testing.assert_frame_equal(kept[previous_columns], before[previous_columns])
    had_message = before[before["message"].notna()][["action_id", "message"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(moved.reset_index(drop=True), had_message, check_dtype=False)
    with duckdb.connect(str(readers_run.home / "warehouse.duckdb"), read_only=True) as con:
        expected_day = con.execute("select * from recall_actions where action_date = ? order by action_id", [day]).df()
    assert len(upgraded_day) > 0
    pd.testing.assert_frame_equal(upgraded_day[previous_columns], expected_day[previous_columns])
    assert ready_days(home / "outbox")[-1] == day
    assert [problem for past in ready_days(home / "outbox") for problem in verify_day(home / "outbox", past)] == []

    # The command line printed our progress and result: no line of dbt, dagster-dbt or Great Expectations.
    lines = out.splitlines()
    assert lines[0].startswith("running ") and lines[2].startswith("models for ") and len(lines) == 3
    progress = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}   \S")
    assert [line for line in err.splitlines() if not progress.match(line)] == []
    assert "bi_snapshot done in" in err and "dbt_daily_models done in" in err
    for noise in ("subsetted execution", "ephemeral docs site", "Running with dbt", "Telemetry", "\x1b["):
        assert noise not in out + err


# --------------------------------------------------------------------------- before anything is written


def test_a_broken_strategy_library_stops_the_run_before_anything_is_written(tmp_path, world):
    library = tmp_path / "strategies.yml"
    text = (REPO / "orchestration" / "recall" / "strategies.yml").read_text()
    library.write_text(text.replace("channel: push", "channel: pigeon", 1))
    home = tmp_path / "home"
    result = run_days(settings_for(home, world, strategies=library), FAST_DAYS[0], FAST_DAYS[0],
                      raise_on_error=False, log_level="CRITICAL")
    assert not result.success
    [message] = failure_messages(result)
    assert message.startswith("run start: the run did not start (nothing was written)")
    assert str(library) in message and "pigeon" in message and "(line " in message
    assert not home.exists()  # no warehouse, outbox, bi/ or dbt folder
    assert not [e for e in result.all_events if e.event_type_value == "STEP_START"]


HOLDER = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1], read_only=True)
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
"""


def hold(path: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    return holder


def test_a_lock_on_the_warehouse_is_explained_in_one_line_naming_the_holder(tmp_path, history, world):
    home = copy_home(history, tmp_path / "home")
    settings = settings_for(home, world, lock_wait_seconds=0.5)
    holder = hold(settings.warehouse, 120)
    try:
        result = run_days(settings, FAST_DAYS[0], FAST_DAYS[0], raise_on_error=False, log_level="CRITICAL")
    finally:
        holder.kill()
        holder.wait()
    assert not result.success
    [message] = failure_messages(result)
    assert "\n" not in message and f"locked by PID {holder.pid} (" in message and "-c import duckdb" in message
    assert "bi/bi.duckdb" in message and "run again" in message
    assert not [e for e in result.all_events if e.event_type_value == "STEP_START"]


def test_a_reader_that_lets_go_soon_is_waited_for(tmp_path, history):
    from orchestration.warehouse.connection import connect

    warehouse = shutil.copy(history / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    holder = hold(Path(warehouse), 1.5)
    try:
        with connect(warehouse, lock_wait_seconds=60) as con:
            assert con.execute("select count(*) from recall_actions").fetchall()[0][0] > 0
    finally:
        holder.kill()
        holder.wait()
