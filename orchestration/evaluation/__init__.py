"""Evaluation of the pipeline against the simulator's ground truth: early-warning lead time and precision/recall,
and agreement of the behaviour segments with the true segments."""
