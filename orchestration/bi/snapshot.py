"""Publishing the BI snapshot: the BI tables copied out of the warehouse into a new version of bi/,
so that BI tools never open the warehouse (whose single writer is the run), at a cost proportional to
what the run changed.

A publication writes the days the run changed (see changes.py) as Parquet, one folder per day, into a
new version folder (versions.py), and hard-links every other day's files from the previous version;
a table is written whole on its first publication, when its columns changed, and for the small tables
without a day. Then it builds a small `bi.duckdb` aside, views over the version's Parquet files plus
the `bi_snapshot` table (what the version holds, its row counts), checkpoints and closes it, and swaps
it in with os.replace, then points bi/current at the version. A reader holding the old bi.duckdb keeps
reading the old version (its files stay until it is pruned, and never while a DuckDB reader on this
machine holds it); one that opens it afterwards gets the new one; nobody ever sees a mix, and no
reader can block the run, since the run never opens a published file.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

from orchestration.bi.changes import RunChanges
from orchestration.bi.tables import BI_TABLES, BiTable
from orchestration.bi.versions import (
    FORMAT, PARTIAL_SUFFIX, Manifest, Partition, Pending, TableVersion, clear_pending, link_files, new_version_id,
    point_current, prune, read_latest, read_pending, remove_partials, versions_dir, write_manifest, write_pending,
)
from orchestration.warehouse.durable import fsync

DATABASE = "bi.duckdb"
SNAPSHOT_TABLE = "bi_snapshot"
KEEP_VERSIONS = 5
# The DuckDB drivers of BI tools often embed an older DuckDB: write a file DuckDB 1.0 and later can read.
STORAGE_VERSION = "v1.0.0"
_ALIAS = "bi_next"
# Tables written at once: most of a small table's COPY is fixed cost on one core, so two overlap on this machine's two.
WRITERS = 2


class BiSchemaError(RuntimeError):
    """A published column no longer exists in its warehouse table: update orchestration/bi/tables.py."""


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: str
    published_at: datetime
    latest_day: date | None
    rows: dict[str, int]
    database: Path
    version: Path  # the version folder (bi/versions/<id>)
    rewritten: dict[str, int]  # per table, the partitions (days) written by this publication
    whole: dict[str, str]  # the tables written whole, with the reason
    bytes_written: int
    seconds: float
    pruned: list[str] = field(default_factory=list)  # the old versions deleted


def publish_snapshot(
    con: duckdb.DuckDBPyConnection,
    bi_dir: Path,
    changes: RunChanges | None = None,
    tables: Sequence[BiTable] = BI_TABLES,
    keep_versions: int = KEEP_VERSIONS,
) -> Snapshot:
    """Publish `tables` (their allowed columns) from the warehouse open on `con` as a new version of
    bi_dir: the days in `changes` rewritten, the others shared with the previous version; everything
    rewritten when `changes` is None. The newest `keep_versions` versions are kept."""
    if keep_versions < 2:
        raise ValueError("keep at least 2 versions: the previous one is what readers hold during a publication")
    started = time.perf_counter()
    bi_dir = Path(bi_dir).resolve()
    versions_dir(bi_dir).mkdir(parents=True, exist_ok=True)
    remove_partials(bi_dir)  # left by a publication that was killed
    owed = _owed(read_pending(bi_dir), tables, changes)
    write_pending(bi_dir, owed)  # until this publication is in place, the next one owes these days too
    schemas = _source_schemas(con, tables)
    previous = read_latest(bi_dir)

    published_at = datetime.now(timezone.utc)
    snapshot_id = new_version_id(bi_dir, published_at)
    final = versions_dir(bi_dir) / snapshot_id
    building = final.with_name(f".{snapshot_id}{PARTIAL_SUFFIX}")
    building.mkdir()
    database = bi_dir / DATABASE
    published = False
    try:
        written: dict[str, TableVersion] = {}
        rewritten: dict[str, int] = {}
        new_bytes = 0
        plans = {table.name: _plan(table, schemas[table.name], previous, owed) for table in tables}
        whole = {name: reason for name, (days, reason) in plans.items() if days is None}

        def write(table: BiTable) -> tuple[TableVersion, int, int]:
            with con.cursor() as cursor:  # a connection of its own: DuckDB runs the COPYs side by side
                return _write_table(cursor, table, schemas[table.name], plans[table.name][0], building, snapshot_id,
                                    previous)

        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            for table, (version, partitions, size) in zip(tables, pool.map(write, tables)):
                written[table.name], rewritten[table.name] = version, partitions
                new_bytes += size
        manifest = Manifest(format=FORMAT, snapshot_id=snapshot_id, published_at=published_at,
                            previous=previous[1].snapshot_id if previous else None,
                            latest_day=_latest_day(written), tables=written)
        write_manifest(building, manifest)
        fsync(building)
        os.rename(building, final)  # complete; the views of bi.duckdb need its final path
        fsync(final.parent)
        _swap(_build_database(con, bi_dir, final, manifest, tables), database)
        published = True
        point_current(bi_dir, final)
    except BaseException:
        remove_partials(bi_dir)
        if not published and final.exists():
            shutil.rmtree(final)  # complete but never published: nothing points at it
        raise
    clear_pending(bi_dir)
    _remove_single_file_layout(bi_dir, tables)
    pruned = prune(bi_dir, keep_versions, current=snapshot_id)
    return Snapshot(snapshot_id, published_at, manifest.latest_day, {n: t.rows for n, t in written.items()}, database,
                    final, rewritten, whole, new_bytes, time.perf_counter() - started, pruned)


def _source_schemas(con: duckdb.DuckDBPyConnection, tables: Sequence[BiTable]) -> dict[str, tuple[tuple[str, str], ...]]:
    """(column, type) of each table's published columns, in published order; BiSchemaError when one is gone."""
    problems, schemas = [], {}
    for table in tables:
        found = dict(con.execute(
            "select column_name, data_type from information_schema.columns where table_schema = 'main' and table_name = ?",
            [table.source],
        ).fetchall())
        if not found:
            problems.append(f"{table.source} does not exist")
            continue
        missing = [c for c in table.columns if c not in found]
        if missing:
            problems.append(f"{table.name}: {missing} not in {table.source}")
            continue
        schemas[table.name] = tuple((c, found[c]) for c in table.columns)
    if problems:
        raise BiSchemaError("BI snapshot not published; update orchestration/bi/tables.py: " + "; ".join(problems))
    return schemas


