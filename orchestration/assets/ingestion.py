"""Raw ingestion assets: one per landing feed, loading each day of the partition window."""


from pathlib import Path

from dagster import AssetExecutionContext, AssetsDefinition, MaterializeResult, asset

from orchestration.ingestion import FEEDS, load_landing_day, raw_table
from orchestration.partitions import WAREHOUSE_POOL, daily_partitions, single_run, window_days
from orchestration.resources import PipelinePaths, Warehouse


def build_raw_asset(feed: str) -> AssetsDefinition:
    @asset(
        name=raw_table(feed),
        group_name="raw",
        partitions_def=daily_partitions,
        backfill_policy=single_run,
        pool=WAREHOUSE_POOL,
        kinds={"duckdb"},
        description=f"The `{feed}` landing files, one day per partition, every column as landed (VARCHAR).",
    )
    def _raw(context: AssetExecutionContext, warehouse: Warehouse, paths: PipelinePaths) -> MaterializeResult:
        days = window_days(context.partition_time_window)
        with warehouse.connect() as con:
            results = [load_landing_day(con, feed, day, Path(paths.landing)) for day in days]
        for result in results:
            if result.missing_columns:
                context.log.warning(f"{result.source_file}: missing columns {result.missing_columns} loaded as NULL")
        return MaterializeResult(
            metadata={
                "rows_loaded": sum(result.rows for result in results),
                "days": len(days),
                "days_without_file": sum(result.source_file is None for result in results),
            }
        )

    return _raw


raw_assets = [build_raw_asset(feed) for feed in FEEDS]
