"""Journeys as known on a day (intent-to-treat): one row per journey, from the decisions when there are any (every
assigned journey, treatment or control, sent or not) and from the delivery log for journeys it alone knows, each
with the funnel the log reported by the end of that day (point in time): sends, deliveries, opens, clicks, cost,
the coupon it handed out, the channel of its first step and its A/B variant."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from orchestration.measurement.outcomes import DESIGN_COLUMNS

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
FUNNEL = ["sent", "delivered", "opened", "clicked", "cost"]
NO_BENEFIT = "no_coupon"


def step_variant(coupon_value: pd.Series, arm: pd.Series) -> pd.Series:
    """The benefit variant a treatment journey was offered: 'coupon_<value>' or 'no_coupon'; null for control."""
    value = pd.to_numeric(coupon_value, errors="coerce").to_numpy(dtype=float)
    labels = [NO_BENEFIT if np.isnan(v) else f"coupon_{v:g}" for v in value]
    return pd.Series(np.where(arm.to_numpy() == "treatment", labels, None), index=coupon_value.index, dtype=object)


def is_decided(action_ids: pd.Series, decisions: pd.DataFrame) -> np.ndarray:
    """Whether each action_id is one of the decisions' journeys (the others are known only to the delivery log). A
    hash lookup through an index: Series.isin on Arrow strings converts every value to a Python object first."""
    return pd.Index(decisions["action_id"].dropna().unique()).get_indexer(action_ids) >= 0


def _known_rows(touches: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Touch rows scheduled by the end of `as_of`, with what was known of them then."""
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
    return pd.DataFrame({
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
    })


# How a journey's rows fold into one: the funnel over all of them, and the coupon of the first step handing one out.
FUNNEL_FOLD = {"sent": ("sent", "any"), "delivered": ("delivered", "any"), "opened": ("opened", "any"),
               "clicked": ("clicked", "any"), "cost": ("cost", "sum"), "coupon_code": ("coupon_code", "first")}
# ... and, for journeys only the log knows, their identity from the first row ('first' skips nulls: the channel is
# the first step's with one).
IDENTITY_FOLD = {"user_id": ("user_id", "first"), "strategy_id": ("strategy_id", "first"), "arm": ("arm", "first"),
                 "lifecycle_stage": ("lifecycle_stage", "first"), "first_scheduled": ("scheduled_at", "first"),
                 "channel": ("channel", "first"), "coupon_value": ("coupon_value", "max"),
                 **{c: (c, "first") for c in ATTRIBUTE_COLUMNS}}


def _fold(rows: pd.DataFrame, identity: bool = True) -> pd.DataFrame:
    """One row per action_id: the funnel over its rows and, with `identity`, who and what it was (IDENTITY_FOLD)."""
    journeys = (
        rows.sort_values("scheduled_at", kind="stable")  # 'first': each journey's first row by schedule
        .groupby("action_id", sort=True, dropna=False)
        .agg(**(IDENTITY_FOLD if identity else {}), **FUNNEL_FOLD)
        .reset_index()
    )
    if identity:
        journeys["assignment_date"] = journeys.pop("first_scheduled").dt.normalize()
    return journeys


def journeys_as_of(touches: pd.DataFrame, as_of: date, decisions: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per journey assigned by the end of `as_of` (UTC business days).

    decisions: one row per decided journey (DECISION_COLUMNS); each gets its funnel from the touches of the same
    action_id (none: never sent, all false). Touches of other action_ids are journeys only the delivery log knows
    (their first row is the assignment). A send, open or click after `as_of` is not known yet, and neither is the
    cost of a later step. `channel` is the channel of the journey's first step (null for control). Rows: the decided
    journeys by action_id, then those only the delivery log knows by action_id.
    """
    rows = _known_rows(touches, as_of)
    decided = decisions if decisions is not None else pd.DataFrame(columns=DECISION_COLUMNS)
    in_decisions = is_decided(rows["action_id"], decided)
    logged = _fold(rows.loc[~in_decisions])
    logged["step_variant"] = step_variant(logged.pop("coupon_value"), logged["arm"])
    logged["holdout"], logged["first_journey"], logged["source"] = None, None, "delivery_log"
    logged[DESIGN_COLUMNS] = np.nan  # the log does not know the design: the check uses the library's

    funnel = _fold(rows.loc[in_decisions], identity=False) if in_decisions.any() else \
        pd.DataFrame(columns=["action_id", *FUNNEL, "coupon_code"])
    decided = decided.reindex(columns=list(dict.fromkeys([*decided.columns, *DECISION_COLUMNS])))
    if not decided["action_id"].is_monotonic_increasing:  # the reader sorts them: once per run, not once per day
        decided = decided.sort_values("action_id", kind="stable")
    chosen = decided.loc[pd.to_datetime(decided["assignment_date"]).dt.date <= as_of, DECISION_COLUMNS]
    from_decisions = chosen.merge(funnel, on="action_id", how="left").assign(source="decisions")
    for column in ("sent", "delivered", "opened", "clicked"):
        from_decisions[column] = from_decisions[column].astype("boolean").fillna(False).astype(bool)
    from_decisions["cost"] = from_decisions["cost"].astype(float).fillna(0.0)

    # A fixed order (so are the sums over journeys): the decided by action_id, then those only the log knows, likewise.
    journeys = pd.concat([frame for frame in (from_decisions, logged) if len(frame)], ignore_index=True) \
        if len(from_decisions) or len(logged) else logged
    journeys["assignment_date"] = pd.to_datetime(journeys["assignment_date"]).dt.date
    journeys["responded"] = journeys["opened"].astype(bool) | journeys["clicked"].astype(bool)
    journeys["channel"] = journeys["channel"].where(journeys["arm"] == "treatment", None)
    for column in ["channel", "coupon_code", "holdout", "step_variant", *ATTRIBUTE_COLUMNS]:
        journeys[column] = journeys[column].astype(object).where(journeys[column].notna(), None)
    journeys["first_journey"] = journeys["first_journey"].astype("boolean")
    journeys[DESIGN_COLUMNS] = journeys[DESIGN_COLUMNS].apply(pd.to_numeric, errors="coerce").astype(float)
    journeys["cost"] = journeys["cost"].astype(np.float64)
    for column in ("sent", "delivered", "opened", "clicked"):
        journeys[column] = journeys[column].astype(bool)
    return journeys
