"""Load the landing files of a range of days into the raw tables, all feeds of a day in one transaction, and
consecutive days in the same one up to a bounded number of rows.

A day's rows of a feed are replaced only by a file that has rows. A day whose file is missing, empty,
rejected or unreadable keeps the rows an earlier load left (nothing is deleted silently) and gets a
record in `raw_landing_log` that says what arrived, so the operator sees "nothing arrived" as such.
An unexpected error rolls back every feed and day of its transaction. Days an earlier transaction of the
range committed stay loaded and are recorded as not staged yet (`staged_at` null): the next run's dbt step
starts from them (staging_state.py), as after a run whose dbt step failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from orchestration.ingestion.contract import FEEDS, RESTRICTED_SCHEMA, Feed, feed_spec, raw_columns
from orchestration.ingestion.readers import FORMATS, LandedFile, read_landing_file
from orchestration.warehouse.tables import create_table_sql

LOG_TABLE = "raw_landing_log"
# Landed rows a transaction holds at most before the next day starts a new one. DuckDB keeps what a transaction
# appends in memory until it ends: the 88 days of a 100,000-user backfill's events (27 M rows) in one transaction took
# 4.5 GiB, which the process kept after the commit and which then lay under the dbt step's own peak.
TRANSACTION_ROWS = 5_000_000


@dataclass(frozen=True)
class LoadResult:
    """What one feed's landing folder of one day held, and what the raw table now has for that day."""

    feed: str
    day: date
    status: str  # loaded | no_file | empty_file | rejected_file | unreadable_file
    rows: int  # the day's raw rows after the load (kept earlier rows when nothing new loaded)
    source_file: str | None
    malformed_rows: int = 0
    missing_columns: list[str] = field(default_factory=list)
    detail: str = ""

    @property
    def nothing_arrived(self) -> bool:
        return self.status != "loaded"


def find_landing_file(landing_dir: Path, day: date, feed: str) -> Path | None:
    """The feed's file in the day's folder (Parquet first, then CSV, then JSON lines), or None."""
    folder = landing_dir / day.isoformat()
    for suffix in FORMATS:
        candidate = folder / f"{feed}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def ensure_raw_tables(con: duckdb.DuckDBPyConnection, feeds: Iterable[str] = FEEDS) -> None:
    """Create the raw tables (and the restricted schema), adding any column an older layout lacks."""
    con.execute(f"create schema if not exists {RESTRICTED_SCHEMA}")
    for name in feeds:
        feed = feed_spec(name)
        _move_from_main(con, feed)
        columns = raw_columns(feed)
        con.execute(f"create table if not exists {feed.qualified_table} "
                    f"({', '.join(f'{column} {kind}' for column, kind in columns)})")
        present = {row[0] for row in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [feed.schema, feed.table]).fetchall()}
        for column, kind in columns:
            if column not in present:  # a warehouse built before typed columns and load errors existed
                con.execute(f"alter table {feed.qualified_table} add column {column} {kind}")
    con.execute(create_table_sql(LOG_TABLE))
    con.execute(f"alter table {LOG_TABLE} add column if not exists staged_at timestamptz")


def _move_from_main(con: duckdb.DuckDBPyConnection, feed: Feed) -> None:
    """An older warehouse kept every raw table in `main`: move a restricted feed's table out of it."""
    if feed.schema == "main" or not _table_exists(con, "main", feed.table):
        return
    if not _table_exists(con, feed.schema, feed.table):
        con.execute(f"create table {feed.qualified_table} as select * from main.{feed.table}")
    con.execute(f"drop table main.{feed.table}")


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table]).fetchall()[0][0])


def load_landing_range(
    con: duckdb.DuckDBPyConnection, days: Sequence[date], landing_dir: Path, feeds: Iterable[str] = FEEDS
) -> list[LoadResult]:
    """Load every feed of every day: a day's feeds in one transaction, with the days before it while the
    transaction holds fewer than TRANSACTION_ROWS rows. An unexpected error rolls back its transaction's days."""
    feeds = list(feeds)
    ensure_raw_tables(con, feeds)
    results: list[LoadResult] = []
    held = 0
    con.execute("begin transaction")
    try:
        for day in days:
            if held >= TRANSACTION_ROWS:
                con.execute("commit")
                con.execute("begin transaction")
                held = 0
            loaded = [_load_day(con, feed_spec(feed), day, landing_dir) for feed in feeds]
            held += sum(result.rows for result in loaded if result.status == "loaded")
            results += loaded
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return results


def load_landing_day(con: duckdb.DuckDBPyConnection, feed: str, day: date, landing_dir: Path) -> LoadResult:
    """One feed's landing file of one day (its own transaction)."""
    return load_landing_range(con, [day], landing_dir, [feed])[0]


def _load_day(con: duckdb.DuckDBPyConnection, feed: Feed, day: date, landing_dir: Path) -> LoadResult:
    path = find_landing_file(landing_dir, day, feed.name)
    source_file = f"{day.isoformat()}/{path.name}" if path else None
    landed = read_landing_file(con, feed, path) if path else LandedFile("empty_file", detail="no file")
    status = landed.status if path else "no_file"
    try:
        if status == "loaded":
            con.execute(f"delete from {feed.qualified_table} where _landing_date = ?", [day])
            if landed.arrow is not None:
                con.register("landing_rows", landed.arrow)
            con.execute(
                f"insert into {feed.qualified_table} by name select {landed.select}, "
                f"cast($day as date) as _landing_date, $file as _source_file from {landed.source}",
                {"day": day, "file": source_file})
    finally:
        if landed.arrow is not None:
            con.unregister("landing_rows")
        con.execute("drop table if exists temp.landing_rows")
    rows = con.execute(f"select count(*) from {feed.qualified_table} where _landing_date = ?", [day]).fetchall()[0][0]
    detail = landed.detail
    if status != "loaded" and rows:
        detail = f"{detail}; kept the {rows} rows an earlier load of this day left".lstrip("; ")
    result = LoadResult(feed.name, day, status, rows, source_file, landed.malformed, landed.missing, detail)
    _record(con, result, path)
    return result


def _record(con: duckdb.DuckDBPyConnection, result: LoadResult, path: Path | None) -> None:
    con.execute(f"delete from {LOG_TABLE} where feed = ? and landing_date = ?", [result.feed, result.day])
    con.execute(
        f"insert into {LOG_TABLE} by name select ? as feed, ? as landing_date, ? as status, ? as source_file, "
        "? as file_format, ? as raw_rows, ? as malformed_rows, ? as missing_columns, ? as detail, "
        # a day whose rows did not change needs no staging
        "current_timestamp as loaded_at, case when ? = 'loaded' then null else current_timestamp end as staged_at",
        [result.feed, result.day, result.status, result.source_file, path.suffix.lstrip(".") if path else None,
         result.rows, result.malformed_rows, ", ".join(result.missing_columns) or None, result.detail or None,
         result.status])
