"""Per-journey outcomes as of a day (point in time), following docs/measurement.md: wake-up (a
window of `wake_up_days`, default 7), repurchase and revenue (30 d), revenue (90 d, the LTV window),
coupon redemption (30 d), return and second churn (second_churn.py), each with the flag saying
whether it is final by `as_of`, plus the pre-assignment revenue (days A-30..A-1) that CUPED adjusts
with. The windows are parameters because they depend on the vertical (verticals.yml)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from orchestration.measurement.pairs import ActivityPairs
from orchestration.measurement.second_churn import RETURN_DAYS, SECOND_CHURN_WITHIN_DAYS, second_churn

WAKE_UP_DAYS = 7  # default wake-up window: a key action on A .. A+6
REPURCHASE_DAYS = 30
LTV_DAYS = 90  # revenue over days A .. A+89
PRE_PERIOD_DAYS = 30  # pre-assignment covariate: revenue on days A-30 .. A-1


def outcome_horizon_days(churn_days: int) -> int:
    """Days after A (from A inclusive) past which no outcome can change: the LTV window, or the
    latest second churn (return on A+29, last key action on R+60, then churn_days days without one)."""
    return max(LTV_DAYS, RETURN_DAYS + SECOND_CHURN_WITHIN_DAYS + churn_days)


JOURNEY_COLUMNS = ["action_id", "user_id", "strategy_id", "arm", "assignment_date", "lifecycle_stage"]
FUNNEL_COLUMNS = {"sent": False, "delivered": False, "opened": False, "clicked": False, "responded": False, "cost": 0.0}
# Cohort attributes of a journey (null when unknown): see journeys.journeys_as_of.
ATTRIBUTES = ["value_tier", "segment", "channel", "step_variant", "coupon_code", "holdout", "source"]
# The design a journey was assigned under, as recall_actions recorded it (NaN when not recorded): the sample-ratio
# check's expectation (metrics._srm_design).
DESIGN_COLUMNS = ["design_holdout_share", "design_global_holdout_share", "design_variant_share"]
OUTCOME_COLUMNS = [
    *JOURNEY_COLUMNS,
    *ATTRIBUTES,
    "first_journey",
    *DESIGN_COLUMNS,
    *FUNNEL_COLUMNS,
    "pre_period_revenue",
    "measured_through",
    "days_observed",
    "wake_up_window_days",
    "woke_up",
    "woke_up_mature",
    "repurchased_30d",
    "repurchased_30d_mature",
    "revenue_30d",
    "revenue_30d_mature",
    "revenue_90d",
    "revenue_90d_mature",
    "coupon_redeemed",
    "coupon_redeemed_mature",
    "return_date",
    "churn_threshold_days",
    "second_churned",
    "second_churned_mature",
]


def _days(values: pd.Series) -> pd.Series:
    """Dates (date objects, strings or timestamps) as tz-naive midnight datetime64."""
    out = pd.to_datetime(values)
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    return out.dt.normalize().astype("datetime64[s]")


def per_distinct(values: pd.Series, name: Callable[[Any], Iterable[object]], missing: object = None) -> pd.Series:
    """An object per value of `values`, made once per distinct value (`name(distinct values)`, `missing` where a value
    is missing): a column repeats a few values over hundreds of thousands of journeys, and one Python object made per
    journey both costs a call each and makes every later hash of the column compare new objects."""
    codes, distinct = pd.factorize(values)  # missing: code -1, the table's last entry
    table = np.array([*name(distinct), missing], dtype=object)
    return pd.Series(table[codes], index=values.index, dtype=object)


def as_dates(days: pd.Series) -> pd.Series:
    """Datetimes as datetime.date objects (None for NaT): `.dt.date` made a Python object per journey, holding the GIL
    (prefetch.prefetched)."""
    return per_distinct(days, lambda distinct: pd.DatetimeIndex(distinct).date)


def as_objects(values: pd.Series) -> pd.Series:
    """Values as Python objects (None where missing), equal values the same object: the cohort metrics' atoms
    factorize these columns again every day, about five times faster than over one new text object per journey."""
    return per_distinct(values, lambda distinct: np.asarray(distinct, dtype=object))


def day_numbers(values: pd.Series) -> np.ndarray:
    """Dates as day numbers (days since 1970-01-01), for integer offsets."""
    return _days(values).to_numpy().astype("datetime64[D]").astype(np.int64)


def _redeemed(out: pd.DataFrame, day_a: pd.Series, redemptions: pd.DataFrame | None, as_of: pd.Timestamp) -> pd.Series:
    """The journey's own coupon code on an order on days A..A+29 (known by as_of); null without a coupon."""
    has_coupon = out["coupon_code"].notna().to_numpy()
    result = pd.array(np.where(has_coupon, False, pd.NA), dtype="boolean")
    if redemptions is None:
        result[has_coupon] = pd.NA  # no redemption log: unknown rather than "not redeemed"
        return pd.Series(result)
    used = redemptions.loc[:, ["user_id", "coupon_code", "redeemed_date"]].dropna(subset=["coupon_code"]).copy()
    used["redeemed_date"] = _days(used["redeemed_date"])
    used = used.loc[used["redeemed_date"] <= as_of].astype({"user_id": str, "coupon_code": str})
    coupon = np.flatnonzero(has_coupon)  # only journeys with a coupon can redeem one: keys for those alone
    keys = pd.DataFrame({"journey": coupon, "user_id": out["user_id"].iloc[coupon].astype(str).to_numpy(),
                         "coupon_code": out["coupon_code"].iloc[coupon].astype(str).to_numpy(),
                         "day_a": day_a.iloc[coupon].to_numpy()})
    joined = keys.merge(used, on=["user_id", "coupon_code"], how="inner")
    offset = (joined["redeemed_date"] - joined["day_a"]).dt.days
    hits = joined.loc[(offset >= 0) & (offset < REPURCHASE_DAYS), "journey"].unique()
    result[hits] = True
    return pd.Series(result)


