"""After a failed run the raw layer and the staged models agree: a range whose later day fails to load
keeps none of the days of that day's ingestion transaction, and days a run loaded but never staged (its dbt step
failed, or an earlier transaction of a long range committed them) are staged by the next run, whatever day that run
is for."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

import orchestration.defs.dbt.assets as dbt_assets
import orchestration.ingestion.landing as landing_module
from orchestration.config import Settings
from orchestration.runner import run_days
from orchestration.simulator import SimulationConfig, simulate, write_world
from tests.test_ingestion import fail_reading_on

pytestmark = pytest.mark.duration(70)  # builds its world through the pipeline: scheduled first
START = date(2026, 1, 1)
DAY = [START + timedelta(days=i) for i in range(4)]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("small_world")
    write_world(simulate(SimulationConfig(n_users=300, n_days=4, start_date=START, seed=5)),
                root / "landing", root / "truth")
    return root


def _settings(home: Path, world: Path) -> Settings:
    return Settings.under(home, landing=world / "landing", truth=world / "truth")


def _disagreements(settings: Settings) -> list[tuple]:
    """Landing days whose raw event rows differ from accepted + quarantined rows."""
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute("""
            with raw as (select _landing_date, count(*) as n from raw_events group by 1),
            kept as (select _landing_date, count(*) as n from (
                select _landing_date from stg_events union all select _landing_date from quarantine_events) group by 1)
            select _landing_date, raw.n, kept.n from raw full join kept using (_landing_date)
            where raw.n is distinct from kept.n""").fetchall()


def _raw_days(settings: Settings) -> list[date]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return [d for (d,) in con.execute("select distinct _landing_date from raw_events order by 1").fetchall()]


def test_a_range_failing_on_a_later_day_loads_none_of_its_days(tmp_path, world, monkeypatch) -> None:
    settings = _settings(tmp_path, world)
    assert run_days(settings, DAY[0], DAY[0]).success
    real = fail_reading_on(monkeypatch, DAY[3])
    assert not run_days(settings, DAY[1], DAY[3], raise_on_error=False).success
    assert _raw_days(settings) == [DAY[0]] and _disagreements(settings) == []
    monkeypatch.setattr(landing_module, "read_landing_file", real)
    assert run_days(settings, DAY[1], DAY[3]).success
    assert _raw_days(settings) == DAY and _disagreements(settings) == []


def test_days_a_long_range_committed_before_its_failing_day_are_staged_by_the_next_run(tmp_path, world, monkeypatch):
    settings = _settings(tmp_path, world)
    monkeypatch.setattr(landing_module, "TRANSACTION_ROWS", 1)  # every day its own ingestion transaction
    real = fail_reading_on(monkeypatch, DAY[3])
    assert not run_days(settings, DAY[0], DAY[3], raise_on_error=False).success
    assert _raw_days(settings) == DAY[:3]  # committed before the failing day, never staged
    monkeypatch.setattr(landing_module, "read_landing_file", real)
    assert run_days(settings, DAY[3], DAY[3]).success  # a run for the next day only
    assert _raw_days(settings) == DAY and _disagreements(settings) == []


def test_days_a_failed_dbt_step_left_unstaged_are_staged_by_the_next_run(tmp_path, world, monkeypatch) -> None:
    settings = _settings(tmp_path, world)
    real = dbt_assets.run_dbt

    def failing_daily_models(context, invocations, *rest):
        if "min_date" in invocations[0][2]:  # only the daily models get a window
            raise RuntimeError("dbt died")
        yield from real(context, invocations, *rest)

    monkeypatch.setattr(dbt_assets, "run_dbt", failing_daily_models)
    assert not run_days(settings, DAY[0], DAY[1], raise_on_error=False).success
    assert _raw_days(settings) == DAY[:2]  # loaded, but never staged
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw_landing_log where staged_at is null").fetchall()[0][0] > 0
    monkeypatch.setattr(dbt_assets, "run_dbt", real)
    assert run_days(settings, DAY[2], DAY[2]).success  # a run for a later day only
    assert _disagreements(settings) == []
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw_landing_log where staged_at is null").fetchall()[0][0] == 0
        staged_days = {d for (d,) in con.execute("select distinct _landing_date from stg_events").fetchall()}
    assert staged_days == set(DAY[:3])
