"""`churn-recall benchmark-measurement`: the seconds of the measurement step's work on an existing warehouse (the
demo's, by default that of $CHURN_RECALL_HOME), read-only: reading the journeys of the horizon, then folding and
measuring them as of each of the last `days` measured days and computing those days' cohort metrics, through the code
the asset runs (metrics_by_chunk: a day's outcomes are measured while the day before's metrics are computed).
Nothing is written. Wall and process CPU seconds are printed: on a shared machine the first depends on the load."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

import duckdb

from orchestration.config import Settings
from orchestration.measurement.daily import library_design, metrics_by_chunk, outcome_windows
from orchestration.measurement.outcomes import outcome_horizon_days
from orchestration.measurement.readers import read_journeys
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
        runs: dict[str, list[float]] = {"read": [], "measure": [], "total": [], "cpu": []}
        for _ in range(repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            inputs = read_journeys(con, as_of[0] - timedelta(days=horizon - 1), last)
            read = time.perf_counter()
            rows = 0
            for _, metrics, outcomes in metrics_by_chunk(inputs, as_of, horizon, windows, design):
                rows += len(metrics)
            done = time.perf_counter()
            for phase, seconds in (("read", read - wall), ("measure", done - read), ("total", done - wall),
                                   ("cpu", time.process_time() - cpu)):
                runs[phase].append(seconds)
            print(f"  {len(inputs.decisions):,} decided journeys, {len(outcomes):,} in the last day's horizon, "
                  f"{rows:,} cohort rows: read {read - wall:.2f} s, outcomes and metrics {done - read:.2f} s, "
                  f"total {done - wall:.2f} s", flush=True)
    figures = {phase: statistics.median(values) for phase, values in runs.items()}
    print(f"  median of {repeats}: total {figures['total']:.2f} s wall ({figures['cpu']:.2f} s CPU): read "
          f"{figures['read']:.2f}, outcomes and metrics {figures['measure']:.2f}")
    return figures
