"""Publishing the BI snapshot: the BI tables copied out of the warehouse into `bi/bi.duckdb` and one
Parquet file per table, so that BI tools never open the warehouse (whose single writer is the run).

bi.duckdb is built aside (a hidden `.partial` file in the same folder), checkpointed and closed so
that no write-ahead log is left, then swapped in with os.replace: a reader that holds the old file
open keeps reading the old version to the end (the file lives on until it is closed), a reader that
opens it afterwards gets the new one; nobody ever sees a mix, and no reader can block the run, since
the run never opens the published file. Each Parquet file is swapped in the same way. Every version
carries a `bi_snapshot` table: its id, when it was published, the latest day it holds and the rows of
each table, which lets a reader check that what it read is one complete version.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

from orchestration.bi.tables import BI_TABLES, BiTable

DATABASE = "bi.duckdb"
SNAPSHOT_TABLE = "bi_snapshot"
PARTIAL_SUFFIX = ".partial"
# The DuckDB drivers of BI tools often embed an older DuckDB: write a file DuckDB 1.0 and later can read.
STORAGE_VERSION = "v1.0.0"
_ALIAS = "bi_next"


class BiSchemaError(RuntimeError):
    """A published column no longer exists in its warehouse table: update orchestration/bi/tables.py."""


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: str
    published_at: datetime
    latest_day: date | None
    rows: dict[str, int]
    database: Path
    parquet: dict[str, Path]
    seconds: float

    @property
    def bytes(self) -> int:
        return self.database.stat().st_size + sum(path.stat().st_size for path in self.parquet.values())


def publish_snapshot(con: duckdb.DuckDBPyConnection, bi_dir: Path, tables: Sequence[BiTable] = BI_TABLES) -> Snapshot:
    """Copy `tables` (their allowed columns) from the warehouse open on `con` into a new version of
    bi_dir/bi.duckdb and bi_dir/<table>.parquet, each swapped in atomically; return what was published."""
    started = time.perf_counter()
    bi_dir = Path(bi_dir)
    bi_dir.mkdir(parents=True, exist_ok=True)
    remove_partials(bi_dir)  # left by a publication that was killed
    _check_columns(con, tables)
    snapshot_id, published_at = uuid.uuid4().hex[:16], datetime.now(timezone.utc)
    database = bi_dir / DATABASE
    building = _partial(database)
    parquet = {table.name: bi_dir / f"{table.name}.parquet" for table in tables}
    con.execute(f"attach {_literal(building)} as {_ALIAS} (storage_version '{STORAGE_VERSION}')")
    try:
        rows = {}
        for table in tables:
            columns = ", ".join(f'"{c}"' for c in table.columns)
            con.execute(f"create table {_ALIAS}.{table.name} as select {columns} from main.{table.source}")
            rows[table.name] = con.execute(f"select count(*) from {_ALIAS}.{table.name}").fetchall()[0][0]
        latest_day = _latest_day(con, tables)
        con.execute(
            f"create table {_ALIAS}.{SNAPSHOT_TABLE} (snapshot_id varchar, published_at timestamptz, latest_day date, "
            "table_name varchar, source_table varchar, row_count bigint, description varchar)"
        )
        con.executemany(
            f"insert into {_ALIAS}.{SNAPSHOT_TABLE} values (?, ?, ?, ?, ?, ?, ?)",
            [[snapshot_id, published_at, latest_day, t.name, t.source, rows[t.name], t.description] for t in tables],
        )
        con.execute(f"checkpoint {_ALIAS}")
        for table in tables:  # the Parquet files hold exactly the rows of the new bi.duckdb
            con.execute(f"copy {_ALIAS}.{table.name} to {_literal(_partial(parquet[table.name]))} (format parquet)")
    except Exception:
        con.execute(f"detach {_ALIAS}")
        remove_partials(bi_dir)
        raise
    con.execute(f"detach {_ALIAS}")
    wal = building.with_name(building.name + ".wal")
    if wal.exists():  # detach checkpoints; a log left beside the file would be replayed on the wrong file
        raise RuntimeError(f"{wal} left after the BI snapshot was closed")
    _swap(building, database)
    for path in parquet.values():
        _swap(_partial(path), path)
    return Snapshot(snapshot_id, published_at, latest_day, rows, database, parquet, time.perf_counter() - started)


def remove_partials(bi_dir: Path) -> None:
    for path in Path(bi_dir).glob(f".*{PARTIAL_SUFFIX}*"):
        path.unlink(missing_ok=True)


def _check_columns(con: duckdb.DuckDBPyConnection, tables: Sequence[BiTable]) -> None:
    problems = []
    for table in tables:
        found = {name for (name,) in con.execute(
            "select column_name from information_schema.columns where table_schema = 'main' and table_name = ?",
            [table.source],
        ).fetchall()}
        if not found:
            problems.append(f"{table.source} does not exist")
            continue
        missing = [c for c in table.columns if c not in found]
        if missing:
            problems.append(f"{table.name}: {missing} not in {table.source}")
    if problems:
        raise BiSchemaError("BI snapshot not published; update orchestration/bi/tables.py: " + "; ".join(problems))


def _latest_day(con: duckdb.DuckDBPyConnection, tables: Sequence[BiTable]) -> date | None:
    """The latest day of risk tiers in the snapshot (the day a dashboard shows as 'today')."""
    if any(t.name == "risk_tiers" for t in tables):
        return con.execute(f"select max(tier_date) from {_ALIAS}.risk_tiers").fetchall()[0][0]
    return None


def _swap(partial: Path, final: Path) -> None:
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, final)
    if os.name == "posix":
        fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _partial(final: Path) -> Path:
    # Hidden, and not ending in .duckdb or .parquet: no BI tool picks up a file being written.
    return final.with_name(f".{final.name}.{os.getpid()}{PARTIAL_SUFFIX}")


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
