"""Run the daily job for a range of business days as one Dagster run (what the CLI, benchmarks and
tests use), and the closed loop: each day the simulated app answers the day before's outbox, then the
pipeline runs that day (one Dagster run per day); and the policy comparison's runs."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache

import dagster as dg

from orchestration.config import Settings
from orchestration.defs import build_definitions
from orchestration.defs.jobs import DAILY_JOB, REFIT_JOB
from orchestration.defs.partitions import RANGE_TAGS
from orchestration.defs.run_start import PROCESS_TAG
from orchestration.operations import process_identity, slowest_steps
from orchestration.simulator.loop import ClosedLoop, DayReport

# Building the definitions reads the dbt manifest: once per settings is enough in a process.
_definitions = lru_cache(maxsize=4)(build_definitions)


def run_days(
    settings: Settings,
    first: date,
    last: date,
    instance: dg.DagsterInstance | None = None,
    raise_on_error: bool = True,
    log_level: str = "INFO",
    progress: bool = False,
    up_to: Sequence[str] | None = None,
) -> dg.ExecuteInProcessResult:
    """Materialize every asset for the partitions first..last (inclusive) in a single run, recorded
    in `instance` (an in-memory one by default). Dagster's console logs at `log_level`, or with
    `progress` one short line per step instead (orchestration/defs/progress.py). With `up_to`, only
    those assets and everything upstream of them (e.g. the early-warning chain, without the recall engine), and
    what their checks read (subset_up_to)."""
    selection = subset_up_to(_definitions(settings), up_to) if up_to else None
    return _execute(DAILY_JOB, settings, first, last, instance, raise_on_error, log_level, progress, selection)


def subset_up_to(definitions: dg.Definitions, up_to: Sequence[str]) -> list[dg.AssetKey]:
    """The assets `up_to` and everything upstream of them, with the other outputs of a multi-asset step that cannot
    be split (raw_landing_files lands every feed) and what their checks read besides their own asset: a dbt test of
    stg_users also reads quarantine_users, and without it dbt would leave that blocking check out of the run."""
    graph = definitions.resolve_asset_graph()
    keys: set[dg.AssetKey] = set()
    wanted = {dg.AssetKey(name) for name in up_to}
    while wanted:
        keys |= dg.AssetSelection.assets(*wanted).upstream().required_multi_asset_neighbors().resolve(graph)
        wanted = {dep.asset_key for assets in graph.assets_defs for check in assets.check_specs
                  if check.asset_key in keys for dep in check.additional_deps} - keys
    return sorted(keys)


def run_refits(settings: Settings, day: date, instance: dg.DagsterInstance | None = None,
               raise_on_error: bool = True, log_level: str = "INFO") -> dg.ExecuteInProcessResult:
    """The model_refits job for `day`, after its daily run: the models of the next day fitted off that day's run
    (orchestration/defs/refits), as the sensor does in a Dagster deployment."""
    return _execute(REFIT_JOB, settings, day, day, instance, raise_on_error, log_level)


def _execute(job_name: str, settings: Settings, first: date, last: date, instance: dg.DagsterInstance | None,
             raise_on_error: bool, log_level: str, progress: bool = False,
             selection: list[dg.AssetKey] | None = None) -> dg.ExecuteInProcessResult:
    job = _definitions(settings).resolve_job_def(job_name)
    tags = {
        RANGE_TAGS[0]: first.isoformat(),
        RANGE_TAGS[1]: last.isoformat(),
        PROCESS_TAG: process_identity(),  # so that the next run can tell if this one was killed
    }
    loggers = {"progress": {}} if progress else {"console": {"config": {"log_level": log_level}}}
    with _heap_exempt_from_collection():
        instance = instance or in_memory_instance()
        return job.execute_in_process(run_config={"loggers": loggers}, tags=tags, instance=instance,
                                      raise_on_error=raise_on_error, asset_selection=selection)


def in_memory_instance() -> dg.DagsterInstance:
    """A new in-memory Dagster instance: what a run records into without $DAGSTER_HOME (a process makes it once)."""
    return dg.DagsterInstance.ephemeral()


def recorded_run(settings: Settings, first: date, last: date, instance: dg.DagsterInstance | None = None,
                 **options: object) -> tuple[dg.ExecuteInProcessResult, list]:
    """run_days in `instance` (a new in-memory one by default), with the run's event log records (they carry the
    timestamps a benchmark breaks a run into; the result's events do not)."""
    instance = instance or in_memory_instance()
    result = run_days(settings, first, last, instance=instance, **options)
    return result, list(instance.all_logs(result.run_id))


