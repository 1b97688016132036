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


def _as_id_array(ids: Iterable[str] | pd.Series | None) -> np.ndarray:
    if ids is None:
        return np.array([], dtype=object)
    values = ids.dropna() if isinstance(ids, pd.Series) else [i for i in ids if i is not None]
    return np.asarray(list(values), dtype=object)


def consent_for_channel(users: pd.DataFrame, user_ids: pd.Series, channels: pd.Series) -> np.ndarray:
    """Whether each user opted in to the given channel; unknown users or missing flags mean no."""
    latest = users.loc[:, USER_COLUMNS].drop_duplicates("user_id", keep="last")
    joined = pd.DataFrame({"user_id": user_ids.to_numpy()}).merge(latest, on="user_id", how="left", sort=False)
    flags = joined[USER_COLUMNS[1:]].fillna(False).astype(bool).to_numpy()
    codes = channels.map({c: i for i, c in enumerate(("push", "sms", "call"))})
    known = codes.notna().to_numpy()
    picked = np.zeros(len(user_ids), dtype=bool)
    rows = np.flatnonzero(known)
    picked[rows] = flags[rows, codes.to_numpy()[known].astype(np.intp)]
    return picked


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

    cooling = _as_id_array(recent_action_user_ids)
    eligible = tiers.loc[~tiers["user_id"].isin(cooling), TIER_COLUMNS].copy()
    eligible["strategy_id"] = match_strategies(eligible, library)
    planned = eligible.loc[eligible["strategy_id"].notna()].reset_index(drop=True)

    # Arms: one hash pass per strategy (the salt includes the strategy id).
    # action_id: a hash of the user under a key made of the day and the strategy.
    arms = np.full(len(planned), TREATMENT, dtype=object)
    action_ids = np.empty(len(planned), dtype="<U16")
    strategy_ids = planned["strategy_id"].to_numpy(dtype=object)
    for strategy in library.strategies:
        rows = np.flatnonzero(strategy_ids == strategy.id)
        if len(rows):
            user_ids = planned["user_id"].iloc[rows]
            arms[rows] = assign_arm(user_ids, strategy.id, strategy.holdout_share, salt).to_numpy()
            action_ids[rows] = hex16(stable_hash(user_ids, hash_key("action", action_date.isoformat(), strategy.id)))
    planned["arm"] = arms
    planned["action_id"] = np.char.add("a_", action_ids).astype(object)

    first_steps = pd.DataFrame(
        [
            {"strategy_id": s.id, "channel": s.steps[0].channel, "template": s.steps[0].template,
             "benefit": s.steps[0].benefit, "delay_hours": float(s.steps[0].delay_hours)}
            for s in library.strategies
        ]
    ).astype({"benefit": object})
    planned = planned.merge(first_steps, on="strategy_id", how="left", validate="many_to_one")
    planned["step"] = 1
    start = datetime.combine(action_date, time(SEND_HOUR_UTC), tzinfo=timezone.utc)
    planned["scheduled_at"] = pd.Timestamp(start) + pd.to_timedelta(planned["delay_hours"], unit="h")
    planned["action_date"] = action_date

    has_consent = consent_for_channel(users, planned["user_id"], planned["channel"])

    planned["status"] = np.where(
        planned["arm"] == CONTROL, HOLDOUT, np.where(has_consent, QUEUED, SUPPRESSED_NO_CONSENT)
    )
    return planned[ACTION_COLUMNS].sort_values("user_id", kind="stable").reset_index(drop=True)


def outbox(actions: pd.DataFrame) -> pd.DataFrame:
    """The actions due for sending: treatment rows with status 'queued', in OUTBOX_COLUMNS."""
    due = actions[(actions["status"] == QUEUED) & (actions["arm"] == TREATMENT)]
    return due[OUTBOX_COLUMNS].reset_index(drop=True)


def outbox_contract_frame(actions: pd.DataFrame, users: pd.DataFrame) -> pd.DataFrame:
    """The frame the recall_outbox suite validates: the exported rows (outbox(actions)) with their
    arm and status, and consent re-read from `users` for each row's channel (has_consent)."""
    exported = actions.loc[actions["action_id"].isin(outbox(actions)["action_id"])]
    frame = exported[["action_id", "user_id", "action_date", "arm", "channel", "status"]].reset_index(drop=True)
    frame["has_consent"] = consent_for_channel(users, frame["user_id"], frame["channel"])
    return frame
