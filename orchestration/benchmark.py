"""Benchmark: simulator throughput, then the seconds one daily partition takes early and late in a
long history (its cost must not grow with the history), all in one process so figures compare."""

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
