"""The benchmark's breakdowns: resident memory samples are given to the step that ran when they were taken, and
dbt's seconds per node are read from the run's events."""

import time
from types import SimpleNamespace

import pytest

from orchestration.benchmarks.events import dbt_node_seconds, dbt_runs, step_intervals
from orchestration.benchmarks.memory import GIB, ResidentSampler, largest_peaks, peak_by_step, resident_bytes


def _record(timestamp, step, kind):
    return SimpleNamespace(timestamp=timestamp, dagster_event=SimpleNamespace(step_key=step, event_type_value=kind))


def test_each_step_gets_the_peak_of_its_own_samples_and_its_rise_over_the_memory_before_it():
    samples = [(0.5, 1 * GIB), (1.5, 3 * GIB), (2.5, 2 * GIB), (3.5, 5 * GIB), (4.5, 4 * GIB)]
    intervals = {"load": (1.0, 2.0), "score": (3.0, 5.0), "idle": (6.0, 7.0)}
    peaks = peak_by_step(samples, intervals)
    assert peaks == {"load": (3.0, 2.0), "score": (5.0, 3.0)}  # no sample while "idle" ran: not named
    assert largest_peaks(peaks, 1) == "score 5.00 (+3.00)"


def test_step_intervals_pair_each_start_with_its_end_and_skip_run_level_events():
    records = [_record(1.0, None, "RUN_START"), _record(2.0, "a", "STEP_START"), _record(3.0, "b", "STEP_START"),
               _record(4.0, "a", "STEP_SUCCESS"), _record(6.0, "b", "STEP_FAILURE"), SimpleNamespace(timestamp=7.0)]
    assert step_intervals(records) == {"a": (2.0, 4.0), "b": (3.0, 6.0)}


def test_dbt_seconds_are_read_from_materializations_and_check_evaluations_alone():
    key = SimpleNamespace(to_user_string=lambda: "stg_events")
    model = SimpleNamespace(materialization=SimpleNamespace(asset_key=key, metadata={"dbt_seconds": 1.5}))
    check = SimpleNamespace(asset_key=key, check_name="row_rules", metadata={"dbt_seconds": 0.25})
    python_step = SimpleNamespace(materialization=SimpleNamespace(asset_key=key, metadata={"rows": 3}))
    records = [SimpleNamespace(dagster_event=SimpleNamespace(event_type_value=kind, event_specific_data=data))
               for kind, data in [("ASSET_MATERIALIZATION", model), ("ASSET_CHECK_EVALUATION", check),
                                  ("ASSET_MATERIALIZATION", python_step), ("STEP_SUCCESS", None)]]
    assert dbt_node_seconds(records) == {"stg_events": 1.5, "stg_events:row_rules": 0.25}
    # A range run materializes each day of the range, every event with the one invocation's seconds: counted once.
    assert dbt_node_seconds(records[:1] * 30 + records[1:]) == {"stg_events": 1.5, "stg_events:row_rules": 0.25}
    assert dbt_runs(records) == 1  # no chunks reported: one dbt run


def test_the_dbt_runs_of_a_chunked_range_are_the_most_any_model_reports():
    def materialized(name, metadata):
        key = SimpleNamespace(to_user_string=lambda: name)
        data = SimpleNamespace(materialization=SimpleNamespace(asset_key=key, metadata=metadata))
        return SimpleNamespace(dagster_event=SimpleNamespace(event_type_value="ASSET_MATERIALIZATION",
                                                             event_specific_data=data))

    assert dbt_runs([materialized("stg_events", {"dbt_seconds": 9.0, "dbt_runs": 5}),
                     materialized("user_risk_tiers", {"dbt_seconds": 2.0, "dbt_runs": 3}),
                     materialized("recall_actions", {"rows": 7})]) == 5


@pytest.mark.skipif(resident_bytes() is None, reason="no /proc/self/statm on this system")
def test_the_sampler_records_this_process_while_in_use():
    with ResidentSampler(interval=0.01) as sampler:
        deadline = time.monotonic() + 10
        while len(sampler.samples) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert len(sampler.samples) >= 3 and all(rss > 0 for _, rss in sampler.samples)


@pytest.mark.skipif(resident_bytes() is None, reason="no /proc on this system")
def test_a_child_process_reports_its_own_peak_not_its_parents():
    import subprocess
    import sys

    held = bytearray(512 * 1024 * 1024)
    held[::4096] = b"\x01" * len(held[::4096])  # touched, so resident
    code = "from orchestration.benchmarks.memory import peak_resident_bytes; print(peak_resident_bytes())"
    child_peak = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert child_peak < 400 * 1024 * 1024 < resident_bytes()
