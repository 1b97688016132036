"""What one day's recall plan reads from the warehouse: the day's tiers and segments, the users'
consent as of the day (and their nickname, from the restricted schema), the outbox history, the
responses to open journeys (what a response is lives here), and each candidate's favourite core
feature for the recommendation. Reads are ordered and responses limited to what had landed by the day,
so that a day planned again plans the same."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.recall.actions import RECOMMENDATION_DAYS, DayInputs
from orchestration.recall.cadence import (
    JOURNEY_ATTRIBUTES, RESPONSE_CATEGORIES, awaiting_response, day_start, history_days, journey_state,
)
from orchestration.recall.library import StrategyLibrary
from orchestration.warehouse.engine import DuckDBEngine, Engine, read_day
from orchestration.warehouse.io import as_frame, read_frame, table_exists

# Consent and timezone as of the day; the nickname (personal data) from the restricted schema's
# contacts of the same profile version, the only place it is kept.
USERS_AS_OF = """
select versions.user_id, contacts.nickname, versions.timezone, versions.push_opt_in, versions.sms_opt_in,
       versions.call_opt_in
from int_user_versions as versions
left join restricted.user_contacts as contacts
    on contacts.user_id = versions.user_id and contacts.updated_at = versions.updated_at
where versions.valid_from < cast(? as date) + 1 and (versions.valid_to is null or versions.valid_to >= cast(? as date) + 1)
order by versions.user_id, versions.updated_at
"""
# The day's tiers (read through the engine: DuckDB or Spark) with the segments the Python step wrote.
TIERS_WITH_SEGMENT = """
select tiers.*, {segment} as segment
from tiers_of_day as tiers {join}
order by tiers.user_id
"""
HISTORY_COLUMNS = list(dict.fromkeys(JOURNEY_ATTRIBUTES + ["step", "action_date", "status", "reason", "channel", "scheduled_at"]))
# Only journeys and contacts matter to the next day: skipped users and rendered texts do not.
HISTORY = f"""
select {", ".join(HISTORY_COLUMNS)} from recall_actions
where action_date >= ? and action_date < ? and status <> 'skipped'
order by action_date, action_id
"""
# A response is an app session, a click on a recall message or a key action after the journey
# began, or an open or click the delivery system logged for the journey. Only what had landed by the
# planning day counts: a day run again after later days landed (a late event of the day, the next
# morning's delivery log with the day's opens) must plan what it planned the first time.
RESPONSES = f"""
select events.user_id, events.event_time as responded_at
from stg_events as events
join awaiting on awaiting.user_id = events.user_id
where events.event_date >= (select cast(min(journey_started_at) as date) - 1 from awaiting)
  and events.event_time >= awaiting.journey_started_at and events.event_time < $known_until
  and events._landing_date <= $day
  and (events.category in {RESPONSE_CATEGORIES} or events.is_key_action)
union all
select touches.user_id, coalesce(touches.clicked_at, touches.opened_at) as responded_at
from stg_recall_touches as touches
join awaiting on awaiting.user_id = touches.user_id and starts_with(touches.action_id, awaiting.journey_id)
where coalesce(touches.clicked_at, touches.opened_at) < $known_until and touches._landing_date <= $day
"""
TOP_FEATURE = f"""
select user_id, feature
from stg_events
where event_date between cast($day as date) - {RECOMMENDATION_DAYS - 1} and $day and _landing_date <= $day
  and feature is not null and user_id in (select user_id from candidates)
group by user_id, feature
qualify row_number() over (partition by user_id order by count(*) desc, feature) = 1
"""


def tier_segment_sql(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The `segment` column and `join` of a query over `user_risk_tiers as tiers` that adds each user's segment of
    the tier day (null where the warehouse has no segments yet)."""
    if not table_exists(con, "user_segments"):
        return {"segment": "null", "join": ""}
    return {"segment": "segments.segment",
            "join": "left join user_segments as segments on segments.user_id = tiers.user_id "
                    "and segments.segment_date = tiers.tier_date"}


