"""How far back a run's new rows reach: the lookback the daily dbt models need.

A daily run recomputes the days before its window so that late rows land where they belong. Most days
nothing arrives late for most of them, and each lookback day costs as much as the day itself (at 1M
users, dbt's daily set took 57-60 s with 3 lookback days and 32-34 s with none: docs/performance.md).
So the lookback starts at the earliest day that the rows landed in the window are dated, capped by the
configured lookback: events by their time, users new to the landing by their signup. Times are read as
staging reads them (the typed column, else the text as an ISO timestamp, UTC when naive); a row whose time
cannot be read is quarantined by staging and changes no day.
"""

from __future__ import annotations

from datetime import date

import duckdb

from orchestration.ingestion.contract import RESTRICTED_SCHEMA
from orchestration.warehouse.io import table_exists


def _utc(column: str) -> str:
    """staging's reading of a landed time (dbt macros landed_timestamp and parse_utc_timestamp)."""
    return f"coalesce({column}_ts, timezone('UTC', try_cast(nullif(trim({column}), '') as timestamptz)))"


EVENTS = """
select min({time}) from raw_events where _landing_date >= ? and _landing_date < ?
"""
# Labels read a user's signup day only (int_user_recency): a record that repeats the signup an earlier landing
# gave (a profile update) changes no earlier day; a new user, or a changed signup, changes the days since.
USERS = """
select min({time}) from {users} as landed
where _landing_date >= ? and _landing_date < ?
  and not exists (
      select 1 from {users} as earlier
      where earlier._landing_date < ? and earlier.user_id = landed.user_id
        and {earlier_time} is not distinct from {time})
"""


def earliest_landed_day(con: duckdb.DuckDBPyConnection, first: date, end: date) -> date | None:
    """The earliest UTC day that the rows landed on days [first, end) change: their events' days, and the signup
    days of users new to the landing (or whose signup changed); None when no such row landed."""
    con.execute("set TimeZone = 'UTC'")  # naive text is UTC, as dbt's profile reads it in staging
    times = []
    if table_exists(con, "raw_events"):
        times.append(con.execute(EVENTS.format(time=_utc("event_time")), [first, end]).fetchone()[0])
    users = f"{RESTRICTED_SCHEMA}.raw_users"
    if table_exists(con, users):
        query = USERS.format(users=users, time=_utc("landed.signup_at"),
                             earlier_time=_utc("earlier.signup_at"))
        times.append(con.execute(query, [first, end, first]).fetchone()[0])
    days = [time.date() for time in times if time is not None]
    return min(days) if days else None


def lookback_days(first: date, earliest: date | None, configured: int, business_timezone: str = "UTC") -> int:
    """The days before `first` to recompute: back to `earliest` (a landed row's UTC day), at most `configured`.
    In a business time zone other than UTC, a UTC day can be the business day before: one day more."""
    if earliest is None:
        return 0
    margin = 0 if business_timezone == "UTC" else 1
    return max(0, min(configured, (first - earliest).days + margin))
