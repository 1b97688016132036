"""Who runs a run: an identity for the current process (host, PID and the PID's start time, so a
reused PID is not mistaken for the original) and whether the process behind an identity is gone."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def process_identity(pid: int | None = None) -> str:
    """`host:pid:start` for a process of this machine (the current one by default)."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid) or 0}"


def process_is_gone(identity: str) -> bool:
    """True when the process of `identity` ran on this machine and has ended (or its PID now belongs
    to a later process). False when it still runs, or when this machine cannot tell (another host,
    an identity it does not understand)."""
    try:
        host, pid_text, start_text = identity.rsplit(":", 2)
        pid, start = int(pid_text), int(start_text)
    except ValueError:
        return False
    if host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, owned by someone else
        pass
    fields = _stat_fields(pid)
    if fields is None:
        return False
    if fields[0] == "Z":  # killed, not yet reaped by its parent
        return True
    return bool(start) and int(fields[19]) != start


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux /proc); None elsewhere."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from the state field on (field 3; the start time is field 22, index 19)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: the other fields follow its closing parenthesis.
    return stat.rsplit(")", 1)[1].split()