def _owed(pending: Pending, tables: Sequence[BiTable], changes: RunChanges | None) -> Pending:
    """This run's days of each table, plus what an unfinished publication still owes."""
    owed: dict[str, tuple[date, ...] | None] = {}
    for table in tables:
        now = None if changes is None or pending.everything else changes.days_for(table)
        before = pending.tables.get(table.name, ())
        owed[table.name] = None if now is None or before is None else tuple(sorted(set(now) | set(before)))
    return Pending(tables=owed)


def _plan(
    table: BiTable, schema: tuple[tuple[str, str], ...], previous: tuple[Path, Manifest] | None, owed: Pending
) -> tuple[frozenset[date] | None, str]:
    """The days of `table` to rewrite, or None (and why) when it is written whole."""
    published = previous[1].tables.get(table.name) if previous else None
    if published is None:
        return None, "first publication"
    if published.columns != schema or published.day_column != table.day_column:
        return None, "its columns changed"
    days = owed.tables.get(table.name)
    if days is None:
        return None, "rewritten whole on every publication" if table.day_column is None else "every day requested"
    return frozenset(days), ""


def _write_table(
    con: duckdb.DuckDBPyConnection,
    table: BiTable,
    schema: tuple[tuple[str, str], ...],
    days: frozenset[date] | None,
    version: Path,
    snapshot_id: str,
    previous: tuple[Path, Manifest] | None,
) -> tuple[TableVersion, int, int]:
    """Write the days of `table` (all when `days` is None) into the version folder being built and link
    the other days' files from the previous version; (what the version holds, partitions written, bytes)."""
    columns = ", ".join(f'"{name}"' for name, _ in schema)
    query = f'select {columns} from main."{table.source}"'
    kept: list[Partition] = []
    if days is not None:
        assert previous is not None and table.day_column is not None
        kept = [p for p in previous[1].tables[table.name].partitions if p.day not in days]
        day_type = dict(schema)[table.day_column]
        listed = ", ".join(f"cast('{day.isoformat()}' as {day_type})" for day in sorted(days))
        query += f' where "{table.day_column}" in ({listed})'
    written, size = _copy(con, query, version, table, snapshot_id) if days is None or days else ([], 0)
    for partition in kept:  # after the copy, which writes into an empty folder
        link_files(previous[0], version, partition.files)
    partitions = sorted([*kept, *written], key=lambda p: (p.day is None, p.day or date.min))
    return (TableVersion(source=table.source, day_column=table.day_column, columns=schema, partitions=tuple(partitions)),
            len(written), size)


