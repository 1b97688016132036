"""What a run's event log tells a benchmark (Dagster's EventLogEntry records, read by attribute so that this module
needs no Dagster): when each step ran, and dbt's own seconds for each model and data test of the run."""

from __future__ import annotations

from collections.abc import Iterable

# dbt nodes report their seconds as this metadata entry, and over how many dbt runs (the chunks of a long range)
# as the other (orchestration/defs/dbt/invocation.py).
DBT_SECONDS, DBT_RUNS = "dbt_seconds", "dbt_runs"


def step_intervals(records: Iterable[object]) -> dict[str, tuple[float, float]]:
    """Each step's (start, end) epoch seconds from a run's event log records (Dagster EventLogEntry: STEP_START,
    then STEP_SUCCESS or STEP_FAILURE)."""
    starts: dict[str, float] = {}
    out: dict[str, tuple[float, float]] = {}
    for record in records:
        event = getattr(record, "dagster_event", None)
        if event is None or not event.step_key:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = record.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in starts:
            out[event.step_key] = (starts[event.step_key], record.timestamp)
    return out


def dbt_node_seconds(records: Iterable[object]) -> dict[str, float]:
    """dbt's seconds per model (by asset) and data test (`asset:check`) of the run, from the materializations and
    check evaluations that carry them. Once per node: a range run records a materialization for every day of the
    range, each carrying the seconds of the node's one dbt invocation."""
    out: dict[str, float] = {}
    for record in records:
        event = getattr(record, "dagster_event", None)
        kind = getattr(event, "event_type_value", None)
        if kind == "ASSET_MATERIALIZATION":
            data = event.event_specific_data.materialization
            name = data.asset_key.to_user_string()
        elif kind == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            name = f"{data.asset_key.to_user_string()}:{data.check_name}"
        else:
            continue
        seconds = (data.metadata or {}).get(DBT_SECONDS)
        if seconds is not None:
            out[name] = float(getattr(seconds, "value", seconds))
    return out


def dbt_runs(records: Iterable[object]) -> int:
    """How many dbt runs (the chunks of a long range) the run's dbt steps made at most: 1 unless a range was cut."""
    most = 1
    for record in records:
        event = getattr(record, "dagster_event", None)
        if getattr(event, "event_type_value", None) == "ASSET_MATERIALIZATION":
            runs = (event.event_specific_data.materialization.metadata or {}).get(DBT_RUNS)
            if runs is not None:
                most = max(most, int(getattr(runs, "value", runs)))
    return most
