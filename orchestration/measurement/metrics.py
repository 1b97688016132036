"""Cohort metrics for recall_metrics: per (assignment_date, strategy_id, lifecycle_stage, arm) the
outcome rates, funnel counts and cost, and for treatment rows the lift over the same cohort's
control with Welch 95% intervals, incremental revenue and ROI. lifecycle_stage 'all' pools a
campaign (one strategy on one assignment day) across stages."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from orchestration.measurement.lift import welch_lift
from orchestration.measurement.outcomes import REPURCHASE_DAYS, SECOND_CHURN_END, WAKE_UP_DAYS

ALL_STAGES = "all"
COHORT_KEYS = ["assignment_date", "strategy_id", "lifecycle_stage"]
# Lifted metrics: column prefix -> (per-journey value, rate/mean column).
LIFTED = {
    "wake_up": ("_wake", "wake_up_rate"),
    "repurchase": ("_buy", "repurchase_30d_rate"),
    "revenue": ("_rev", "revenue_per_user_30d"),
}
METRIC_COLUMNS = [
    *COHORT_KEYS,
    "arm",
    "as_of_date",  # the day the metrics were measured on (the partition)
    "users",  # journeys in the cohort and arm
    "sends",  # journeys with at least one message sent
    "opens",
    "clicks",
    "cost",  # total delivery + benefit cost (0 for control)
    "wake_up_rate",  # share with a key action on days A..A+6
    "repurchase_30d_rate",  # share with an order on days A..A+29
    "revenue_per_user_30d",  # mean order revenue on days A..A+29
    "second_churn_rate",  # among woken-up users with a closed window: share silent on A+30..A+59
    "wake_up_mature",  # as_of >= A+6
    "is_mature",  # as_of >= A+29: the 30-day metrics are final
    "second_churn_mature",  # as_of >= A+59
    "control_users",  # treatment rows: size of the matching control cohort
    *(f"{p}_{s}" for p in LIFTED for s in ("lift", "lift_ci_low", "lift_ci_high", "relative_lift")),
    "incremental_revenue_30d",  # revenue_lift * users
    "roi_30d",  # (incremental_revenue_30d - cost) / cost
]


def _prepare(outcomes: pd.DataFrame) -> pd.DataFrame:
    frame = outcomes.copy()
    frame["assignment_date"] = pd.to_datetime(frame["assignment_date"]).dt.date
    frame["_wake"] = frame["woke_up_7d"].astype(float)
    frame["_buy"] = frame["repurchased_30d"].astype(float)
    frame["_rev"] = frame["revenue_30d"].astype(float)
    # Second churn is a rate among woken-up users whose churn window has closed (NA otherwise).
    churn = frame["second_churned"].astype("Float64").astype(float)
    frame["_churn"] = churn.where(frame["woke_up_7d"].astype(bool))
    for column in ("sent", "opened", "clicked"):
        frame[column] = frame[column].fillna(False).astype(bool) if column in frame else False
    frame["cost"] = frame["cost"].fillna(0.0).astype(float) if "cost" in frame else 0.0
    return pd.concat([frame, frame.assign(lifecycle_stage=ALL_STAGES)], ignore_index=True)


def cohort_metrics(outcomes: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """One row per cohort and arm (METRIC_COLUMNS); lift columns are NaN on control rows."""
    frame = _prepare(outcomes)
    aggregations = {
        "users": ("action_id", "size"),
        "sends": ("sent", "sum"),
        "opens": ("opened", "sum"),
        "clicks": ("clicked", "sum"),
        "cost": ("cost", "sum"),
        "second_churn_rate": ("_churn", "mean"),
    }
    for value, mean_column in LIFTED.values():
        aggregations[mean_column] = (value, "mean")
        aggregations[f"{value}_var"] = (value, "var")
    stats = frame.groupby([*COHORT_KEYS, "arm"], sort=True, dropna=False).agg(**aggregations).reset_index()

    control = stats.loc[stats["arm"] == "control"].set_index(COHORT_KEYS)
    matched = control.reindex(pd.MultiIndex.from_frame(stats[COHORT_KEYS]))
    is_treatment = (stats["arm"] == "treatment").to_numpy()
    stats["control_users"] = np.where(is_treatment, matched["users"].fillna(0).to_numpy(), np.nan)
    for prefix, (value, mean_column) in LIFTED.items():
        est = welch_lift(
            stats[mean_column], stats[f"{value}_var"], stats["users"],
            matched[mean_column].to_numpy(), matched[f"{value}_var"].to_numpy(), matched["users"].fillna(0).to_numpy(),
        )
        stats[f"{prefix}_lift"] = np.where(is_treatment, est["lift"], np.nan)
        stats[f"{prefix}_lift_ci_low"] = np.where(is_treatment, est["ci_low"], np.nan)
        stats[f"{prefix}_lift_ci_high"] = np.where(is_treatment, est["ci_high"], np.nan)
        stats[f"{prefix}_relative_lift"] = np.where(is_treatment, est["relative_lift"], np.nan)
    stats["incremental_revenue_30d"] = stats["revenue_lift"] * stats["users"]
    with np.errstate(divide="ignore", invalid="ignore"):
        stats["roi_30d"] = np.where(
            stats["cost"] > 0, (stats["incremental_revenue_30d"] - stats["cost"]) / stats["cost"], np.nan
        )

    elapsed = (pd.Timestamp(as_of) - pd.to_datetime(stats["assignment_date"])).dt.days
    stats["as_of_date"] = as_of
    stats["wake_up_mature"] = elapsed >= WAKE_UP_DAYS - 1
    stats["is_mature"] = elapsed >= REPURCHASE_DAYS - 1
    stats["second_churn_mature"] = elapsed >= SECOND_CHURN_END
    for column in ("users", "sends", "opens", "clicks"):
        stats[column] = stats[column].astype("int64")
    return stats[METRIC_COLUMNS].reset_index(drop=True)
