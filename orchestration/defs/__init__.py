"""The Dagster wiring, one folder per concern; `build_definitions` assembles it for one set of settings.
Thin by design: each asset reads its inputs, calls domain code outside this package, writes outputs."""

from __future__ import annotations

import dagster as dg

from orchestration.config import Settings
from orchestration.defs.bi.assets import bi_assets, bi_postgres_assets
from orchestration.defs.dbt.assets import dbt_definitions
from orchestration.defs.ingestion.assets import ingestion_definitions
from orchestration.defs.jobs import job_definitions
from orchestration.defs.measurement.assets import measurement_assets
from orchestration.defs.partitions import daily_partitions
from orchestration.defs.progress import progress_logger
from orchestration.defs.quality.contracts import quality_checks
from orchestration.defs.recall.assets import recall_assets
from orchestration.defs.recall.checks import recall_checks
from orchestration.defs.refits.assets import refit_assets
from orchestration.defs.reporting.assets import reporting_assets
from orchestration.defs.resources import resources
from orchestration.defs.scoring.assets import scoring_assets
from orchestration.defs.segments.assets import segment_assets
from orchestration.defs.uplift.assets import uplift_assets


def build_definitions(settings: Settings) -> dg.Definitions:
    """Every asset, check, job, schedule, sensor and resource of the pipeline for `settings`."""
    partitions = daily_partitions(settings.start_date)
    return dg.Definitions.merge(
        ingestion_definitions(partitions),
        dbt_definitions(partitions),
        dg.Definitions(
            assets=[*scoring_assets(partitions), *segment_assets(partitions), *uplift_assets(partitions),
                    *recall_assets(partitions), *measurement_assets(partitions), *reporting_assets(partitions),
                    *refit_assets(partitions), *bi_assets(), *bi_postgres_assets(settings)],
            asset_checks=[*quality_checks(partitions), *recall_checks(partitions)],
        ),
        job_definitions(partitions),
        # DuckDB allows one writer process: run steps one after another in the run's own process.
        # The progress logger is used only when a run's config names it (the command line does).
        dg.Definitions(resources=resources(settings), executor=dg.in_process_executor,
                       loggers={"console": dg.colored_console_logger, "progress": progress_logger}),
    )
