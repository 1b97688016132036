"""Raw ingestion: the three landing feeds of every day of the partition window, loaded in one step (all feeds of a
day in one transaction, consecutive days together up to a bounded size: ingestion/landing.py), each feed its own
asset."""

from collections.abc import Iterator

import dagster as dg

from orchestration.config import Settings
from orchestration.defs.partitions import SINGLE_RUN, WAREHOUSE_POOL, day_window
from orchestration.defs.resources import Warehouse
from orchestration.ingestion import FEEDS, LoadResult, load_landing_range, raw_table

DESCRIPTIONS = {
    "events": "The events landing files, one day per partition: every column as landed (text, or typed from Parquet).",
    "users": "The users landing files (schema `restricted`: nickname and phone are personal data), as landed.",
    "recall_touches": "The delivery log landing files (touches and control assignments), as landed.",
}


def _metadata(results: list[LoadResult]) -> dict[str, object]:
    nothing = [f"{r.day}: {r.status}" + (f" ({r.detail})" if r.detail else "") for r in results if r.nothing_arrived]
    return {
        "raw_rows_in_window": sum(r.rows for r in results),
        "days": len(results),
        "malformed_rows": sum(r.malformed_rows for r in results),
        "days_where_nothing_arrived": dg.MetadataValue.json(nothing),
    }


def raw_assets(partitions: dg.DailyPartitionsDefinition) -> dg.AssetsDefinition:
    @dg.multi_asset(
        specs=[dg.AssetSpec(raw_table(feed), group_name="raw", kinds={"duckdb"}, description=DESCRIPTIONS[feed],
                            partitions_def=partitions) for feed in FEEDS],
        name="raw_landing_files",
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        pool=WAREHOUSE_POOL,
    )
    def raw_landing_files(
        context: dg.AssetExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]
    ) -> Iterator[dg.MaterializeResult]:
        days = day_window(context, settings).days
        with warehouse.connect() as con:
            results = load_landing_range(con, days, settings.landing)
        for result in results:
            if result.status in ("rejected_file", "unreadable_file") or result.malformed_rows:
                context.log.warning(f"{result.feed} {result.day}: {result.status}, {result.malformed_rows} malformed "
                                    f"lines quarantined; {result.detail}")
            elif result.status == "empty_file" or (result.status == "no_file" and result.rows):
                context.log.warning(f"{result.feed} {result.day}: nothing arrived ({result.detail})")
        for feed in FEEDS:
            yield dg.MaterializeResult(asset_key=raw_table(feed),
                                       metadata=_metadata([r for r in results if r.feed == feed]))

    return raw_landing_files


def ingestion_definitions(partitions: dg.DailyPartitionsDefinition) -> dg.Definitions:
    return dg.Definitions(assets=[raw_assets(partitions)])
