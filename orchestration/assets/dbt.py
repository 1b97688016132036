"""The dbt project as Dagster assets: one cached DbtProject, keys and groups from the dbt folders."""


import os
import sys
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, Output
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.dbt_args import dbt_build_args
from orchestration.partitions import WAREHOUSE_POOL, daily_partitions, single_run
from orchestration.resources import PipelinePaths, Warehouse
from orchestration.settings import DBT_PROJECT_DIR
from orchestration.verticals import dbt_vars_for

# dbt is installed beside this interpreter; a venv used without activation does not have it on PATH.
DBT_BIN_DIR = str(Path(sys.executable).parent)
if DBT_BIN_DIR not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = os.pathsep.join([DBT_BIN_DIR, os.environ.get("PATH", "")])

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def _manifest_is_stale(project: DbtProject) -> bool:
    """True when the manifest is missing or older than a file of the dbt project (e.g. after a pull)."""
    if not project.manifest_path.exists():
        return True
    built = project.manifest_path.stat().st_mtime
    sources = (path for folder in ("models", "macros", "seeds", "tests") for path in (project.project_dir / folder).rglob("*"))
    newest = max((path.stat().st_mtime for path in sources if path.is_file()), default=0.0)
    return max(newest, (project.project_dir / "dbt_project.yml").stat().st_mtime) > built


dbt_project.prepare_if_dev()
if _manifest_is_stale(dbt_project):  # outside `dagster dev`: parse so the asset graph matches the SQL
    dbt_project.preparer.prepare(dbt_project)


class LayerTranslator(DagsterDbtTranslator):
    """Asset key = table name (sources map onto the raw ingestion assets); group = dbt folder."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        return AssetKey(dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "staging"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "marts"


def _tier_counts(warehouse: Warehouse, day: str) -> dict[str, int]:
    with warehouse.connect(read_only=True) as con:
        rows = con.execute(
            "select lifecycle_stage, count(*) from user_risk_tiers where tier_date = ? group by 1 order by 1", [day]
        ).fetchall()
    return {stage: int(count) for stage, count in rows}


def _row_count(warehouse: Warehouse, table: str) -> int | None:
    with warehouse.connect(read_only=True) as con:
        found = con.execute("select count(*) from information_schema.tables where table_name = ?", [table]).fetchall()[0]
        return int(con.execute(f"select count(*) from {table}").fetchall()[0][0]) if found[0] else None


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    dagster_dbt_translator=LayerTranslator(),
    pool=WAREHOUSE_POOL,
)
def dbt_models(
    context: AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse, paths: PipelinePaths
) -> Iterator[Any]:
    window = context.partition_time_window
    # the vertical preset (CHURN_RECALL_VERTICAL) sets the label and tier rules of this run
    vertical_vars = dbt_vars_for(paths.vertical)
    args = dbt_build_args(window.start.date(), window.end.date(), paths.lookback_days, vertical_vars)
    context.log.info(f"dbt rules of vertical {paths.vertical!r}")
    # dbt holds the DuckDB file while it runs, so metadata queries wait until it has exited.
    events = list(dbt.cli(args, context=context).stream())
    last_day = (window.end.date() - timedelta(days=1)).isoformat()
    for event in events:
        if isinstance(event, Output):
            table = event.output_name
            metadata: dict[str, Any] = {"row_count": _row_count(warehouse, table)}
            if table == "user_risk_tiers":
                metadata["tier_counts_last_day"] = _tier_counts(warehouse, last_day)
            event = event.with_metadata({**event.metadata, **{k: v for k, v in metadata.items() if v is not None}})
        yield event
