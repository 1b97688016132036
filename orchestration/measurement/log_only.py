"""The journeys only the delivery log knows (no decision of recall_actions has their action_id), as known at the end
of each day a run measures. Each is its log rows folded into one: the funnel over the rows scheduled by then, the
coupon of the first of them handing one out, and who and what it was from the first of them with a value (its
channel is the first step's with one). Their assignment day is their first row's.

The rows are in schedule order, so the rows known at a day's end are a prefix of them, and a journey's first value of
a column is known on a day exactly when the row holding it is in that day's prefix. LogOnlyJourneys finds those rows
once per run; a day then compares positions and sums its prefix, instead of sorting and grouping the rows again (a
seventh of a 100,000-user day's outcomes)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NEVER = np.iinfo(np.int64).max
# Each journey's first value (nulls skipped) of these columns of its rows; coupon_code is the funnel's.
FIRST_OF = ["user_id", "strategy_id", "arm", "lifecycle_stage", "channel", "value_tier", "segment", "coupon_code"]
STEPS = ("sent", "delivered", "opened", "clicked")
COLUMNS = ["action_id", "user_id", "strategy_id", "arm", "lifecycle_stage", "channel", "coupon_value", "value_tier",
           "segment", *STEPS, "cost", "coupon_code", "assignment_date"]  # a day's frame, in this order


def nanoseconds(times: pd.Series) -> np.ndarray:
    """Timestamps as int64 nanoseconds, NaT as NEVER (so that a row unknown on any day compares as never)."""
    values = times.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    return np.where(times.isna().to_numpy(), NEVER, values)


def known_times(rows: pd.DataFrame, scheduled: np.ndarray) -> dict[str, np.ndarray]:
    """When each funnel step of each log row (journeys._log_rows) is known (ns; NEVER: not on any day): once the row
    is scheduled and the step has happened, at the later of the two times."""
    times = {step: np.maximum(scheduled, nanoseconds(rows[f"{step}_at"])) for step in ("sent", "opened", "clicked")}
    times["delivered"] = np.where(rows["deliverable"].to_numpy(), times["sent"], NEVER)
    return times


@dataclass(frozen=True)
class LogOnlyJourneys:
    """Log rows (journeys._log_rows, in schedule order) prepared to be folded as of any day's end."""

    firsts: pd.DataFrame  # per journey, by action_id (null last): action_id and each FIRST_OF column's first value
    first_row: np.ndarray  # per journey: the position of its first row
    first_at: dict[str, np.ndarray]  # per FIRST_OF column and journey: the position of that value (len(rows): none)
    assigned: pd.Series  # per journey: its first row's schedule, at midnight
    journey: np.ndarray  # per row: its journey's number (its position in `firsts`)
    scheduled: np.ndarray  # per row: its schedule (ns, ascending)
    known_at: dict[str, np.ndarray]  # per funnel step and row: when it is known (ns; NEVER: never)
    cost: np.ndarray  # per row
    coupon_value: np.ndarray  # per row (NaN: none)

    @classmethod
    def of(cls, rows: pd.DataFrame) -> LogOnlyJourneys:
        scheduled = nanoseconds(rows["scheduled_at"])
        if (np.diff(scheduled) < 0).any():
            raise ValueError("log rows must be in schedule order")
        # Journey numbers by action_id; the rows without one are one journey (as grouping with dropna=False has it).
        journey, ids = pd.factorize(rows["action_id"], sort=True, use_na_sentinel=False)
        position = np.arange(len(rows))

        def first_position(where: np.ndarray) -> np.ndarray:
            first = np.full(len(ids), len(rows), dtype=np.int64)
            np.minimum.at(first, journey[where], position[where])
            return first

        def value_at(column: str, at: np.ndarray) -> pd.Series:  # null where there is no such row
            return rows[column].iloc[np.minimum(at, len(rows) - 1)].reset_index(drop=True).where(at < len(rows))

        first_row = first_position(np.ones(len(rows), dtype=bool))
        first_at = {column: first_position(rows[column].notna().to_numpy()) for column in FIRST_OF}
        firsts = pd.DataFrame({"action_id": value_at("action_id", first_row),
                               **{column: value_at(column, first_at[column]) for column in FIRST_OF}})
        return cls(
            firsts=firsts, first_row=first_row, first_at=first_at,
            assigned=value_at("scheduled_at", first_row).dt.normalize(),
            journey=journey, scheduled=scheduled, known_at=known_times(rows, scheduled),
            cost=rows["cost"].to_numpy(dtype=float), coupon_value=rows["coupon_value"].to_numpy(dtype=float))

    def as_of(self, end: int) -> pd.DataFrame:
        """One row per journey with a row scheduled before `end` (ns), by action_id: action_id, FIRST_OF,
        coupon_value (the largest of its known rows), the funnel (any step known by `end`, the summed cost) and
        assignment_date."""
        prefix = int(np.searchsorted(self.scheduled, end, side="left"))  # the rows scheduled before `end`
        known = np.flatnonzero(self.first_row < prefix)
        journey = self.journey[:prefix]
        frame = self.firsts.iloc[known].reset_index(drop=True)
        for column in FIRST_OF:  # a first value from a row not known yet is not known either
            frame[column] = frame[column].where(self.first_at[column][known] < prefix)
        largest = np.full(len(self.firsts), np.nan)
        np.fmax.at(largest, journey, self.coupon_value[:prefix])  # NaN where every known row has none, as max skips
        frame["coupon_value"] = largest[known]
        for step in STEPS:
            frame[step] = np.bincount(journey, weights=self.known_at[step][:prefix] < end,
                                      minlength=len(self.firsts))[known] > 0
        # pandas' compensated sum over each journey's rows in schedule order: the figures a fold of the rows gives
        frame["cost"] = pd.Series(self.cost[:prefix]).groupby(journey).sum().to_numpy()
        frame["assignment_date"] = self.assigned.iloc[known].reset_index(drop=True)
        return frame[COLUMNS]
