"""The BI snapshot (no Dagster): which warehouse tables BI tools get, with which columns and day
partitions (tables.py), which days a run changed (changes.py), the versions on disk (versions.py) and
how a version is published into bi/ without ever blocking or being blocked by a run (snapshot.py)."""

from orchestration.bi.changes import RunChanges
from orchestration.bi.snapshot import DATABASE, KEEP_VERSIONS, SNAPSHOT_TABLE, BiSchemaError, Snapshot, publish_snapshot
from orchestration.bi.tables import BI_TABLES, WITHHELD_EVERYWHERE, BiTable, Changes
from orchestration.bi.versions import CURRENT, VERSIONS

__all__ = ["BI_TABLES", "CURRENT", "DATABASE", "KEEP_VERSIONS", "SNAPSHOT_TABLE", "VERSIONS", "WITHHELD_EVERYWHERE",
           "BiSchemaError", "BiTable", "Changes", "RunChanges", "Snapshot", "publish_snapshot"]