def _copy(con: duckdb.DuckDBPyConnection, query: str, version: Path, table: BiTable,
          snapshot_id: str) -> tuple[list[Partition], int]:
    """COPY the query's rows into the table's folder of `version` as Parquet (one folder per day when
    the table has a day column), flushed to disk; the partitions written and their bytes."""
    folder = version / table.name
    if table.day_column is None:
        folder.mkdir(parents=True)
        target, options = folder / f"{snapshot_id}.parquet", ""
    else:
        target, options = folder, f", partition_by (\"{table.day_column}\"), filename_pattern '{snapshot_id}_{{i}}'"
    files = con.execute(f"copy ({query}) to {_literal(target)} (format parquet, compression zstd{options}, "
                        "return_files true)").fetchone()[1]
    # Each file's rows from the footer just written: return_stats would also gather every column's statistics of
    # every file (0.15 s of the 0.36 s the 109 days of recall_outcomes take in a 100-user world).
    rows_of = dict(con.execute("select file_name, num_rows from parquet_file_metadata(?)", [files]).fetchall()) \
        if files else {}
    by_day: dict[date | None, list[tuple[str, int]]] = defaultdict(list)
    size = 0
    for filename in files:
        path = Path(filename)
        by_day[_folder_day(path.parent.name) if table.day_column else None].append(
            (path.relative_to(version).as_posix(), rows_of[filename]))
        size += path.stat().st_size
        fsync(path)
    for name in {Path(name).parent for files in by_day.values() for name, _ in files}:
        fsync(version / name)
    partitions = [Partition(day=day, files=tuple(name for name, _ in files), rows=sum(rows for _, rows in files))
                  for day, files in by_day.items()]
    return partitions, size


def _build_database(con: duckdb.DuckDBPyConnection, bi_dir: Path, version: Path, manifest: Manifest,
                    tables: Sequence[BiTable]) -> Path:
    """bi.duckdb for `version`, built aside: a view per table over the version's Parquet files (absolute
    paths) and the bi_snapshot table; also linked into the version folder (a reader's lock on it is what
    keeps the version from being pruned)."""
    building = _partial(bi_dir / DATABASE)
    con.execute(f"attach {_literal(building)} as {_ALIAS} (storage_version '{STORAGE_VERSION}')")
    try:
        for table in tables:
            con.execute(f'create view {_ALIAS}."{table.name}" as {view_sql(version, table.name, manifest.tables[table.name])}')
        con.execute(
            f"create table {_ALIAS}.{SNAPSHOT_TABLE} (snapshot_id varchar, published_at timestamptz, latest_day date, "
            "table_name varchar, source_table varchar, row_count bigint, description varchar, location varchar, "
            "partitions integer)"
        )
        con.executemany(
            f"insert into {_ALIAS}.{SNAPSHOT_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[manifest.snapshot_id, manifest.published_at, manifest.latest_day, t.name, t.source,
              manifest.tables[t.name].rows, t.description, str(version / t.name), len(manifest.tables[t.name].partitions)]
             for t in tables],
        )
        con.execute(f"checkpoint {_ALIAS}")
    except Exception:
        con.execute(f"detach {_ALIAS}")
        building.unlink(missing_ok=True)
        raise
    con.execute(f"detach {_ALIAS}")
    wal = building.with_name(building.name + ".wal")
    if wal.exists():  # detach checkpoints; a log left beside the file would be replayed on the wrong file
        raise RuntimeError(f"{wal} left after the BI snapshot was closed")
    os.link(building, version / DATABASE)
    return building


def view_sql(version: Path, name: str, table: TableVersion) -> str:
    """The query of a table's view: its Parquet files, each column cast to its warehouse type (no-op
    casts cost nothing, and the day column, which lives in the folder names, keeps its type)."""
    typed = ", ".join(f'cast("{column}" as {type_}) as "{column}"' for column, type_ in table.columns)
    if not any(p.files for p in table.partitions):  # an empty table: no file to read
        nulls = ", ".join(f'null as "{column}"' for column, _ in table.columns)
        return f"select {typed} from (select {nulls}) limit 0"
    folder = version / name
    if table.day_column is None:
        return f"select {typed} from read_parquet({_literal(folder / '*.parquet')})"
    day_type = dict(table.columns)[table.day_column]
    return (f"select {typed} from read_parquet({_literal(folder / '*' / '*.parquet')}, hive_partitioning = true, "
            f"hive_types = {{'{table.day_column}': {day_type}}})")


def _folder_day(folder: str) -> date | None:
    """The day of a partition folder `<day column>=<value>` (DuckDB's hive default: the rows without a day)."""
    value = folder.partition("=")[2]
    return None if value == "__HIVE_DEFAULT_PARTITION__" else date.fromisoformat(value)


def _latest_day(tables: dict[str, TableVersion]) -> date | None:
    """The latest day of risk tiers in the version (the day a dashboard shows as 'today')."""
    tiers = tables.get("risk_tiers")
    days = [p.day for p in tiers.partitions if p.day is not None] if tiers else []
    return max(days, default=None)


def _remove_single_file_layout(bi_dir: Path, tables: Sequence[BiTable]) -> None:
    """The first layout had one bi/<table>.parquet per table: gone once a version replaces it."""
    for table in tables:
        (bi_dir / f"{table.name}.parquet").unlink(missing_ok=True)


def _swap(partial: Path, final: Path) -> None:
    fsync(partial)
    os.replace(partial, final)
    fsync(final.parent)


def _partial(final: Path) -> Path:
    # Hidden, and not ending in .duckdb or .parquet: no BI tool picks up a file being written.
    return final.with_name(f".{final.name}.{os.getpid()}{PARTIAL_SUFFIX}")


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
