"""BI asset: after the tables it copies are materialized, publish the BI snapshot into
$CHURN_RECALL_HOME/bi/ (bi.duckdb swapped atomically, one Parquet file per table; see orchestration/bi)."""

import dagster as dg

from orchestration.bi import BI_TABLES, DATABASE, publish_snapshot
from orchestration.config import Settings
from orchestration.defs.partitions import WAREHOUSE_POOL
from orchestration.defs.resources import Warehouse


def bi_assets() -> list[dg.AssetsDefinition]:
    # Unpartitioned, like the tables rebuilt on each run: every version holds everything published so far.
    @dg.asset(
        name="bi_snapshot", group_name="bi", deps=sorted({table.source for table in BI_TABLES}), pool=WAREHOUSE_POOL,
        kinds={"duckdb", "parquet"},
        description="What BI tools open, never the warehouse: bi/bi.duckdb (swapped atomically after each run; a reader "
        "sees the previous or the next complete version) and bi/<table>.parquet, with explicit column allow-lists "
        "that keep phone numbers, nicknames, messages and coupon codes out. Tables: docs/bi.md.",
    )
    def bi_snapshot(
        context: dg.AssetExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]
    ) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            snapshot = publish_snapshot(con, settings.bi_dir)
        context.log.info(f"BI snapshot {snapshot.snapshot_id} published in {snapshot.seconds:.1f}s: {snapshot.database}")
        return dg.MaterializeResult(metadata={
            "snapshot_id": snapshot.snapshot_id,
            "database": dg.MetadataValue.path(str(snapshot.database)),
            "latest_day": dg.MetadataValue.text(str(snapshot.latest_day)),
            "rows": dg.MetadataValue.json(snapshot.rows),
            "megabytes": dg.MetadataValue.float(round(snapshot.bytes / 1e6, 2)),
            "seconds": dg.MetadataValue.float(round(snapshot.seconds, 2)),
        })

    return [bi_snapshot]


def bi_postgres_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    """The snapshot's copy in PostgreSQL, when CHURN_RECALL_BI_POSTGRES_URL is set: an asset of its own, so
    that a Postgres outage fails only this step (the files in bi/ are published already)."""
    if settings.bi_postgres_url is None:
        return []

    @dg.asset(
        name="bi_postgres", group_name="bi", deps=["bi_snapshot"], kinds={"postgres"},
        description="The BI snapshot's tables in PostgreSQL (schema churn_recall_bi), swapped in one transaction; "
        "readers holding the previous tables keep them (docs/bi.md).",
    )
    def bi_postgres(context: dg.AssetExecutionContext, settings: dg.ResourceParam[Settings]) -> dg.MaterializeResult:
        from orchestration.bi.postgres import SCHEMA, publish_to_postgres

        outcome = publish_to_postgres(settings.bi_dir / DATABASE, settings.bi_postgres_url)
        if not outcome.published:
            context.log.warning(outcome.detail)
        return dg.MaterializeResult(metadata={
            "published": outcome.published, "detail": outcome.detail, "schema": SCHEMA,
            "rows": dg.MetadataValue.json(outcome.rows),
        })

    return [bi_postgres]
