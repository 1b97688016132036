"""Journeys as known on a day: the delivery log's rows folded into one row per action_id, using only
what had happened by the end of that day (point in time), with its funnel flags, cost, the channel
it had reached, its benefit variant and its coupon code."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

TOUCH_COLUMNS = [
    "action_id", "user_id", "strategy_id", "arm", "lifecycle_stage",
    "scheduled_at", "sent_at", "opened_at", "clicked_at", "cost",
]
# Optional touch columns: used when present, null otherwise.
OPTIONAL_TOUCH_COLUMNS = ["step", "status", "channel", "coupon_code", "coupon_value"]
# Optional per-journey attributes carried from the first row (cohort dimensions).
ATTRIBUTE_COLUMNS = ["value_tier", "segment"]
NO_BENEFIT = "no_coupon"


def step_variant(coupon_value: pd.Series, arm: pd.Series) -> pd.Series:
    """The benefit variant a treatment journey was offered: 'coupon_<value>' or 'no_coupon'; null for control."""
    value = pd.to_numeric(coupon_value, errors="coerce").to_numpy(dtype=float)
    labels = [NO_BENEFIT if np.isnan(v) else f"coupon_{v:g}" for v in value]
    return pd.Series(np.where(arm.to_numpy() == "treatment", labels, None), index=coupon_value.index, dtype=object)


def journeys_as_of(touches: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """One row per action_id whose first row was scheduled by the end of `as_of` (UTC business days).

    A send, open or click after `as_of` is not known yet, and neither is the cost of a later step.
    `channel` is the channel of the latest step scheduled by `as_of` (the rung of the ladder the
    journey had reached; null for control).
    """
    missing = [c for c in TOUCH_COLUMNS if c not in touches.columns]
    if missing:
        raise ValueError(f"touches lacks required columns: {', '.join(missing)}")
    end = pd.Timestamp(as_of + timedelta(days=1))
    known = touches.loc[pd.to_datetime(touches["scheduled_at"]) < end]
    seen = {column: pd.to_datetime(known[column]) < end for column in ("sent_at", "opened_at", "clicked_at")}
    optional = {c: known[c] if c in known.columns else pd.Series(None, index=known.index, dtype=object)
                for c in OPTIONAL_TOUCH_COLUMNS + ATTRIBUTE_COLUMNS}
    status = optional["status"].astype(object)
    # Without a status column, a send is taken as delivered (the log records failures as unsent).
    delivered = seen["sent_at"] & (status.isna().to_numpy() | (status == "delivered").to_numpy())
    frame = pd.DataFrame(
        {
            "action_id": known["action_id"],
            "user_id": known["user_id"],
            "strategy_id": known["strategy_id"],
            "arm": known["arm"],
            "lifecycle_stage": known["lifecycle_stage"],
            "scheduled_at": pd.to_datetime(known["scheduled_at"]),
            "sent": seen["sent_at"],
            "delivered": delivered,
            "opened": seen["opened_at"],
            "clicked": seen["clicked_at"],
            "cost": known["cost"].fillna(0.0).astype(float),
            "channel": optional["channel"].astype(object).where(optional["channel"].notna(), None),
            "coupon_code": optional["coupon_code"].astype(object),
            "coupon_value": pd.to_numeric(optional["coupon_value"], errors="coerce"),
            **{c: optional[c].astype(object) for c in ATTRIBUTE_COLUMNS},
        }
    )
    journeys = (
        frame.sort_values(["action_id", "scheduled_at"], kind="stable")
        .groupby("action_id", sort=True, dropna=False)
        .agg(
            user_id=("user_id", "first"),
            strategy_id=("strategy_id", "first"),
            arm=("arm", "first"),
            lifecycle_stage=("lifecycle_stage", "first"),
            first_scheduled=("scheduled_at", "first"),
            sent=("sent", "any"),
            delivered=("delivered", "any"),
            opened=("opened", "any"),
            clicked=("clicked", "any"),
            cost=("cost", "sum"),
            channel=("channel", "last"),  # 'last' skips nulls: the deepest rung with a channel
            coupon_code=("coupon_code", "first"),
            coupon_value=("coupon_value", "max"),
            **{c: (c, "first") for c in ATTRIBUTE_COLUMNS},
        )
        .reset_index()
    )
    journeys["assignment_date"] = journeys.pop("first_scheduled").dt.date
    journeys["responded"] = journeys["opened"] | journeys["clicked"]
    journeys["step_variant"] = step_variant(journeys.pop("coupon_value"), journeys["arm"])
    journeys["channel"] = journeys["channel"].where(journeys["arm"] == "treatment", None)
    for column in ["channel", "coupon_code", *ATTRIBUTE_COLUMNS]:
        journeys[column] = journeys[column].astype(object).where(journeys[column].notna(), None)
    journeys["cost"] = journeys["cost"].astype(np.float64)
    return journeys
