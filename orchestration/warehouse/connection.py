"""Opening the DuckDB warehouse the way every step of a run does, so that connections share one
database instance in the process (dbt runs in-process too); a lock held by another process is
waited for a little, then explained in one line (which process, what to do)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

_LOCK_ERROR = "Could not set lock on file"
# DuckDB writes the log of a run's commits into the file (a checkpoint) once the log passes this size; past 16 MB
# (its default) a backfill's many per-day writes (the churn scores, the recall plan, the cohort metrics) checkpointed
# every day or two, each time rewriting the table's last row group. A 10-day range of the 100,000-user world took
# 135.2 s with 256 MB against 144.1 s (peak 4.07 against 4.23 GiB); a daily run at 1M users took the same (64.0 against
# 64.4 s). The log is replayed from the file if a process dies before its checkpoint.
WAL_AUTOCHECKPOINT = "256MB"
_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


class WarehouseLockedError(RuntimeError):
    """Another process holds the warehouse file; the message says which one and what to do."""

    def __init__(self, message: str, pid: int | None):
        super().__init__(message)
        self.pid = pid


def is_lock_error(exc: BaseException | str) -> bool:
    return _LOCK_ERROR in str(exc)


def explain_lock_error(path: Path | str, error: BaseException | str) -> WarehouseLockedError:
    """One line out of DuckDB's lock error: the holder's PID and command line, and the way out."""
    match = _HOLDER.search(str(error))
    pid = int(match["pid"]) if match else None
    holder = f"PID {pid} ({_command_line(pid) or match['program']})" if match else "another process"
    return WarehouseLockedError(
        f"the warehouse {path} is locked by {holder}: close that program (BI tools read "
        f"bi/bi.duckdb, never the warehouse) or wait for its run to end, then run again",
        pid,
    )


def open_warehouse(
    path: Path | str, lock_wait_seconds: float = 0.0, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """A read-write connection to the warehouse file (created when missing). While another process
    holds the file, retry for up to `lock_wait_seconds` (a BI tool that reconnects now and then
    lets go quickly), then raise WarehouseLockedError. `memory_limit` is DuckDB's limit for the
    database instance: past it, large operators spill to disk instead of failing. Its checkpoints wait for
    WAL_AUTOCHECKPOINT of log.

    Always the same configuration: DuckDB shares an open file between the connections of a process
    only when they were opened alike (dbt, in-process, opens it the same way)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + lock_wait_seconds
    pause = 0.05
    while True:
        try:
            con = duckdb.connect(str(path))
            con.execute(f"set wal_autocheckpoint = '{WAL_AUTOCHECKPOINT}'")
            if memory_limit:
                con.execute(f"set memory_limit = '{memory_limit}'")
            return con
        except duckdb.IOException as exc:
            if not is_lock_error(exc):
                raise
            if time.monotonic() + pause > deadline:
                raise explain_lock_error(path, exc) from None
            time.sleep(pause)
            pause = min(pause * 2, 1.0)


@contextmanager
def connect(
    path: Path | str, lock_wait_seconds: float = 0.0, memory_limit: str | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """`open_warehouse`, closed on exit."""
    con = open_warehouse(path, lock_wait_seconds, memory_limit)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def lowered_memory_limit(con: duckdb.DuckDBPyConnection, limit: str, restored: str) -> Iterator[None]:
    """Run the block with the database's memory limit at `limit`, then set it to `restored`. The limit belongs
    to the database, which every cursor of the run shares: lowering it evicts cached blocks beyond it at once."""
    con.execute(f"set memory_limit = '{limit}'")
    try:
        yield
    finally:
        con.execute(f"set memory_limit = '{restored}'")


def _command_line(pid: int | None) -> str | None:
    """The holder's command line from /proc (Linux, same machine), shortened; None when unknown."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    text = " ".join(raw.replace(b"\0", b" ").decode(errors="replace").split())
    return text if len(text) <= 120 else text[:117] + "..."
