"""Journeys as known on a day (intent-to-treat): one row per journey, from the decisions when there are any (every
assigned journey, treatment or control, sent or not) and from the delivery log for journeys it alone knows, each
with the funnel the log reported by the end of that day (point in time): sends, deliveries, opens, clicks, cost,
the coupon it handed out, the channel of its first step and its A/B variant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from orchestration.ids import is_in
from orchestration.measurement.atoms import FIXED_COLUMNS, FIXED_KEY, combination_ids
from orchestration.measurement.log_only import NEVER, STEPS, LogOnlyJourneys, known_times, nanoseconds
from orchestration.measurement.outcomes import DESIGN_COLUMNS, as_objects, per_distinct

TOUCH_COLUMNS = [
    "action_id", "user_id", "strategy_id", "arm", "lifecycle_stage",
    "scheduled_at", "sent_at", "opened_at", "clicked_at", "cost",
]
# Optional touch columns: used when present, null otherwise.
OPTIONAL_TOUCH_COLUMNS = ["step", "status", "channel", "coupon_code", "coupon_value"]
# Optional per-journey attributes carried from the first row (cohort dimensions).
ATTRIBUTE_COLUMNS = ["value_tier", "segment"]
# Per-journey columns the decisions give (readers.DECISIONS), beyond TOUCH_COLUMNS' identity; the design columns
# are optional (null: not recorded).
DECISION_COLUMNS = ["action_id", "user_id", "strategy_id", "arm", "holdout", "assignment_date", "lifecycle_stage",
                    "value_tier", "segment", "channel", "step_variant", "first_journey", *DESIGN_COLUMNS]
NO_BENEFIT = "no_coupon"


def step_variant(coupon_value: pd.Series, arm: pd.Series) -> pd.Series:
    """The benefit variant a treatment journey was offered: 'coupon_<value>' or 'no_coupon'; null for control. Each
    distinct value is named once (a few coupon values over hundreds of thousands of journeys)."""
    value = pd.Series(pd.to_numeric(coupon_value, errors="coerce").to_numpy(dtype=float), index=coupon_value.index)
    names = per_distinct(value, lambda values: (f"coupon_{v:g}" for v in values), missing=NO_BENEFIT)
    return pd.Series(np.where(arm.to_numpy() == "treatment", names, None), index=coupon_value.index, dtype=object)


def is_decided(action_ids: pd.Series, decisions: pd.DataFrame) -> np.ndarray:
    """Whether each action_id is one of the decisions' journeys (the others are known only to the delivery log)."""
    return is_in(action_ids, decisions["action_id"])


def _log_rows(touches: pd.DataFrame) -> pd.DataFrame:
    """The touch rows with their times as timestamps and every optional column (null where absent): what any day
    knows of them is then a comparison."""
    missing = [c for c in TOUCH_COLUMNS if c not in touches.columns]
    if missing:
        raise ValueError(f"touches lacks required columns: {', '.join(missing)}")
    optional = {c: touches[c] if c in touches.columns else pd.Series(None, index=touches.index, dtype=object)
                for c in OPTIONAL_TOUCH_COLUMNS + ATTRIBUTE_COLUMNS}
    status = optional["status"].astype(object)
    return pd.DataFrame({
        **{c: touches[c] for c in ("action_id", "user_id", "strategy_id", "arm", "lifecycle_stage")},
        **{c: pd.to_datetime(touches[c]) for c in ("scheduled_at", "sent_at", "opened_at", "clicked_at")},
        # Without a status column, a send is taken as delivered (the log records failures as unsent).
        "deliverable": status.isna().to_numpy() | (status == "delivered").to_numpy(),
        "cost": touches["cost"].fillna(0.0).astype(float),
        "channel": optional["channel"].astype(object).where(optional["channel"].notna(), None),
        "coupon_code": optional["coupon_code"].astype(object),
        "coupon_value": pd.to_numeric(optional["coupon_value"], errors="coerce"),
        **{c: optional[c].astype(object) for c in ATTRIBUTE_COLUMNS},
    })


