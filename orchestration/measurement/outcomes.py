"""Per-journey outcomes as of a day (point in time), following docs/contracts.md "Measurement
definitions": wake-up (7 d), repurchase and revenue (30 d), second churn (days 30..59), each
with the flag saying whether its window has closed by `as_of`."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

WAKE_UP_DAYS = 7
REPURCHASE_DAYS = 30
SECOND_CHURN_START = 30
SECOND_CHURN_END = 59  # inclusive: days A+30 .. A+59
# Every window has closed this many days after assignment; older journeys are final.
OUTCOME_HORIZON_DAYS = 90

JOURNEY_COLUMNS = ["action_id", "user_id", "strategy_id", "arm", "assignment_date", "lifecycle_stage"]
FUNNEL_COLUMNS = {"sent": False, "opened": False, "clicked": False, "cost": 0.0}
OUTCOME_COLUMNS = [
    *JOURNEY_COLUMNS,
    *FUNNEL_COLUMNS,
    "measured_through",
    "days_observed",
    "woke_up_7d",
    "woke_up_7d_mature",
    "repurchased_30d",
    "repurchased_30d_mature",
    "revenue_30d",
    "revenue_30d_mature",
    "second_churned",
    "second_churned_mature",
]


def _days(values: pd.Series) -> pd.Series:
    """Dates (date objects, strings or timestamps) as tz-naive midnight datetime64."""
    out = pd.to_datetime(values)
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    return out.dt.normalize().astype("datetime64[s]")


def measure_outcomes(
    journeys: pd.DataFrame,
    activity: pd.DataFrame,
    as_of: date,
    key_action_column: str = "key_actions",
) -> pd.DataFrame:
    """One row per journey (OUTCOME_COLUMNS) using only activity dated on or before `as_of`.

    woke_up_7d / repurchased_30d / revenue_30d count what has been observed so far (final once the
    matching *_mature flag is true). second_churned needs the whole window A+30..A+59 to prove an
    absence, so it is NA until second_churned_mature; it is False for users who did not wake up.
    Journeys assigned after `as_of` are left out.
    """
    missing = [c for c in JOURNEY_COLUMNS if c not in journeys.columns]
    if missing:
        raise ValueError(f"journeys lacks required columns: {', '.join(missing)}")
    if journeys["action_id"].duplicated().any():
        raise ValueError("journeys must have one row per action_id")
    if journeys["assignment_date"].isna().any():
        raise ValueError("journeys has rows without an assignment_date")

    as_of_ts = pd.Timestamp(as_of)
    out = journeys.copy()
    for column, default in FUNNEL_COLUMNS.items():
        out[column] = out[column].fillna(default) if column in out.columns else default
        out[column] = out[column].astype(type(default))
    day_a = _days(out["assignment_date"])
    out = out.loc[(day_a <= as_of_ts).to_numpy()].reset_index(drop=True)
    day_a = day_a.loc[day_a <= as_of_ts].reset_index(drop=True)
    out["assignment_date"] = day_a.dt.date

    # Point in time: drop activity after as_of before joining each journey to its user's days.
    act = activity.loc[:, ["user_id", "activity_date", "events", key_action_column, "orders", "revenue"]].copy()
    act["activity_date"] = _days(act["activity_date"])
    # Only days some journey can use; the inner join below keeps journey users only.
    first = day_a.min() if len(day_a) else as_of_ts
    last = min(as_of_ts, (day_a.max() if len(day_a) else as_of_ts) + pd.Timedelta(days=SECOND_CHURN_END))
    act = act.loc[(act["activity_date"] >= first) & (act["activity_date"] <= last)]
    # Journeys are keyed by row position (an int) so the join and groupby avoid string keys.
    keys = pd.DataFrame({"journey": np.arange(len(out)), "user_id": out["user_id"].astype(str), "day_a": day_a})
    joined = keys.merge(act.astype({"user_id": str}), on="user_id", how="inner")
    offset = (joined["activity_date"] - joined["day_a"]).dt.days
    joined = joined.loc[(offset >= 0) & (offset <= SECOND_CHURN_END)]
    offset = offset.loc[joined.index]

    in_7 = offset < WAKE_UP_DAYS
    in_30 = offset < REPURCHASE_DAYS
    in_churn = offset >= SECOND_CHURN_START
    per_row = pd.DataFrame(
        {
            "journey": joined["journey"],
            "woke": in_7 & (joined[key_action_column].fillna(0) > 0),
            "bought": in_30 & (joined["orders"].fillna(0) > 0),
            "revenue": joined["revenue"].fillna(0.0).astype(float).where(in_30, 0.0),
            "active_late": in_churn & (joined["events"].fillna(0) > 0),
        }
    )
    agg = per_row.groupby("journey", sort=False).agg(
        woke=("woke", "any"), bought=("bought", "any"), revenue=("revenue", "sum"), active_late=("active_late", "any")
    )
    agg = agg.reindex(np.arange(len(out)))
    woke = agg["woke"].fillna(False).astype(bool).to_numpy()
    active_late = agg["active_late"].fillna(False).astype(bool).to_numpy()

    elapsed = (as_of_ts - day_a).dt.days.to_numpy()
    # Past the horizon nothing can change, so the row reads the same whichever later day measured it.
    observed = np.minimum(elapsed, OUTCOME_HORIZON_DAYS - 1)
    out["measured_through"] = (day_a + pd.to_timedelta(observed, unit="D")).dt.date
    out["days_observed"] = observed + 1
    out["woke_up_7d"] = woke
    out["woke_up_7d_mature"] = elapsed >= WAKE_UP_DAYS - 1
    out["repurchased_30d"] = agg["bought"].fillna(False).astype(bool).to_numpy()
    out["repurchased_30d_mature"] = elapsed >= REPURCHASE_DAYS - 1
    out["revenue_30d"] = agg["revenue"].fillna(0.0).astype(float).to_numpy()
    out["revenue_30d_mature"] = out["repurchased_30d_mature"]
    churn_mature = elapsed >= SECOND_CHURN_END
    second = pd.array(woke & ~active_late, dtype="boolean")
    second[~churn_mature] = pd.NA
    out["second_churned"] = second
    out["second_churned_mature"] = churn_mature
    extra = [c for c in journeys.columns if c not in OUTCOME_COLUMNS]
    return out[OUTCOME_COLUMNS + extra]

