"""Seconds the closed loop's simulated app takes per day (`churn-recall benchmark-loop`)."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path


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
