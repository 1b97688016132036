"""The dbt project as Dagster assets: the daily models (incremental per business day, partitioned),
the daily models that read the Python churn scores (their own step, after the scoring assets), and
the models rebuilt from every landed row on each run (unpartitioned, so the UI's partition status
says what is true), keyed by table name and grouped by dbt folder."""

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, dbt_assets

from orchestration.config import Settings
from orchestration.defs.dbt.args import dbt_build_args
from orchestration.defs.dbt.invocation import run_dbt
from orchestration.defs.dbt.project import dbt_project
from orchestration.defs.partitions import SINGLE_RUN, WAREHOUSE_POOL, day_window
from orchestration.defs.resources import Warehouse

# Incremental models are processed per business day; tables and seeds are rebuilt from every landed row.
DAILY, REBUILT = "config.materialized:incremental", "config.materialized:table resource_type:seed"
# Models downstream of the Python scoring assets (user_risk_tiers reads user_churn_scores) form their own
# asset set: inside the daily set they would make a cycle (labels -> scores -> tiers) that Dagster can only
# break by re-colouring every dbt asset set, which also splits the rebuilt set and its tests apart.
SCORED = "source:scoring+"


class LayerTranslator(DagsterDbtTranslator):
    """Asset key = table name (sources map onto the raw ingestion assets); group = dbt folder."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        return dg.AssetKey(dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "staging"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "marts"


def dbt_definitions(partitions: dg.DailyPartitionsDefinition) -> dg.Definitions:
    project = dbt_project()

    @dbt_assets(
        manifest=project.manifest_path, project=project, select=REBUILT, name="dbt_rebuilt_models",
        dagster_dbt_translator=LayerTranslator(), pool=WAREHOUSE_POOL,
    )
    def rebuilt_models(
        context: dg.AssetExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]
    ) -> Iterator[Any]:
        args = dbt_build_args(settings.warehouse, settings.dbt_vars())
        yield from run_dbt(context, args, settings.home / "dbt", warehouse)

    def daily_set(name: str, select: str, exclude: str | None) -> dg.AssetsDefinition:
        @dbt_assets(
            manifest=project.manifest_path, project=project, select=select, exclude=exclude, name=name,
            partitions_def=partitions, backfill_policy=SINGLE_RUN, dagster_dbt_translator=LayerTranslator(),
            pool=WAREHOUSE_POOL,
        )
        def daily_models(
            context: dg.AssetExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]
        ) -> Iterator[Any]:
            window = day_window(context, settings)
            context.log.info(f"dbt: {window.first}..{window.last} with the rules of vertical {settings.vertical!r}")
            args = dbt_build_args(
                settings.warehouse, settings.dbt_vars(), (window.first, window.end), settings.lookback_days
            )
            yield from run_dbt(context, args, settings.home / "dbt", warehouse, (window.first, window.end))

        return daily_models

    return dg.Definitions(assets=[
        rebuilt_models,
        daily_set("dbt_daily_models", DAILY, exclude=SCORED),
        daily_set("dbt_scored_models", SCORED, exclude=None),
    ])
