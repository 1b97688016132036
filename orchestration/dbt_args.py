"""Build the dbt command line for a partition window (pure, unit-tested)."""

from __future__ import annotations

import json
from datetime import date


def dbt_build_args(window_start: date, window_end: date, lookback_days: int) -> list[str]:
    """`dbt build` for the half-open business-day window [window_start, window_end); daily models
    also recompute the `lookback_days` before it to fold in late events.

    Unit tests are excluded: they check SQL logic, not data, and run in the test suite instead of
    on every daily partition.
    """
    if window_end <= window_start:
        raise ValueError(f"empty dbt window [{window_start}, {window_end})")
    dbt_vars = {"min_date": window_start.isoformat(), "max_date": window_end.isoformat(), "lookback_days": lookback_days}
    return ["build", "--vars", json.dumps(dbt_vars, sort_keys=True), "--exclude", "test_type:unit"]
