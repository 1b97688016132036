"""Run the daily job for a range of business days as one Dagster run (what the CLI and tests use)."""

from __future__ import annotations

import os
from datetime import date
from typing import Any

from dagster import DagsterInstance, ExecuteInProcessResult


def run_days(
    first: date,
    last: date,
    instance: DagsterInstance | None = None,
    resources: dict[str, Any] | None = None,
    raise_on_error: bool = True,
    log_level: str = "INFO",
) -> ExecuteInProcessResult:
    """Materialize every asset for the partitions first..last (inclusive) in a single run.

    `resources` overrides the code location's resources (tests point them at a scratch warehouse).
    """
    from orchestration.definitions import defs  # imported late: it reads the environment

    job = defs.resolve_job_def("daily_pipeline")
    tags = {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": last.isoformat(),
    }
    if instance is None:
        instance = DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral()
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    return job.execute_in_process(
        run_config=run_config, tags=tags, instance=instance, resources=resources, raise_on_error=raise_on_error
    )
