"""The dbt project as Dagster assets: the daily models (partitioned: incremental per business day, the
staged feeds per landing day, with the taxonomy seed they validate against), the daily models that read the
Python churn scores (their own step, after the scoring assets), and the reporting marts, rebuilt on each run
after the Python steps whose tables they read (a set of their own: in the daily set they would make a cycle
between dbt and Python); keyed by table name (sources too, so Python tables map onto their assets) and
grouped by dbt folder."""

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, dbt_assets

from orchestration.config import Settings
from orchestration.defs.dbt.args import dbt_build_args
from orchestration.defs.dbt.invocation import run_dbt
from orchestration.defs.dbt.project import dbt_project
from orchestration.defs.partitions import (
    RESUMED_FROM, SINGLE_RUN, WAREHOUSE_POOL, DayWindow, day_window, dbt_chunks, resumed_from,
)
from orchestration.defs.resources import Warehouse
from orchestration.ingestion.staging_state import leave_unstaged, mark_staged, staged_again
from orchestration.warehouse.chunks import checked_ends

# Incremental models are processed per business day (the staged feeds per landing day); the seed is loaded
# with them (one dbt invocation, not one more per run); the reporting marts (views, so in neither set) read
# Python-written tables (dbt sources keyed like the Python assets). Selecting the sets by exclusion instead
# would drag tests across sets (dbt's buildable indirect selection looks at ancestors before the exclusion).
REPORTING = "path:models/marts/reporting"
DAILY = "config.materialized:incremental resource_type:seed"
# Models downstream of the Python scoring assets (user_risk_tiers reads user_churn_scores) form their own
# asset set: inside the daily set they would make a cycle (labels -> scores -> tiers) that Dagster can only
# break by re-colouring every dbt asset set, which also splits the other sets and their tests apart.
SCORED = "source:scoring+"


class LayerTranslator(DagsterDbtTranslator):
    """Asset key = table name (sources map onto the raw ingestion assets and the Python tables); group =
    dbt folder, a folder under marts naming its own group (marts/reporting: reporting)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        return dg.AssetKey(dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "staging"
        fqn = dbt_resource_props.get("fqn", [])
        if len(fqn) > 3 and fqn[1] == "marts":
            return fqn[2]
        return fqn[1] if len(fqn) > 2 else "marts"


def build_args(settings: Settings, window: tuple[date, date] | None = None, lookback_days: int | None = None,
               checks_until: date | None = None) -> list[str]:
    """`dbt build` arguments with the run's rules: for a window of days [first, end) and its lookback (the
    settings' by default), or the whole history; `checks_until`: dbt_build_args'."""
    if window is None:
        return dbt_build_args(settings.warehouse, settings.dbt_rule_vars(), memory_limit=settings.duckdb_memory_limit)
    lookback = settings.lookback_days if lookback_days is None else lookback_days
    return dbt_build_args(settings.warehouse, settings.dbt_rule_vars(), window, lookback, settings.duckdb_memory_limit,
                          checks_until)


def chunk_args(settings: Settings, chunks: Sequence[DayWindow]) -> list[list[str]]:
    """The `dbt build` arguments of each chunk of a range, in order: each chunk's data tests stop where a later chunk
    rewrites (chunks.checked_ends), so no day is checked twice."""
    ends = checked_ends([(chunk.first, chunk.end, chunk.lookback_days) for chunk in chunks])
    return [build_args(settings, (chunk.first, chunk.end), chunk.lookback_days, end)
            for chunk, end in zip(chunks, ends)]


def _chunk_note(chunks: Sequence[DayWindow]) -> str:
    if len(chunks) == 1:
        return ""
    spans = ", ".join(f"{c.first}..{c.last} (+{c.lookback_days})" for c in chunks)
    return f", in {len(chunks)} runs that fit the memory limit: {spans}"


def dbt_definitions(partitions: dg.DailyPartitionsDefinition) -> dg.Definitions:
    project = dbt_project()

    @dbt_assets(
        manifest=project.manifest_path, project=project, select=DAILY, exclude=SCORED, name="dbt_daily_models",
        partitions_def=partitions, backfill_policy=SINGLE_RUN, dagster_dbt_translator=LayerTranslator(),
        pool=WAREHOUSE_POOL,
    )
    def daily_models(
        context: dg.AssetExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]
    ) -> Iterator[Any]:
        days = day_window(context, settings)
        with warehouse.connect() as con:
            again = staged_again(con, days.first, days.end)
            # Only the earlier days that late rows are dated need recomputing (at most the configured lookback);
            # a long range runs as chunks that fit the memory limit.
            chunks = dbt_chunks(days, con, settings, first=again.first)
        if again.unstaged:
            context.log.warning(f"dbt resumes from {again.unstaged}: landing days left unstaged (loaded by a run that "
                                f"failed before staging them, or holding events of users no longer landed) are staged "
                                f"with this window")
        if again.orphans:
            context.log.warning(f"dbt stages again from {again.orphans}: events quarantined as unknown_user since "
                                f"then have a users row landed in this window")
        if again.vanished:
            context.log.warning(f"dbt stages again from {again.vanished}: users with no users row left (a landing day "
                                f"loaded again without them) still have accepted events or labels since then")
        context.log.info(f"dbt: {chunks[0].first}..{chunks[-1].last} and {chunks[0].lookback_days} earlier day(s) that "
                         f"rows landed late for (at most {settings.lookback_days}), with the rules of vertical "
                         f"{settings.vertical!r}{_chunk_note(chunks)}")

        def staged(index: int) -> None:  # a chunk's days stay staged if a later chunk fails
            with warehouse.connect() as con:
                mark_staged(con, chunks[index].first, chunks[index].end)

        resumed = {RESUMED_FROM: again.first.isoformat()} if again.first else {}  # for the steps after (partitions.py)
        yield from run_dbt(context, chunk_args(settings, chunks), settings.home / "dbt", warehouse,
                           (chunks[0].first, chunks[-1].end), after_each=staged, metadata=resumed)
        if again.next_run_from:
            with warehouse.connect() as con:
                leave_unstaged(con, again.next_run_from)
                context.log.warning(f"the next run stages again from {again.next_run_from}: users no longer landed "
                                    f"have accepted events on landing days after this run's")

    @dbt_assets(
        manifest=project.manifest_path, project=project, select=SCORED, exclude=REPORTING, name="dbt_scored_models",
        partitions_def=partitions, backfill_policy=SINGLE_RUN, dagster_dbt_translator=LayerTranslator(),
        pool=WAREHOUSE_POOL,
    )
    def scored_models(
        context: dg.AssetExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]
    ) -> Iterator[Any]:
        with warehouse.connect() as con:  # the days the daily models recomputed, in the same chunks
            chunks = dbt_chunks(day_window(context, settings), con, settings, first=resumed_from(context))
        yield from run_dbt(context, chunk_args(settings, chunks), settings.home / "dbt", warehouse,
                           (chunks[0].first, chunks[-1].end))

    @dbt_assets(
        manifest=project.manifest_path, project=project, select=REPORTING, name="dbt_reporting_models",
        dagster_dbt_translator=LayerTranslator(), pool=WAREHOUSE_POOL,
    )
    def reporting_models(
        context: dg.AssetExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]
    ) -> Iterator[Any]:
        yield from run_dbt(context, [build_args(settings)], settings.home / "dbt", warehouse)

    return dg.Definitions(assets=[daily_models, scored_models, reporting_models])
