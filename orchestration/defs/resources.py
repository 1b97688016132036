"""Resources of the code location: the warehouse, and the settings resolved once for the whole run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb

from orchestration.config import Settings
from orchestration.warehouse.connection import connect


class Warehouse(dg.ConfigurableResource):
    """The DuckDB file shared with dbt (the same path reaches dbt as the `warehouse_path` var)."""

    path: str
    memory_limit: str | None = None

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(self.path, self.memory_limit) as con:
            yield con


def resources(settings: Settings) -> dict[str, object]:
    """`warehouse` for SQL, `settings` (the frozen Settings: paths, vertical preset, windows) for the rest."""
    warehouse = Warehouse(path=str(settings.warehouse), memory_limit=settings.duckdb_memory_limit)
    return {"warehouse": warehouse, "settings": settings}