def read_day_users(
    con: duckdb.DuckDBPyConnection, day: date, engine: Engine | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The day's tiers (with segments) and its users' consent: what a plan reads that no earlier day's plan changes,
    so a range can read day D+1's while it plans day D (on a cursor of its own). The tiers come through `engine`
    (the warehouse's DuckDB by default)."""
    con.register("tiers_of_day", read_day(engine or DuckDBEngine(con), "user_risk_tiers", day))
    try:
        tiers = read_frame(con, TIERS_WITH_SEGMENT.format(**tier_segment_sql(con)))
    finally:
        con.unregister("tiers_of_day")
    return tiers, read_frame(con, USERS_AS_OF, [day, day])


def read_day_inputs(
    con: duckdb.DuckDBPyConnection, day: date, library: StrategyLibrary, vertical: str, engine: Engine | None = None,
    day_users: tuple[pd.DataFrame, pd.DataFrame] | None = None, history: pd.DataFrame | None = None,
) -> tuple[DayInputs, pd.DataFrame]:
    """The day's inputs, and the journey state folded from the history (folded once, used twice). `day_users`:
    read_day_users of the day when read already (else read here, through `engine`); `history`: the day's outbox
    history when read already (OutboxHistory)."""
    tiers, users = day_users or read_day_users(con, day, engine)
    if history is None:
        history = OutboxHistory(con, library).of(day)
    known_until = day_start(day + timedelta(days=1))
    state = journey_state(history, library, day)
    con.register("awaiting", awaiting_response(state))
    try:
        responses = read_frame(con, RESPONSES, {"known_until": known_until, "day": day})
    finally:
        con.unregister("awaiting")
    inputs = DayInputs(day=day, tiers=tiers, users=users, history=history,
                       responses=responses, vertical=vertical, known_until=known_until)
    return inputs, state


class OutboxHistory:
    """The outbox history (HISTORY: the history_days before a day) of the consecutive days a range plans, each day
    written before the next is read: the first day's read whole, each next one as the day before's with its first
    day dropped and the day just planned read and added. The same rows, order and types as a read of every day:
    one day is read instead of about 18 (0.012 s against 0.12-0.16 s at 100,000 users)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, library: StrategyLibrary) -> None:
        self._con, self._days = con, history_days(library)
        self._day: date | None = None
        self._rows: pa.Table | None = None

    def of(self, day: date) -> pd.DataFrame:
        """The history a plan of `day` reads (the plans of the days before it written)."""
        first = day - timedelta(days=self._days)
        if not table_exists(self._con, "recall_actions"):
            self._day = self._rows = None
            return pd.DataFrame(columns=HISTORY_COLUMNS)
        if self._rows is not None and self._day == day - timedelta(days=1):
            kept = self._rows.filter(pc.greater_equal(self._rows["action_date"], pa.scalar(first, pa.date32())))
            rows = pa.concat_tables([kept, self._rows_between(self._day, day)])
        else:
            rows = self._rows_between(first, day)
        self._day, self._rows = day, rows
        return as_frame(rows, self._con)

    def _rows_between(self, first: date, end: date) -> pa.Table:
        return self._con.sql(HISTORY, params=[first, end]).to_arrow_table()


def read_top_features(con: duckdb.DuckDBPyConnection, day: date, candidates: pd.DataFrame) -> pd.DataFrame:
    """user_id, feature: the most used core feature over the recommendation window (a tie goes to the first feature
    by name), from the events landed by the day, of each candidate that may get a message: those without a status
    yet (a skipped or held-out row gets none; at 1M users, 503,111 of the 545,722 candidates of a young world)."""
    con.register("candidates", candidates.loc[candidates["status"].isna(), ["user_id"]].drop_duplicates())
    try:
        return read_frame(con, TOP_FEATURE, {"day": day})
    finally:
        con.unregister("candidates")
