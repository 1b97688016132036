"""Journeys as known on a day: the delivery log's rows folded into one row per action_id, using only
what had happened by the end of that day (point in time), with its funnel flags and cost."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

TOUCH_COLUMNS = [
    "action_id", "user_id", "strategy_id", "arm", "lifecycle_stage",
    "scheduled_at", "sent_at", "opened_at", "clicked_at", "cost",
]


def journeys_as_of(touches: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """One row per action_id whose first row was scheduled by the end of `as_of` (UTC business days).

    A send, open or click after `as_of` is not known yet, and neither is the cost of a later step.
    """
    missing = [c for c in TOUCH_COLUMNS if c not in touches.columns]
    if missing:
        raise ValueError(f"touches lacks required columns: {', '.join(missing)}")
    end = pd.Timestamp(as_of + timedelta(days=1))
    known = touches.loc[pd.to_datetime(touches["scheduled_at"]) < end]
    seen = {column: pd.to_datetime(known[column]) < end for column in ("sent_at", "opened_at", "clicked_at")}
    frame = pd.DataFrame(
        {
            "action_id": known["action_id"],
            "user_id": known["user_id"],
            "strategy_id": known["strategy_id"],
            "arm": known["arm"],
            "lifecycle_stage": known["lifecycle_stage"],
            "scheduled_at": pd.to_datetime(known["scheduled_at"]),
            "sent": seen["sent_at"],
            "opened": seen["opened_at"],
            "clicked": seen["clicked_at"],
            "cost": known["cost"].fillna(0.0).astype(float),
        }
    )
    journeys = (
        frame.sort_values(["action_id", "scheduled_at"], kind="stable")
        .groupby("action_id", sort=True)
        .agg(
            user_id=("user_id", "first"),
            strategy_id=("strategy_id", "first"),
            arm=("arm", "first"),
            lifecycle_stage=("lifecycle_stage", "first"),
            first_scheduled=("scheduled_at", "first"),
            sent=("sent", "any"),
            opened=("opened", "any"),
            clicked=("clicked", "any"),
            cost=("cost", "sum"),
        )
        .reset_index()
    )
    journeys["assignment_date"] = journeys.pop("first_scheduled").dt.date
    return journeys
