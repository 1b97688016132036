"""The dbt command line of a run: the window, the vertical's rules and the warehouse."""

import json
from datetime import date
from pathlib import Path

import pytest

from orchestration.config.verticals import preset_for
from orchestration.defs.dbt.args import dbt_build_args

WAREHOUSE = Path("/data/warehouse.duckdb")


def _vars(args: list[str]) -> dict:
    return json.loads(args[args.index("--vars") + 1])


def test_window_becomes_half_open_vars_and_unit_tests_are_excluded():
    args = dbt_build_args(WAREHOUSE, window=(date(2026, 1, 1), date(2026, 1, 4)), lookback_days=3)
    assert args[0] == "build"
    assert _vars(args) == {"min_date": "2026-01-01", "max_date": "2026-01-04", "lookback_days": 3,
                           "warehouse_path": str(WAREHOUSE)}
    assert args[args.index("--exclude") + 1] == "test_type:unit"


def test_without_a_window_only_the_warehouse_and_rules_are_passed():
    assert _vars(dbt_build_args(WAREHOUSE)) == {"warehouse_path": str(WAREHOUSE)}


def test_empty_window_is_rejected():
    with pytest.raises(ValueError, match="empty dbt window"):
        dbt_build_args(WAREHOUSE, window=(date(2026, 1, 2), date(2026, 1, 2)), lookback_days=3)


def test_vertical_vars_join_the_window_vars():
    game = preset_for("game").dbt_vars()
    args = dbt_build_args(WAREHOUSE, game, window=(date(2026, 1, 1), date(2026, 1, 2)), lookback_days=2)
    assert _vars(args) == {**game, "min_date": "2026-01-01", "max_date": "2026-01-02", "lookback_days": 2,
                           "warehouse_path": str(WAREHOUSE)}


def test_vertical_vars_cannot_move_the_window_or_the_warehouse():
    with pytest.raises(ValueError, match="window vars"):
        dbt_build_args(WAREHOUSE, {"min_date": "2020-01-01"})
    with pytest.raises(ValueError, match="window vars"):
        dbt_build_args(WAREHOUSE, {"warehouse_path": "/elsewhere.duckdb"})
    with pytest.raises(ValueError, match="lookback_days"):
        dbt_build_args(WAREHOUSE, window=(date(2026, 1, 1), date(2026, 1, 2)), lookback_days=-1)


def test_memory_limit_reaches_the_profile():
    assert _vars(dbt_build_args(WAREHOUSE, memory_limit="2GB"))["duckdb_memory_limit"] == "2GB"


def test_a_chunk_ends_its_checked_days_where_a_later_chunk_rewrites():
    window = (date(2026, 1, 1), date(2026, 1, 7))
    args = dbt_build_args(WAREHOUSE, window=window, lookback_days=3, checks_until=date(2026, 1, 5))
    assert _vars(args)["checks_max_date"] == "2026-01-05"
    assert "checks_max_date" not in _vars(dbt_build_args(WAREHOUSE, window=window, lookback_days=3))
    with pytest.raises(ValueError, match="by the window's end"):
        dbt_build_args(WAREHOUSE, window=window, lookback_days=3, checks_until=date(2026, 1, 8))
    with pytest.raises(ValueError, match="needs a window"):
        dbt_build_args(WAREHOUSE, checks_until=date(2026, 1, 5))
    with pytest.raises(ValueError, match="window vars"):
        dbt_build_args(WAREHOUSE, {"checks_max_date": "2026-01-05"})
