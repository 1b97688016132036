"""The BI snapshot (no Dagster): which warehouse tables BI tools get, with which columns (tables.py),
and how they are published into bi/ without ever blocking or being blocked by a run (snapshot.py)."""

from orchestration.bi.snapshot import DATABASE, SNAPSHOT_TABLE, BiSchemaError, Snapshot, publish_snapshot
from orchestration.bi.tables import BI_TABLES, WITHHELD_EVERYWHERE, BiTable

__all__ = ["BI_TABLES", "DATABASE", "SNAPSHOT_TABLE", "WITHHELD_EVERYWHERE", "BiSchemaError", "BiTable", "Snapshot",
           "publish_snapshot"]