@contextmanager
def _heap_exempt_from_collection() -> Iterator[None]:
    """Exempt every object alive when the run starts (modules, definitions, the parsed dbt manifest, what the
    caller keeps) from the collections during the run, and give them back after it. A run allocates millions of
    short-lived objects (dbt's mostly), and each full collection would otherwise walk the whole heap of the process
    again: a one-day run at 300 users took 1.9 s less on average (18.6 -> 17.2 s median, six runs each, alternated
    in one process). Given back, whatever the caller drops later (an earlier run's in-memory instance and its
    temporary folder) is collected as before."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def step_seconds(result: dg.ExecuteInProcessResult) -> dict[str, float]:
    """Wall seconds of each step that succeeded in the run, by step key (what a benchmark breaks a run into)."""
    return {event.step_key: event.event_specific_data.duration_ms / 1000 for event in result.all_events
            if event.event_type_value == "STEP_SUCCESS" and event.step_key}


def failure_messages(result: dg.ExecuteInProcessResult) -> list[str]:
    """What went wrong in a failed run, one entry per failed step (or failed run start), each the
    innermost error's message without Dagster's wrapping and traceback."""
    messages: list[str] = []
    for event in result.all_events:
        if event.event_type_value not in ("STEP_FAILURE", "RESOURCE_INIT_FAILURE", "PIPELINE_FAILURE"):
            continue
        error = getattr(event.event_specific_data, "error", None)
        if error is None:
            continue
        while error.cause is not None:
            error = error.cause
        text = error.message.strip()
        prefix = f"{error.cls_name}: "
        text = text.split(prefix, 1)[1] if prefix in text.split("\n", 1)[0] else text
        where = event.step_key or "run start"
        entry = f"{where}: {text}"
        if not any(text in known for known in messages):
            messages.append(entry)
    return messages


def prepare(settings: Settings) -> None:
    """Load the code location for `settings` (definitions and the parsed dbt project) ahead of a run,
    as a long-lived Dagster process has it loaded."""
    _definitions(settings).resolve_job_def(DAILY_JOB)


@dataclass(frozen=True)
class LoopDay:
    """One day of the closed loop: what the simulated app did, and the pipeline run that followed."""

    simulated: DayReport
    pipeline_seconds: float
    success: bool
    step_seconds: dict[str, float] = field(default_factory=dict)  # the run's steps, as step_seconds gives them
    refit_seconds: float = 0.0  # the model_refits run after it (the next day's models)

    def slowest(self, n: int = 3) -> str:
        """The run's n slowest steps, for a day's line (where a loop day's time goes)."""
        return slowest_steps(self.step_seconds, n)


def run_closed_loop(
    settings: Settings,
    loop: ClosedLoop,
    last: date | None = None,
    instance: dg.DagsterInstance | None = None,
    log_level: str = "WARNING",
    on_day: Callable[[LoopDay], None] | None = None,
    truth_every_day: bool = False,
) -> list[LoopDay]:
    """Advance the simulated app day by day up to `last` (default: the world's last day), running the pipeline
    for each day right after its landing files are written, then the next day's model refits; stops at the first
    failed run.

    Only per-day work is paid: the definitions (and dbt manifest) are built once and the world stays in memory.
    The truth folder is written after the last day (or every day with truth_every_day)."""
    last = last or loop.config.end_date
    instance = instance or in_memory_instance()
    days: list[LoopDay] = []
    while not loop.finished and loop.next_day <= last:
        final = loop.next_day == last or loop.state.day + 1 >= loop.config.n_days
        simulated = loop.advance(settings.outbox, settings.landing, settings.truth,
                                 write_truth=truth_every_day or final)
        began = time.perf_counter()
        result = run_days(settings, simulated.day, simulated.day, instance=instance, log_level=log_level,
                          raise_on_error=False)
        day = LoopDay(simulated, time.perf_counter() - began, result.success, step_seconds(result))
        if day.success:  # the next day's models, in a run of their own
            began = time.perf_counter()
            refits = run_refits(settings, simulated.day, instance=instance, log_level=log_level, raise_on_error=False)
            day = replace(day, success=refits.success, refit_seconds=time.perf_counter() - began)
        days.append(day)
        if on_day is not None:
            on_day(day)
        if not day.success:
            break
    return days


def persistent_instance() -> dg.DagsterInstance | None:
    """The instance of $DAGSTER_HOME when it is set (runs then show in `dagster dev`), else None."""
    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else None


def compare_policies_in_process(home, config, say: Callable[[str], None] = print) -> dict:
    """orchestration/evaluation/policies.py::compare_policies with this module's runs (one Dagster
    instance for every run of the comparison)."""
    from orchestration.evaluation.policies import compare_policies

    instance = in_memory_instance()

    def days(settings: Settings, first: date, last: date) -> bool:
        return run_days(settings, first, last, instance=instance, log_level="WARNING", raise_on_error=False).success

    def loop(settings: Settings, world: ClosedLoop, last: date) -> bool:
        return all(d.success for d in run_closed_loop(settings, world, last, instance=instance))

    return compare_policies(home, config, days, loop, say=say)
