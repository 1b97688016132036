"""Opening the DuckDB warehouse the way every step of a run does, so that connections share one
database instance in the process (dbt runs in-process too)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb


def open_warehouse(path: Path | str, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """A read-write connection to the warehouse file (created when missing); the caller closes it.

    Always the same configuration: DuckDB shares an open file between the connections of a process
    only when they were opened alike (dbt, in-process, opens it the same way). `memory_limit` is
    DuckDB's limit for the database instance; past it, operators spill to disk.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    if memory_limit:
        con.execute(f"set memory_limit = '{memory_limit}'")
    return con


@contextmanager
def connect(path: Path | str, memory_limit: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """`open_warehouse`, closed on exit."""
    con = open_warehouse(path, memory_limit)
    try:
        yield con
    finally:
        con.close()
