"""Seeded, vectorised simulator of a consumer app's users (ecommerce, game or finance preset), their events and the
company's recall campaigns: the open-loop history here, and in `simulator.loop` the closed loop in which the app
answers the pipeline's own outbox day by day."""

from .config import SimulationConfig
from .world import ProgressCallback, SimulatedWorld, benchmark_generation, simulate
from .writer import WriteSummary, write_world

__all__ = [
    "ProgressCallback",
    "SimulatedWorld",
    "SimulationConfig",
    "WriteSummary",
    "benchmark_generation",
    "simulate",
    "write_world",
]
