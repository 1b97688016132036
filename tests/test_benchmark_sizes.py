"""The benchmark's late / early line says what the two days hold: labelled users, landed events, cohort rows; a
repeated late partition is reported by its median run, each run on the world as the backfill left it."""

from __future__ import annotations

import math
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.benchmarks.pipeline import (
    DaySize, RunFigures, compute_by_step, day_size, growth, median_run, per_user, restored, run_benchmark,
)


def test_a_day_size_counts_the_days_labelled_users_landed_events_and_cohort_rows() -> None:
    con = duckdb.connect()
    con.execute("create table user_daily_labels as select * from (values ('u1', date '2026-01-02'), "
                "('u2', date '2026-01-02'), ('u1', date '2026-01-01')) as t(user_id, label_date)")
    con.execute("create table raw_events as select * from (values (date '2026-01-02'), (date '2026-01-03')) "
                "as t(_landing_date)")
    assert day_size(con, date(2026, 1, 2)) == DaySize(users=2, events=1, cohorts=0)  # no metrics table yet
    con.execute("create table recall_metrics as select date '2026-01-02' as as_of_date from range(3)")
    assert day_size(con, date(2026, 1, 2)) == DaySize(users=2, events=1, cohorts=3)


def test_growth_compares_the_late_day_with_the_early_one() -> None:
    assert growth(DaySize(3, 2, 10), DaySize(2, 2, 0)) == (
        "the late day has 1.50x the labelled users, 1.00x the landed events and n/a the cohort rows measured")


def test_late_over_early_per_labelled_user_discounts_a_larger_late_population() -> None:
    # twice the users in twice the time: the same cost per user
    assert per_user(20.0, DaySize(200, 0, 0), 10.0, DaySize(100, 0, 0)) == pytest.approx(1.0)
    assert per_user(30.0, DaySize(200, 0, 0), 10.0, DaySize(100, 0, 0)) == pytest.approx(1.5)
    assert math.isnan(per_user(30.0, DaySize(200, 0, 0), 10.0, DaySize(0, 0, 0)))


def _run(seconds: float) -> RunFigures:
    return RunFigures(seconds, 1.0, {}, seconds, {}, {}, 0.0)


def test_the_compute_by_step_is_each_steps_time_beyond_the_fixed_days() -> None:
    late = RunFigures(30.0, 1.0, {"dbt_daily_models": 12.0, "recall_measurement": 9.5}, 30.0, {}, {}, 0.0)
    fixed = RunFigures(5.0, 1.0, {"dbt_daily_models": 3.0, "recall_report": 0.2}, 5.0, {}, {}, 0.0)
    assert compute_by_step(late, fixed) == {"dbt_daily_models": 9.0, "recall_measurement": 9.5}


def test_a_repeated_partition_is_reported_by_its_median_run() -> None:
    assert median_run([_run(61.0), _run(58.5), _run(67.7)]).seconds == 61.0
    assert median_run([_run(3.0), _run(1.0), _run(2.0), _run(4.0)]).seconds == 2.0  # the lower middle
    assert median_run([_run(5.0)]).seconds == 5.0


def test_a_world_is_restored_as_it_was_saved(tmp_path: Path) -> None:
    world, saved = tmp_path / "world", tmp_path / "saved"
    (world / "landing").mkdir(parents=True)
    (world / "landing" / "day.parquet").write_text("before")
    (world / "warehouse.duckdb").write_text("before")
    shutil.copytree(world, saved)
    (world / "warehouse.duckdb").write_text("after the run")
    (world / "bi").mkdir()  # written by the run
    restored(world, saved)
    assert sorted(p.relative_to(world).as_posix() for p in world.rglob("*")) == [
        "landing", "landing/day.parquet", "warehouse.duckdb"]
    assert (world / "warehouse.duckdb").read_text() == "before" and (saved / "warehouse.duckdb").is_file()


def test_the_benchmark_refuses_a_folder_holding_an_earlier_world(tmp_path: Path) -> None:
    # Backfilling over an earlier run's warehouse and model registries would time work already done.
    (tmp_path / "world").mkdir()
    (tmp_path / "world" / "warehouse.duckdb").write_bytes(b"")
    with pytest.raises(SystemExit, match="not empty"):
        run_benchmark(100, 8, tmp_path)
    assert [p.name for p in (tmp_path / "world").iterdir()] == ["warehouse.duckdb"]  # left as it was
