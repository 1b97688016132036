"""Refresh cadence of the segments: recomputed as of each Monday (and the first partition), carried
unchanged through the week.

Behaviour archetypes move over weeks, not days: a daily refit re-draws the borders every day, so users
near a border would switch segment (and recall strategy branch) from one day to the next on noise alone
(measured on a simulated 20,000-user world: 0.6% of classified users switch between two consecutive daily
refits, 2% over a week). A weekly refit keeps a user's segment stable for the week and costs one fit per
seven partitions (about 2 s on that world)."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb

from orchestration.warehouse.io import replace_rows, replace_with_query, table_exists

from .clustering import assign_segments
from .features import WINDOW_DAYS, window_totals


def refresh_day(day: date, first_day: date | None = None) -> date:
    """The day whose clustering is in force on `day`: the Monday on or before it, or `first_day` (the first
    partition) when that Monday is earlier, so the first week has segments too."""
    monday = day - timedelta(days=day.weekday())
    return max(monday, first_day) if first_day is not None and first_day <= day else monday


def write_segments(con: duckdb.DuckDBPyConnection, day: date, first_day: date) -> bool:
    """Write the user_segments rows in force on `day` (replacing the day's rows); whether a refit was needed. The
    stored rows of the refresh day when they exist, copied to `day` in SQL (a week's other six days, never through
    pandas), else a clustering computed as of that day. Either way the rows use activity up to the refresh day only,
    so they are the same however the days are materialized."""
    as_of = refresh_day(day, first_day)
    if as_of != day and table_exists(con, "user_segments") and con.execute(
            "select count(*) > 0 from user_segments where segment_date = ?", [as_of]).fetchall()[0][0]:
        replace_with_query(con, "user_segments", "select * replace (cast(? as date) as segment_date) "
                           "from user_segments where segment_date = ?", [day, as_of], "segment_date = ?", [day])
        return False
    segments = assign_segments(window_totals(con, as_of, WINDOW_DAYS), as_of, WINDOW_DAYS)
    segments["segment_date"] = day
    replace_rows(con, "user_segments", segments, "segment_date = ?", [day])
    return True
