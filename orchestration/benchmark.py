"""Benchmark: simulator throughput, then the seconds one daily partition takes early and late in a
long history (its cost must not grow with the history), all in one process so figures compare; and the
seconds the closed loop's simulated app takes per day."""

from __future__ import annotations

import tempfile
import time
from datetime import timedelta
from pathlib import Path


def _timed(label: str, action) -> float:
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    print(f"  {label:<44} {seconds:8.1f} s", flush=True)
    return seconds


def run_benchmark(n_users: int, n_days: int, home: Path | None = None) -> dict[str, float]:
    """Simulate n_users over n_days in a scratch home, then time daily partitions at two history lengths."""
    from orchestration.config import Settings
    from orchestration.runner import run_days
    from orchestration.simulator import SimulationConfig, benchmark_generation, simulate, write_world

    settings = Settings.under(home or Path(tempfile.mkdtemp(prefix="churn-recall-bench-")))
    home = settings.home
    print(f"benchmark: {n_users:,} users x {n_days} days in {home}")
    generation = benchmark_generation(n_users, n_days)
    print(f"  generation: {generation['events']:,} events in {generation['seconds']:.2f} s "
          f"= {generation['events_per_second']:,.0f} events/s")
    world = simulate(SimulationConfig(n_users=n_users, n_days=n_days, start_date=settings.start_date))
    _timed("write landing files", lambda: write_world(world, settings.landing, settings.truth))
    start = settings.start_date
    early, late = start + timedelta(days=n_days // 4), start + timedelta(days=n_days - 1)
    figures = {"events": float(generation["events"]), "events_per_second": generation["events_per_second"]}
    figures["backfill_seconds"] = _timed(f"backfill {start}..{early - timedelta(days=1)} (one run)",
                                         lambda: run_days(settings, start, early - timedelta(days=1)))
    figures["early_day_seconds"] = _timed(f"daily partition {early} ({(early - start).days} days of history)",
                                          lambda: run_days(settings, early, early))
    _timed(f"backfill {early + timedelta(days=1)}..{late - timedelta(days=1)} (one run)",
           lambda: run_days(settings, early + timedelta(days=1), late - timedelta(days=1)))
    figures["late_day_seconds"] = _timed(f"daily partition {late} ({(late - start).days} days of history)",
                                         lambda: run_days(settings, late, late))
    figures["late_over_early"] = figures["late_day_seconds"] / figures["early_day_seconds"]
    print(f"  late/early daily partition time ratio: {figures['late_over_early']:.2f} "
          f"(history {(late - start).days} vs {(early - start).days} days)")
    return figures


def run_loop_benchmark(n_users: int, days: int, home: Path | None = None) -> dict[str, float]:
    """Seconds the simulated app takes per closed-loop day (stand-in exports of ~3% of users a day), with and
    without rewriting the truth folder; the world is the default 120-day one, its last days in closed loop."""
    import numpy as np

    from orchestration.config import DEFAULT_STRATEGIES
    from orchestration.simulator import SimulationConfig, simulate, write_world
    from orchestration.simulator.loop import ClosedLoop, LoopSettings
    from orchestration.simulator.loop.synthetic import write_export

    home = home or Path(tempfile.mkdtemp(prefix="churn-recall-loop-bench-"))
    config = SimulationConfig(n_users=n_users, n_days=120, closed_loop_days=days + 1)
    print(f"closed-loop benchmark: {n_users:,} users, {days} days in closed loop, in {home}")
    world = simulate(config, progress=lambda stage, fraction: None)
    write_world(world, home / "landing", home / "truth")
    loop = ClosedLoop.start(world, home / "simulator", LoopSettings(DEFAULT_STRATEGIES, 7, 60))
    users = np.unique(world.users["user_id"].to_numpy(zero_copy_only=False))
    rng = np.random.default_rng(0)
    plain, with_truth = [], []
    for n in range(days):
        write_export(home / "outbox", loop.next_day - timedelta(days=1), users, n_users * 3 // 100, rng)
        report = loop.advance(home / "outbox", home / "landing", home / "truth", write_truth=n == days - 1)
        (with_truth if n == days - 1 else plain).append(report.seconds)
        print(f"  {report.day}: {report.steps:,} steps, {report.controls:,} control journeys, {report.events:,} events"
              f" in {report.seconds:.2f} s" + (" (truth written)" if n == days - 1 else ""), flush=True)
    figures = {"seconds_per_day": sum(plain) / max(len(plain), 1), "seconds_with_truth": with_truth[-1]}
    print(f"  simulated app: {figures['seconds_per_day']:.2f} s a day, {figures['seconds_with_truth']:.2f} s with the truth")
    return figures
