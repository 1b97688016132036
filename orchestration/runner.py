"""Run the daily job for a range of business days as one Dagster run (what the CLI, benchmarks and
tests use)."""

from __future__ import annotations

import os
from datetime import date
from functools import lru_cache

import dagster as dg

from orchestration.config import Settings
from orchestration.defs import build_definitions
from orchestration.defs.jobs import DAILY_JOB

# Building the definitions reads the dbt manifest: once per settings is enough in a process.
_definitions = lru_cache(maxsize=4)(build_definitions)


def run_days(
    settings: Settings,
    first: date,
    last: date,
    instance: dg.DagsterInstance | None = None,
    raise_on_error: bool = True,
    log_level: str = "INFO",
) -> dg.ExecuteInProcessResult:
    """Materialize every asset for the partitions first..last (inclusive) in a single run, recorded
    in `instance` (an in-memory one by default)."""
    job = _definitions(settings).resolve_job_def(DAILY_JOB)
    tags = {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": last.isoformat(),
    }
    instance = instance or dg.DagsterInstance.ephemeral()
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    return job.execute_in_process(run_config=run_config, tags=tags, instance=instance, raise_on_error=raise_on_error)


def prepare(settings: Settings) -> None:
    """Load the code location for `settings` (definitions and the parsed dbt project) ahead of a run,
    as a long-lived Dagster process has it loaded."""
    _definitions(settings).resolve_job_def(DAILY_JOB)


def persistent_instance() -> dg.DagsterInstance | None:
    """The instance of $DAGSTER_HOME when it is set (runs then show in `dagster dev`), else None."""
    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else None
