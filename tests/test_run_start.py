"""The pieces of a run's start and of the command line's output, tested directly: which process runs a
run and whether it is gone, which STARTED runs are marked failed, what the preflight refuses, and
which log lines the command line lets through."""

from __future__ import annotations

import io
import logging
import os
import socket
import subprocess
import sys
import uuid

import dagster as dg
import pytest
from dagster._core.storage.dagster_run import DagsterRun

from orchestration.config import Settings
from orchestration.defs.run_start import PROCESS_TAG, mark_killed_runs_failed
from orchestration.operations import PreflightError, preflight, process_identity, process_is_gone


def ended_process_identity() -> str:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    identity = process_identity(child.pid)
    child.wait()
    return identity


def test_a_live_process_is_not_gone_an_ended_one_is():
    assert not process_is_gone(process_identity())
    assert process_is_gone(ended_process_identity())


def test_a_reused_pid_is_told_apart_by_its_start_time():
    host, pid, start = process_identity().rsplit(":", 2)
    assert process_is_gone(f"{host}:{pid}:{int(start) - 1}")


def test_a_process_of_another_machine_or_an_unknown_identity_is_never_declared_gone():
    _, pid, start = process_identity().rsplit(":", 2)
    assert not process_is_gone(f"not-{socket.gethostname()}:{999999}:{start}")
    assert not process_is_gone("garbage")


def add_started_run(instance: dg.DagsterInstance, tags: dict[str, str]) -> str:
    run_id = str(uuid.uuid4())
    instance.add_run(DagsterRun(job_name="daily_pipeline", run_id=run_id, status=dg.DagsterRunStatus.STARTED, tags=tags))
    return run_id


def test_only_started_runs_whose_process_ended_are_marked_failed():
    instance = dg.DagsterInstance.ephemeral()
    killed = add_started_run(instance, {PROCESS_TAG: ended_process_identity()})
    alive = add_started_run(instance, {PROCESS_TAG: process_identity()})
    untagged = add_started_run(instance, {})
    assert mark_killed_runs_failed(instance) == [killed]
    status = {run_id: instance.get_run_by_id(run_id).status for run_id in (killed, alive, untagged)}
    assert status == {killed: dg.DagsterRunStatus.FAILURE, alive: dg.DagsterRunStatus.STARTED,
                      untagged: dg.DagsterRunStatus.STARTED}
    assert mark_killed_runs_failed(instance) == []  # once


def test_preflight_passes_on_the_defaults(tmp_path):
    preflight(Settings.under(tmp_path))
    assert list(tmp_path.iterdir()) == []  # it checks, it creates nothing


def test_preflight_lists_every_problem_naming_the_setting(tmp_path):
    (tmp_path / "outbox").write_text("a file where the outbox folder should be")
    library = tmp_path / "strategies.yml"
    library.write_text("version: 1\nstrategies: [\n")
    with pytest.raises(PreflightError) as failure:
        preflight(Settings.under(tmp_path, strategies=library, vertical="game"))
    problems = failure.value.problems
    assert [p.split(":")[0] for p in problems] == ["strategy library (CHURN_RECALL_STRATEGIES)", "CHURN_RECALL_OUTBOX"]
    assert "not valid YAML" in problems[0] and "line 3" in problems[0] and "is a file" in problems[1]
    assert str(failure.value).startswith("the run did not start (nothing was written):\n  - strategy library")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outbox", "strategies.yml"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_preflight_refuses_a_folder_it_cannot_write(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(PreflightError, match=r"CHURN_RECALL_WAREHOUSE \(its folder\): .*locked is not writable"):
        preflight(Settings.under(tmp_path, warehouse=locked / "sub" / "warehouse.duckdb"))


def test_the_cli_lets_through_our_progress_and_warnings_only(monkeypatch):
    from orchestration import cli

    stream = io.StringIO()
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [logging.StreamHandler(stream)])
    monkeypatch.setattr(logging, "basicConfig", lambda **kwargs: None)
    levels = {name: logging.getLogger(name).level for name in (*cli.LIBRARY_LOGGERS, "orchestration")}
    try:
        cli._configure_logging()
        logging.getLogger("orchestration.progress").info("  recall_actions done in 1.0s")
        logging.getLogger("dagster.builtin").info("A dbt subsetted execution is not being performed.")
        gx = logging.getLogger("great_expectations.data_context.types.base")
        gx.setLevel(logging.INFO)  # as Great Expectations does for this module
        gx.info("Created temporary directory for ephemeral docs site")
        logging.getLogger("dbt").info("Running with dbt=1.11")
        logging.getLogger("dagster").warning("a warning worth reading")
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    assert stream.getvalue().splitlines() == ["  recall_actions done in 1.0s", "a warning worth reading"]


def test_the_progress_logger_prints_steps_failed_checks_and_warnings_not_chatter(caplog):
    from orchestration.defs.progress import LOGGER_NAME, progress_logger

    @dg.asset
    def tiers(context) -> None:  # (string annotations here: Dagster could not read the context type)
        context.log.info("library chatter")
        context.log.warning("3 rows quarantined")

    @dg.asset_check(asset=tiers)
    def tiers_are_unique() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=False)

    defs = dg.Definitions(assets=[tiers], asset_checks=[tiers_are_unique], jobs=[dg.define_asset_job("job")],
                          loggers={"progress": progress_logger})
    with caplog.at_level(logging.DEBUG, logger=LOGGER_NAME):
        defs.resolve_job_def("job").execute_in_process(run_config={"loggers": {"progress": {}}})
    lines = [record.getMessage() for record in caplog.records if record.name == LOGGER_NAME]
    assert "  tiers: 3 rows quarantined" in lines and "  check tiers_are_unique on tiers failed" in lines
    assert lines[0] == "  tiers ..." and any(line.startswith("  tiers done in ") for line in lines)
    assert not [line for line in lines if "chatter" in line or "RUN_START" in line or "Started execution" in line]
    assert all(record.levelno == logging.INFO or record.levelno >= logging.WARNING for record in caplog.records)
