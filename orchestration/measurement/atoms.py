"""Journeys summed into atoms: the journeys equal on everything that decides their cohorts, strata, side,
sample-ratio design and maturity, with the sums of every quantity the cohort metrics read (metrics.py). Atoms of
disjoint journeys add up, so a day's journeys can be measured a shard of users at a time (daily.py) and their
metrics computed once from the merged atoms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from orchestration.measurement.outcomes import DESIGN_COLUMNS, WAKE_UP_DAYS, as_dates

# The per-journey values the lifts compare (wake-up, 30-day repurchase, 30- and 90-day revenue: metrics.LIFTED),
# and the per-journey values only summed.
VALUES = ["_wake", "_buy", "_rev", "_rev90"]
SUMMED = ["sent", "delivered", "opened", "clicked", "responded", "_coupon", "_returned", "_churn", "_redeemed", "cost"]


def _prepare(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per-journey numeric values (NaN where an outcome is not defined) and window bookkeeping; `_as_of` holds the
    day each row was measured as of.

    The windows are read from the outcomes (wake_up_window_days, churn_threshold_days, as
    measure_outcomes records them) so metrics can never disagree with the journeys they count;
    frames without them (imports, simulations) use the default wake-up window and no threshold.
    """
    frame = outcomes.copy(deep=False)  # copy-on-write: the caller's frame never changes, no column is copied
    assigned = pd.to_datetime(frame["assignment_date"])
    frame["assignment_date"], frame["_assigned"] = as_dates(assigned), assigned
    frame["_wake_days"] = frame["wake_up_window_days"].astype(float) if "wake_up_window_days" in frame else float(WAKE_UP_DAYS)
    frame["_churn_days"] = frame["churn_threshold_days"].astype(float) if "churn_threshold_days" in frame else np.nan
    elapsed = (frame["_as_of"] - assigned).dt.days
    frame["_wake_open"] = elapsed < frame["_wake_days"] - 1
    frame["_wake_closed"] = ~frame["_wake_open"]
    frame["_wake"] = frame["woke_up"].astype(float)
    frame["_buy"] = frame["repurchased_30d"].astype(float)
    frame["_rev"] = frame["revenue_30d"].astype(float)
    frame["_rev90"] = frame["revenue_90d"].astype(float) if "revenue_90d" in frame else np.nan
    frame["_x"] = frame["pre_period_revenue"].fillna(0.0).astype(float) if "pre_period_revenue" in frame else 0.0
    # Second churn: among returned journeys, those seen to churn again so far (NA = not yet known).
    returned = frame["return_date"].notna() if "return_date" in frame else pd.Series(False, index=frame.index)
    churned = frame["second_churned"].astype("boolean")
    frame["_returned"] = returned.astype(float)
    frame["_churn"] = (churned.fillna(False).astype(bool) & returned).astype(float)
    frame["_churn_open"] = churned.isna()
    coupon = frame["coupon_code"].notna() if "coupon_code" in frame else pd.Series(False, index=frame.index)
    redeemed = frame["coupon_redeemed"].astype("Float64").astype(float) if "coupon_redeemed" in frame else np.nan
    frame["_coupon"] = coupon.astype(float)
    frame["_redeemed"] = pd.Series(redeemed, index=frame.index).where(coupon).fillna(0.0)
    frame["_redeem_known"] = (pd.Series(redeemed, index=frame.index).notna() & coupon).astype(float)
    for column in ("sent", "delivered", "opened", "clicked", "responded"):
        frame[column] = frame[column].fillna(False).astype(float) if column in frame else 0.0
    frame["cost"] = frame["cost"].fillna(0.0).astype(float) if "cost" in frame else 0.0
    for column in ("value_tier", "segment", "step_variant", "channel", "holdout", "source"):
        if column not in frame:
            frame[column] = None
    frame["first_journey"] = frame["first_journey"].astype("boolean") if "first_journey" in frame else pd.NA
    for column in DESIGN_COLUMNS:  # the design each journey was assigned under; NaN: not recorded
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float) if column in frame else np.nan
    return frame


# The journey columns cohort membership depends on (expand_cohorts works on these only: the long table is narrow).
EXPAND_COLUMNS = ["_as_of", "assignment_date", "strategy_id", "arm", "lifecycle_stage", "holdout", "first_journey",
                  "_wake_closed", "value_tier", "segment", "step_variant", "channel"]


