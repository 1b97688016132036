"""`churn-recall benchmark`: the pipeline at scale, against the limit.

On a simulated world of N users over D days (generated in chunks when large), it times a single-run
backfill, one early and one late daily partition, the fixed cost of a run (a one-day run of a
100-user world: what every run pays whatever the data), the hand-written reference query for the
core labels of the late day on the same warehouse, and the floor: only copying the rows that day's
run writes (benchmarks/floor.py). Every run happens in a child process that loads the code location
and makes its Dagster instance first (warm, like a long-lived Dagster process) and reports its own
wall time, CPU time and peak memory, so figures of one run never include another's.
Compare figures as ratios: this machine is shared and noisy, and its CPU seconds move less with the
neighbours than its wall seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from orchestration.benchmarks.memory import GIB, largest_peaks
from orchestration.config import Settings
from orchestration.operations import slowest_steps
from orchestration.warehouse.io import table_exists

FIXED_COST_USERS = 100


@dataclass(frozen=True)
class RunFigures:
    seconds: float
    peak_gib: float
    steps: dict[str, float]
    cpu_seconds: float  # the run's process, every thread (DuckDB's included)
    step_peaks: dict[str, tuple[float, float]]  # per step: peak resident GiB while it ran, and its rise over the start
    dbt_nodes: dict[str, float]  # dbt's own seconds per model and data test
    refit_seconds: float  # the model_refits run after it (the next day's models), timed apart
    dbt_runs: int = 1  # the dbt runs a dbt step made: a long range runs in chunks that fit the memory limit

    def slowest(self, n: int = 10) -> str:
        """The run's n slowest steps, for the printed breakdown."""
        return slowest_steps(self.steps, n)


def timed_run(home: Path, first: date, last: date, vertical: str = "ecommerce") -> RunFigures:
    """Run first..last as one run in a child process; its wall and CPU time (after loading the code
    location) and the child's peak resident memory; then the next day's model refits, timed apart (a Dagster
    deployment runs them in a run of their own after the daily run: orchestration/defs/refits)."""
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.benchmarks.pipeline", "--child", str(home), first.isoformat(),
         last.isoformat(), vertical],
        capture_output=True, text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"run {first}..{last} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    peaks = {step: (peak, rise) for step, (peak, rise) in figures["step_peaks"].items()}
    return RunFigures(figures["seconds"], figures["peak_gib"], figures["steps"], figures["cpu_seconds"], peaks,
                      figures["dbt_nodes"], figures["refit_seconds"], figures["dbt_runs"])


def _child(home: Path, first: date, last: date, vertical: str) -> None:
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    from orchestration.benchmarks.events import dbt_node_seconds, dbt_runs, step_intervals
    from orchestration.benchmarks.memory import ResidentSampler, peak_by_step, peak_resident_bytes
    from orchestration.runner import in_memory_instance, prepare, recorded_run, run_refits, step_seconds

    settings = Settings.under(home, vertical=vertical)
    prepare(settings)
    # The process's Dagster instance, made before the clock starts: a long-lived Dagster process has one already
    # (making it imports its storage and creates its schema, about 0.7 s, once per process, never per run).
    instance = in_memory_instance()
    started, cpu_started = time.perf_counter(), time.process_time()
    with ResidentSampler() as sampler:
        result, records = recorded_run(settings, first, last, instance=instance, log_level="ERROR",
                                       raise_on_error=False)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    peak, steps, refit_seconds = peak_resident_bytes() / GIB, step_seconds(result), 0.0
    if result.success:
        refit_started = time.perf_counter()
        result = run_refits(settings, last, instance=instance, log_level="ERROR", raise_on_error=False)
        refit_seconds = time.perf_counter() - refit_started
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                print(event.step_failure_data.error.to_string(), file=sys.stderr)
        sys.exit(1)
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "peak_gib": peak, "steps": steps,
                      "step_peaks": peak_by_step(sampler.samples, step_intervals(records)),
                      "dbt_nodes": dbt_node_seconds(records), "dbt_runs": dbt_runs(records),
                      "refit_seconds": refit_seconds}))


def _generate(settings: Settings, n_users: int, n_days: int) -> int:
    from orchestration.benchmarks.world import write_large_world

    settings.landing.mkdir(parents=True, exist_ok=True)
    return write_large_world(settings.landing, n_users, n_days, settings.start_date)


@dataclass(frozen=True)
class DaySize:
    """What a day's partition works on: its labelled users, the event rows landed that day, and the cohort rows of
    the metrics as of the day (every cohort of the measurement's horizon: they pile up as the pipeline's own
    journeys do)."""

    users: int
    events: int
    cohorts: int


