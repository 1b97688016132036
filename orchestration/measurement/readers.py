"""What the measurement reads from the warehouse: the journeys assigned in a date range, from the decisions
(recall_actions: every journey, sent or not) and from the delivery log (stg_recall_touches: what was sent, opened,
clicked and paid for), their users' daily activity and their coupon redemptions.

One journey id runs through the outbox, the holdout export and the delivery log: a log row belongs to the journey
whose journey_id its action_id is (or whose step action_id it is, for a delivery system that echoed the step id).
Log rows of journeys that recall_actions does not know (campaigns run by other tools, or a warehouse without
recall_actions) are measured from the log alone, with the tiers and segments their users had the day before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pandas as pd

from orchestration.measurement.outcomes import DESIGN_COLUMNS, PRE_PERIOD_DAYS
from orchestration.warehouse.engine import DuckDBEngine, Engine
from orchestration.warehouse.io import as_frame, read_frame, table_exists

# What a journey's outcome row takes from its step-1 row of recall_actions (`started`) as it is.
STARTED = {
    "action_id": "started.journey_id", "user_id": "started.user_id", "strategy_id": "started.strategy_id",
    "arm": "started.arm", "holdout": "started.holdout",
    "lifecycle_stage": "coalesce(started.lifecycle_stage, 'unknown')",
    "value_tier": "coalesce(started.value_tier, 'unknown')", "segment": "coalesce(started.segment, 'unclassified')",
    "channel": "case when started.arm = 'treatment' then started.channel end",
    "design_holdout_share": "started.design_holdout_share",
    "design_global_holdout_share": "started.design_global_holdout_share",
}
STARTED_COLUMNS = ", ".join(f"{sql} as {name}" for name, sql in STARTED.items())
# One row per journey of recall_actions started in a date range (its step-1 row: queued or cancelled for treatment,
# holdout for control), with what was known when it started, its A/B variants when they were drawn at random, whether
# it was its user's first journey and the design it was assigned under (null where not recorded).
DECISIONS = """
with started as (
    select * from recall_actions
    where step = 1 and journey_id is not null and cast(journey_started_at as date) between ? and ? and {shard}
),
variants as (
    -- The variants are independent draws per step: the journey's combination has the product of their shares.
    select journey_id, string_agg(variant, '+' order by step) as step_variant,
        case when count(design_variant_share) = count(*) then product(design_variant_share) end as design_variant_share
    from recall_actions
    where journey_id in (select journey_id from started) and arm = 'treatment' and variant <> 'default'
    group by journey_id
),
firsts as (
    select user_id, min(journey_started_at) as first_started_at
    from recall_actions
    where step = 1 and journey_id is not null and user_id in (select user_id from started)
    group by user_id
)
select
    {started}, cast(started.journey_started_at as date) as assignment_date, started.action_date as decided_on,
    -- Only variants drawn at random are compared: the decision's own choice (basis model, or exploration's draw among
    -- whole treatments) picked them for the user, so their split is no design's and their users differ.
    case when coalesce(started.basis, '') not in ('model', 'exploration') then variants.step_variant end as step_variant,
    started.journey_started_at = firsts.first_started_at as first_journey, variants.design_variant_share
from started
left join variants using (journey_id)
left join firsts using (user_id)
order by action_id
"""
# The delivery log's rows with the journey each belongs to (the steps read are those the log names: recall_actions
# holds a row per user considered each day, ten million at 1M users after 44 days).
LOG = """
select touches.*, coalesce(steps.journey_id, touches.action_id) as journey
from stg_recall_touches as touches
left join (
    select action_id, journey_id from recall_actions
    where journey_id is not null and action_id in (select action_id from stg_recall_touches)
) as steps
    on steps.action_id = touches.action_id
"""
# The log's journeys that recall_actions decided.
KNOWN = "select journey_id from recall_actions where journey_id in (select journey from log)"
NOTHING_KNOWN = "select null::varchar as journey_id where false"
LOG_WITHOUT_DECISIONS = "select touches.*, touches.action_id as journey from stg_recall_touches as touches"
# Log rows of the decided journeys, and of journeys known only to the log assigned in the range (their assignment
# day is the day of their first row), those with the tiers and segments of the day before. `alone_journeys` keeps
# only the journeys with a row of the shard's (ALONE_JOURNEYS): each journey's rows whole, as the window needs them,
# and the tiers and segments read for those users only (each shard read them all: at 100,000 users, 0.45 s of a
# carried day's read of a third of the journeys).
TOUCHES = """
with log as ({log}),
known as ({known}),
alone as (
    select *, min(cast(scheduled_at as date)) over (partition by journey) as assignment_date
    from log where journey not in (select journey_id from known) {alone_journeys}
)
select
    log.journey as action_id, log.touch_id, log.user_id, log.strategy_id, log.arm, log.scheduled_at, log.sent_at,
    log.opened_at, log.clicked_at, log.cost, log.step, log.status, log.channel, log.coupon_code, log.coupon_value,
    null as lifecycle_stage, null as value_tier, null as segment
