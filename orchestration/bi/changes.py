"""What a run changed, as the days of each BI table a publication must rewrite: the run's days with
their lookback for the tables the daily steps rewrite, the assignment days of the journeys the
measurement re-measured for recall_outcomes, everything for the small tables rewritten whole."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from orchestration.bi.tables import BiTable, Changes


@dataclass(frozen=True)
class RunChanges:
    """The days a run (re)computed: `window_days` (its days and their lookback) and `measured_days`
    (the assignment days of the journeys its measurement re-measured)."""

    window_days: frozenset[date]
    measured_days: frozenset[date]

    @classmethod
    def of_run(cls, window_days: Iterable[date], last_day: date, measurement_horizon_days: int) -> RunChanges:
        """The changes of a run over `window_days` whose measurement re-measured, as of `last_day`, every
        journey assigned in the horizon before it (recall_outcomes: the days whose windows are still open)."""
        if measurement_horizon_days < 1:
            raise ValueError(f"measurement horizon must be at least one day, not {measurement_horizon_days}")
        measured = {last_day - timedelta(days=offset) for offset in range(measurement_horizon_days)}
        return cls(frozenset(window_days), frozenset(measured))

    def days_for(self, table: BiTable) -> frozenset[date] | None:
        """The days of `table` the run may have changed; None when the table is rewritten whole."""
        if table.changes is Changes.WHOLE:
            return None
        return self.measured_days if table.changes is Changes.MEASUREMENT else self.window_days
