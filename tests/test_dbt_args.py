"""The dbt command line for a partition window."""

import json
from datetime import date

import pytest

from orchestration.dbt_args import dbt_build_args


def test_window_becomes_half_open_vars_and_unit_tests_are_excluded():
    args = dbt_build_args(date(2026, 1, 1), date(2026, 1, 4), lookback_days=3)
    assert args[0] == "build"
    assert json.loads(args[args.index("--vars") + 1]) == {"min_date": "2026-01-01", "max_date": "2026-01-04", "lookback_days": 3}
    assert args[args.index("--exclude") + 1] == "test_type:unit"


def test_empty_window_is_rejected():
    with pytest.raises(ValueError, match="empty dbt window"):
        dbt_build_args(date(2026, 1, 2), date(2026, 1, 2), lookback_days=3)


def test_vertical_vars_join_the_window_vars():
    from orchestration.verticals import dbt_vars_for

    game = dbt_vars_for("game")
    args = dbt_build_args(date(2026, 1, 1), date(2026, 1, 2), lookback_days=2, vertical_vars=game)
    passed = json.loads(args[args.index("--vars") + 1])
    assert passed == {**game, "min_date": "2026-01-01", "max_date": "2026-01-02", "lookback_days": 2}


def test_vertical_vars_cannot_move_the_window():
    with pytest.raises(ValueError, match="window vars"):
        dbt_build_args(date(2026, 1, 1), date(2026, 1, 2), lookback_days=2, vertical_vars={"min_date": "2020-01-01"})
    with pytest.raises(ValueError, match="lookback_days"):
        dbt_build_args(date(2026, 1, 1), date(2026, 1, 2), lookback_days=-1)