from log where log.journey in (select action_id from decided)
union all by name
select
    alone.journey as action_id, alone.touch_id, alone.user_id, alone.strategy_id, alone.arm, alone.scheduled_at,
    alone.sent_at, alone.opened_at, alone.clicked_at, alone.cost, alone.step, alone.status, alone.channel,
    alone.coupon_code, alone.coupon_value,
    coalesce(tiers.lifecycle_stage, 'unknown') as lifecycle_stage, coalesce(tiers.value_tier, 'unknown') as value_tier,
    coalesce(segments.segment, 'unclassified') as segment
from alone
left join (
    select tiers.* from user_risk_tiers as tiers
    semi join (select distinct user_id, assignment_date - 1 as tier_date from alone) as wanted
        using (user_id, tier_date)
) as tiers
    on tiers.user_id = alone.user_id and tiers.tier_date = alone.assignment_date - 1
left join {segments}
where alone.assignment_date between ? and ? and {alone_shard}
"""
# The tiers and segments are read for those journeys' users and days only (usually none): joined whole, they took
# 3.5 s of each shard's read at 1M users after 44 days (44 M tier rows), though no row needed them; kept for every day
# of those users, 1.3 M rows of each at 100,000 users for 24,544 log rows.
SEGMENTS_JOIN = ("(select segments.* from user_segments as segments semi join (select distinct user_id, "
                 "assignment_date - 1 as segment_date from alone) as wanted using (user_id, segment_date)) as segments "
                 "on segments.user_id = alone.user_id and segments.segment_date = alone.assignment_date - 1")
NO_SEGMENTS = "(select null as segment) as segments on false"
ALONE_JOURNEYS = "and journey in (select journey from log where {shard})"
# The earliest day that rows landed after the last measured day are dated (events, delivery records), or the day
# after the last measured one: before it, a measured day would read exactly the rows it read when it was measured.
FIRST_NEW_DAY = """
with last_measured as (select max(as_of_date) as day from recall_metrics where as_of_date < ?)
select least(
    (select min(event_date) from stg_events where _landing_date > (select day from last_measured)),
    (select min(scheduled_date) from stg_recall_touches where _landing_date > (select day from last_measured)),
    (select day from last_measured) + 1)