@dataclass(frozen=True)
class JourneyLog:
    """The decisions and the delivery log of a run, prepared once for the several days it measures: as_of(day) then
    compares each decided journey's first known send, delivery, open, click and coupon with the day's end, and sums
    the costs of the rows scheduled by then, instead of folding the log again; the journeys only the log knows
    likewise (log_only.py)."""

    decisions: pd.DataFrame  # DECISION_COLUMNS, by action_id
    assigned: np.ndarray  # each decision's assignment day (datetime64[D])
    first_known: dict[str, np.ndarray]  # per decision: when each funnel step is first known (ns; NEVER: not yet)
    coupon_at: np.ndarray  # per decision: when the first coupon its journey handed out is known (ns), and its code
    coupon_code: np.ndarray
    journey: np.ndarray  # per decision, and per touch row of a decided journey: the journey's number
    row_journey: np.ndarray
    row_scheduled: np.ndarray  # per such row: its schedule (ns) and cost
    row_cost: np.ndarray
    fixed_key: np.ndarray  # per decision: the number of its combination of the atoms' FIXED_COLUMNS
    log_only: LogOnlyJourneys  # the journeys only the log knows
    unique_ids: bool  # every decision and log row has an id and the decisions' are distinct: a day's journeys too

    @classmethod
    def of(cls, touches: pd.DataFrame, decisions: pd.DataFrame | None = None) -> JourneyLog:
        rows = _log_rows(touches).sort_values("scheduled_at", kind="stable")  # coupons: the first step's
        decided = decisions if decisions is not None else pd.DataFrame(columns=DECISION_COLUMNS)
        decided = decided.reindex(columns=list(dict.fromkeys([*decided.columns, *DECISION_COLUMNS])))
        if not decided["action_id"].is_monotonic_increasing:  # the reader sorts them: once per run, not once per day
            decided = decided.sort_values("action_id", kind="stable")
        decided = _typed(decided[DECISION_COLUMNS].reset_index(drop=True))
        ids = pd.Index(decided["action_id"].dropna().unique())
        # Journey numbers: 0..len(ids)-1; len(ids) stands for none (a decision without an id has no rows).
        journey = np.where((found := ids.get_indexer(decided["action_id"])) >= 0, found, len(ids))
        row_journey = ids.get_indexer(rows["action_id"])
        mine, logged_rows = rows.loc[row_journey >= 0], rows.loc[row_journey < 0]
        row_journey = row_journey[row_journey >= 0]
        scheduled = nanoseconds(mine["scheduled_at"])
        times = known_times(mine, scheduled)
        first_known = {}
        for step in STEPS:  # each journey's earliest
            first = np.full(len(ids) + 1, NEVER, dtype=np.int64)
            np.minimum.at(first, row_journey, times[step])
            first_known[step] = first[journey]
        # the first row handing out a coupon (rows are in schedule order; np.unique gives first occurrences)
        coupons = np.flatnonzero(mine["coupon_code"].notna().to_numpy())
        with_coupon, first_row = np.unique(row_journey[coupons], return_index=True)
        coupon_at = np.full(len(ids) + 1, NEVER, dtype=np.int64)
        coupon_code = np.full(len(ids) + 1, None, dtype=object)
        coupon_at[with_coupon] = scheduled[coupons[first_row]]
        coupon_code[with_coupon] = mine["coupon_code"].to_numpy()[coupons[first_row]]
        return cls(
            decisions=decided,
            assigned=pd.to_datetime(decided["assignment_date"]).to_numpy(dtype="datetime64[D]"),
            first_known=first_known, coupon_at=coupon_at[journey], coupon_code=coupon_code[journey],
            journey=journey, row_journey=row_journey, row_scheduled=scheduled,
            row_cost=mine["cost"].to_numpy(dtype=float), fixed_key=_fixed_numbers(decided),
            log_only=LogOnlyJourneys.of(logged_rows),
            # the log-only journeys are one per id, none of them a decision's: a day's frame needs no check of its own
            unique_ids=bool(decided["action_id"].notna().all() and len(ids) == len(decided)
                            and logged_rows["action_id"].notna().all()),
        )

    def as_of(self, as_of: date) -> pd.DataFrame:
        """journeys_as_of(touches, as_of, decisions) of the touches and decisions this log was prepared from, with
        FIXED_KEY (atoms.py): the decided journeys' numbers of the run, then the log-only journeys' of the day."""
        end = pd.Timestamp(as_of + timedelta(days=1)).value
        chosen = self.assigned <= np.datetime64(as_of, "D")
        known = self.row_scheduled < end
        # Costs by journey number, summed as a fold of the rows would (pandas' compensated sum, in schedule order):
        # the same figures to the last bit.
        sums = pd.Series(self.row_cost[known]).groupby(self.row_journey[known]).sum()
        cost = np.zeros(len(self.decisions) + 1)  # journey numbers stop at the number of decisions
        cost[sums.index.to_numpy()] = sums.to_numpy()
        decided = self.decisions.loc[chosen]
        from_decisions = decided.assign(
            **{step: self.first_known[step][chosen] < end for step in STEPS},
            cost=cost[self.journey[chosen]],
            coupon_code=np.where(self.coupon_at[chosen] < end, self.coupon_code[chosen], None),
            source=pd.Series("decisions", index=decided.index, dtype=object),  # as measure_outcomes' as_objects
            **{FIXED_KEY: self.fixed_key[chosen]},
        )
        logged = self.log_only.as_of(end)
        logged["step_variant"] = step_variant(logged.pop("coupon_value"), logged["arm"])
        logged["holdout"], logged["first_journey"] = None, None
        logged["source"] = pd.Series("delivery_log", index=logged.index, dtype=object)
        logged[DESIGN_COLUMNS] = np.nan  # the log does not know the design: the check uses the library's
        logged = _typed(logged)
        # their first values change with the day: numbered each day, after the decisions' (another source, so no
        # combination is shared with a decided journey)
        logged[FIXED_KEY] = _fixed_numbers(logged) + len(self.fixed_key)
        return _journey_frame(from_decisions, logged)


