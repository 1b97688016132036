"""Ground truth: latent user attributes, potential outcomes of every journey under both arms (common random
numbers, contract measurement windows) and the true average effects per campaign."""

from __future__ import annotations

import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import params as P
from .activity import NO_START, OutcomeDraws, coupon_window, effective_engagement, outcome_path
from .campaigns import Journeys
from .population import Population

WAKE_DAYS, REPURCHASE_DAYS = 7, 30
OUTCOMES: tuple[str, ...] = ("woke_up_7d", "repurchased_30d", "revenue_30d")


def potential_outcomes(
    journeys: Journeys, e0: np.ndarray, draws: OutcomeDraws, force: np.ndarray, pop: Population
) -> dict[str, np.ndarray]:
    """y0_* and y1_* per journey over days A..A+29 (NaN when a window passes the last simulated day)."""
    n_days = e0.shape[0]
    users = journeys.users
    days = journeys.day + np.arange(REPURCHASE_DAYS, dtype=np.int64)[:, None] + np.zeros((1, len(users)), np.int64)
    inside = days < n_days
    at = (np.minimum(days, n_days - 1), users[None, :])
    gathered = dict(
        segment=pop.segment[users][None, :], u_active=draws.u_active[at], u_order1=draws.u_order1[at],
        u_order2=draws.u_order2[at], gross1=draws.gross_cents1[at], gross2=draws.gross_cents2[at],
        force_active=force[at],
    )
    base_e0 = e0[at]

    b = pop.behaviour

    def replay(boost: np.ndarray, start: np.ndarray, coupon_start: np.ndarray) -> tuple[np.ndarray, ...]:
        engagement = effective_engagement(base_e0, boost[None, :], start[None, :], days)
        coupon_on = coupon_window(coupon_start[None, :], days)
        path = outcome_path(engagement, coupon_on, journeys.coupon_cents[None, :], **gathered, b=b)
        ordered = (path.n_orders > 0) & inside
        # A key action: a payment, or (game) any login, since every active day opens with one.
        key = (ordered | (path.active & inside)) if b.key_action_is_session else ordered
        revenue = (path.revenue_cents() * inside).sum(axis=0) / 100.0
        return key[:WAKE_DAYS].any(axis=0), ordered.any(axis=0), revenue

    none = np.full(len(users), NO_START, np.int32)
    responds = journeys.responds
    y0 = replay(np.zeros(len(users), np.float32), none, none)
    y1 = replay(
        np.where(responds, journeys.boost, np.float32(0.0)).astype(np.float32),
        np.where(responds, journeys.response_day, NO_START).astype(np.int32),
        np.where(responds & (journeys.coupon_cents > 0), journeys.response_day, NO_START).astype(np.int32),
    )
    mature = [journeys.day + WAKE_DAYS - 1 < n_days, journeys.day + REPURCHASE_DAYS - 1 < n_days, None]
    mature[2] = mature[1]
    out: dict[str, np.ndarray] = {}
    for arm, ys in (("y0", y0), ("y1", y1)):
        for name, values, ok in zip(OUTCOMES, ys, mature, strict=True):
            out[f"{arm}_{name}"] = np.where(ok, values.astype(np.float64), np.nan)
    return out


def journeys_table(
    journeys: Journeys, outcomes: dict[str, np.ndarray], action_ids: pa.Array, user_ids: pa.Array,
    start_date: datetime.date,
) -> pa.Table:
    """One row per action_id with its arm, would-be response and potential outcomes."""
    n = len(journeys)
    channel = np.argmax(journeys.opened, axis=1)
    columns: dict[str, pa.Array] = {
        "action_id": action_ids,
        "user_id": user_ids.take(pa.array(journeys.users)),
        "strategy_id": pa.array(np.array(P.STRATEGIES, dtype=object)[journeys.strategy], pa.string()),
        "arm": pa.array(np.where(journeys.treated, "treatment", "control").astype(object), pa.string()),
        "assignment_date": pa.array([start_date + datetime.timedelta(days=journeys.day)] * n, pa.date32()),
        "would_respond": pa.array(journeys.responds),
        "response_channel": pa.array(np.array(P.CHANNELS, dtype=object)[channel], pa.string(), mask=~journeys.responds),
    }
    for key, values in outcomes.items():
        missing = np.isnan(values)
        if key.endswith("revenue_30d"):
            columns[key] = pa.array(values, pa.float64(), mask=missing)
        else:
            columns[key] = pa.array(values > 0.5, pa.bool_(), mask=missing)
    return pa.table(columns)


def campaign_effects_table(journeys: pa.Table) -> pa.Table:
    """True average effects (mean of y1 - y0 over all journey users) per strategy and assignment day."""
    diffs = {"treated": pc.cast(pc.equal(journeys["arm"], "treatment"), pa.int64())}
    for name in OUTCOMES:
        y1 = pc.cast(journeys[f"y1_{name}"], pa.float64())
        y0 = pc.cast(journeys[f"y0_{name}"], pa.float64())
        diffs[name] = pc.subtract(y1, y0)
    work = pa.table({"strategy_id": journeys["strategy_id"], "assignment_date": journeys["assignment_date"], **diffs})
    grouped = work.group_by(["strategy_id", "assignment_date"]).aggregate(
        [("treated", "count"), ("treated", "sum")] + [(name, "mean") for name in OUTCOMES]
    )
    n_users = grouped["treated_count"]
    n_treat = grouped["treated_sum"]
    table = pa.table({
        "strategy_id": grouped["strategy_id"],
        "assignment_date": grouped["assignment_date"],
        "n_users": n_users,
        "n_treatment": n_treat,
        "n_control": pc.subtract(n_users, n_treat),
        **{f"true_ate_{name}": grouped[f"{name}_mean"] for name in OUTCOMES},
    })
    return table.sort_by([("assignment_date", "ascending"), ("strategy_id", "ascending")])


def truth_users_table(
    pop: Population, churn_day: np.ndarray, start_date: datetime.date, big_withdrawal_day: np.ndarray | None = None
) -> pa.Table:
    """Latent attributes of every user; decay and churn dates are null when they never happen in the window.

    Finance worlds add big_withdrawal_date: the day a decaying investor took most assets out (partial churn).
    """
    epoch_day = (start_date - datetime.date(1970, 1, 1)).days

    def day_column(day: np.ndarray, valid: np.ndarray) -> pa.Array:
        return pa.array((epoch_day + day).astype(np.int32), pa.date32(), mask=~valid)

    columns = {
        "user_id": pop.user_ids,
        "segment": pa.array(np.array(P.SEGMENTS, dtype=object)[pop.segment], pa.string()),
        "base_engagement": pa.array(pop.base.astype(np.float64)),
        "signup_date": day_column(pop.signup_day, np.ones(len(pop.base), bool)),
        "decays": pa.array(pop.decays),
        "decay_start_date": day_column(pop.decay_start_day, pop.decays),
        "churn_date": day_column(churn_day, churn_day >= 0),
        "push_response": pa.array(pop.open_propensity[:, 0]),
        "sms_response": pa.array(pop.open_propensity[:, 1]),
        "call_response": pa.array(pop.open_propensity[:, 2]),
        "coupon_order_lift": pa.array(pop.behaviour.coupon_lift[pop.segment].astype(np.float64)),
    }
    if big_withdrawal_day is not None:
        columns["big_withdrawal_date"] = day_column(big_withdrawal_day, big_withdrawal_day >= 0)
    return pa.table(columns)