def day_size(con: duckdb.DuckDBPyConnection, day: date) -> DaySize:
    """The DaySize of `day` in the warehouse open on `con` (0 for a table it does not have)."""
    def rows(table: str, column: str) -> int:
        if not table_exists(con, table):
            return 0
        return con.execute(f"select count(*) from {table} where {column} = ?", [day]).fetchall()[0][0]

    return DaySize(rows("user_daily_labels", "label_date"), rows("raw_events", "_landing_date"),
                   rows("recall_metrics", "as_of_date"))


def growth(late: DaySize, early: DaySize) -> str:
    """How much more the late day holds than the early one, for the late / early line."""
    def times(a: int, b: int) -> str:
        return f"{a / b:.2f}x" if b else "n/a"

    return (f"the late day has {times(late.users, early.users)} the labelled users, {times(late.events, early.events)} "
            f"the landed events and {times(late.cohorts, early.cohorts)} the cohort rows measured")


def compute_by_step(late: RunFigures, fixed: RunFigures) -> dict[str, float]:
    """Each step's seconds in the late partition beyond its seconds in the fixed day: where the compute the ratio
    counts goes."""
    return {step: seconds - fixed.steps.get(step, 0.0) for step, seconds in late.steps.items()}


def per_user(late_seconds: float, late: DaySize, early_seconds: float, early: DaySize) -> float:
    """Late / early partition time per labelled user: whether a day costs more as history accumulates, apart from
    the day simply having more users (a young world's late day has several times the early day's)."""
    if not late.users or not early.users or not early_seconds:
        return float("nan")
    return (late_seconds / late.users) / (early_seconds / early.users)


def restored(world: Path, saved: Path) -> None:
    """`world` made again from its copy `saved`, flushed to disk before anything is timed on it (the copy's
    writeback would otherwise run beside the timed run)."""
    shutil.rmtree(world)
    shutil.copytree(saved, world, symlinks=True)
    os.sync()


