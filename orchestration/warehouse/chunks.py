"""A long range of days cut into chunks that fit DuckDB's memory limit: the dbt daily models hold every label
row of their window at once (window sums, joins), so their memory grows with the users × days they process.
A range of 25 days at 1M users needs 3-5 GB in one model and does not fit a 3 GB limit however it spills;
runs of at most so many user-days do (docs/performance.md, "A long range at 1M users")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import duckdb

from orchestration.config.settings import memory_bytes
from orchestration.ingestion.contract import RESTRICTED_SCHEMA
from orchestration.warehouse.io import table_exists

# Measured at the default 3 GB limit: 100,000 users × 91 days (9.1 M user-days) fit in one run, 1M users × 28 days
# did not. 320 bytes a user-day gives 9.4 M user-days at 3 GB: a 100,000-user range of 88 days and its lookback in
# one run, 6 days and their 3 lookback days at 1M users.
BYTES_PER_USER_DAY = 320


def user_day_budget(memory_limit: str) -> int:
    """The user-days one dbt run may process under `memory_limit`."""
    return max(1, memory_bytes(memory_limit) // BYTES_PER_USER_DAY)


def users_by_day(con: duckdb.DuckDBPyConnection, end: date) -> dict[date, int]:
    """How many users first landed on each landing day before `end` (each user counted once, on the first day
    a users row of theirs landed); empty before any users row landed."""
    users = f"{RESTRICTED_SCHEMA}.raw_users"
    if not table_exists(con, users):
        return {}
    rows = con.execute(f"""
        select first_day, count(*) from (
            select min(_landing_date) as first_day from {users} where _landing_date < ? group by trim(user_id))
        group by 1""", [end]).fetchall()
    return {day: int(count) for day, count in rows}


def plan_chunks(first: date, last: date, new_users: Mapping[date, int], budget: int,
                lookback_days: int) -> list[tuple[date, date]]:
    """Days [first, last] cut into consecutive chunks [chunk_first, chunk_last], oldest first, each as long as its
    user-days fit `budget`: a day counts the users landed by then (`new_users`: first landings by day), and each
    chunk also counts `lookback_days` earlier days that it may recompute for late rows. A chunk has at least one
    day, so a single day over the budget is a chunk of its own."""
    if last < first:
        raise ValueError(f"empty range {first}..{last}")
    landed = sum(count for day, count in new_users.items() if day < first)
    on_day: list[int] = []
    for offset in range((last - first).days + 1):
        landed += new_users.get(first + timedelta(days=offset), 0)
        on_day.append(landed)
    chunks: list[tuple[date, date]] = []
    start, used = 0, 0
    for index, users in enumerate(on_day):
        if index > start and used + users > budget:
            chunks.append((first + timedelta(days=start), first + timedelta(days=index - 1)))
            start, used = index, 0
        if index == start:
            used += users * lookback_days  # the chunk's lookback days, at its first day's users
        used += users
    chunks.append((first + timedelta(days=start), last))
    return chunks


def checked_ends(chunks: Sequence[tuple[date, date, int]]) -> list[date | None]:
    """Per chunk of a range (its first day, exclusive end and lookback days, in order), the exclusive end of the days
    its data tests check with their lookback: the first day a later chunk rewrites (that chunk checks it, as it
    then stands), None for the last chunk (its window's end). So each day is checked once, on the rows it keeps,
    and a warning's failing rows are not counted again in the next chunk. A later chunk's lookback can reach back
    past the chunk before it (chunks shorter than the lookback), hence the earliest of all later chunks."""
    ends: list[date | None] = [None] * len(chunks)
    rewritten_from: date | None = None  # the earliest day any later chunk rewrites
    for index in range(len(chunks) - 1, 0, -1):
        first, _, lookback_days = chunks[index]
        start = first - timedelta(days=lookback_days)
        rewritten_from = start if rewritten_from is None else min(rewritten_from, start)
        ends[index - 1] = min(chunks[index - 1][1], rewritten_from)
    return ends
