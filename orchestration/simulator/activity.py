"""Daily latent engagement and the outcome path (activity, orders, coupon redemption) driven by common random numbers.

The same functions compute the observed world and the potential outcomes of journeys; they use only exact
IEEE arithmetic on identical inputs, so replaying a journey under the arm it got reproduces the world bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import params as P
from .population import Population
from .presets import VerticalBehaviour

NO_START = -1_000_000  # sentinel start day of a boost or coupon that never happened


@dataclass(frozen=True)
class OutcomeDraws:
    """Arm-independent per-(day, user) draws of the outcome path, shape (n_days, n_users)."""

    u_active: np.ndarray     # float32
    u_order1: np.ndarray     # float32
    u_order2: np.ndarray     # float32
    gross_cents1: np.ndarray  # int32 amount of a first order that day, before any recall coupon
    gross_cents2: np.ndarray  # int32 amount of a second order that day


@dataclass(frozen=True)
class DayOutcomes:
    """Outcome path over a (days, users) block."""

    active: np.ndarray     # bool
    n_orders: np.ndarray   # int8 (0, 1, 2)
    redeemed: np.ndarray   # bool: the first order is paid with the recall coupon
    paid_cents1: np.ndarray  # int32 (coupon discount applied)
    paid_cents2: np.ndarray  # int32

    def revenue_cents(self) -> np.ndarray:
        """Paid amount per (day, user), int64 cents."""
        first = (self.n_orders >= 1) * self.paid_cents1.astype(np.int64)
        return first + (self.n_orders >= 2) * self.paid_cents2.astype(np.int64)


def decay_factor(pop: Population, n_days: int) -> np.ndarray:
    """Latent decay multiplier per (day, user) in [0, 1]; exactly 0 once the user is churned."""
    days = np.arange(n_days, dtype=np.float64)[:, None]
    elapsed = np.maximum(days - pop.decay_start_day[None, :], 0.0)
    fade = np.exp(-elapsed / pop.decay_tau[None, :])
    factor = np.clip((fade - P.CHURN_LEVEL) / (1.0 - P.CHURN_LEVEL), 0.0, 1.0)
    return np.where(pop.decays[None, :], factor, 1.0)


def churn_days(factor: np.ndarray, pop: Population) -> np.ndarray:
    """First day whose decay factor is 0 (latent state 'churned'), -1 if none in the window."""
    churned = factor <= 0.0
    first = np.argmax(churned, axis=0)
    return np.where(churned.any(axis=0) & pop.decays, first, -1).astype(np.int32)


def latent_engagement(pop: Population, factor: np.ndarray, first_weekday: int) -> np.ndarray:
    """Engagement before any recall boost, (n_days, n_users) float32; 0 before signup."""
    n_days = factor.shape[0]
    weekday = (first_weekday + np.arange(n_days)) % 7
    week = np.where(weekday >= 5, pop.behaviour.weekend_factor, 1.0)[:, None]
    signed_up = np.arange(n_days)[:, None] >= pop.signup_day[None, :]
    return (pop.base[None, :] * factor * week * signed_up).astype(np.float32)


def draw_outcome_randoms(rng: np.random.Generator, n_days: int, pop: Population) -> OutcomeDraws:
    """Uniforms and payment amounts (lognormal, segment mean, snapped to the vertical's price points) per (day, user)."""
    b = pop.behaviour
    shape = (n_days, len(pop.base))
    mu = np.log(b.amount_mean) - 0.5 * b.amount_sigma**2
    seg_mu = mu[pop.segment][None, :]
    points = np.round(np.array(b.price_points) * 100.0).astype(np.int32)
    # Snap to the nearest price point on a log scale: boundaries are the geometric midpoints.
    bounds = np.sqrt(points[:-1].astype(np.float64) * points[1:])

    def amounts() -> np.ndarray:
        z = rng.standard_normal(shape, dtype=np.float32)
        cents = np.maximum(np.round(np.exp(seg_mu + b.amount_sigma * z) * 100.0), 100).astype(np.int32)
        return points[np.searchsorted(bounds, cents)] if len(points) else cents

    return OutcomeDraws(
        u_active=rng.random(shape, dtype=np.float32),
        u_order1=rng.random(shape, dtype=np.float32),
        u_order2=rng.random(shape, dtype=np.float32),
        gross_cents1=amounts(),
        gross_cents2=amounts(),
    )


def boost_fade(days: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Linear fade of a response boost: 1 on the response day, 0 from BOOST_DAYS later (and before)."""
    elapsed = (days - start).astype(np.float32)
    fade = np.float32(1.0) - elapsed / np.float32(P.BOOST_DAYS)
    return np.where(elapsed >= 0, np.maximum(fade, np.float32(0.0)), np.float32(0.0))


def effective_engagement(e0: np.ndarray, boost: np.ndarray, start: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Latent engagement plus the fading boost (boost = base engagement x amplitude, float32)."""
    return e0 + boost * boost_fade(days, start)


def coupon_window(coupon_start: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Days on which a recall coupon is valid."""
    return (days >= coupon_start) & (days < coupon_start + P.COUPON_VALID_DAYS)


def outcome_path(
    engagement: np.ndarray,
    coupon_on: np.ndarray,
    coupon_cents: np.ndarray,
    segment: np.ndarray,
    u_active: np.ndarray,
    u_order1: np.ndarray,
    u_order2: np.ndarray,
    gross1: np.ndarray,
    gross2: np.ndarray,
    force_active: np.ndarray,
    b: VerticalBehaviour,
) -> DayOutcomes:
    """Activity and payments over a (days, users) block whose first row starts every coupon window it holds."""
    active, first, second = activity_and_orders(engagement, coupon_on, segment, u_active, u_order1, u_order2,
                                                force_active, b)
    # The recall coupon pays for the first order placed while it is valid.
    usable = first & coupon_on
    redeemed = usable & (np.cumsum(usable, axis=0) == 1)
    return DayOutcomes(active=active, n_orders=first.astype(np.int8) + second.astype(np.int8), redeemed=redeemed,
                       paid_cents1=paid_first(redeemed, gross1, coupon_cents, b), paid_cents2=gross2)


def activity_and_orders(
    engagement: np.ndarray, coupon_on: np.ndarray, segment: np.ndarray, u_active: np.ndarray, u_order1: np.ndarray,
    u_order2: np.ndarray, force_active: np.ndarray, b: VerticalBehaviour,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(active, first order, second order) per cell: the arithmetic every mode shares, elementwise, so that a
    replay of the same cells reproduces the world bit for bit."""
    p_active = engagement / (engagement + b.active_half)
    active = (u_active < p_active) | force_active
    p_order = b.order_rate[segment] * engagement / (engagement + b.order_half)
    p_order = np.where(coupon_on, p_order * (np.float32(1.0) + b.coupon_lift[segment]), p_order)
    p_order = np.minimum(p_order, b.order_cap)
    first = active & (u_order1 < p_order)
    second = first & (u_order2 < p_order * b.second_order)
    return active, first, second


def paid_first(redeemed: np.ndarray, gross1: np.ndarray, coupon_cents: np.ndarray, b: VerticalBehaviour) -> np.ndarray:
    """Amount of the day's first order: the recall coupon's discount applied when it was redeemed."""
    discount = coupon_cents if b.coupon_discounts else 0  # a bonus coupon (finance) leaves the amount as is
    return np.where(redeemed, np.maximum(gross1 - discount, 100), gross1).astype(np.int32)


def latent_cells(
    pop: Population, users: np.ndarray, days: np.ndarray, decay_start: np.ndarray, decays: np.ndarray,
    first_weekday: int,
) -> np.ndarray:
    """Latent engagement of (day, user) cells given each cell's decay start (float32; 0 before signup).

    The closed loop computes every day it simulates and every replay of a journey with this one function, so
    a contact that starts a user's decay early (see simulator/loop/response.py) replays exactly.
    """
    factor = decay_level(pop, users, days, decay_start, decays)
    week = np.where((first_weekday + days) % 7 >= 5, pop.behaviour.weekend_factor, 1.0)
    return (pop.base[users] * factor * week * (days >= pop.signup_day[users])).astype(np.float32)


def decay_level(pop: Population, users: np.ndarray, days: np.ndarray, decay_start: np.ndarray,
                decays: np.ndarray) -> np.ndarray:
    """The decay multiplier of (day, user) cells in [0, 1] (1: not decaying yet; 0: churned), float64."""
    elapsed = np.maximum(days - decay_start, 0).astype(np.float64)
    fade = np.exp(-elapsed / pop.decay_tau[users])
    factor = np.clip((fade - P.CHURN_LEVEL) / (1.0 - P.CHURN_LEVEL), 0.0, 1.0)
    return np.where(decays, factor, 1.0)