def measure_outcomes(
    journeys: pd.DataFrame,
    activity: pd.DataFrame,
    as_of: date,
    key_action_column: str = "key_actions",
    redemptions: pd.DataFrame | None = None,
    *,
    churn_days: int,
    wake_up_days: int = WAKE_UP_DAYS,
    pairs: ActivityPairs | None = None,
    unique_ids: bool = False,
    typed: bool = False,
) -> pd.DataFrame:
    """One row per journey (OUTCOME_COLUMNS) using only activity dated on or before `as_of`.

    woke_up (a key action on A..A+wake_up_days-1) / repurchased_30d / revenue_30d / revenue_90d
    count what has been observed so far (final once the matching *_mature flag is true).
    second_churned (see second_churn.py; `churn_days` is the vertical's churn threshold, which has
    no default so that no caller silently measures another vertical's) is NA until known.
    `redemptions` (user_id, coupon_code, redeemed_date) is the coupon log; without it
    coupon_redeemed is NA. A `pre_period_revenue` column in `journeys` (e.g. an importer's own
    pre-period spend) is kept; otherwise it is the revenue on days A-30..A-1. Journeys assigned
    after `as_of` are left out. `pairs`: pairs of these journeys with the rows of `activity`, found once for the
    several days a run measures (ActivityPairs.of, from PRE_PERIOD_DAYS before assignment to the horizon after).
    `unique_ids`: the caller knows the journeys have one row per action_id (a JourneyLog's days: JourneyLog.unique_ids),
    so they are not checked again. `typed`: the caller knows the ATTRIBUTES columns are present and already objects,
    one per distinct value and None where missing (a JourneyLog's days), so they are not made so again.
    """
    missing = [c for c in JOURNEY_COLUMNS if c not in journeys.columns]
    if missing:
        raise ValueError(f"journeys lacks required columns: {', '.join(missing)}")
    # one hash pass (duplicated() marks every row: several times slower)
    if not unique_ids and not journeys["action_id"].is_unique:
        raise ValueError("journeys must have one row per action_id")
    if journeys["assignment_date"].isna().any():
        raise ValueError("journeys has rows without an assignment_date")
    if not 1 <= wake_up_days <= RETURN_DAYS:  # a woken-up user has returned
        raise ValueError(f"wake_up_days must be 1..{RETURN_DAYS}, got {wake_up_days}")
    if churn_days < 1:
        raise ValueError(f"churn_days must be at least 1, got {churn_days}")

    horizon = outcome_horizon_days(churn_days)
    if pairs is not None and pairs.window != (-PRE_PERIOD_DAYS, horizon):
        raise ValueError(f"pairs of offsets {pairs.window}, not the outcomes' {(-PRE_PERIOD_DAYS, horizon)}")
    as_of_ts = pd.Timestamp(as_of)
    out = journeys.copy(deep=False)  # copy-on-write: the caller's frame never changes, no column is copied
    for column, default in FUNNEL_COLUMNS.items():
        out[column] = out[column].fillna(default) if column in out.columns else default
        out[column] = out[column].astype(type(default))
    if "responded" not in journeys.columns:  # a response is an open or a click
        out["responded"] = out["opened"] | out["clicked"]
    if not typed:
        for column in ATTRIBUTES:
            out[column] = as_objects(out[column]) if column in out.columns else None
    out["first_journey"] = (out["first_journey"] if "first_journey" in out.columns
                            else pd.Series(pd.NA, index=out.index)).astype("boolean")
    for column in DESIGN_COLUMNS:
        out[column] = pd.to_numeric(out[column], errors="coerce").astype(float) if column in out.columns else np.nan
    day_a = _days(out["assignment_date"])
    out = out.loc[(day_a <= as_of_ts).to_numpy()].reset_index(drop=True)
    day_a = day_a.loc[day_a <= as_of_ts].reset_index(drop=True)
    out["assignment_date"] = as_dates(day_a)

    # Point in time: only activity dated on or before as_of, and only days some journey can use.
    a_day = day_numbers(day_a)
    as_of_day = int(day_numbers(pd.Series([as_of_ts]))[0])
    found = pairs.select(out["user_id"], a_day, as_of_day) if pairs is not None else None
    if found is None:  # no shared pairs, or not for these journeys: their own
        act_day = day_numbers(activity["activity_date"])
        first = (a_day.min() if len(a_day) else as_of_day) - PRE_PERIOD_DAYS
        last = min(as_of_day, (a_day.max() if len(a_day) else as_of_day) + horizon - 1)
        found = ActivityPairs.of(out["user_id"], a_day, activity["user_id"], act_day, -PRE_PERIOD_DAYS, horizon,
                                 usable=(act_day >= first) & (act_day <= last)).select(out["user_id"], a_day, as_of_day)
    journey, row, offset = found

    def paired(column: str) -> np.ndarray:  # the activity column's value on each (journey, day) pair, null as 0
        values = activity[column].to_numpy(dtype=float, na_value=np.nan)[row]
        values[np.isnan(values)] = 0.0
        return values

    n = len(out)
    after = offset >= 0
    key = paired(key_action_column) > 0
    in_30 = after & (offset < REPURCHASE_DAYS)
    revenue = paired("revenue")

    def any_day(days: np.ndarray) -> np.ndarray:
        return np.bincount(journey[days], minlength=n) > 0

    def total(days: np.ndarray) -> np.ndarray:
        return np.bincount(journey, weights=np.where(days, revenue, 0.0), minlength=n)

    elapsed = (as_of_ts - day_a).dt.days.to_numpy()
    # Past the horizon nothing can change, so the row reads the same whichever later day measured it.
    observed = np.minimum(elapsed, horizon - 1)
    acted = after & key  # churn counts days without a key action, as the labels' churned stage does
    days = pd.DataFrame({"journey": journey[acted], "offset": offset[acted]})
    return_offset, second, churn_mature = second_churn(days, observed, churn_days)

    if "pre_period_revenue" not in out.columns:
        out["pre_period_revenue"] = total(~after)
    out["pre_period_revenue"] = out["pre_period_revenue"].astype(float)
    out["measured_through"] = as_dates(day_a + pd.to_timedelta(observed, unit="D"))
    out["days_observed"] = observed + 1
    out["wake_up_window_days"] = wake_up_days
    out["woke_up"] = any_day(after & (offset < wake_up_days) & key)
    out["woke_up_mature"] = elapsed >= wake_up_days - 1
    out["repurchased_30d"] = any_day(in_30 & (paired("orders") > 0))
    out["repurchased_30d_mature"] = elapsed >= REPURCHASE_DAYS - 1
    out["revenue_30d"] = total(in_30)
    out["revenue_30d_mature"] = out["repurchased_30d_mature"]
    out["revenue_90d"] = total(after & (offset < LTV_DAYS))
    out["revenue_90d_mature"] = elapsed >= LTV_DAYS - 1
    out["coupon_redeemed"] = _redeemed(out, day_a, redemptions, as_of_ts).array
    out["coupon_redeemed_mature"] = out["repurchased_30d_mature"]
    returned = day_a + pd.to_timedelta(return_offset, unit="D")
    out["return_date"] = as_dates(returned)
    out["churn_threshold_days"] = churn_days
    out["second_churned"] = second
    out["second_churned_mature"] = churn_mature
    extra = [c for c in journeys.columns if c not in OUTCOME_COLUMNS]
    return out[OUTCOME_COLUMNS + extra]
