"""Publishing the BI snapshot to PostgreSQL as well, for BI tools that speak Postgres (set
CHURN_RECALL_BI_POSTGRES_URL): every table of the new bi.duckdb is loaded into a staging schema, then
moved into schema `churn_recall_bi` in one transaction, so a query sees the previous or the next
version, never a mix.

The swap waits at most a few seconds for readers that hold the previous tables (an open transaction
that read them); if they still do after a few tries, the previous version stays and the outcome says
so: a reader never fails the run. A view of your own on these tables is never dropped: the swap then
keeps the previous version and names it (build dashboards on the tables, or recreate such views).
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

SCHEMA = "churn_recall_bi"
STAGING = f"{SCHEMA}_next"
_TYPES = {"VARCHAR": "text", "BIGINT": "bigint", "INTEGER": "integer", "SMALLINT": "smallint", "DOUBLE": "double precision",
          "FLOAT": "real", "BOOLEAN": "boolean", "DATE": "date", "TIMESTAMP": "timestamp",
          "TIMESTAMP WITH TIME ZONE": "timestamptz"}
_DECIMAL = re.compile(r"DECIMAL\(\d+,\s*\d+\)")


@dataclass(frozen=True)
class PostgresOutcome:
    published: bool
    detail: str
    rows: dict[str, int]


def publish_to_postgres(database: Path, url: str, lock_timeout_seconds: float = 5.0, attempts: int = 3) -> PostgresOutcome:
    """Copy every table of the snapshot file `database` into schema churn_recall_bi of the Postgres
    database at `url`; raise when Postgres cannot be reached or loaded, return published=False when
    readers (or dependent views) kept the previous version in place."""
    import psycopg

    database = Path(database)
    with duckdb.connect(str(database), read_only=True) as snapshot, psycopg.connect(url, autocommit=True) as pg:
        tables = [name for (name,) in snapshot.execute(
            "select table_name from information_schema.tables where table_schema = 'main' order by 1").fetchall()]
        pg.execute(f"drop schema if exists {STAGING} cascade")  # ours alone: left by a publication that failed
        pg.execute(f"create schema {STAGING}")
        rows = {table: _load(snapshot, pg, database.parent, table) for table in tables}
        for attempt in range(1, attempts + 1):
            try:
                _swap(pg, tables, lock_timeout_seconds)
                return PostgresOutcome(True, f"published {len(tables)} tables into schema {SCHEMA}", rows)
            except psycopg.errors.LockNotAvailable:
                time.sleep(min(2.0 * attempt, 10.0))
            except psycopg.errors.DependentObjectsStillExist as exc:
                pg.execute(f"drop schema if exists {STAGING} cascade")
                return PostgresOutcome(False, f"schema {SCHEMA} kept its previous version: {exc.diag.message_detail or exc}",
                                       rows)
        pg.execute(f"drop schema if exists {STAGING} cascade")
    return PostgresOutcome(
        False, f"schema {SCHEMA} kept its previous version: readers held its tables through {attempts} tries", rows)


def _load(snapshot: duckdb.DuckDBPyConnection, pg, folder: Path, table: str) -> int:
    columns = snapshot.execute(
        "select column_name, data_type from information_schema.columns where table_name = ? order by ordinal_position",
        [table]).fetchall()
    definition = ", ".join(f'"{name}" {_pg_type(type_)}' for name, type_ in columns)
    pg.execute(f'create table {STAGING}."{table}" ({definition})')
    csv = folder / f".pg_{table}.{os.getpid()}.partial.csv"  # hidden, removed with the snapshot's partial files
    try:
        snapshot.execute(f"copy \"{table}\" to '{csv}' (format csv, header true)")
        with pg.cursor() as cursor, cursor.copy(f'copy {STAGING}."{table}" from stdin (format csv, header true)') as copy:
            with csv.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    copy.write(block)
    finally:
        csv.unlink(missing_ok=True)
    return snapshot.execute(f'select count(*) from "{table}"').fetchall()[0][0]


def _swap(pg, tables: list[str], lock_timeout_seconds: float) -> None:
    """Replace the published tables by the staged ones in one transaction (restrict: never cascade)."""
    with pg.transaction():
        pg.execute(f"set local lock_timeout = '{int(lock_timeout_seconds * 1000)}ms'")
        pg.execute(f"create schema if not exists {SCHEMA}")
        previous = [name for (name,) in pg.execute(
            "select tablename from pg_tables where schemaname = %s", [SCHEMA]).fetchall()]
        for table in previous:
            pg.execute(f'drop table {SCHEMA}."{table}"')
        for table in tables:
            pg.execute(f'alter table {STAGING}."{table}" set schema {SCHEMA}')
        pg.execute(f"drop schema {STAGING}")


def _pg_type(duckdb_type: str) -> str:
    if _DECIMAL.fullmatch(duckdb_type):
        return duckdb_type.lower().replace("decimal", "numeric")
    return _TYPES.get(duckdb_type, "text")
