"""BI asset: after the tables it copies are materialized, publish a new version of the BI snapshot into
$CHURN_RECALL_HOME/bi/ (bi.duckdb swapped atomically, Parquet per table and day), rewriting only the
days the run changed (see orchestration/bi)."""

from datetime import date

import dagster as dg
import duckdb
from pydantic import Field

from orchestration.bi import BI_TABLES, DATABASE, RunChanges, publish_snapshot
from orchestration.config import Settings
from orchestration.defs.partitions import WAREHOUSE_POOL, DayWindow, late_data_window, resumed_from, tagged_partitions
from orchestration.defs.resources import Warehouse
from orchestration.measurement import outcome_horizon_days


class BiPublicationConfig(dg.Config):
    everything: bool = Field(
        default=False, description="Rewrite every day of every table, not only the days the run changed (e.g. after "
        "the warehouse was changed outside a run).")


def run_changes(tags: dict[str, str], settings: Settings, con: duckdb.DuckDBPyConnection,
                resumed: date | None = None) -> RunChanges | None:
    """The days the run tagged `tags` (re)computed, as the daily steps define them: its days (from the earlier day
    `resumed` when its dbt step resumed from one), with the earlier days its late rows are dated (its whole lookback
    for recall_metrics), and the journeys the measurement re-measured as of its last day; None without partitions
    (the asset materialized alone), which publishes everything."""
    partitions = tagged_partitions(tags)
    if partitions is None:
        return None
    first, last = partitions
    window = DayWindow(first=date.fromisoformat(first), last=date.fromisoformat(last),
                       lookback_days=settings.lookback_days, first_partition=settings.start_date)
    _, churn_days = settings.measurement_windows
    return RunChanges.of_run(late_data_window(window, con, settings, first=resumed).with_lookback(), window.last,
                             outcome_horizon_days(churn_days), lookback_days=window.with_lookback(),
                             run_days=window.days)


def bi_assets() -> list[dg.AssetsDefinition]:
    # Unpartitioned, like the tables rebuilt on each run: every version holds everything published so far.
    @dg.asset(
        name="bi_snapshot", group_name="bi", deps=sorted({table.source for table in BI_TABLES}), pool=WAREHOUSE_POOL,
        kinds={"duckdb", "parquet"},
        description="What BI tools open, never the warehouse: bi/bi.duckdb (swapped atomically after each run; a reader "
        "sees the previous or the next complete version) over bi/versions/<id>/<table>/<day>/ Parquet files, with "
        "explicit column allow-lists that keep phone numbers, nicknames, messages and coupon codes out. A run rewrites "
        "the days it changed; the other days' files are shared with the previous version. Tables: docs/bi.md.",
    )
    def bi_snapshot(
        context: dg.AssetExecutionContext, config: BiPublicationConfig, warehouse: Warehouse,
        settings: dg.ResourceParam[Settings],
    ) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            changes = None if config.everything else run_changes(context.run.tags, settings, con,
                                                                  resumed_from(context))
            snapshot = publish_snapshot(con, settings.bi_dir, changes, keep_versions=settings.bi_keep_versions)
        whole = ", ".join(f"{name} ({reason})" for name, reason in snapshot.whole.items())
        context.log.info(f"BI snapshot {snapshot.snapshot_id} published in {snapshot.seconds:.1f}s: "
                         f"{sum(snapshot.rewritten.values())} partitions written; whole: {whole or 'none'}")
        return dg.MaterializeResult(metadata={
            "snapshot_id": snapshot.snapshot_id,
            "database": dg.MetadataValue.path(str(snapshot.database)),
            "version": dg.MetadataValue.path(str(snapshot.version)),
            "latest_day": dg.MetadataValue.text(str(snapshot.latest_day)),
            "rows": dg.MetadataValue.json(snapshot.rows),
            "partitions_written": dg.MetadataValue.json(snapshot.rewritten),
            "written_whole": dg.MetadataValue.json(snapshot.whole),
            "megabytes_written": dg.MetadataValue.float(round(snapshot.bytes_written / 1e6, 2)),
            "versions_pruned": dg.MetadataValue.int(len(snapshot.pruned)),
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
