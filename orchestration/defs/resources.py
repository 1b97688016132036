"""Resources of the code location: the warehouse, and the settings resolved once for the whole run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from orchestration.config import Settings
from orchestration.warehouse.connection import connect, open_warehouse


class Warehouse(dg.ConfigurableResource):
    """The DuckDB file shared with dbt (the same path reaches dbt as the `warehouse_path` var).

    During a run it keeps one database instance open and hands each step a cursor of it: opening and
    closing the file for every step would re-read the catalog and checkpoint each time (~30 ms a step).
    """

    path: str
    memory_limit: str | None = None
    _held: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._held = open_warehouse(self.path, self.memory_limit)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._held is not None:
            self._held.close()
            self._held = None

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._held is None:  # outside a run
            with connect(self.path, self.memory_limit) as con:
                yield con
            return
        cursor = self._held.cursor()
        try:
            yield cursor
        finally:
            cursor.close()


def resources(settings: Settings) -> dict[str, object]:
    """`warehouse` for SQL, `settings` (the frozen Settings: paths, vertical preset, windows) for the rest."""
    warehouse = Warehouse(path=str(settings.warehouse), memory_limit=settings.duckdb_memory_limit)
    return {"warehouse": warehouse, "settings": settings}
