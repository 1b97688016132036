"""Plan one day's recall actions: match each tiered user to the first strategy by priority, skip
users whose journey is still in its cool-down, split treatment/control by hash, check consent for
the first step's channel, and derive the outbox (queued treatment rows) for the delivery system."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timezone

import numpy as np
import pandas as pd

from orchestration.recall.assignment import CONTROL, TREATMENT, assign_arm, hash_key, hex16, stable_hash
from orchestration.recall.library import Strategy, StrategyLibrary

SEND_HOUR_UTC = 10

QUEUED = "queued"
HOLDOUT = "holdout"
SUPPRESSED_NO_CONSENT = "suppressed_no_consent"

ACTION_COLUMNS: list[str] = [
    "action_id",
    "action_date",
    "user_id",
    "strategy_id",
    "arm",
    "step",
    "channel",
    "template",
    "benefit",
    "scheduled_at",
    "lifecycle_stage",
    "risk_level",
    "value_tier",
    "risk_score",
    "status",
]
OUTBOX_COLUMNS: list[str] = [
    "action_id",
    "action_date",
    "user_id",
    "strategy_id",
    "step",
    "channel",
    "template",
    "benefit",
    "scheduled_at",
]
TIER_COLUMNS = ["user_id", "lifecycle_stage", "risk_level", "value_tier", "is_high_value_dormant", "risk_score"]
USER_COLUMNS = ["user_id", "push_opt_in", "sms_opt_in", "call_opt_in"]


def _require(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks required columns: {', '.join(missing)}")


def match_mask(tiers: pd.DataFrame, strategy: Strategy) -> pd.Series:
    """Boolean mask of the tier rows a strategy's match targets (empty list / null = any)."""
    rule = strategy.match
    mask = pd.Series(True, index=tiers.index)
    for column, allowed in (
        ("lifecycle_stage", rule.lifecycle_stage),
        ("risk_level", rule.risk_level),
        ("value_tier", rule.value_tier),
    ):
        if allowed:
            mask &= tiers[column].isin(allowed)
    if rule.high_value_dormant is not None:
        mask &= tiers["is_high_value_dormant"].fillna(False).astype(bool) == rule.high_value_dormant
    return mask


def match_strategies(tiers: pd.DataFrame, library: StrategyLibrary) -> pd.Series:
    """Strategy id per tier row: the first match in priority order, or NaN for no match."""
    chosen = pd.Series(np.nan, index=tiers.index, dtype=object)
    for strategy in library.ordered():
        free = chosen.isna()
        chosen[free & match_mask(tiers, strategy)] = strategy.id
    return chosen


def _as_id_set(ids: Iterable[str] | pd.Series | None) -> pd.Index:
    if ids is None:
        return pd.Index([], dtype=object)
    return pd.Index(pd.Series(list(ids) if not isinstance(ids, pd.Series) else ids, dtype=object).dropna().unique())


def plan_recall_actions(
    tiers: pd.DataFrame,
    users: pd.DataFrame,
    library: StrategyLibrary,
    action_date: date,
    recent_action_user_ids: set[str] | pd.Series,
    salt: str = "churn-recall",
) -> pd.DataFrame:
    """One row per user assigned on action_date (columns ACTION_COLUMNS), sorted by user_id.

    tiers: user_risk_tiers rows of one tier_date; users: stg_users with per-channel consent;
    recent_action_user_ids: users whose journey is still in its cool-down (they get no row).
    """
    _require(tiers, TIER_COLUMNS, "tiers")
    _require(users, USER_COLUMNS, "users")
    if "tier_date" in tiers.columns and tiers["tier_date"].nunique() > 1:
        raise ValueError("tiers must hold a single tier_date")
    if tiers["user_id"].duplicated().any():
        dupes = tiers.loc[tiers["user_id"].duplicated(), "user_id"].head(5).tolist()
        raise ValueError(f"tiers has duplicate user_id rows (e.g. {dupes})")

    cooling = _as_id_set(recent_action_user_ids)
    eligible = tiers.loc[~tiers["user_id"].isin(cooling), TIER_COLUMNS].copy()
    eligible["strategy_id"] = match_strategies(eligible, library)
    planned = eligible.loc[eligible["strategy_id"].notna()].reset_index(drop=True)

    planned["arm"] = TREATMENT
    first_steps = {s.id: s.steps[0] for s in library.strategies}
    for strategy_id, rows in planned.groupby("strategy_id", sort=True).groups.items():
        strategy = library.get(strategy_id)
        planned.loc[rows, "arm"] = assign_arm(planned.loc[rows, "user_id"], strategy.id, strategy.holdout_share, salt)

    planned["step"] = 1
    planned["channel"] = planned["strategy_id"].map({k: s.channel for k, s in first_steps.items()})
    planned["template"] = planned["strategy_id"].map({k: s.template for k, s in first_steps.items()})
    planned["benefit"] = planned["strategy_id"].map({k: s.benefit for k, s in first_steps.items()}).astype(object)
    start = datetime.combine(action_date, time(SEND_HOUR_UTC), tzinfo=timezone.utc)
    delays = planned["strategy_id"].map({k: s.delay_hours for k, s in first_steps.items()}).astype(float)
    planned["scheduled_at"] = pd.Timestamp(start) + pd.to_timedelta(delays, unit="h")
    planned["action_date"] = action_date

    # Consent for the first step's channel; unknown users or missing flags mean no consent.
    consent = users.drop_duplicates("user_id", keep="last").set_index("user_id")[USER_COLUMNS[1:]]
    consent = consent.reindex(planned["user_id"]).fillna(False).astype(bool).reset_index(drop=True)
    channel_codes = planned["channel"].map({c: i for i, c in enumerate(("push", "sms", "call"))}).to_numpy()
    has_consent = consent.to_numpy()[np.arange(len(planned)), channel_codes] if len(planned) else np.array([], bool)

    planned["status"] = np.where(
        planned["arm"] == CONTROL, HOLDOUT, np.where(has_consent, QUEUED, SUPPRESSED_NO_CONSENT)
    )
    ids = planned["strategy_id"].astype(str) + "|" + planned["user_id"].astype(str)
    planned["action_id"] = "a_" + pd.Series(hex16(stable_hash(ids, hash_key("action", action_date.isoformat()))))
    planned["step"] = planned["step"].astype("int64")
    return planned[ACTION_COLUMNS].sort_values("user_id", kind="stable").reset_index(drop=True)


def outbox(actions: pd.DataFrame) -> pd.DataFrame:
    """The actions due for sending: treatment rows with status 'queued', in OUTBOX_COLUMNS."""
    due = actions[(actions["status"] == QUEUED) & (actions["arm"] == TREATMENT)]
    return due[OUTBOX_COLUMNS].reset_index(drop=True)

