"""Measurement assets: per-journey outcomes and per-cohort metrics of past recall campaigns."""


from datetime import date, timedelta

import pandas as pd
from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from orchestration.assets.warehouse_io import replace_rows, table_description, table_metadata
from orchestration.measurement import OUTCOME_HORIZON_DAYS, cohort_metrics, measure_outcomes
from orchestration.partitions import WAREHOUSE_POOL, daily_partitions, single_run, window_days
from orchestration.resources import Warehouse

# One row per journey (action_id) from the delivery log, with the lifecycle stage the user had the
# day before assignment (what the campaign could know when it was sent).
JOURNEYS = """
with journeys as (
    select
        action_id,
        any_value(user_id) as user_id,
        any_value(strategy_id) as strategy_id,
        any_value(arm) as arm,
        min(cast(scheduled_at as date)) as assignment_date,
        bool_or(sent_at is not null) as sent,
        bool_or(opened_at is not null) as opened,
        bool_or(clicked_at is not null) as clicked,
        coalesce(sum(cost), 0) as cost
    from stg_recall_touches
    group by action_id
)
select journeys.*, coalesce(tiers.lifecycle_stage, 'unknown') as lifecycle_stage
from journeys
left join user_risk_tiers as tiers
    on tiers.user_id = journeys.user_id and tiers.tier_date = journeys.assignment_date - 1
where journeys.assignment_date between ? and ?
"""
ACTIVITY = """
select user_id, activity_date, events, key_actions, orders, revenue
from int_user_daily_activity
where activity_date between ? and ? and user_id in (select user_id from journey_users)
"""


def _load(con, first: date, last: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Journeys assigned in [first, last] and their users' activity up to `last`."""
    journeys = con.execute(JOURNEYS, [first, last]).df()
    con.register("journey_users", journeys[["user_id"]])
    try:
        activity = con.execute(ACTIVITY, [first, last]).df()
    finally:
        con.unregister("journey_users")
    return journeys, activity


@asset(
    deps=["stg_recall_touches", "int_user_daily_activity", "user_risk_tiers"],
    group_name="measurement",
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool=WAREHOUSE_POOL,
    kinds={"python", "duckdb"},
    description=table_description("recall_outcomes"),
    metadata=table_metadata("recall_outcomes"),
)
def recall_outcomes(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    days = window_days(context.partition_time_window)
    as_of = days[-1]
    # Journeys older than the horizon have every window closed: they were final at an earlier run.
    first = days[0] - timedelta(days=OUTCOME_HORIZON_DAYS - 1)
    with warehouse.connect() as con:
        journeys, activity = _load(con, first, as_of)
        outcomes = measure_outcomes(journeys, activity, as_of)
        replace_rows(con, "recall_outcomes", outcomes, "assignment_date between ? and ?", [first, as_of])
    return MaterializeResult(metadata={"journeys_measured": len(outcomes), "as_of": as_of.isoformat()})


@asset(
    deps=["recall_outcomes"],
    group_name="measurement",
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool=WAREHOUSE_POOL,
    kinds={"python", "duckdb"},
    description=table_description("recall_metrics"),
    metadata=table_metadata("recall_metrics"),
)
def recall_metrics(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    days = window_days(context.partition_time_window)
    written = 0
    with warehouse.connect() as con:
        journeys, activity = _load(con, days[0] - timedelta(days=OUTCOME_HORIZON_DAYS - 1), days[-1])
        for day in days:
            horizon_start = pd.Timestamp(day - timedelta(days=OUTCOME_HORIZON_DAYS - 1))
            visible = journeys[journeys["assignment_date"].between(horizon_start, pd.Timestamp(day))]
            outcomes = measure_outcomes(visible, activity[activity["activity_date"] <= pd.Timestamp(day)], day)
            metrics = cohort_metrics(outcomes, day)
            written += replace_rows(con, "recall_metrics", metrics, "as_of_date = ?", [day])
        mature = metrics[metrics["is_mature"] & (metrics["arm"] == "treatment")] if written else metrics
    return MaterializeResult(
        metadata={
            "cohort_rows": written,
            "mature_treatment_cohorts_last_day": len(mature),
            "last_day": MetadataValue.text(days[-1].isoformat()),
        }
    )
