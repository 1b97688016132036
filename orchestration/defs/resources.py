"""Resources of the code location: the warehouse, and the settings resolved once for the whole run.

The warehouse resource is set up once per run, before the first step: it runs the run's first
duties (orchestration/defs/run_start.py: killed runs marked failed, the preflight, the schema
migrations) and then holds the warehouse open until the run ends, handing each step a cursor of
it: no other process can take the file's lock between two steps (BI tools read the snapshot in bi/,
not the warehouse), and no step pays for re-opening the file (catalog read, checkpoint on close)."""

# No `from __future__ import annotations` here: Dagster reads the ResourceDependency annotation
# of Warehouse.settings at class creation.
import gc
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from orchestration.config import Settings
from orchestration.warehouse.connection import connect


class Warehouse(dg.ConfigurableResource):
    """The DuckDB file shared with dbt (the same path reaches dbt as the `warehouse_path` var)."""

    path: str
    lock_wait_seconds: float = 20.0
    memory_limit: str | None = None
    settings: dg.ResourceDependency[Settings]
    _held: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        from orchestration.defs.run_start import start_run

        self._held = start_run(context, self.settings)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._held is not None:
            self._held.close()
            self._held = None
            gc.collect()  # let DuckDB close the file now, for whoever opens it after the run

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._held is None:  # outside a run
            with connect(self.path, self.lock_wait_seconds, self.memory_limit) as con:
                yield con
            return
        cursor = self._held.cursor()
        try:
            yield cursor
        finally:
            cursor.close()


def resources(settings: Settings) -> dict[str, object]:
    """`warehouse` for SQL, `settings` (the frozen Settings: paths, vertical preset, windows) for the rest."""
    warehouse = Warehouse(path=str(settings.warehouse), lock_wait_seconds=settings.lock_wait_seconds,
                          memory_limit=settings.duckdb_memory_limit, settings=settings)
    return {"warehouse": warehouse, "settings": settings}
