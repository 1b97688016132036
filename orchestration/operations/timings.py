"""A run's step timings in one line (the benchmark's and the closed loop's breakdown)."""

from __future__ import annotations

from collections.abc import Mapping


def slowest_steps(seconds: Mapping[str, float], n: int) -> str:
    """The n slowest steps of a run, `step seconds` joined by commas, slowest first."""
    top = sorted(seconds.items(), key=lambda item: -item[1])[:n]
    return ", ".join(f"{step} {value:.1f}" for step, value in top)
