"""`churn-recall benchmark-measurement`: the seconds of the measurement step's work on an existing warehouse (the
demo's, by default that of $CHURN_RECALL_HOME), read-only: reading the journeys of the horizon, then folding and
measuring them as of each of the last `days` measured days and computing those days' cohort metrics, through the code
the asset runs (measure_days: a shard of users at a time; a day's outcomes are measured while the day before's atoms
are summed).
Nothing is written. Wall and process CPU seconds are printed: on a shared machine the first depends on the load."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

import duckdb

from orchestration.config import Settings
from orchestration.measurement.daily import library_design, measure_days, outcome_windows
from orchestration.measurement.outcomes import outcome_horizon_days
from orchestration.warehouse.io import table_exists


def run_measurement_benchmark(settings: Settings, days: int = 3, repeats: int = 3) -> dict[str, float]:
    """Time the step's phases `repeats` times on the last `days` as-of days of settings' warehouse; the medians."""
    from orchestration.recall import load_strategy_library

    if days < 1 or repeats < 1:
        raise SystemExit(f"--days and --repeats must be at least 1, got {days} and {repeats}")
    if not settings.warehouse.is_file():
        raise SystemExit(f"no warehouse at {settings.warehouse}: run `churn-recall demo` first (or set CHURN_RECALL_HOME)")
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        has_metrics = table_exists(con, "recall_metrics")
        last = con.execute("select max(as_of_date) from recall_metrics").fetchone()[0] if has_metrics else None
        if last is None:
            raise SystemExit(f"{settings.warehouse} has no measured day (recall_metrics): run the pipeline first")
        as_of = [last - timedelta(days=k) for k in reversed(range(days))]
        design, windows = library_design(load_strategy_library(settings.strategies)), outcome_windows(settings)
        horizon = outcome_horizon_days(windows["churn_days"])
        print(f"measurement benchmark: {settings.warehouse}, as of {as_of[0]}..{last} ({days} days), {repeats} runs",
              flush=True)
        runs: dict[str, list[float]] = {"total": [], "cpu": []}
        for _ in range(repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            rows, journeys = 0, []
            # measure_days says when it shards (a line per block of days); silence means one pass
            for _, metrics in measure_days(con, as_of, horizon, windows, design,
                                           write=lambda outcomes: journeys.append(len(outcomes)),
                                           log=lambda line: print(f"    {line}", flush=True),
                                           shard_journeys=settings.measurement_shard_journeys):
                rows += len(metrics)
            runs["total"].append(time.perf_counter() - wall)
            runs["cpu"].append(time.process_time() - cpu)
            print(f"  {sum(journeys):,} journeys in the last day's horizon, {rows:,} cohort rows: "
                  f"{runs['total'][-1]:.2f} s", flush=True)
    figures = {phase: statistics.median(values) for phase, values in runs.items()}
    print(f"  median of {repeats}: total {figures['total']:.2f} s wall ({figures['cpu']:.2f} s CPU)")
    return figures
