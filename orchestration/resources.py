"""Dagster resources: the DuckDB warehouse and the folders the pipeline reads and writes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource


class Warehouse(ConfigurableResource):
    """The DuckDB file shared with dbt (same path as profiles.yml reads)."""

    path: str

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(self.path, read_only=read_only)
        try:
            yield con
        finally:
            con.close()


class PipelinePaths(ConfigurableResource):
    """Landing folder (input), outbox folder (export), the strategy library file, how many days
    before a partition a run recomputes to fold in late events, the vertical preset whose
    label and tier rules dbt applies (and whose churn threshold and wake-up window the measurement
    uses), and an optional override of that wake-up window."""

    landing: str
    outbox: str
    strategies: str
    lookback_days: int = 3
    vertical: str = "ecommerce"
    wake_up_days: int | None = None
