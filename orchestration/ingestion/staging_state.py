"""Which loaded landing days the daily dbt models must stage (again) before the run's own: what a failed run
left, and the days whose events were orphaned until their users landed.

Ingestion and dbt are separate steps: when a run loads raw days and then fails before its dbt step
succeeds, those days are loaded but not staged. `raw_landing_log.staged_at` stays null for them
until a dbt step covering them succeeds; the next run's dbt step starts its window at the earliest
such day (and says so), so the raw layer and the models agree again whatever day that run is for.

Likewise, an event whose user had no users row yet is quarantined as `unknown_user`; when that user's first row
lands, the run's dbt step starts its window at the event's landing day, so that the event is accepted as a full
build over the same raw rows accepts it (and the days it is dated are labelled again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from orchestration.ingestion.contract import RESTRICTED_SCHEMA
from orchestration.ingestion.landing import LOG_TABLE
from orchestration.warehouse.io import table_exists

# The earliest landing day before the window of an event quarantined for its unknown user who has a users row landed
# in the window (the quarantine keeps the user id as landed; staging compares it trimmed).
ORPHANS_NOW_KNOWN = f"""
select min(orphans._landing_date) from quarantine_events as orphans
where orphans.reject_reason = 'unknown_user' and orphans._landing_date < ?
  and trim(orphans.user_id) in (
      select trim(user_id) from {RESTRICTED_SCHEMA}.raw_users where _landing_date >= ? and _landing_date < ?)
"""


def first_unstaged_day(con: duckdb.DuckDBPyConnection, before: date) -> date | None:
    """The earliest landing day before `before` whose load no successful dbt step has staged yet."""
    if not table_exists(con, LOG_TABLE):
        return None
    return con.execute(
        f"select min(landing_date) from {LOG_TABLE} where status = 'loaded' and staged_at is null and landing_date < ?",
        [before]).fetchall()[0][0]


def first_day_of_orphans_now_known(con: duckdb.DuckDBPyConnection, first: date, end: date) -> date | None:
    """The earliest landing day before `first` with an event quarantined as `unknown_user` whose user has a users row
    landed on days [first, end): staging the days from there accepts it."""
    if not (table_exists(con, "quarantine_events") and table_exists(con, f"{RESTRICTED_SCHEMA}.raw_users")):
        return None
    return con.execute(ORPHANS_NOW_KNOWN, [first, first, end]).fetchall()[0][0]


@dataclass(frozen=True)
class StagedAgain:
    """The landing days before a run's window that its dbt step stages too: from the earliest day a failed run left
    unstaged, and from the earliest landing day of events orphaned until a user landed in the window."""

    unstaged: date | None
    orphans: date | None

    @property
    def first(self) -> date | None:
        """The day the dbt window starts at instead of the run's first day (None: the run's own days)."""
        return min(filter(None, [self.unstaged, self.orphans]), default=None)


def staged_again(con: duckdb.DuckDBPyConnection, first: date, end: date) -> StagedAgain:
    """What a run of the days [first, end) stages before them (first_unstaged_day, first_day_of_orphans_now_known)."""
    return StagedAgain(first_unstaged_day(con, first), first_day_of_orphans_now_known(con, first, end))


def mark_staged(con: duckdb.DuckDBPyConnection, first: date, end: date) -> None:
    """Record that the landing days [first, end) are staged as loaded."""
    if table_exists(con, LOG_TABLE):
        con.execute(f"update {LOG_TABLE} set staged_at = current_timestamp "
                    "where landing_date >= ? and landing_date < ? and staged_at is null", [first, end])
