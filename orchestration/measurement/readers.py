"""What the measurement reads from the warehouse: the delivery log's journeys of a date range with
the tiers and segments their users had the day before assignment, their daily activity and their
coupon redemptions."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd

from orchestration.measurement.outcomes import PRE_PERIOD_DAYS

# The delivery log's rows of journeys assigned in a date range, each with the lifecycle stage, value
# tier and segment its user had the day before assignment (what the campaign could know when it was sent).
TOUCHES = """
with touches as (
    select *, min(cast(scheduled_at as date)) over (partition by action_id) as assignment_date
    from stg_recall_touches
)
select
    touches.action_id, touches.user_id, touches.strategy_id, touches.arm, touches.scheduled_at,
    touches.sent_at, touches.opened_at, touches.clicked_at, touches.cost, touches.step, touches.status,
    touches.channel, touches.coupon_code, touches.coupon_value,
    coalesce(tiers.lifecycle_stage, 'unknown') as lifecycle_stage, coalesce(tiers.value_tier, 'unknown') as value_tier,
    coalesce(segments.segment, 'unclassified') as segment
from touches
left join user_risk_tiers as tiers
    on tiers.user_id = touches.user_id and tiers.tier_date = touches.assignment_date - 1
left join user_segments as segments
    on segments.user_id = touches.user_id and segments.segment_date = touches.assignment_date - 1
where touches.assignment_date between ? and ?
"""
ACTIVITY = """
select user_id, activity_date, events, key_actions, orders, revenue
from int_user_daily_activity
where activity_date between ? and ? and user_id in (select distinct user_id from journey_touches)
"""
# Orders paid with a coupon: matched to the journey that handed out that code.
REDEMPTIONS = """
select user_id, coupon_code, event_date as redeemed_date
from stg_events
where event_name = 'order_paid' and coupon_code is not null and event_date between ? and ?
  and user_id in (select distinct user_id from journey_touches)
"""


def read_journeys(con: duckdb.DuckDBPyConnection, first: date, last: date) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Touches of journeys assigned in [first, last], their users' activity from the pre-period up to
    `last`, and their coupon redemptions up to `last`."""
    touches = con.execute(TOUCHES, [first, last]).df()
    con.register("journey_touches", touches[["user_id"]])
    try:
        activity = con.execute(ACTIVITY, [first - timedelta(days=PRE_PERIOD_DAYS), last]).df()
        redemptions = con.execute(REDEMPTIONS, [first, last]).df()
    finally:
        con.unregister("journey_touches")
    return touches, activity, redemptions
