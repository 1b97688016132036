"""The 48-hour golden window: journeys folded from the outbox history (recall_actions), the next
rung of each open ladder when it falls due, and the stop at the first response. A journey runs
push at start, SMS 24 h later, call at 48 h (per the strategy's ladder); any response between the
start and a step's due time cancels that step and ends the journey."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from orchestration.ids import is_in, looked_up
from orchestration.recall.library import StrategyLibrary

TREATMENT, CONTROL = "treatment", "control"
RESPONDED = "responded"
# Event categories that count as a response (besides key actions and opens/clicks in the delivery log).
RESPONSE_CATEGORIES = ("session", "recall_response")
# Carried from a journey's first row to every later step (what was known when it started).
DECISION_ATTRIBUTES = ["treatment_key", "basis", "decision_reason", "expected_profit", "uplift_revenue", "uplift_wake_up",
                       "uplift_model_version"]
# The design the journey was assigned under (its strategy's holdout share and the global holdout share then in
# force): the sample-ratio check tests each journey against these, not against a library changed since.
DESIGN_ATTRIBUTES = ["design_holdout_share", "design_global_holdout_share"]
JOURNEY_ATTRIBUTES = [
    "journey_id", "user_id", "strategy_id", "arm", "holdout", "journey_started_at", "priority", "expected_value",
    "avg_order_value", "lifecycle_stage", "risk_level", "value_tier", "segment", "special_tier", "risk_score",
    # What decided the journey (orchestration/uplift/decisions.py), carried by every step of it.
    *DECISION_ATTRIBUTES, *DESIGN_ATTRIBUTES,
]


def day_start(day: date) -> pd.Timestamp:
    return pd.Timestamp(day, tz="UTC")


def history_days(library: StrategyLibrary) -> int:
    """How many past days of the outbox history a daily run needs: journeys still running or
    cooling down, and the longest frequency-cap window."""
    return max(library.cooldown_days + library.longest_journey_days, library.guardrails.longest_cap_days) + 2


def journey_state(history: pd.DataFrame, library: StrategyLibrary, day: date) -> pd.DataFrame:
    """One row per journey in `history` (rows of recall_actions before `day`): its first row's
    attributes, the last rung reached, whether it is still open and the last day it occupied."""
    rows = history.loc[history["journey_id"].notna()]
    if rows.empty:
        return pd.DataFrame(columns=JOURNEY_ATTRIBUTES + ["last_step", "open", "end_day"])
    # Group with numpy over one factorization: pandas' string groupby is the slow part at 1M journeys.
    codes, _ = pd.factorize(rows["journey_id"])
    steps = pd.to_numeric(rows["step"]).to_numpy(dtype=np.int64)
    order = np.lexsort((steps, codes))
    starts = np.flatnonzero(np.r_[True, codes[order][1:] != codes[order][:-1]])
    ends = np.r_[starts[1:], len(order)] - 1
    first = rows.iloc[order[starts]]
    # A history written before the decision columns existed carries them as nulls.
    state = first.reindex(columns=JOURNEY_ATTRIBUTES).reset_index(drop=True)
    state["last_step"] = steps[order][ends]
    days = pd.to_datetime(rows["action_date"]).to_numpy()[order]
    state["last_day"] = pd.to_datetime(np.maximum.reduceat(days, starts))
    state["stopped"] = np.logical_or.reduceat((rows["reason"] == RESPONDED).to_numpy(dtype=bool)[order], starts)
    # A strategy no longer in the library: no ladder, no span.
    known = {s.id: s for s in library.strategies}
    ladder_length = looked_up(state["strategy_id"], {k: len(s.steps) for k, s in known.items()}, 0.0)
    span_days = pd.Series(looked_up(state["strategy_id"], {k: s.span_hours // 24 for k, s in known.items()}, 0.0),
                          index=state.index)
    start_day = pd.to_datetime(state["journey_started_at"], utc=True).dt.tz_convert(None).dt.normalize()
    is_treatment = state["arm"] == TREATMENT
    state["open"] = is_treatment & ~state["stopped"] & (state["last_step"] < ladder_length)
    # Control journeys occupy the user for the ladder's span, like the treatment they stand in for.
    control_end = start_day + pd.to_timedelta(span_days - 1, unit="D")
    state["end_day"] = state["last_day"].where(is_treatment, control_end)
    state.loc[~is_treatment, "open"] = pd.to_datetime(state.loc[~is_treatment, "end_day"]) >= pd.Timestamp(day)
    return state.drop(columns=["last_day", "stopped"])


def busy_users(state: pd.DataFrame, library: StrategyLibrary, day: date) -> np.ndarray:
    """Users who may not start a journey on `day`: one is open, or one ended within the cool-down."""
    if state.empty:
        return np.array([], dtype=object)
    cooling = pd.to_datetime(state["end_day"]) + pd.Timedelta(days=library.cooldown_days) >= pd.Timestamp(day)
    return state.loc[state["open"] | cooling, "user_id"].unique()


def is_busy(user_ids: pd.Series, busy: np.ndarray) -> np.ndarray:
    """Which of `user_ids` are in `busy` (busy_users)."""
    return is_in(user_ids, busy)


def due_steps(state: pd.DataFrame, library: StrategyLibrary, day: date, responses: pd.DataFrame,
              known_until: pd.Timestamp | None = None) -> pd.DataFrame:
    """The next rung of every open treatment journey that falls due by the end of the send day
    (`day` + 1), with status 'cancelled' and reason 'responded' when the user responded between the
    journey's start and the step's due time (as far as known at `known_until`, default end of `day`).

    responses: user_id, responded_at (app opens, clicks, key actions; any order).
    """
    known_until = known_until if known_until is not None else day_start(day + timedelta(days=1))
    send_end = day_start(day + timedelta(days=2))
    # Journeys of a strategy removed from the library are not open (journey_state): they just end.
    live = state.loc[state["open"] & (state["arm"] == TREATMENT)].copy()
    live["step"] = live["last_step"].astype(int) + 1
    delays = {(s.id, i + 1): s.steps[i].delay_hours for s in library.strategies for i in range(len(s.steps))}
    hours = [delays.get(key, 0) for key in zip(live["strategy_id"], live["step"])]
    started = pd.to_datetime(live["journey_started_at"], utc=True)
    live["due_at"] = started + pd.to_timedelta(hours, unit="h")
    live = live.loc[live["due_at"] < send_end].copy()
    live["status"], live["reason"] = None, None
    if not responses.empty and not live.empty:
        pairs = live[["journey_id", "user_id", "journey_started_at", "due_at"]].merge(
            responses[["user_id", "responded_at"]], on="user_id")
        at = pd.to_datetime(pairs["responded_at"], utc=True)
        hit = (at >= pd.to_datetime(pairs["journey_started_at"], utc=True)) & (at < pairs["due_at"]) & (at < known_until)
        stopped = is_in(live["journey_id"], pairs.loc[hit, "journey_id"]) & live["status"].isna().to_numpy()
        live.loc[stopped, ["status", "reason"]] = ("cancelled", RESPONDED)
    return live.drop(columns=["open", "end_day", "last_step"]).reset_index(drop=True)


def awaiting_response(state: pd.DataFrame) -> pd.DataFrame:
    """Open treatment journeys (journey_id, user_id, journey_started_at): whose responses to look up."""
    live = state.loc[state["open"].astype(bool) & (state["arm"] == TREATMENT)]
    return live[["journey_id", "user_id", "journey_started_at"]].reset_index(drop=True)
