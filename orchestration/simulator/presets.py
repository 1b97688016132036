"""Behaviour presets of the simulated verticals (ecommerce, game, finance): event vocabulary, behaviour mix per
segment, activity and payment rates, decay speed and the simulated company's targeting rule.

The ecommerce preset is built from the constants in `params` unchanged, so its worlds stay bit for bit the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import params as P


@dataclass(frozen=True)
class Withdrawals:
    """Finance only: routine withdrawals on active days, and the large withdrawal that often precedes churn."""

    daily_rate: float                     # chance of a routine withdrawal on an active day
    routine_share: tuple[float, float]    # share of assets taken by a routine withdrawal (uniform range)
    big_probability: float                # share of decaying users who take most of their money out first
    big_share: tuple[float, float]        # share of assets taken by the large withdrawal
    big_delay_days: tuple[float, float]   # days after decay start before the large withdrawal (uniform range)


@dataclass(frozen=True, eq=False)
class VerticalBehaviour:
    """Everything that differs between simulated verticals; shared mechanics (recall ladder, consent) stay in params."""

    name: str
    event_names: tuple[str, ...]          # codes index this tuple
    session_event: str
    core_events: tuple[str, ...]
    other_events: tuple[str, ...]
    core_share: np.ndarray                # (3,) share of in-session events that use a core feature, per segment
    core_mix: np.ndarray                  # (3, len(core_events))
    other_mix: np.ndarray                 # (3, len(other_events))
    payment_events: tuple[str, ...]       # first payment of a day: payment_events[0], or [1] with first_alt_share
    second_payment_event: str
    first_alt_share: np.ndarray           # (3,) chance per segment that the first payment is payment_events[1]
    key_action_is_session: bool           # a login counts as key action (game)
    decay_share: float
    decay_tau_days: tuple[float, float]
    weekend_factor: float
    active_half: np.float32
    order_rate: np.ndarray                # float32 (3,)
    order_half: np.float32
    second_order: np.float32
    order_cap: np.float32
    amount_mean: np.ndarray               # (3,) currency units
    amount_sigma: float
    price_points: tuple[float, ...]       # amounts snap to these (empty: free amounts)
    organic_coupon: np.ndarray            # (3,) share of payments made with a platform coupon
    organic_codes: tuple[str, ...]
    coupon_lift: np.ndarray               # float32 (3,) relative payment-probability lift of a recall coupon
    coupon_values: np.ndarray             # recall coupon values (currency units)
    coupon_discounts: bool                # the coupon reduces the paid amount (a bonus coupon does not)
    session_rate: float
    max_sessions: int
    depth_base: float
    depth_slope: float
    event_gap_seconds: float
    silence_targeted: tuple[int, int]     # the company's campaigns target users silent this many days (inclusive)
    winback_after_days: int               # no payment for this long: the coupon strategy
    vip_spend_cents: int                  # 90-day spend of a VIP (callback strategy)
    withdrawals: Withdrawals | None = None

    def code(self, name: str) -> int:
        return self.event_names.index(name)


ECOMMERCE = VerticalBehaviour(
    name="ecommerce", event_names=P.EVENT_NAMES + (P.RECALL_CLICK,), session_event="app_open",
    core_events=P.CORE_EVENTS, other_events=P.OTHER_EVENTS,
    core_share=P.CORE_SHARE, core_mix=P.CORE_MIX, other_mix=P.OTHER_MIX,
    payment_events=("order_paid",), second_payment_event="order_paid", first_alt_share=np.zeros(3),
    key_action_is_session=False,
    decay_share=P.DECAY_SHARE, decay_tau_days=P.DECAY_TAU_DAYS, weekend_factor=P.WEEKEND_FACTOR,
    active_half=P.ACTIVE_HALF, order_rate=P.ORDER_RATE, order_half=P.ORDER_HALF, second_order=P.SECOND_ORDER,
    order_cap=P.ORDER_CAP, amount_mean=P.AMOUNT_MEAN, amount_sigma=P.AMOUNT_SIGMA, price_points=(),
    organic_coupon=P.ORGANIC_COUPON, organic_codes=P.ORGANIC_CODES, coupon_lift=P.COUPON_LIFT,
    coupon_values=P.COUPON_VALUES, coupon_discounts=True,
    session_rate=P.SESSION_RATE, max_sessions=P.MAX_SESSIONS, depth_base=P.DEPTH_BASE, depth_slope=P.DEPTH_SLOPE,
    event_gap_seconds=P.EVENT_GAP_SECONDS,
    silence_targeted=(5, 45), winback_after_days=21, vip_spend_cents=30_000,
)

# Players log in most days, play matches, pay at fixed price points, and drop within days to a few weeks.
GAME = VerticalBehaviour(
    name="game",
    event_names=("login", "match_play", "level_up", "iap_purchase", "product_view", "share", "comment", "follow",
                 "coupon_claim", "device_change", P.RECALL_CLICK),
    session_event="login",
    core_events=("match_play", "level_up"),
    other_events=("product_view", "share", "comment", "follow", "coupon_claim"),
    core_share=np.array([0.50, 0.78, 0.42]),
    core_mix=np.array([[0.86, 0.14], [0.80, 0.20], [0.88, 0.12]]),
    other_mix=np.array([
        [0.55, 0.04, 0.03, 0.03, 0.35],
        [0.80, 0.07, 0.07, 0.04, 0.02],
        [0.30, 0.25, 0.25, 0.17, 0.03],
    ]),
    payment_events=("iap_purchase",), second_payment_event="iap_purchase", first_alt_share=np.zeros(3),
    key_action_is_session=True,
    decay_share=0.45, decay_tau_days=(1.5, 6.0), weekend_factor=1.25,
    active_half=np.float32(0.35), order_rate=np.array([0.07, 0.05, 0.05], dtype=np.float32),
    order_half=np.float32(1.0), second_order=np.float32(0.2), order_cap=np.float32(0.9),
    amount_mean=np.array([25.0, 45.0, 35.0]), amount_sigma=1.0,
    price_points=(6.0, 12.0, 30.0, 68.0, 128.0, 328.0, 648.0),
    organic_coupon=np.array([0.35, 0.05, 0.10]), organic_codes=("GEMSALE", "WEEKPACK", "FIRSTPAY"),
    coupon_lift=np.array([1.5, 0.4, 0.6], dtype=np.float32), coupon_values=np.array([6, 12]), coupon_discounts=True,
    session_rate=0.6, max_sessions=8, depth_base=0.8, depth_slope=2.2, event_gap_seconds=60.0,
    silence_targeted=(2, 20), winback_after_days=14, vip_spend_cents=30_000,
)

# Investors log in a few times a week, move large amounts, and fade over one to three months; a decaying
# investor often withdraws most assets first (partial churn).
FINANCE = VerticalBehaviour(
    name="finance",
    event_names=("login", "search", "wishlist_add", "deposit", "invest", "withdraw", "product_view", "share",
                 "comment", "follow", "coupon_claim", "device_change", P.RECALL_CLICK),
    session_event="login",
    core_events=("search", "wishlist_add"),
    other_events=("product_view", "share", "comment", "follow", "coupon_claim"),
    core_share=np.array([0.20, 0.45, 0.15]),
    core_mix=np.array([[0.6, 0.4], [0.5, 0.5], [0.6, 0.4]]),
    other_mix=np.array([
        [0.70, 0.03, 0.02, 0.02, 0.23],
        [0.92, 0.03, 0.02, 0.02, 0.01],
        [0.50, 0.18, 0.17, 0.12, 0.03],
    ]),
    # Investing is the finance core feature: feature-dependent investors invest more often and more directly.
    payment_events=("deposit", "invest"), second_payment_event="invest", first_alt_share=np.array([0.35, 0.8, 0.35]),
    key_action_is_session=False,
    decay_share=0.30, decay_tau_days=(10.0, 30.0), weekend_factor=0.7,
    active_half=np.float32(1.6), order_rate=np.array([0.24, 0.36, 0.18], dtype=np.float32),
    order_half=np.float32(1.0), second_order=np.float32(0.25), order_cap=np.float32(0.9),
    amount_mean=np.array([800.0, 2500.0, 1500.0]), amount_sigma=0.9, price_points=(),
    organic_coupon=np.array([0.35, 0.05, 0.08]), organic_codes=("RATEUP05", "NEWFUND88", "BONUS20"),
    coupon_lift=np.array([1.8, 0.5, 0.7], dtype=np.float32), coupon_values=np.array([10, 20]),
    coupon_discounts=False,
    session_rate=0.3, max_sessions=4, depth_base=0.8, depth_slope=2.4, event_gap_seconds=45.0,
    silence_targeted=(7, 80), winback_after_days=30, vip_spend_cents=2_000_000,
    withdrawals=Withdrawals(
        daily_rate=0.03, routine_share=(0.05, 0.30), big_probability=0.6, big_share=(0.70, 0.95),
        big_delay_days=(0.0, 10.0),
    ),
)

BEHAVIOURS: dict[str, VerticalBehaviour] = {b.name: b for b in (ECOMMERCE, GAME, FINANCE)}