def median_run(runs: list[RunFigures]) -> RunFigures:
    """The run of median wall time (the lower middle one of an even number)."""
    return sorted(runs, key=lambda run: run.seconds)[(len(runs) - 1) // 2]


def run_benchmark(n_users: int, n_days: int, home: Path | None = None, repeats: int = 1,
                  with_model: bool = False) -> dict[str, float]:
    """Generate, backfill, time the partitions and the reference; print the figures and return them. `repeats`:
    how many times the late partition runs, each the day's first run on the world as the backfill left it (restored
    from a copy); its figures are those of the median run (on this shared machine one run of the same code moves by
    5-10 s at 1M users). `with_model`: the late day (and the days of its week before it) scored by a churn model in
    force, fitted on a labelled world of its own (benchmarks/model.py), instead of a young world's cold-start rules."""
    if repeats < 1:
        raise SystemExit(f"--repeats must be at least 1, got {repeats}")
    from orchestration.benchmarks.floor import time_floor
    from orchestration.benchmarks.reference import agreement, time_reference
    from orchestration.warehouse import connect

    home = Path(home or tempfile.mkdtemp(prefix="churn-recall-bench-")).resolve()
    if home.exists() and any(home.iterdir()):
        # A world left by an earlier run would be backfilled again on top of its own tables and model registries:
        # every figure would time work already done.
        raise SystemExit(f"{home} is not empty: the benchmark builds its world from nothing, so give it a new or "
                         "empty folder (or none, for a temporary one)")
    settings = Settings.under(home / "world")
    start = settings.start_date
    early, late = start + timedelta(days=max(1, n_days // 4)), start + timedelta(days=n_days - 1)
    print(f"benchmark: {n_users:,} users x {n_days} days in {home}", flush=True)
    began = time.perf_counter()
    events = _generate(settings, n_users, n_days)
    print(f"  world: {events:,} events ({events / n_days:,.0f} a day) generated in {time.perf_counter() - began:.0f} s",
          flush=True)

    figures: dict[str, float] = {}

    def step(label: str, key: str, first: date, last: date) -> RunFigures:
        run = timed_run(settings.home, first, last)
        print(f"  {label:<52} {run.seconds:8.1f} s  CPU {run.cpu_seconds:7.1f} s  peak {run.peak_gib:5.2f} GiB"
              f"  (then the next day's models {run.refit_seconds:.1f} s)", flush=True)
        print(f"    slowest steps (s): {run.slowest()}", flush=True)
        if run.dbt_nodes:
            over = f", over {run.dbt_runs} dbt runs" if run.dbt_runs > 1 else ""
            print(f"    slowest dbt nodes (s, dbt's own{over}): {slowest_steps(run.dbt_nodes, 6)}", flush=True)
        if run.step_peaks:
            print(f"    highest memory (GiB, peak and rise in the step): {largest_peaks(run.step_peaks)}", flush=True)
        figures[f"{key}_seconds"], figures[f"{key}_peak_gib"] = run.seconds, run.peak_gib
        figures[f"{key}_cpu_seconds"], figures[f"{key}_refit_seconds"] = run.cpu_seconds, run.refit_seconds
        return run

    step(f"backfill {start}..{early - timedelta(days=1)} (one run)", "backfill_early", start, early - timedelta(days=1))
    step(f"early partition {early}", "early", early, early)
    if with_model:  # before the days leading up to the late day, which its week's model scores as well
        from orchestration.benchmarks.model import DONOR_USERS, register_donor_model

        card = register_donor_model(settings, late, home / "donor")
        print(f"  the churn model of {late}'s week: {card.version}, fitted on a {DONOR_USERS:,}-user world's labels "
              f"up to {card.cutoff} (test ROC AUC {card.test['roc_auc']:.3f}; not timed)", flush=True)
    step(f"backfill {early + timedelta(days=1)}..{late - timedelta(days=1)} (one run)", "backfill_late",
         early + timedelta(days=1), late - timedelta(days=1))
    if repeats == 1:
        late_run = step(f"late partition {late}", "late", late, late)
    else:
        saved = home / "world-before-late"
        shutil.copytree(settings.home, saved, symlinks=True)
        runs = []
        for k in range(repeats):
            if k:
                restored(settings.home, saved)
            runs.append(step(f"late partition {late} ({k + 1} of {repeats})", "late", late, late))
        shutil.rmtree(saved)
        late_run = median_run(runs)
        figures.update(late_seconds=late_run.seconds, late_peak_gib=max(run.peak_gib for run in runs),
                       late_cpu_seconds=late_run.cpu_seconds, late_refit_seconds=late_run.refit_seconds)
        print(f"  late partition: {', '.join(f'{run.seconds:.1f}' for run in runs)} s; median "
              f"{late_run.seconds:.1f} s (spread {max(r.seconds for r in runs) - min(r.seconds for r in runs):.1f} s)",
              flush=True)

    tiny = Settings.under(home / "fixed")
    _generate(tiny, FIXED_COST_USERS, n_days)
    timed_run(tiny.home, start, late - timedelta(days=1))
    fixed = timed_run(tiny.home, late, late)
    print(f"  {'fixed cost: one day of a ' + str(FIXED_COST_USERS) + '-user world':<52} {fixed.seconds:8.1f} s  "
          f"CPU {fixed.cpu_seconds:7.1f} s", flush=True)
    print(f"    slowest steps (s): {fixed.slowest()}", flush=True)

    with connect(settings.warehouse, memory_limit=settings.duckdb_memory_limit) as con:
        con.execute("set enable_progress_bar = false")  # its bars would interleave with the figures' lines
        reference = time_reference(con, late, settings.preset)
        agree = agreement(con, late, settings.preset)
        late_size, early_size = day_size(con, late), day_size(con, early)
        floor = time_floor(con, late, settings.landing)
    compute = max(late_run.seconds - fixed.seconds, 0.0)
    floor_seconds = sum(floor.values())
    figures.update(reference_seconds=reference, fixed_seconds=fixed.seconds, fixed_cpu_seconds=fixed.cpu_seconds,
                   compute_seconds=compute,
                   reference_ratio=compute / reference if reference else float("nan"),
                   late_over_early=figures["late_seconds"] / figures["early_seconds"], agreement=agree,
                   floor_seconds=floor_seconds, floor_ratio=floor_seconds / reference if reference else float("nan"),
                   late_over_early_per_user=per_user(figures["late_seconds"], late_size, figures["early_seconds"],
                                                     early_size),
                   peak_gib=max(v for k, v in figures.items() if k.endswith("_peak_gib")))
    print(f"  reference query (core labels of {late}, best of 3) {reference:8.2f} s; pipeline labels agree on "
          f"{agree:.2%} of users")
    print(f"  floor: copying the late day's rows that a run writes, no computation {floor_seconds:.1f} s = "
          f"{figures['floor_ratio']:.1f}x the reference ({', '.join(f'{k} {v:.2f}' for k, v in floor.items())} s)")
    print(f"    by step, beyond the fixed day's (s): {slowest_steps(compute_by_step(late_run, fixed), 8)}")
    print(f"  late partition compute (minus fixed cost) {compute:.1f} s = {figures['reference_ratio']:.1f}x the "
          f"reference; late / early partition {figures['late_over_early']:.2f} ({growth(late_size, early_size)}; "
          f"per labelled user {figures['late_over_early_per_user']:.2f})")
    print(f"benchmark: {n_users} users, partition {late_run.seconds:.1f} s, reference ratio "
          f"{figures['reference_ratio']:.1f}, fixed {fixed.seconds:.1f} s, peak {late_run.peak_gib:.1f} GiB")
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="internal: one timed run in a child process")
    parser.add_argument("--child", nargs=4, metavar=("HOME", "FIRST", "LAST", "VERTICAL"), required=True)
    home, first, last, vertical = parser.parse_args(argv).child
    _child(Path(home), date.fromisoformat(first), date.fromisoformat(last), vertical)


if __name__ == "__main__":
    main()
