"""The metadata a dbt model reports to Dagster: rows of the window, the last day's values of a
one-row-per-day model, and its warning (the rhythm's far-off preset, the signals a feed lacks); and what
a failure out of DuckDB's memory tells the operator to do."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import duckdb

from orchestration.defs.dbt.invocation import _window_metadata, memory_hint


def _node(meta: dict) -> SimpleNamespace:
    return SimpleNamespace(alias="int_key_action_rhythm", name="int_key_action_rhythm", schema="main",
                           config=SimpleNamespace(meta=meta))


def _rhythm() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("""create table int_key_action_rhythm as
        select * from (values
            (date '2026-03-01', 'preset', 60, null),
            (date '2026-03-02', 'fitted', 152, 'stage_churned_days 60 vs 152 fitted')
        ) as t(rhythm_date, thresholds_source, stage_churned_days, rhythm_warning)""")
    return con


def test_the_last_days_values_and_its_warning_are_reported():
    meta = {"window_column": "rhythm_date", "warning_column": "rhythm_warning",
            "last_day_columns": ["thresholds_source", "stage_churned_days"]}
    metadata = _window_metadata(_rhythm(), _node(meta), (date(2026, 3, 1), date(2026, 3, 3)))
    assert metadata["rows_in_window"].value == 2
    assert metadata["last_day"].value == {"thresholds_source": "fitted", "stage_churned_days": 152}
    assert metadata["warning"].value == "rhythm_warning: stage_churned_days 60 vs 152 fitted"


def test_no_warning_entry_when_the_last_day_has_none():
    meta = {"window_column": "rhythm_date", "warning_column": "rhythm_warning"}
    metadata = _window_metadata(_rhythm(), _node(meta), (date(2026, 3, 1), date(2026, 3, 2)))
    assert "warning" not in metadata and "last_day" not in metadata


def test_a_dbt_failure_out_of_duckdbs_memory_says_which_setting_to_raise():
    detail = ("int_user_rolling_activity: Runtime Error in model int_user_rolling_activity\n"
              "  Out of Memory Error: failed to pin block of size 256.0 KiB (2.7 GiB/2.7 GiB used)")
    assert "CHURN_RECALL_DUCKDB_MEMORY_LIMIT" in memory_hint(detail)
    assert "CHURN_RECALL_DBT_CHUNK_USER_DAYS" in memory_hint(detail)
    assert memory_hint("stg_events: Runtime Error: Conversion Error: invalid date") == ""