"""
ACTIVITY_COLUMNS = ["user_id", "activity_date", "key_actions", "orders", "revenue"]
# The outcomes count key actions, orders and revenue only: a day without any of them changes none (most active days
# of a shop are browsing, so the read and the pairs shrink several times).
OUTCOME_ACTIVITY = ["key_actions", "orders", "revenue"]
# Orders paid with a coupon: matched to the journey that handed out that code.
REDEMPTIONS = """
select user_id, coupon_code, event_date as redeemed_date
from journey_events
where event_name = 'order_paid' and coupon_code is not null
"""


@dataclass(frozen=True)
class JourneyInputs:
    """What measure_outcomes needs for the journeys assigned in a range (see journeys.journeys_as_of)."""

    decisions: pd.DataFrame  # one row per decided journey (DECISIONS), empty without recall_actions
    touches: pd.DataFrame    # delivery-log rows of those journeys and of journeys only the log knows
    activity: pd.DataFrame
    redemptions: pd.DataFrame


@dataclass(frozen=True)
class Shard:
    """The users whose user_id hashes to `index` modulo `count`: a measurement reads and measures one at a time, so
    its memory holds a shard's journeys, not the horizon's (every journey of a user falls in the user's shard). With
    `selection` (a carried measurement's, carried.py), only the journeys of the users that warehouse table lists and
    the journeys it lists (its columns user_id and journey_id, one of them null in each row)."""

    index: int = 0
    count: int = 1
    selection: str | None = None

    def predicate(self, user: str, journey: str) -> str:
        """SQL true for the shard's journeys (`user`, `journey`: the columns of their user and journey id)."""
        hashed = "true" if self.count == 1 else f"hash({user}) % {int(self.count)} = {int(self.index)}"
        if self.selection is None:
            return hashed
        # (nulls left out of the lists, so that `not` of the predicate selects the other journeys)
        return (f"({user} in (select user_id from {self.selection} where user_id is not null) "
                f"or {journey} in (select journey_id from {self.selection} where journey_id is not null)) and {hashed}")


ALL_USERS = Shard()
# An upper bound of the journeys a measurement over [first, last] reads: the decided ones, and every journey the
# delivery log has rows for (most of them decided too: counted twice, which only errs towards smaller shards).
JOURNEY_COUNTS = {
    "recall_actions": "select count(*) from recall_actions where step = 1 and journey_id is not null "
                      "and cast(journey_started_at as date) between ? and ?",
    "stg_recall_touches": "select count(distinct action_id) from stg_recall_touches "
                          "where scheduled_date between ? and ?",
}


def shards_for(con: duckdb.DuckDBPyConnection, first: date, last: date, journeys_per_shard: int) -> int:
    """How many shards of users keep a measurement of the journeys assigned in [first, last] to at most about
    `journeys_per_shard` journeys each (users' hashes spread them evenly)."""
    journeys = sum(con.execute(sql, [first, last]).fetchone()[0]
                   for table, sql in JOURNEY_COUNTS.items() if table_exists(con, table))
    return max(1, -(-journeys // journeys_per_shard))


def days_to_measure(con: duckdb.DuckDBPyConnection, days: list[date], first: date) -> list[date]:
    """Of a run's `days` (its lookback days, then its own from `first`), those to measure: its own, and the lookback
    days something new can change: from the earliest day the data landed since the last measured day is dated (late
    events, the delivery log), or the first day not measured yet. The other lookback days keep their rows (a daily
    run of the simulated app skips one of three; where late data is rare, all three)."""
    inputs = ("recall_metrics", "stg_events", "stg_recall_touches")
    if days[0] == first or not all(table_exists(con, table) for table in inputs):
        return days
    first_new = con.execute(FIRST_NEW_DAY, [first]).fetchone()[0]
    if first_new is None:  # no day before the run measured yet
        return days
    return [day for day in days if day >= min(first_new, first)]


def read_journeys(con: duckdb.DuckDBPyConnection, first: date, last: date, engine: Engine | None = None,
                  shard: Shard = ALL_USERS) -> JourneyInputs:
    """Journeys of the `shard`'s users assigned in [first, last], their users' activity from the pre-period up to
    `last`, and their coupon redemptions up to `last`; activity and events come through `engine` (the warehouse's
    DuckDB by default)."""
    con.execute("set TimeZone = 'UTC'")  # journey_started_at (timestamptz) -> business day
    has_decisions = table_exists(con, "recall_actions")
    decisions = read_frame(
        con, DECISIONS.format(started=STARTED_COLUMNS, shard=shard.predicate("user_id", "journey_id")), [first, last]) \
        if has_decisions else pd.DataFrame(columns=[
            "action_id", "user_id", "strategy_id", "arm", "holdout", "assignment_date", "decided_on", "lifecycle_stage",
            "value_tier", "segment", "channel", "step_variant", "first_journey", *DESIGN_COLUMNS])
    sql = TOUCHES.format(log=LOG if has_decisions else LOG_WITHOUT_DECISIONS,
                         known=KNOWN if has_decisions else NOTHING_KNOWN,
                         segments=SEGMENTS_JOIN if table_exists(con, "user_segments") else NO_SEGMENTS,
                         alone_shard=shard.predicate("alone.user_id", "alone.journey"),
                         alone_journeys="" if shard == ALL_USERS else
                         ALONE_JOURNEYS.format(shard=shard.predicate("user_id", "journey")))
    con.register("decided", decisions[["action_id"]])
    try:
        touches = read_frame(con, sql, [first, last])
    finally:
        con.unregister("decided")
    users = pd.concat([decisions["user_id"], touches["user_id"]]).dropna().drop_duplicates().tolist()
    engine = engine or DuckDBEngine(con)
    activity = as_frame(engine.read_days("int_user_daily_activity", first - timedelta(days=PRE_PERIOD_DAYS), last,
                                         ACTIVITY_COLUMNS, user_ids=users, nonzero=OUTCOME_ACTIVITY))
    con.register("journey_events", engine.read_days(  # orders only: a tiny share of the horizon's events
        "stg_events", first, last, ["user_id", "event_name", "coupon_code", "event_date"], user_ids=users,
        equals={"event_name": "order_paid"}))
    try:
        redemptions = read_frame(con, REDEMPTIONS)
    finally:
        con.unregister("journey_events")
    return JourneyInputs(decisions, touches, activity, redemptions)
