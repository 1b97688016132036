"""The Dagster code location: every asset, check, job, schedule and resource, loaded in one place."""

from __future__ import annotations

from dagster import Definitions, in_process_executor
from dagster_dbt import DbtCliResource

from orchestration.assets.dbt import dbt_models, dbt_project
from orchestration.assets.ingestion import raw_assets
from orchestration.assets.measurement import recall_metrics, recall_outcomes
from orchestration.assets.recall import recall_actions, recall_outbox
from orchestration.assets.report import recall_report
from orchestration.assets.segments import user_segments
from orchestration.checks.contracts import recall_guardrails_audit, recall_outbox_contract, stg_events_contract
from orchestration.resources import PipelinePaths, Warehouse
from orchestration.schedules import daily_pipeline, daily_schedule
from orchestration.settings import Settings

settings = Settings.from_env()
settings.export_env()

defs = Definitions(
    assets=[*raw_assets, dbt_models, recall_actions, recall_outbox, recall_outcomes, recall_metrics, recall_report, user_segments],
    asset_checks=[stg_events_contract, recall_outbox_contract, recall_guardrails_audit],
    jobs=[daily_pipeline],
    schedules=[daily_schedule],
    resources={
        "dbt": DbtCliResource(project_dir=dbt_project, profiles_dir=str(dbt_project.profiles_dir)),
        "warehouse": Warehouse(path=str(settings.warehouse)),
        "paths": PipelinePaths(
            landing=str(settings.landing),
            outbox=str(settings.outbox),
            strategies=str(settings.strategies),
            lookback_days=settings.lookback_days,
            vertical=settings.vertical,
            wake_up_days=settings.wake_up_days,
        ),
    },
    # DuckDB allows one writer process: run steps one after another in the run's own process.
    executor=in_process_executor,
)
