"""The Python steps that hold large frames (the recall plan, the measurement) run DuckDB at python_step_memory_limit's
share of the configured limit: DuckDB keeps the blocks it read cached up to its limit, beside the step's frames."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import duckdb
import pandas as pd

from orchestration.config import Settings
from orchestration.config.settings import python_step_memory_limit
from orchestration.defs.measurement import assets as measurement
from orchestration.defs.partitions import daily_partitions
from orchestration.defs.recall import assets as recall
from orchestration.defs.resources import resources
from orchestration.measurement import METRIC_COLUMNS


def _lowered(settings: Settings) -> str:
    """The limit as DuckDB reports it once set to the Python steps' share (not the configured 3GB's)."""
    with duckdb.connect() as con:
        con.execute(f"set memory_limit = '{python_step_memory_limit(settings.duckdb_memory_limit)}'")
        return con.execute("select current_setting('memory_limit')").fetchone()[0]


def _limit(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("select current_setting('memory_limit')").fetchone()[0]


def test_the_measurement_runs_duckdb_at_a_python_steps_share_and_shards_as_configured(tmp_path, monkeypatch) -> None:
    settings, seen = Settings.under(tmp_path, measurement_shard_journeys=250_000), []

    def measure_days(con, days, *args, shard_journeys=None, **kwargs):
        seen.append(_limit(con))
        assert shard_journeys == 250_000
        yield days, pd.DataFrame(columns=METRIC_COLUMNS)

    monkeypatch.setattr(measurement, "measure_days", measure_days)
    [step] = measurement.measurement_assets(daily_partitions(settings.start_date))
    key = (settings.start_date + timedelta(days=3)).isoformat()
    assert dg.materialize([step], partition_key=key, resources=resources(settings)).success
    assert seen == [_lowered(settings)]


def test_the_recall_plan_runs_duckdb_at_a_python_steps_share(tmp_path, monkeypatch) -> None:
    go_live = Settings.under(tmp_path).start_date + timedelta(days=30)
    settings, seen = Settings.under(tmp_path, recall_from=go_live), []

    class History(recall.OutboxHistory):
        def __init__(self, con, library) -> None:
            seen.append(_limit(con))
            super().__init__(con, library)

    monkeypatch.setattr(recall, "OutboxHistory", History)
    step = next(a for a in recall.recall_assets(daily_partitions(settings.start_date)) if a.key.path == ["recall_actions"])
    # Before the go-live day the step plans nothing: it runs to its end on an empty warehouse.
    assert dg.materialize([step], partition_key=settings.start_date.isoformat(), resources=resources(settings)).success
    assert seen == [_lowered(settings)]
