"""Recall assets: apply the strategy library to the day's tiers, then export the outbox."""


from datetime import timedelta
from pathlib import Path

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from orchestration.assets.warehouse_io import replace_rows, table_description, table_metadata, table_exists
from orchestration.partitions import WAREHOUSE_POOL, daily_partitions, single_run, window_days
from orchestration.recall import load_strategy_library, outbox, plan_recall_actions
from orchestration.resources import PipelinePaths, Warehouse

USERS_AS_OF = """
select user_id, nickname, timezone, push_opt_in, sms_opt_in, call_opt_in
from int_user_versions
where valid_from < cast(? as date) + 1 and (valid_to is null or valid_to >= cast(? as date) + 1)
"""


@asset(
    deps=["user_risk_tiers", "int_user_versions"],
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
    status_counts: dict[str, int] = {}
    with warehouse.connect() as con:
        for day in window_days(context.partition_time_window):
            tiers = con.execute("select * from user_risk_tiers where tier_date = ?", [day]).df()
            users = con.execute(USERS_AS_OF, [day, day]).df()
            recent = set()
            if table_exists(con, "recall_actions"):
                since = day - timedelta(days=library.cooldown_days)
                recent = {row[0] for row in con.execute(
                    "select user_id from recall_actions where action_date >= ? and action_date < ?", [since, day]
                ).fetchall()}
            actions = plan_recall_actions(tiers, users, library, day, recent)
            replace_rows(con, "recall_actions", actions, "action_date = ?", [day])
            for status, count in actions["status"].value_counts().items():
                status_counts[status] = status_counts.get(status, 0) + int(count)
    return MaterializeResult(metadata={"actions_by_status": MetadataValue.json(status_counts)})


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
    export_dir.mkdir(parents=True, exist_ok=True)
    by_channel: dict[str, int] = {}
    with warehouse.connect() as con:
        for day in window_days(context.partition_time_window):
            due = outbox(con.execute("select * from recall_actions where action_date = ?", [day]).df())
            replace_rows(con, "recall_outbox", due, "action_date = ?", [day])
            due.to_parquet(export_dir / f"{day.isoformat()}.parquet", index=False)
            due.to_csv(export_dir / f"{day.isoformat()}.csv", index=False)
            for channel, count in due["channel"].value_counts().items():
                by_channel[channel] = by_channel.get(channel, 0) + int(count)
    return MaterializeResult(
        metadata={"outbox_by_channel": MetadataValue.json(by_channel), "export_dir": MetadataValue.path(str(export_dir))}
    )
