"""The versions of the BI snapshot on disk: `bi/versions/<id>/` holds one complete, immutable version
(per table, one folder of Parquet files per day, and a manifest listing them with their row counts);
`bi/current` points at the latest. A version shares the files of the days it did not rewrite with the
previous one through hard links, so a version costs only what its run changed, and deleting an old
version frees only the files no newer version shares.

Also here: the days a failed publication still owes (`bi/pending.json`), and the retention of old
versions, which keeps the newest ones and any version a DuckDB reader on this machine still holds.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from orchestration.warehouse.durable import fsync

VERSIONS = "versions"
CURRENT = "current"
MANIFEST = "manifest.json"
PENDING = "pending.json"
PARTIAL_SUFFIX = ".partial"
FORMAT = 1  # of the version layout; a version of another format is republished whole
_VERSION_ID = re.compile(r"(\d{6,})-\d{8}T\d{6}Z")


class Partition(BaseModel):
    """The files of one day of a table (day None: the table's only partition, or its rows without a day)."""

    model_config = ConfigDict(frozen=True)
    day: date | None
    files: tuple[str, ...]  # relative to the version folder
    rows: int


class TableVersion(BaseModel):
    model_config = ConfigDict(frozen=True)
    source: str
    day_column: str | None
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type) in published order
    partitions: tuple[Partition, ...]

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.partitions)


class Manifest(BaseModel):
    model_config = ConfigDict(frozen=True)
    format: Literal[1]
    snapshot_id: str
    published_at: datetime
    previous: str | None
    latest_day: date | None
    tables: dict[str, TableVersion]


class Pending(BaseModel):
    """Days a publication set out to rewrite and did not finish: the next one rewrites them too."""

    tables: dict[str, tuple[date, ...] | None] = {}  # None: the whole table
    everything: bool = False  # what was owed is unknown: republish every table whole


def versions_dir(bi_dir: Path) -> Path:
    return Path(bi_dir) / VERSIONS


def new_version_id(bi_dir: Path, published_at: datetime) -> str:
    """`<sequence>-<UTC time>`: the sequence orders the versions whatever the clock does."""
    sequences = [_sequence(p.name) for p in versions_dir(bi_dir).iterdir()]
    sequence = max((s for s in sequences if s is not None), default=0) + 1
    return f"{sequence:06d}-{published_at:%Y%m%dT%H%M%S}Z"


def read_latest(bi_dir: Path) -> tuple[Path, Manifest] | None:
    """The newest complete version and its manifest (what the next one builds on); None when there is
    none, which makes the next publication rewrite everything. A version folder is complete once it
    has its final name, so this holds even when a publication died before pointing bi/current at it."""
    folder = versions_dir(bi_dir)
    candidates = sorted((p for p in folder.iterdir() if _sequence(p.name) is not None), key=lambda p: _sequence(p.name),
                        reverse=True) if folder.is_dir() else []
    for version in candidates:
        try:
            return version, Manifest.model_validate_json((version / MANIFEST).read_bytes())
        except (OSError, ValidationError, ValueError):
            continue
    return None


def write_manifest(folder: Path, manifest: Manifest) -> None:
    path = folder / MANIFEST
    path.write_text(manifest.model_dump_json(indent=1))
    fsync(path)


def link_files(source_version: Path, target_version: Path, files: tuple[str, ...]) -> None:
    """Hard-link files of an older version into a new one (same relative paths): no copy."""
    for name in files:
        target = target_version / name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(source_version / name, target)


def point_current(bi_dir: Path, version: Path) -> None:
    """Swap bi/current to `version` atomically (a relative link: the folder can be moved whole)."""
    bi_dir = Path(bi_dir)
    building = bi_dir / f".{CURRENT}.{os.getpid()}{PARTIAL_SUFFIX}"
    building.unlink(missing_ok=True)
    building.symlink_to(Path(VERSIONS) / version.name)
    current = bi_dir / CURRENT
    if current.is_dir() and not current.is_symlink():  # a copy of bi/ that followed the link: ours to replace
        shutil.rmtree(current)
    os.replace(building, current)
    fsync(bi_dir)


def read_pending(bi_dir: Path) -> Pending:
    path = Path(bi_dir) / PENDING
    try:
        return Pending.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        return Pending()
    except (OSError, ValidationError, ValueError):
        return Pending(everything=True)


def write_pending(bi_dir: Path, pending: Pending) -> None:
    path = Path(bi_dir) / PENDING
    building = path.with_name(f".{PENDING}.{os.getpid()}{PARTIAL_SUFFIX}")
    building.write_text(pending.model_dump_json())
    fsync(building)
    os.replace(building, path)


def clear_pending(bi_dir: Path) -> None:
    (Path(bi_dir) / PENDING).unlink(missing_ok=True)


def prune(bi_dir: Path, keep: int, current: str) -> list[str]:
    """Delete the versions older than the newest `keep` (the current one always stays), except those
    a DuckDB reader on this machine holds open (their bi.duckdb is locked): they go once let go. The
    ids of the versions deleted."""
    folder = versions_dir(bi_dir)
    ids = sorted((p.name for p in folder.iterdir() if p.is_dir() and _sequence(p.name) is not None),
                 key=_sequence, reverse=True)
    held = held_files()
    deleted = []
    for version_id in ids[keep:]:
        if version_id == current or _identity(folder / version_id / "bi.duckdb") in held:
            continue
        shutil.rmtree(folder / version_id)
        deleted.append(version_id)
    return deleted


def held_files() -> set[tuple[int, int, int]]:
    """(device major, minor, inode) of every file with a lock on it, from Linux's /proc/locks (a DuckDB
    connection locks its database file for as long as it is open); empty where there is no such file."""
    try:
        text = Path("/proc/locks").read_text()
    except OSError:
        return set()
    held = set()
    for match in re.finditer(r"\b([0-9a-f]+):([0-9a-f]+):(\d+)\b", text):
        held.add((int(match[1], 16), int(match[2], 16), int(match[3])))
    return held


def remove_partials(bi_dir: Path) -> None:
    """Remove what a killed publication left half written (hidden, named *.partial*)."""
    bi_dir = Path(bi_dir)
    for path in [*bi_dir.glob(f".*{PARTIAL_SUFFIX}*"), *versions_dir(bi_dir).glob(f".*{PARTIAL_SUFFIX}*")]:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)



def _sequence(version_id: str) -> int | None:
    match = _VERSION_ID.fullmatch(version_id)
    return int(match[1]) if match else None


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return os.major(stat.st_dev), os.minor(stat.st_dev), stat.st_ino
