"""The dbt command line of a run (pure, unit-tested): the window, the vertical's rules and the warehouse."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

WINDOW_VARS = ("min_date", "max_date", "lookback_days", "checks_max_date", "warehouse_path", "duckdb_memory_limit")


def dbt_build_args(
    warehouse: Path,
    vertical_vars: Mapping[str, Any] | None = None,
    window: tuple[date, date] | None = None,
    lookback_days: int = 0,
    memory_limit: str | None = None,
    checks_until: date | None = None,
) -> list[str]:
    """`dbt build` on `warehouse` with a vertical's rules (`vertical_vars` override the rule vars of
    dbt_project.yml). With a half-open business-day `window` [start, end), daily models process it
    and recompute the `lookback_days` before it to fold in late events; without one, the
    dbt_project.yml defaults apply (a full build; the reporting views ignore the window).
    `memory_limit` is DuckDB's memory limit for the run (profiles.yml reads it). `checks_until`: the exclusive end
    of the days the data tests check with their lookback, when a later chunk of a range rewrites the days after it
    (the window's end by default).

    Unit tests are excluded: they check SQL logic, not data, and run in the test suite instead of
    on every daily partition.
    """
    clashes = sorted(set(vertical_vars or {}) & set(WINDOW_VARS))
    if clashes:
        raise ValueError(f"vertical vars must not set the window vars {clashes}")
    dbt_vars: dict[str, Any] = {**dict(vertical_vars or {}), "warehouse_path": str(warehouse)}
    if memory_limit:
        dbt_vars["duckdb_memory_limit"] = memory_limit
    if window is not None:
        start, end = window
        if end <= start:
            raise ValueError(f"empty dbt window [{start}, {end})")
        if lookback_days < 0:
            raise ValueError(f"lookback_days must be >= 0, got {lookback_days}")
        dbt_vars.update(min_date=start.isoformat(), max_date=end.isoformat(), lookback_days=lookback_days)
        if checks_until is not None:
            if checks_until > end:
                raise ValueError(f"the data tests' days end by the window's end {end}, not {checks_until}")
            dbt_vars["checks_max_date"] = checks_until.isoformat()
    elif checks_until is not None:
        raise ValueError("checks_until needs a window")
    return ["build", "--vars", json.dumps(dbt_vars, sort_keys=True), "--exclude", "test_type:unit"]
