"""Build the dbt command line for a partition window and a vertical's rules (pure, unit-tested)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

WINDOW_VARS = ("min_date", "max_date", "lookback_days")


def dbt_build_args(
    window_start: date, window_end: date, lookback_days: int, vertical_vars: Mapping[str, Any] | None = None
) -> list[str]:
    """`dbt build` for the half-open business-day window [window_start, window_end); daily models
    also recompute the `lookback_days` before it to fold in late events. `vertical_vars` (from
    `orchestration.verticals.dbt_vars_for`) override the rule vars of dbt_project.yml.

    Unit tests are excluded: they check SQL logic, not data, and run in the test suite instead of
    on every daily partition.
    """
    if window_end <= window_start:
        raise ValueError(f"empty dbt window [{window_start}, {window_end})")
    if lookback_days < 0:
        raise ValueError(f"lookback_days must be >= 0, got {lookback_days}")
    clashes = sorted(set(vertical_vars or {}) & set(WINDOW_VARS))
    if clashes:
        raise ValueError(f"vertical vars must not set the window vars {clashes}")
    dbt_vars = {
        **dict(vertical_vars or {}),
        "min_date": window_start.isoformat(),
        "max_date": window_end.isoformat(),
        "lookback_days": lookback_days,
    }
    return ["build", "--vars", json.dumps(dbt_vars, sort_keys=True), "--exclude", "test_type:unit"]
