"""The company's past recall campaigns: at-risk targeting on observable behaviour, randomized holdout, and the
push -> SMS -> call ladder with deliveries, opens, clicks, costs and coupons (resolved for both arms)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import params as P
from .activity import NO_START
from .population import US_PER_DAY, Population

US_PER_HOUR = 3_600_000_000
US_PER_SECOND = 1_000_000
STEP_MASK = np.array([[k in P.STRATEGY_CHANNELS[s] for k in range(3)] for s in P.STRATEGIES])
OPEN_DELAY_MEAN_US = np.array([2 * US_PER_HOUR, 1 * US_PER_HOUR, 0])
MAX_OPEN_DELAY_US = 20 * US_PER_HOUR


@dataclass(frozen=True)
class Observed:
    """What the company sees of the world before a campaign day, (days, users) arrays up to that day."""

    active: np.ndarray
    n_orders: np.ndarray
    revenue_cents: np.ndarray


@dataclass(frozen=True)
class Journeys:
    """Journeys assigned on one campaign day; the ladder is resolved for every journey, whatever its arm,
    so that the potential outcome under treatment is known for control users too."""

    day: int
    users: np.ndarray         # int32 user index
    strategy: np.ndarray      # int8 index into params.STRATEGIES
    treated: np.ndarray       # bool
    coupon_cents: np.ndarray  # int32, 0 when the strategy has no coupon
    attempted: np.ndarray     # bool (J, 3): the step would be sent (channel in ladder, consent, no response yet)
    scheduled_us: np.ndarray  # int64 (J, 3)
    delivered: np.ndarray     # bool (J, 3)
    sent_us: np.ndarray       # int64 (J, 3)
    opened: np.ndarray        # bool (J, 3)
    opened_us: np.ndarray     # int64 (J, 3)
    clicked: np.ndarray       # bool (J, 3)
    clicked_us: np.ndarray    # int64 (J, 3)
    responds: np.ndarray      # bool: would respond if treated
    response_day: np.ndarray  # int32 day index of the response, NO_START if none
    boost: np.ndarray         # float32 base engagement x amplitude, 0 if no response

    def __len__(self) -> int:
        return len(self.users)


def campaign_days(n_days: int, every: int) -> list[int]:
    """Campaign days: the first after three weeks, then every `every` days."""
    return list(range(P.FIRST_CAMPAIGN_DAY, n_days, every))


def select_targets(day: int, pop: Population, consent: np.ndarray, seen: Observed, last_assigned: np.ndarray) -> tuple[
    np.ndarray, np.ndarray
]:
    """The company's at-risk rule: silent for the vertical's range of days (ecommerce 5..45) or a strong drop in
    active days; strategy by value and recency."""
    b = pop.behaviour
    active = seen.active
    ever = active.any(axis=0)
    last_active = day - 1 - np.argmax(active[::-1], axis=0)
    silence = np.where(ever, day - last_active, 10**6)
    recent = active[max(0, day - 14):].sum(axis=0)
    prior = active[max(0, day - 42):max(0, day - 14)].sum(axis=0)
    dropped = (prior >= 6) & (recent * 4 <= prior)
    low, high = b.silence_targeted
    at_risk = ever & (((silence >= low) & (silence <= high)) | dropped)
    eligible = (pop.signup_day <= day - 14) & consent[:, 0] & (day - last_assigned >= P.REASSIGN_GAP_DAYS)
    users = np.flatnonzero(at_risk & eligible).astype(np.int32)

    window = slice(max(0, day - 90), day)
    spend = seen.revenue_cents[window, :][:, users].sum(axis=0)
    order_days = (seen.n_orders[window, :][:, users] > 0)
    n_order_days = order_days.sum(axis=0)
    ordered = seen.n_orders[:, users] > 0
    since_order = np.where(ordered.any(axis=0), day - (day - 1 - np.argmax(ordered[::-1], axis=0)), 10**6)
    vip = (spend >= b.vip_spend_cents) & (n_order_days >= 2)
    strategy = np.where(vip, 2, np.where(since_order >= b.winback_after_days, 0, 1)).astype(np.int8)
    return users, strategy


def run_campaign(
    day: int, users: np.ndarray, strategy: np.ndarray, pop: Population, consent: np.ndarray,
    holdout_share: float, epoch_day: int, rng: np.random.Generator,
) -> Journeys:
    """Randomize arms and resolve the ladder for every journey from arm-independent draws."""
    j = len(users)
    treated = rng.random(j) >= holdout_share
    u_deliver, u_open, u_click = rng.random((j, 3)), rng.random((j, 3)), rng.random((j, 3))
    u_latency, u_click_delay = rng.random((j, 3)), rng.random((j, 3))
    open_delay = rng.exponential(1.0, (j, 3))
    jitter = (rng.random(j) * US_PER_HOUR).astype(np.int64)
    coupon_value = rng.choice(pop.behaviour.coupon_values, size=j)

    push_at = (epoch_day + day) * US_PER_DAY + P.PUSH_HOUR_UTC * US_PER_HOUR + jitter
    scheduled = push_at[:, None] + np.arange(3, dtype=np.int64)[None, :] * (24 * US_PER_HOUR)
    has_step = STEP_MASK[strategy] & consent[users]
    delivered_ok = u_deliver < P.DELIVERY_RATE[None, :]
    sent = scheduled + (1 + u_latency * 29).astype(np.int64) * US_PER_SECOND
    delay = np.minimum((open_delay * OPEN_DELAY_MEAN_US[None, :]).astype(np.int64), MAX_OPEN_DELAY_US)
    delay[:, 2] = (20 + u_latency[:, 2] * 70).astype(np.int64) * US_PER_SECOND  # a call is answered at once
    opened_at = sent + delay
    clicked_at = opened_at + (5 + u_click_delay * 115).astype(np.int64) * US_PER_SECOND

    attempted = np.zeros((j, 3), dtype=bool)
    responded = np.zeros(j, dtype=bool)
    for k in range(3):  # the ladder stops at the first open
        attempted[:, k] = has_step[:, k] & ~responded
        responded |= attempted[:, k] & delivered_ok[:, k] & (u_open[:, k] < pop.open_propensity[users, k])
    delivered = attempted & delivered_ok
    opened = delivered & (u_open < pop.open_propensity[users])
    clicked = opened & (u_click < P.CLICK_GIVEN_OPEN[None, :])

    channel = np.argmax(opened, axis=1)
    rows = np.arange(j)
    response_us = opened_at[rows, channel]
    response_day = np.where(responded, response_us // US_PER_DAY - epoch_day, NO_START).astype(np.int32)
    amplitude = P.BOOST_AMPLITUDE[pop.segment[users], channel] * np.where(
        clicked[rows, channel], P.CLICK_BOOST_FACTOR, np.float32(1.0)
    )
    boost = np.where(responded, pop.base[users] * amplitude, np.float32(0.0)).astype(np.float32)
    coupon_cents = np.where(strategy == 0, coupon_value * 100, 0).astype(np.int32)
    return Journeys(
        day=day, users=users, strategy=strategy, treated=treated, coupon_cents=coupon_cents,
        attempted=attempted, scheduled_us=scheduled, delivered=delivered, sent_us=sent,
        opened=opened, opened_us=opened_at, clicked=clicked, clicked_us=clicked_at,
        responds=responded, response_day=response_day, boost=boost,
    )
