"""Measurement assets: per-journey outcomes and per-cohort metrics of past recall campaigns, with
the windows of the selected vertical (its churn threshold and wake-up window)."""


from datetime import date, timedelta

import pandas as pd
from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from orchestration.assets.warehouse_io import replace_rows, table_description, table_exists, table_metadata
from orchestration.measurement import cohort_metrics, journeys_as_of, measure_outcomes, outcome_horizon_days
from orchestration.measurement.outcomes import PRE_PERIOD_DAYS
from orchestration.recall.library import load_strategy_library
from orchestration.partitions import WAREHOUSE_POOL, daily_partitions, single_run, window_days, with_lookback
from orchestration.resources import PipelinePaths, Warehouse
from orchestration.verticals import measurement_windows

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


def _load(con, first: date, last: date) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
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


def _windows(paths: PipelinePaths) -> dict[str, int]:
    """measure_outcomes' window arguments for the configured vertical (and wake-up override)."""
    wake_up_days, churn_days = measurement_windows(paths.vertical, paths.wake_up_days)
    return {"wake_up_days": wake_up_days, "churn_days": churn_days}


def _design_shares(strategies_file: str) -> dict[str, float]:
    """Holdout share of each strategy of the library (the SRM check's expectation)."""
    return {s.id: s.holdout_share for s in load_strategy_library(strategies_file).strategies}


def _measurement_asset(name: str):
    """Both measurement tables read the same inputs and share one partitioning and pool."""
    return asset(
        name=name,
        deps=["stg_recall_touches", "int_user_daily_activity", "user_risk_tiers", "user_segments"],
        group_name="measurement",
        partitions_def=daily_partitions,
        backfill_policy=single_run,
        pool=WAREHOUSE_POOL,
        kinds={"python", "duckdb"},
        description=table_description(name),
        metadata=table_metadata(name),
    )


@_measurement_asset("recall_outcomes")
def recall_outcomes(context: AssetExecutionContext, warehouse: Warehouse, paths: PipelinePaths) -> MaterializeResult:
    days = window_days(context.partition_time_window)
    as_of = days[-1]
    windows = _windows(paths)
    # Journeys older than the horizon have every window closed: they were final at an earlier run.
    first = days[0] - timedelta(days=outcome_horizon_days(windows["churn_days"]) - 1)
    with warehouse.connect() as con:
        touches, activity, redemptions = _load(con, first, as_of)
        outcomes = measure_outcomes(journeys_as_of(touches, as_of), activity, as_of, redemptions=redemptions, **windows)
        if table_exists(con, "recall_outcomes"):
            # Never move a journey back in time: re-running an older day leaves later measurements.
            later = con.execute(
                "select action_id from recall_outcomes where assignment_date between ? and ? and measured_through > ?",
                [first, as_of, as_of],
            ).df()["action_id"]
            outcomes = outcomes[~outcomes["action_id"].isin(later)]
        con.register("measured", outcomes[["action_id"]])
        try:
            replace_rows(con, "recall_outcomes", outcomes, "action_id in (select action_id from measured)", [])
        finally:
            con.unregister("measured")
    return MaterializeResult(metadata={"journeys_measured": len(outcomes), "as_of": as_of.isoformat()})


@_measurement_asset("recall_metrics")
def recall_metrics(context: AssetExecutionContext, warehouse: Warehouse, paths: PipelinePaths) -> MaterializeResult:
    # Like the daily dbt models, re-measure the lookback days: late events change their figures.
    days = with_lookback(window_days(context.partition_time_window), paths.lookback_days)
    written = 0
    design = _design_shares(paths.strategies)
    windows = _windows(paths)
    horizon = outcome_horizon_days(windows["churn_days"])
    with warehouse.connect() as con:
        touches, activity, redemptions = _load(con, days[0] - timedelta(days=horizon - 1), days[-1])
        for day in days:
            journeys = journeys_as_of(touches, day)
            visible = journeys[journeys["assignment_date"] >= day - timedelta(days=horizon - 1)]
            outcomes = measure_outcomes(
                visible, activity[activity["activity_date"] <= pd.Timestamp(day)], day, redemptions=redemptions, **windows
            )
            metrics = cohort_metrics(outcomes, day, design_control_share=design)
            written += replace_rows(con, "recall_metrics", metrics, "as_of_date = ?", [day])
        last = metrics[(metrics["arm"] == "treatment") & (metrics["cohort_level"] == "campaign")] if written else metrics
        mature = last[last["is_mature"]] if written else last
        alarms = int(last["srm_alarm"].sum()) if written else 0
    return MaterializeResult(
        metadata={
            "cohort_rows": written,
            "mature_treatment_cohorts_last_day": len(mature),
            "srm_alarms_last_day": alarms,
            "last_day": MetadataValue.text(days[-1].isoformat()),
        }
    )