def _fixed_numbers(journeys: pd.DataFrame) -> np.ndarray:
    """Per journey, the number of its combination of the atoms' FIXED_COLUMNS among `journeys` (of one source, which
    is left out)."""
    return combination_ids([journeys[column] for column in FIXED_COLUMNS if column != "source"])[0]


def journeys_as_of(touches: pd.DataFrame, as_of: date, decisions: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per journey assigned by the end of `as_of` (UTC business days).

    decisions: one row per decided journey (DECISION_COLUMNS); each gets its funnel from the touches of the same
    action_id (none: never sent, all false). Touches of other action_ids are journeys only the delivery log knows
    (their first row is the assignment). A send, open or click after `as_of` is not known yet, and neither is the
    cost of a later step. `channel` is the channel of the journey's first step (null for control). Rows: the decided
    journeys by action_id, then those only the log knows by action_id. For several days, JourneyLog.of once and
    as_of each day.
    """
    return JourneyLog.of(touches, decisions).as_of(as_of)


def _typed(journeys: pd.DataFrame) -> pd.DataFrame:
    """Journeys with their cohort columns typed as measure_outcomes reads them (decided journeys: once per run)."""
    journeys["assignment_date"] = pd.to_datetime(journeys["assignment_date"]).dt.date
    journeys["channel"] = journeys["channel"].where(journeys["arm"] == "treatment", None)
    for column in ["channel", "holdout", "step_variant", *ATTRIBUTE_COLUMNS]:
        # equal values one object: measure_outcomes numbers these columns again every day, faster over shared objects
        journeys[column] = as_objects(journeys[column])
    journeys["first_journey"] = journeys["first_journey"].astype("boolean")
    journeys[DESIGN_COLUMNS] = journeys[DESIGN_COLUMNS].apply(pd.to_numeric, errors="coerce").astype(float)
    return journeys


def _journey_frame(from_decisions: pd.DataFrame, logged: pd.DataFrame) -> pd.DataFrame:
    """The day's journeys, typed: the decided by action_id, then those only the log knows, likewise (a fixed order,
    so are the sums over journeys)."""
    journeys = pd.concat([frame for frame in (from_decisions, logged) if len(frame)], ignore_index=True) \
        if len(from_decisions) or len(logged) else logged
    journeys["responded"] = journeys["opened"].astype(bool) | journeys["clicked"].astype(bool)
    journeys["coupon_code"] = journeys["coupon_code"].astype(object).where(journeys["coupon_code"].notna(), None)
    journeys["cost"] = journeys["cost"].astype(np.float64)
    for column in ("sent", "delivered", "opened", "clicked"):
        journeys[column] = journeys[column].astype(bool)
    return journeys
