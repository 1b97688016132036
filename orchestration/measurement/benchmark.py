"""`churn-recall benchmark-measurement`: the seconds of the measurement step's work on an existing warehouse (the
demo's, by default that of $CHURN_RECALL_HOME), read-only: reading the journeys of the horizon, then folding and
measuring them as of each of the last `days` measured days and computing those days' cohort metrics, through the code
the asset runs (measure_days: a shard of users at a time; a day's outcomes are measured while the day before's atoms
are summed). With `carried`, the path a daily run takes instead (carried.measure_carried): the rows measured as of the
last day stand for the journeys nothing in those days changed, and only the others are read and measured again.
Nothing is written. Wall and process CPU seconds are printed: on a shared machine the first depends on the load."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

import duckdb

from orchestration.config import Settings
from orchestration.measurement.carried import measure_carried
from orchestration.measurement.daily import library_design, measure_days, outcome_windows
from orchestration.measurement.outcomes import outcome_horizon_days
from orchestration.warehouse.io import table_exists


def run_measurement_benchmark(settings: Settings, days: int = 3, repeats: int = 3,
                              carried: bool = False) -> dict[str, float]:
    """Time the step's work `repeats` times on the last `days` as-of days of settings' warehouse, every journey
    measured or (`carried`) carried from the last measured day; the medians, and the journeys measured as of the last
    day (`journeys`)."""
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
        path = f"carried from {last}" if carried else "every journey measured"
        print(f"measurement benchmark: {settings.warehouse}, as of {as_of[0]}..{last} ({days} days, {path}), "
              f"{repeats} runs", flush=True)
        runs: dict[str, list[float]] = {"total": [], "cpu": [], "journeys": []}
        for _ in range(repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            rows, journeys = 0, []
            # Both say when they shard (a line per block of days) and the carried path what it carries.
            arguments = dict(write=lambda outcomes: journeys.append(len(outcomes)),
                             log=lambda line: print(f"    {line}", flush=True),
                             shard_journeys=settings.measurement_shard_journeys)
            if carried:  # read-only: the carried rows stay as of the last day
                chunks = measure_carried(con, as_of, last, horizon, windows, design, **arguments, move_on=False)
            else:
                chunks = measure_days(con, as_of, horizon, windows, design, **arguments)
            for _, metrics in chunks:
                rows += len(metrics)
            runs["total"].append(time.perf_counter() - wall)
            runs["cpu"].append(time.process_time() - cpu)
            runs["journeys"].append(sum(journeys))
            measured = "measured again" if carried else "in the last day's horizon"
            print(f"  {sum(journeys):,} journeys {measured}, {rows:,} cohort rows: {runs['total'][-1]:.2f} s",
                  flush=True)
    figures = {phase: statistics.median(values) for phase, values in runs.items()}
    print(f"  median of {repeats}: total {figures['total']:.2f} s wall ({figures['cpu']:.2f} s CPU)")
    return figures
