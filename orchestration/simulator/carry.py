"""The state an open-loop history leaves behind for the closed loop: the pre-made campaigns' effects still running
(response boosts, coupons), each user's device changes, last active day and consent, the finance ledger, and where
the event, order and withdrawal numbering stands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from . import params as P
from .activity import NO_START
from .finance import Ledger, LedgerStart
from .population import Population

if TYPE_CHECKING:
    from .campaigns import Journeys
    from .events import EventColumns, WorldPaths

# One row per journey whose contacts change the world (simulator/loop/effects.py documents every column).
EFFECT_COLUMNS: dict[str, str] = {
    "journey_id": "object", "user": "int32", "strategy_id": "object", "arm": "object", "ghost": "bool",
    "start_day": "int32", "contacted": "bool", "response_day": "int32", "boost": "float32", "click_day": "int32",
    "coupon_start": "int32", "coupon_end": "int32", "coupon_cents": "int32", "coupon_code": "object",
    "coupon_redeemed_day": "int32", "harm_day": "int32",
}


def empty_effects() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in EFFECT_COLUMNS.items()})


@dataclass(frozen=True)
class HistoryEnd:
    """The world at the end of the open-loop history (the start of day `day`)."""

    day: int                     # first day of the closed loop
    effects: pd.DataFrame        # EFFECT_COLUMNS: pre-made campaign journeys whose effects reach day `day`
    device_changes: np.ndarray   # int16 per user
    last_active_day: np.ndarray  # int32 per user, -1 if never active
    consent: np.ndarray          # bool (users, 3) in force at the start of `day`
    next_event_id: int
    next_order_id: int
    next_withdrawal_id: int
    ledger: LedgerStart | None

    @classmethod
    def after(
        cls, pop: Population, journeys: list[Journeys], action_ids: list[pa.Array], codes: pa.Array,
        world: WorldPaths, events: EventColumns, ledger: Ledger | None, event_ids_used: int, *,
        boost: np.ndarray, boost_start: np.ndarray, coupon_start: np.ndarray, coupon_cents: np.ndarray,
        coupon_owner: np.ndarray,
    ) -> HistoryEnd:
        """Summarise a history whose per-user recall state (the latest response boost and coupon of each user)
        is given by the arrays simulate() kept."""
        day = world.active.shape[0]
        b = pop.behaviour
        ids = pa.concat_arrays(action_ids).to_numpy(zero_copy_only=False) if action_ids else np.array([], object)
        strategy = np.concatenate([np.asarray(P.STRATEGIES, object)[j.strategy] for j in journeys]) if journeys else ids
        campaign_day = np.concatenate([np.full(len(j), j.day, np.int32) for j in journeys]) if journeys else ids
        # Users still under a pre-made campaign's effect: a boost not yet faded or a coupon still valid.
        running = (boost > 0) & (boost_start > day - P.BOOST_DAYS)
        couponed = (coupon_owner >= 0) & (coupon_start + P.COUPON_VALID_DAYS > day)
        users = np.flatnonzero(running | couponed).astype(np.int32)
        owner = coupon_owner[users]
        journey = np.where(owner >= 0, owner, -1)
        # The journey of a running boost: the user's latest responding journey (the one simulate() recorded).
        latest = _latest_journey(journeys, pop)
        journey = np.where(journey >= 0, journey, latest[users])
        redeemed = _redeemed_day(world.coupon_journey, users, owner)
        code_array = codes.to_numpy(zero_copy_only=False) if len(codes) else np.array([], object)
        has_coupon = couponed[users]
        effects = pd.DataFrame({
            "journey_id": ids[journey] if len(ids) else np.array([], object),
            "user": users,
            "strategy_id": strategy[journey] if len(ids) else np.array([], object),
            "arm": "treatment",
            "ghost": False,
            "start_day": campaign_day[journey] if len(ids) else np.array([], np.int32),
            "contacted": True,
            "response_day": np.where(boost[users] > 0, boost_start[users], NO_START).astype(np.int32),
            "boost": boost[users].astype(np.float32),
            "click_day": np.full(len(users), NO_START, np.int32),
            "coupon_start": np.where(has_coupon, coupon_start[users], NO_START).astype(np.int32),
            "coupon_end": np.where(has_coupon, coupon_start[users] + P.COUPON_VALID_DAYS, NO_START).astype(np.int32),
            "coupon_cents": np.where(has_coupon, coupon_cents[users], 0).astype(np.int32),
            "coupon_code": np.where(has_coupon, code_array[np.maximum(owner, 0)] if len(code_array) else None, None),
            "coupon_redeemed_day": redeemed,
            "harm_day": np.full(len(users), NO_START, np.int32),
        }).astype(EFFECT_COLUMNS)
        active_days = np.where(world.active.any(axis=0), day - 1 - np.argmax(world.active[::-1], axis=0), -1)
        payments = [b.code(name) for name in {*b.payment_events, b.second_payment_event}]
        withdrawals = [b.code("withdraw")] if "withdraw" in b.event_names else []
        return cls(
            day=day, effects=effects,
            device_changes=np.bincount(events.user[events.code == b.code("device_change")],
                                       minlength=len(pop.base)).astype(np.int16),
            last_active_day=active_days.astype(np.int32),
            consent=pop.consent_on(day),
            next_event_id=event_ids_used + 1,
            next_order_id=int(np.isin(events.code, payments).sum()) + 1,
            next_withdrawal_id=int(np.isin(events.code, withdrawals).sum()) + 1,
            ledger=ledger.end if ledger is not None else None,
        )


def _latest_journey(journeys: list[Journeys], pop: Population) -> np.ndarray:
    """Per user, the global index of the latest treated journey that responded (-1 if none)."""
    latest = np.full(len(pop.base), -1, np.int64)
    offset = 0
    for j in journeys:
        hit = np.flatnonzero(j.treated & j.responds)
        latest[j.users[hit]] = offset + hit
        offset += len(j)
    return latest


def _redeemed_day(coupon_journey: np.ndarray, users: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Day each user's coupon (global journey index `owner`) was redeemed, NO_START if not (yet)."""
    cells = coupon_journey[:, users]
    hit = (cells == owner[None, :]) & (owner[None, :] >= 0)
    return np.where(hit.any(axis=0), np.argmax(hit, axis=0), NO_START).astype(np.int32)