def _per_journey(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per journey, every quantity the means and (co)variances sum, by name."""
    x = frame["_x"].to_numpy(float)
    columns = {"n": np.ones(len(frame)), "x": x, "xx": x * x}
    for y in VALUES:
        value = frame[y].to_numpy(float)
        known = ~np.isnan(value)
        value, x_known = np.where(known, value, 0.0), np.where(known, x, 0.0)
        columns |= {f"n{y}": known.astype(float), y: value, f"{y}{y}": value * value, f"x{y}": x_known * value,
                    f"x|{y}": x_known}
    columns |= {column: frame[column].to_numpy(float) for column in [*SUMMED, "_redeem_known"]}
    return columns


# Everything that decides a journey's cohorts, strata, side, sample-ratio design and maturity. Journeys equal on all
# of it are summed into one atom before the cohort expansion, since every metric is a sum: the expansion then copies
# a day's 43,000 atoms rather than its 490,000 journeys at 100,000 users (38,000 journeys, 4,400 atoms in the demo).
ATOM_COLUMNS = [*EXPAND_COLUMNS, "_wake_open", "_churn_open", "_wake_days", "_churn_days", "source", *DESIGN_COLUMNS]
# The ATOM_COLUMNS a decided journey keeps over a run. A frame may carry FIXED_KEY, a number per journey for its
# combination of these (the same number, the same combination, among the rows of one as-of day): the atoms then key on
# it instead of numbering these columns again every day (JourneyLog numbers its decisions once per run).
FIXED_COLUMNS = ["assignment_date", "strategy_id", "arm", "lifecycle_stage", "holdout", "first_journey", "value_tier",
                 "segment", "step_variant", "channel", "source", *DESIGN_COLUMNS]
FIXED_KEY = "_fixed"


def combination_ids(columns: Sequence[pd.Series | np.ndarray]) -> tuple[np.ndarray, int]:
    """Per row, the number of its combination of the values of `columns` (equal-length; numbered in order of
    appearance), and how many there are: one integer key per row from the columns' codes, without grouping on the
    columns themselves."""
    key, bound = np.zeros(len(columns[0]), np.int64), 1
    for column in columns:
        # a missing value is code -1, numbered 0 here (pandas' own null code: use_na_sentinel=False first looks
        # for the nulls of a text column in a pass of its own, two to three times the cost)
        codes, uniques = pd.factorize(column)
        size = len(uniques) + 1
        if bound * size >= 2**62:  # numbered densely again before it could overflow
            key, distinct = pd.factorize(key)
            bound = len(distinct)
        key, bound = key * size + codes + 1, bound * size
    atom, distinct = pd.factorize(key)
    return atom, len(distinct)


def _summed(frame: pd.DataFrame, columns: list[str], names: list[str], values: Sequence[np.ndarray]) -> Atoms:
    """The rows of `frame` summed by ATOM_COLUMNS (keyed on `columns`, the same groups): each atom's attributes from
    its first row, and the sums of `values` (one array per name, a value per row)."""
    atom, size = combination_ids([frame[column] for column in columns])
    first = np.empty(size, np.int64)
    first[atom[::-1]] = np.arange(len(atom))[::-1]  # each atom's first row (the earliest write wins)
    totals = np.column_stack([np.bincount(atom, weights=value, minlength=size) for value in values])
    attributes = frame[ATOM_COLUMNS].iloc[first].reset_index(drop=True)
    attributes["_n"] = totals[:, names.index("n")]
    return Atoms(attributes, names, totals)


@dataclass(frozen=True)
class Atoms:
    """Journeys summed by everything that decides their cohorts: one row of `frame` per atom (ATOM_COLUMNS and
    `_n`, its journeys) and, per atom, the sums of every per-journey quantity the metrics use (`totals`, one column
    per name of `names`). Every metric is a sum of these, so the atoms of disjoint sets of journeys add up."""

    frame: pd.DataFrame
    names: list[str]
    totals: np.ndarray


def atoms_of(outcomes_by_day: Mapping[date, pd.DataFrame]) -> Atoms | None:
    """The atoms of the journeys' outcomes, each measured as of its day (None when there is no journey)."""
    days = [outcomes.assign(_as_of=pd.Timestamp(day)) for day, outcomes in outcomes_by_day.items() if len(outcomes)]
    if not days:
        return None
    frame = _prepare(pd.concat(days, ignore_index=True))
    quantities = _per_journey(frame)
    if all(FIXED_KEY in day for day in days):
        columns = [FIXED_KEY, *(column for column in ATOM_COLUMNS if column not in FIXED_COLUMNS)]
    else:  # the assignment day by its timestamp (_prepare's): the same groups, without hashing a date per journey
        columns = ["_assigned" if column == "assignment_date" else column for column in ATOM_COLUMNS]
    return _summed(frame, columns, list(quantities), list(quantities.values()))


def merged(parts: Sequence[Atoms | None]) -> Atoms | None:
    """The atoms of the union of the parts' journeys (disjoint sets: a shard of users each, or a day each)."""
    parts = [part for part in parts if part is not None]
    if len(parts) <= 1:
        return parts[0] if parts else None
    frame = pd.concat([part.frame for part in parts], ignore_index=True)
    totals = np.concatenate([part.totals for part in parts])
    return _summed(frame, ATOM_COLUMNS, parts[0].names, list(totals.T))


def coarsened(atoms: Atoms, columns: list[str]) -> Atoms:
    """The atoms summed over `columns` (left null in the result): one atom per combination of the other ATOM_COLUMNS."""
    coarse = _summed(atoms.frame, [c for c in ATOM_COLUMNS if c not in columns], atoms.names, list(atoms.totals.T))
    coarse.frame[columns] = None
    return coarse
