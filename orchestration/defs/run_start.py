"""The first duties of every run, before any step writes: mark runs whose process was killed as
failed, validate every setting and the strategy library, open the warehouse (explaining a lock held
by another process in one line) and bring its schema up to date."""

from __future__ import annotations

import dagster as dg
import duckdb

from orchestration.config import Settings
from orchestration.operations import preflight, process_identity, process_is_gone
from orchestration.warehouse.connection import open_warehouse
from orchestration.warehouse.migrations import migrate

# The process running a run (host:pid:start), set when the run starts; how a later run tells that
# a run left in STARTED was killed.
PROCESS_TAG = "churn_recall/process"


def start_run(context: dg.InitResourceContext, settings: Settings) -> duckdb.DuckDBPyConnection:
    """Run the first duties; return the open warehouse connection the run holds until it ends."""
    log = context.log
    if context.instance is not None and context.dagster_run is not None:
        run_id = context.dagster_run.run_id
        if PROCESS_TAG not in context.dagster_run.tags:
            context.instance.add_run_tags(run_id, {PROCESS_TAG: process_identity()})
        for failed in mark_killed_runs_failed(context.instance, exclude=run_id):
            log.warning(f"run {failed} was left STARTED by a process that no longer exists: marked failed")
    preflight(settings)
    con = open_warehouse(settings.warehouse, settings.lock_wait_seconds, settings.duckdb_memory_limit)
    try:
        report = migrate(con)
    except Exception:
        con.close()
        raise
    if report.applied or report.created_tables:
        log.info(f"warehouse schema at version {report.version}: applied {list(report.applied)}, "
                 f"created {list(report.created_tables)}")
    return con


def mark_killed_runs_failed(instance: dg.DagsterInstance, exclude: str | None = None) -> list[str]:
    """Runs in STARTED whose process (tag PROCESS_TAG) has ended: report them failed; their ids."""
    failed = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        identity = run.tags.get(PROCESS_TAG)
        if run.run_id == exclude or identity is None or not process_is_gone(identity):
            continue
        instance.report_run_failed(
            run, message=f"The process that ran this run ({identity}) ended without finishing it (killed); "
            "marked failed when the next run started."
        )
        failed.append(run.run_id)
    return failed
