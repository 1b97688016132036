"""What a run's event log tells a benchmark (Dagster's EventLogEntry records, read by attribute so that this module
needs no Dagster): when each step ran, dbt's own seconds for each model and data test of the run, and over how
many dbt runs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

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


def _dbt_metadata(records: Iterable[object]) -> dict[str, Mapping[str, Any]]:
    """The metadata per dbt model (by asset) and data test (`asset:check`) of the run, from the materializations and
    check evaluations that carry dbt's seconds. Once per node: a range run records a materialization for every day
    of the range, each carrying the same figures of the node's dbt runs."""
    out: dict[str, Mapping[str, Any]] = {}
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
        if DBT_SECONDS in (data.metadata or {}):
            out[name] = data.metadata
    return out


def _plain(value: Any) -> Any:
    """A metadata entry's value (Dagster wraps it; plain in tests)."""
    return getattr(value, "value", value)


def dbt_node_seconds(records: Iterable[object]) -> dict[str, float]:
    """dbt's own seconds per model and data test of the run (summed over its dbt runs)."""
    return {name: float(_plain(metadata[DBT_SECONDS])) for name, metadata in _dbt_metadata(records).items()}


def dbt_runs(records: Iterable[object]) -> int:
    """How many dbt runs (the chunks of a long range) the run's dbt steps made at most: 1 unless a range was cut."""
    return max((int(_plain(metadata[DBT_RUNS])) for metadata in _dbt_metadata(records).values()
                if DBT_RUNS in metadata), default=1)
