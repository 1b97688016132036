"""Raw ingestion assets: one per landing feed, loading each day of the partition window."""

import dagster as dg

from orchestration.config import Settings
from orchestration.defs.partitions import SINGLE_RUN, WAREHOUSE_POOL, day_window
from orchestration.defs.resources import Warehouse
from orchestration.ingestion import FEEDS, load_landing_day, raw_table


def _raw_asset(feed: str, partitions: dg.DailyPartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name=raw_table(feed),
        group_name="raw",
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        pool=WAREHOUSE_POOL,
        kinds={"duckdb"},
        description=f"The `{feed}` landing files, one day per partition, every column as landed (VARCHAR).",
    )
    def _raw(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]) -> dg.MaterializeResult:
        days = day_window(context, settings).days
        with warehouse.connect() as con:
            results = [load_landing_day(con, feed, day, settings.landing) for day in days]
        for result in results:
            if result.missing_columns:
                context.log.warning(f"{result.source_file}: missing columns {result.missing_columns} loaded as NULL")
        return dg.MaterializeResult(
            metadata={
                "rows_loaded": sum(result.rows for result in results),
                "days": len(days),
                "days_without_file": sum(result.source_file is None for result in results),
            }
        )

    return _raw


def ingestion_definitions(partitions: dg.DailyPartitionsDefinition) -> dg.Definitions:
    return dg.Definitions(assets=[_raw_asset(feed, partitions) for feed in FEEDS])
