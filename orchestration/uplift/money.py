"""Money counted honestly: the margin a recall earns, the contact and benefit costs it spends, and the
ROI on margin, for decisions (expected) and for measured cohorts (realized).

Benefit costs:
- a **coupon** costs its value when redeemed. When order amounts are recorded net of the coupon
  (`economics.revenue_net_of_coupons`, true for the simulated app) the discount has already lowered
  the revenue the margin is taken on, so what it costs beyond that is (1 - margin) x value:
  an order of gross price G paid G - c earns m x G - c = m x (G - c) - (1 - m) x c.
- a **gift pack** or **points** cost their `unit_cost` for every journey that handed them out
  (sent at least one step offering them), redeemed or not.
Contact costs are the channels' costs of the ladder's steps; a decision counts every step (the later
rungs are only sent to users who did not respond, so this is an upper bound)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from orchestration.recall.benefits import coupon_value
from orchestration.recall.library import Benefit, StrategyLibrary
from orchestration.uplift.treatments import Treatment


def coupon_cost_factor(margin_rate: float, net_of_coupons: bool) -> float:
    """Share of a redeemed coupon's value that is a cost beyond the revenue it already lowered."""
    return 1.0 - margin_rate if net_of_coupons else 1.0


def expected_benefit_cost(benefit: Benefit, values: np.ndarray, redemption_rate: float, margin_rate: float,
                          net_of_coupons: bool) -> np.ndarray:
    """Expected cost per user of handing out `benefit` worth `values`: redemption x value (x the
    coupon factor) for coupons, the unit cost for gift packs and points."""
    values = np.asarray(values, dtype=float)
    if benefit.kind == "coupon":
        return values * redemption_rate * coupon_cost_factor(margin_rate, net_of_coupons)
    return np.full(values.shape, float(benefit.unit_cost))


def treatment_costs(treatment: Treatment, library: StrategyLibrary, avg_order_value: pd.Series,
                    margin_rate: float) -> tuple[float, np.ndarray]:
    """(contact cost, expected benefit cost per user) of running the treatment's whole ladder.

    Contact: every step's channel cost (weighted by variant share where the variant is not fixed).
    Benefit: each distinct benefit once per journey (one code per benefit), weighted by the largest
    probability that a step offers it; coupons sized from the user's average order."""
    channels = library.guardrails.channels
    economics = library.economics
    contact = 0.0
    offered: dict[str, float] = {}
    for arms in treatment.step_arms():
        total = sum(a.share for a in arms)
        for arm in arms:
            share = arm.share / total
            contact += share * channels[arm.channel].cost
            if arm.benefit is not None:
                offered[arm.benefit] = max(offered.get(arm.benefit, 0.0), share)
    benefit_cost = np.zeros(len(avg_order_value))
    for name, probability in offered.items():
        benefit = library.benefits[name]
        values = coupon_value(benefit, avg_order_value)
        benefit_cost += probability * expected_benefit_cost(benefit, values, economics.coupon_redemption_rate,
                                                            margin_rate, economics.revenue_net_of_coupons)
    return contact, benefit_cost


def realized_benefit_cost(journeys: pd.DataFrame, library: StrategyLibrary, margin_rate: float) -> np.ndarray:
    """What each journey's benefit actually cost.

    journeys: benefit (library benefit name or null), coupon_value, coupon_redeemed (bool or null),
    sent (bool: at least one step offering the benefit went out). Control journeys have no benefit."""
    missing = [c for c in ("benefit", "coupon_value", "coupon_redeemed", "sent") if c not in journeys.columns]
    if missing:
        raise ValueError(f"journeys lack required columns: {', '.join(missing)}")
    unknown = set(journeys["benefit"].dropna().unique()) - set(library.benefits)
    if unknown:
        raise ValueError(f"journeys name benefits missing from the library: {sorted(unknown)}")
    factor = coupon_cost_factor(margin_rate, library.economics.revenue_net_of_coupons)
    cost = np.zeros(len(journeys))
    redeemed = journeys["coupon_redeemed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    sent = journeys["sent"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    values = pd.to_numeric(journeys["coupon_value"], errors="coerce").fillna(0).to_numpy(dtype=float)
    for name, benefit in library.benefits.items():
        rows = (journeys["benefit"] == name).to_numpy(dtype=bool)
        if benefit.kind == "coupon":
            cost[rows] = np.where(redeemed[rows], values[rows] * factor, 0.0)
        else:
            cost[rows] = np.where(sent[rows], benefit.unit_cost, 0.0)
    return cost


def margin_roi(cohorts: pd.DataFrame, margin_rate: float) -> pd.DataFrame:
    """Incremental margin, incremental profit and ROI on margin per cohort row.

    cohorts: incremental_revenue (revenue lift x treated users), contact_cost, benefit_cost (sums over
    the cohort's treatment journeys). roi_margin = (margin - contact - benefit) / (contact + benefit);
    null when nothing was spent."""
    missing = [c for c in ("incremental_revenue", "contact_cost", "benefit_cost") if c not in cohorts.columns]
    if missing:
        raise ValueError(f"cohorts lack required columns: {', '.join(missing)}")
    if not 0 < margin_rate <= 1:
        raise ValueError(f"margin_rate must be in (0, 1], got {margin_rate}")
    margin = cohorts["incremental_revenue"].astype(float) * margin_rate
    spent = cohorts["contact_cost"].astype(float) + cohorts["benefit_cost"].astype(float)
    profit = margin - spent
    return cohorts.assign(incremental_margin=margin, incremental_profit=profit,
                          roi_margin=(profit / spent).where(spent > 0))
