"""A simulated world too large to generate at once, generated in chunks of users and merged into the
usual landing folders (one Parquet file per feed and day).

Users of the simulator are independent of each other, so a world of N users is N / chunk worlds with
their own seeds whose ids are moved apart (user, event, touch and journey ids, coupon codes). Only the
landing files are written: ground truth stays with the small worlds that tests evaluate."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.config import Settings
from orchestration.simulator import SimulationConfig, simulate, write_world

# User-days per chunk: about 3.5 events each, so a chunk holds ~10 M events in memory.
CHUNK_USER_DAYS = 3_000_000
FEEDS = ("events", "users", "recall_touches")


def _offset_users(ids: pa.ChunkedArray, offset: int) -> pa.ChunkedArray:
    """u0000001 -> u<1 + offset>, seven digits; nulls stay null."""
    numbers = pc.add(pc.cast(pc.utf8_slice_codeunits(ids, 1), pa.int64()), offset)
    return pc.binary_join_element_wise("u", pc.utf8_lpad(pc.cast(numbers, pa.string()), 7, "0"), "")


def _tagged(ids: pa.ChunkedArray, tag: str) -> pa.ChunkedArray:
    return pc.binary_join_element_wise(tag, ids, "")


def _moved_apart(world, chunk: int, offset: int):
    tag = f"k{chunk:02d}"
    users = world.users.set_column(0, "user_id", _offset_users(world.users["user_id"], offset))
    events = world.events
    events = events.set_column(events.schema.get_field_index("event_id"), "event_id", _tagged(events["event_id"], tag))
    events = events.set_column(events.schema.get_field_index("user_id"), "user_id", _offset_users(events["user_id"], offset))
    touches = world.touches
    for column in ("touch_id", "action_id", "coupon_code"):
        touches = touches.set_column(touches.schema.get_field_index(column), column, _tagged(touches[column], tag))
    touches = touches.set_column(touches.schema.get_field_index("user_id"), "user_id",
                                 _offset_users(touches["user_id"], offset))
    return dataclasses.replace(world, users=users, events=events, touches=touches)


def write_large_world(landing: Path, n_users: int, n_days: int, start: date, seed: int = 7,
                      progress=print) -> int:
    """Write a world of n_users over n_days into `landing`; returns the number of event rows."""
    per_chunk = max(1, min(n_users, CHUNK_USER_DAYS // n_days))
    chunks = -(-n_users // per_chunk)
    scratch = Path(tempfile.mkdtemp(prefix="chunks-", dir=landing.parent))
    events = 0
    try:
        for chunk in range(chunks):
            size = min(per_chunk, n_users - chunk * per_chunk)
            world = simulate(SimulationConfig(n_users=size, n_days=n_days, start_date=start, seed=seed + chunk),
                             progress=lambda stage, fraction: None)
            world = _moved_apart(world, chunk, chunk * per_chunk)
            events += world.events.num_rows
            write_world(world, scratch / f"{chunk:03d}" / "landing", scratch / f"{chunk:03d}" / "truth")
            del world
            progress(f"  generated users {chunk * per_chunk + 1:,}..{chunk * per_chunk + size:,} ({chunk + 1}/{chunks})")
        _merge(scratch, landing, chunks)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return events


def _merge(scratch: Path, landing: Path, chunks: int) -> None:
    """One Parquet file per feed and day from the chunks' files, streamed by DuckDB."""
    days = sorted({p.name for p in (scratch / "000" / "landing").iterdir()})
    with duckdb.connect() as con:
        con.execute("set enable_progress_bar = false")  # its bars would interleave with the generation's lines
        for day in days:
            folder = landing / day
            folder.mkdir(parents=True, exist_ok=True)
            for feed in FEEDS:
                parts = [str(p) for c in range(chunks) if (p := scratch / f"{c:03d}" / "landing" / day / f"{feed}.parquet").is_file()]
                if parts:
                    con.execute(f"copy (select * from read_parquet({parts!r})) to '{folder / f'{feed}.parquet'}' "
                                "(format parquet, compression zstd)")


def labelled_world(home: Path, n_users: int, n_days: int, **overrides: object) -> Settings:
    """Settings of a world of n_users over n_days under `home` (other settings as in `overrides`: its start_date,
    vertical), simulated and run up to its labels unless `home` holds labels already (not timed: benchmarks time
    what follows)."""
    from orchestration.runner import run_days

    settings = Settings.under(home, **overrides)
    if settings.warehouse.is_file():
        with duckdb.connect(str(settings.warehouse), read_only=True) as con:
            if con.execute("select count(*) from information_schema.tables where table_name = 'user_daily_labels'"
                           ).fetchall()[0][0]:
                return settings
    config = SimulationConfig(n_users=n_users, n_days=n_days, start_date=settings.start_date,
                              vertical=settings.vertical)
    started = time.perf_counter()
    write_world(simulate(config), settings.landing, settings.truth)
    run_days(settings, config.start_date, config.end_date, log_level="WARNING", up_to=["user_daily_labels"])
    print(f"  simulated and labelled {n_users:,} users x {n_days} days in {time.perf_counter() - started:.0f} s "
          f"(not timed)", flush=True)
    return settings
