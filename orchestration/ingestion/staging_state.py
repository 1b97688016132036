"""Which loaded landing days the daily dbt models must stage (again) before the run's own: what a failed run
left, the days whose events were orphaned until their users landed, and the days of users no longer landed.

Ingestion and dbt are separate steps: when a run loads raw days and then fails before its dbt step
succeeds, those days are loaded but not staged. `raw_landing_log.staged_at` stays null for them
until a dbt step covering them succeeds; the next run's dbt step starts its window at the earliest
such day (and says so), so the raw layer and the models agree again whatever day that run is for.

Likewise, an event whose user had no users row yet is quarantined as `unknown_user`; when that user's first row
lands, the run's dbt step starts its window at the event's landing day, so that the event is accepted as a full
build over the same raw rows accepts it (and the days it is dated are labelled again).

And a user whose every users row a landing day loaded again has dropped leaves the users tables with the window
that restages that day, but their accepted events and labels outside the window stay. A run that sees such a user
before its dbt step (still in base_users, or labelled on the last label day before its window) stages again from
the earliest day the user holds (a staged row's landing day, their signup, an accepted event's landing day or day):
their events are quarantined as `unknown_user` and those days labelled again without them, as a full build over the
same raw rows has it. Their events on landing days after the run's own, which it cannot reach, it leaves to the next
run: it records the day to stage again from as not staged (a user whose rows were all rejected is never labelled,
so no later run would find them). A signup long ago makes that a long window, once; the decisions already taken
(scores, tiers, actions) are not rewritten.
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

# The users staged or labelled before the window who have no users row left (valid or not, as staging compares them:
# trimmed), with the earliest day they hold: the landing day of their staged rows (base_users keeps a user until a
# window restages those days) or their signup (the labels of days no window reached keep them). Few or none: the
# query reads the users' ids, never the events.
VANISHED_USERS = f"""
with known as (
    select distinct trim(user_id) as user_id from {RESTRICTED_SCHEMA}.raw_users
),
last_labelled as (
    select user_id, signup_date from int_user_recency
    where label_date = (select max(label_date) from int_user_recency where label_date < ?)
),
staged as (
    select clean_user_id as user_id, _landing_date as held_from from {RESTRICTED_SCHEMA}.base_users
    where clean_user_id is not null
    union all
    select user_id, signup_date from last_labelled
)
select user_id, min(held_from) from staged
where not exists (select 1 from known where known.user_id = staged.user_id)
group by user_id
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


def days_of_vanished_users(con: duckdb.DuckDBPyConnection, first: date, end: date) -> tuple[date | None, date | None]:
    """For the users with no users row left (VANISHED_USERS), the day a run of [first, end) stages again from: the
    earliest day before `first` they hold (a staged row's landing day, their signup, an accepted event's landing day
    or event day; not before the first landing day). And the day from which the next run must stage again, when
    accepted events of theirs landed on or after `end`, which this run cannot reach (their landing day, or the day
    they are dated if earlier): a user never labelled is found by no later run."""
    tables = (LOG_TABLE, f"{RESTRICTED_SCHEMA}.raw_users", f"{RESTRICTED_SCHEMA}.base_users", "int_user_recency",
              "stg_events")
    if not all(table_exists(con, table) for table in tables):
        return None, None
    vanished = con.execute(VANISHED_USERS, [first]).fetchall()
    if not vanished:
        return None, None
    # per landing day, the earliest day its accepted events of these users are dated: restaging a late event's
    # landing day recomputes its day only while the event is accepted
    events = con.execute("select _landing_date, min(event_date) from stg_events "
                         "where user_id in (select unnest(?)) group by _landing_date",
                         [[user for user, _ in vanished]]).fetchall()
    reached = [min(landed, dated) for landed, dated in events if landed < end]
    later = [min(landed, dated) for landed, dated in events if landed >= end]
    # A signup before the first landing day: staging from that day relabels every day a full build labels.
    first_landed = con.execute(f"select min(landing_date) from {LOG_TABLE} where status = 'loaded'").fetchall()[0][0]
    if first_landed is None:
        return None, None
    earliest = min([*reached, *(held_from for _, held_from in vanished if held_from is not None)], default=None)
    before = max(earliest, first_landed) if earliest is not None else None
    after = max(min(later), first_landed) if later else None
    return (before if before is not None and before < first else None), after


@dataclass(frozen=True)
class StagedAgain:
    """The landing days before a run's window that its dbt step stages too: from the earliest day a failed run left
    unstaged, from the earliest landing day of events orphaned until a user landed in the window, and from the earliest
    day of users with no users row left; and the day the next run must stage again from (`leave_unstaged`)."""

    unstaged: date | None
    orphans: date | None
    vanished: date | None = None
    next_run_from: date | None = None

    @property
    def first(self) -> date | None:
        """The day the dbt window starts at instead of the run's first day (None: the run's own days)."""
        return min(filter(None, [self.unstaged, self.orphans, self.vanished]), default=None)


def staged_again(con: duckdb.DuckDBPyConnection, first: date, end: date) -> StagedAgain:
    """What a run of the days [first, end) stages before them (first_unstaged_day, first_day_of_orphans_now_known,
    days_of_vanished_users), and the day the next run must stage again from."""
    vanished, next_run_from = days_of_vanished_users(con, first, end)
    return StagedAgain(first_unstaged_day(con, first), first_day_of_orphans_now_known(con, first, end), vanished,
                       next_run_from)


def leave_unstaged(con: duckdb.DuckDBPyConnection, day: date) -> None:
    """Record the first loaded landing day from `day` on as not staged, so that the next run stages again from it
    (first_unstaged_day). Call it after mark_staged, which would record it staged again."""
    con.execute(f"update {LOG_TABLE} set staged_at = null where status = 'loaded' and landing_date = "
                f"(select min(landing_date) from {LOG_TABLE} where status = 'loaded' and landing_date >= ?)", [day])


def mark_staged(con: duckdb.DuckDBPyConnection, first: date, end: date) -> None:
    """Record that the landing days [first, end) are staged as loaded."""
    if table_exists(con, LOG_TABLE):
        con.execute(f"update {LOG_TABLE} set staged_at = current_timestamp "
                    "where landing_date >= ? and landing_date < ? and staged_at is null", [first, end])
