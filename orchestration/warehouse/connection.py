"""Opening the DuckDB warehouse the way every step of a run does, so that connections share one
database instance in the process (dbt runs in-process too)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb


@contextmanager
def connect(path: Path | str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to the warehouse file (created when missing), closed on exit.

    Always the same configuration: DuckDB shares an open file between connections of a process only
    when they were opened alike, and dbt keeps its own connection to the file open between runs.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        yield con
    finally:
        con.close()
