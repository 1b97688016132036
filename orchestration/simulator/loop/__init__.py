"""The closed loop: the simulated app keeps its state and answers the pipeline's own outbox one day at a time
(engine.py), users responding by a latent, heterogeneous true effect (response.py), with the potential outcomes of
every journey as ground truth (truth.py)."""

from .engine import TRUTH_FILES, ClosedLoop, DayReport, LoopSettings

__all__ = ["TRUTH_FILES", "ClosedLoop", "DayReport", "LoopSettings"]
