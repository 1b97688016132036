"""What a run changed, as the days of each BI table a publication must rewrite: the run's days for the
segments and the recall plan (their steps write no other day), the run's days and the earlier days its
late rows are dated for the tables the daily steps recompute, the run's days and its whole lookback for
recall_metrics, the assignment days of the journeys the measurement re-measured for recall_outcomes,
everything for the small tables rewritten whole."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from orchestration.bi.tables import BiTable, Changes


@dataclass(frozen=True)
class RunChanges:
    """The days a run (re)computed: `run_days` (its own), `window_days` (its days and the earlier days its late
    rows are dated), `lookback_days` (its days and its whole lookback: the as-of days the measurement may
    re-measure) and `measured_days` (the assignment days of the journeys its measurement re-measured)."""

    run_days: frozenset[date]
    window_days: frozenset[date]
    lookback_days: frozenset[date]
    measured_days: frozenset[date]

    @classmethod
    def of_run(cls, window_days: Iterable[date], last_day: date, measurement_horizon_days: int,
               lookback_days: Iterable[date] | None = None, run_days: Iterable[date] | None = None) -> RunChanges:
        """The changes of a run of `run_days` over `window_days` (and `lookback_days`; both the window's days by
        default) whose measurement re-measured, as of `last_day`, every journey assigned in the horizon before it
        (recall_outcomes: the days whose windows are still open)."""
        if measurement_horizon_days < 1:
            raise ValueError(f"measurement horizon must be at least one day, not {measurement_horizon_days}")
        measured = {last_day - timedelta(days=offset) for offset in range(measurement_horizon_days)}
        window = frozenset(window_days)
        own = window if run_days is None else frozenset(run_days)
        if not own <= window:
            raise ValueError("a run's own days are among its window's days")
        return cls(own, window, window if lookback_days is None else frozenset(lookback_days) | window,
                   frozenset(measured))

    def days_for(self, table: BiTable) -> frozenset[date] | None:
        """The days of `table` the run may have changed; None when the table is rewritten whole."""
        return {Changes.WHOLE: None, Changes.RUN: self.run_days, Changes.WINDOW: self.window_days,
                Changes.LOOKBACK: self.lookback_days, Changes.MEASUREMENT: self.measured_days}[table.changes]
