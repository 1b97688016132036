"""Durable writes: flush a file, or a folder's names after a rename, so that a crash cannot undo them."""

from __future__ import annotations

import os
from pathlib import Path


def fsync(path: Path) -> None:
    """Flush a file, or a folder's entries (POSIX only: elsewhere folders cannot be opened and synced)."""
    if os.name != "posix" and Path(path).is_dir():
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
