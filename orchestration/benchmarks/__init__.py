"""Rerunnable benchmarks: the pipeline against a hand-written reference query, and the world generator
they use at sizes that do not fit in memory at once."""
