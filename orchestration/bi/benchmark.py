"""A rerunnable measure of the BI publication on an existing warehouse (nothing is written to it): a
first, full publication into a scratch folder, then daily publications of its latest day, and the
disk they take, hard links counted once.

    python -m orchestration.bi.benchmark [--home $CHURN_RECALL_HOME] [--scratch DIR] [--runs 10]

The last line reads `bi benchmark: full F s, daily D s (median of N), bi/ B MB after N daily runs`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import duckdb

from orchestration.bi.changes import RunChanges
from orchestration.bi.snapshot import publish_snapshot
from orchestration.config import Settings
from orchestration.measurement import outcome_horizon_days


def disk_bytes(folder: Path) -> int:
    """Bytes on disk under `folder`, each file counted once however many links it has (what `du` says)."""
    seen, total = set(), 0
    for root, _, files in os.walk(folder):
        for name in files:
            stat = os.lstat(os.path.join(root, name))
            if (stat.st_dev, stat.st_ino) not in seen:
                seen.add((stat.st_dev, stat.st_ino))
                total += stat.st_blocks * 512
    return total


def run_bi_benchmark(settings: Settings, scratch: Path, runs: int = 10) -> list[str]:
    """Publish the warehouse of `settings` into scratch/bi in full, then `runs` times as a daily run of
    its latest day would; the figures, one line each."""
    bi = scratch / "bi"
    shutil.rmtree(bi, ignore_errors=True)
    _, churn_days = settings.measurement_windows
    lines = []
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute(f"set memory_limit = '{settings.duckdb_memory_limit}'")
        last = con.execute("select max(tier_date) from user_risk_tiers").fetchall()[0][0]
        started = time.perf_counter()
        full = publish_snapshot(con, bi, keep_versions=settings.bi_keep_versions)
        full_seconds = time.perf_counter() - started
        lines.append(f"full publication: {full_seconds:.1f} s, {full.bytes_written / 1e6:.0f} MB written, "
                     f"{sum(full.rows.values()):,} rows, latest day {last}")
        window = [last - timedelta(days=k) for k in range(settings.lookback_days, -1, -1)]
        changes = RunChanges.of_run(window, last, outcome_horizon_days(churn_days), run_days=[last])
        daily = []
        for _ in range(runs):
            snapshot = publish_snapshot(con, bi, changes, keep_versions=settings.bi_keep_versions)
            daily.append(snapshot.seconds)
        lines.append(f"daily publication of {last} (lookback {settings.lookback_days}): median {statistics.median(daily):.1f} s, "
                     f"min {min(daily):.1f} s, max {max(daily):.1f} s, {snapshot.bytes_written / 1e6:.0f} MB written, "
                     f"partitions written {sum(snapshot.rewritten.values())}")
    current = disk_bytes(snapshot.version)
    total = disk_bytes(bi)
    lines.append(f"bi/ on disk after {runs} daily publications: {total / 1e6:.0f} MB, of which the current version "
                 f"{current / 1e6:.0f} MB and {len(list((bi / 'versions').iterdir()))} versions kept")
    lines.append(f"bi benchmark: full {full_seconds:.1f} s, daily {statistics.median(daily):.1f} s (median of {runs}), "
                 f"bi/ {total / 1e6:.0f} MB after {runs} daily runs")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=None, help="the home of the warehouse ($CHURN_RECALL_HOME)")
    parser.add_argument("--scratch", type=Path, default=None, help="where bi/ is published (default: a temporary folder)")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    settings = Settings.under(args.home) if args.home else Settings.from_env()
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="churn-recall-bi-bench-"))
    try:
        for line in run_bi_benchmark(settings, scratch, args.runs):
            print(line, flush=True)
    finally:
        if args.scratch is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
