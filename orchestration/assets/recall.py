"""Recall assets: plan each day's journeys and steps from the tiers, the outbox history and the
users' responses (recall_actions), then export the outbox once the blocking checks pass."""


from datetime import timedelta
from pathlib import Path

import pandas as pd
from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from orchestration.assets.warehouse_io import replace_rows, table_description, table_exists, table_metadata
from orchestration.partitions import WAREHOUSE_POOL, daily_partitions, single_run, window_days
from orchestration.recall import (
    DayInputs, finalize, history_days, holdout_assignments, load_strategy_library, outbox, propose,
)
from orchestration.recall.actions import RECOMMENDATION_DAYS
from orchestration.recall.cadence import JOURNEY_ATTRIBUTES, RESPONSE_CATEGORIES, awaiting_response, day_start, journey_state
from orchestration.resources import PipelinePaths, Warehouse

USERS_AS_OF = """
select user_id, nickname, timezone, push_opt_in, sms_opt_in, call_opt_in
from int_user_versions
where valid_from < cast(? as date) + 1 and (valid_to is null or valid_to >= cast(? as date) + 1)
"""
TIERS_WITH_SEGMENT = """
select tiers.*, {segment} as segment
from user_risk_tiers as tiers {join}
where tiers.tier_date = ?
"""
HISTORY_COLUMNS = list(dict.fromkeys(JOURNEY_ATTRIBUTES + ["step", "action_date", "status", "reason", "channel", "scheduled_at"]))
HISTORY = f"""
select {", ".join(HISTORY_COLUMNS)} from recall_actions
where action_date >= ? and action_date < ? and status <> 'skipped'
"""
# A response is an app session, a click on a recall message or a key action, after the journey began.
RESPONSES = f"""
select events.user_id, events.event_time as responded_at
from stg_events as events
join awaiting on awaiting.user_id = events.user_id
where events.event_date >= (select cast(min(journey_started_at) as date) - 1 from awaiting)
  and events.event_time >= awaiting.journey_started_at and events.event_time < ?
  and (events.category in {RESPONSE_CATEGORIES} or events.is_key_action)
union all
select touches.user_id, coalesce(touches.clicked_at, touches.opened_at) as responded_at
from stg_recall_touches as touches
join awaiting on awaiting.user_id = touches.user_id and starts_with(touches.action_id, awaiting.journey_id)
where coalesce(touches.clicked_at, touches.opened_at) < ?
"""
TOP_FEATURE = f"""
select user_id, feature
from stg_events
where event_date between cast(? as date) - {RECOMMENDATION_DAYS - 1} and ? and feature is not null
  and user_id in (select user_id from candidates)
group by user_id, feature
qualify row_number() over (partition by user_id order by count(*) desc, feature) = 1
"""


def _day_inputs(con, day, library, vertical: str) -> tuple[DayInputs, pd.DataFrame]:
    """The day's inputs, and the journey state folded from the history (folded once, used twice)."""
    has_segments = table_exists(con, "user_segments")
    tiers = con.execute(TIERS_WITH_SEGMENT.format(
        segment="segments.segment" if has_segments else "null",
        join="left join user_segments as segments on segments.user_id = tiers.user_id "
             "and segments.segment_date = tiers.tier_date" if has_segments else ""), [day]).df()
    history = pd.DataFrame(columns=HISTORY_COLUMNS)
    if table_exists(con, "recall_actions"):
        since = day - timedelta(days=history_days(library))
        # Only journeys and contacts matter to the next day: skipped users and rendered texts do not.
        history = con.execute(HISTORY, [since, day]).df()
    known_until = day_start(day + timedelta(days=1))
    state = journey_state(history, library, day)
    con.register("awaiting", awaiting_response(state))
    try:
        responses = con.execute(RESPONSES, [known_until, known_until]).df()
    finally:
        con.unregister("awaiting")
    inputs = DayInputs(day=day, tiers=tiers, users=con.execute(USERS_AS_OF, [day, day]).df(), history=history,
                       responses=responses, vertical=vertical, known_until=known_until)
    return inputs, state


def _top_features(con, day, candidates: pd.DataFrame) -> pd.DataFrame:
    con.register("candidates", candidates[["user_id"]].drop_duplicates())
    try:
        return con.execute(TOP_FEATURE, [day, day]).df()
    finally:
        con.unregister("candidates")


@asset(
    deps=["user_risk_tiers", "int_user_versions", "user_segments", "stg_events", "stg_recall_touches"],
    group_name="recall",
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool=WAREHOUSE_POOL,
    kinds={"python", "duckdb"},
    description=table_description("recall_actions"),
    metadata=table_metadata("recall_actions"),
)
def recall_actions(context: AssetExecutionContext, warehouse: Warehouse, paths: PipelinePaths) -> MaterializeResult:
    library = load_strategy_library(Path(paths.strategies))
    outcomes: dict[str, int] = {}
    with warehouse.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        days = window_days(context.partition_time_window)
        for n, day in enumerate(days, start=1):
            inputs, state = _day_inputs(con, day, library, paths.vertical)
            candidates = propose(inputs, library, state)
            actions = finalize(candidates, inputs, library, _top_features(con, day, candidates))
            replace_rows(con, "recall_actions", actions, "action_date = ?", [day])
            for key, count in actions.groupby(["status", "reason"], dropna=False).size().items():
                label = key[0] if pd.isna(key[1]) else f"{key[0]}:{key[1]}"
                outcomes[label] = outcomes.get(label, 0) + int(count)
            if n % 10 == 0 or n == len(days):
                context.log.info(f"recall_actions: planned {n}/{len(days)} days (through {day})")
    return MaterializeResult(metadata={
        "decisions_by_status": MetadataValue.json(dict(sorted(outcomes.items()))),
        "library_revision": library.revision,
    })


@asset(
    deps=["recall_actions"],
    group_name="recall",
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool=WAREHOUSE_POOL,
    kinds={"python", "duckdb", "parquet"},
    description=table_description("recall_outbox"),
    metadata=table_metadata("recall_outbox"),
)
def recall_outbox(context: AssetExecutionContext, warehouse: Warehouse, paths: PipelinePaths) -> MaterializeResult:
    export_dir = Path(paths.outbox)
    (export_dir / "holdout").mkdir(parents=True, exist_ok=True)
    by_channel: dict[str, int] = {}
    with warehouse.connect() as con:
        for day in window_days(context.partition_time_window):
            actions = con.execute("select * from recall_actions where action_date = ?", [day]).df()
            due = outbox(actions)
            replace_rows(con, "recall_outbox", due, "action_date = ?", [day])
            stem = day.isoformat()
            due.to_parquet(export_dir / f"{stem}.parquet", index=False)
            due.to_csv(export_dir / f"{stem}.csv", index=False)
            control = holdout_assignments(actions)
            control.to_parquet(export_dir / "holdout" / f"{stem}.parquet", index=False)
            control.to_csv(export_dir / "holdout" / f"{stem}.csv", index=False)
            for channel, count in due["channel"].value_counts().items():
                by_channel[channel] = by_channel.get(channel, 0) + int(count)
    return MaterializeResult(
        metadata={"outbox_by_channel": MetadataValue.json(by_channel), "export_dir": MetadataValue.path(str(export_dir))}
    )
