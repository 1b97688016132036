"""Shared inputs of the uplift tests: a small library with overlapping strategies, an A/B-tested
step, a gift pack and a service strategy, and a scorer with a fixed uplift per treatment."""

from __future__ import annotations

import numpy as np
import pandas as pd

from orchestration.recall import parse_strategy_library

UPLIFT_LIBRARY = """\
version: 2
revision: uplift.1
salt: uplift-test
cooldown_days: 14
global_holdout_share: 0.05
send_hour_utc: 10
default_recommendation: our picks
link_base: https://x.test/r
economics:
  wake_probability: {at_risk: 0.3, dormant_light: 0.2, dormant_medium: 0.1}
  margin_rate: {default: 0.5}
  decision: {exploration_share: 0.0}
guardrails:
  quiet_hours: {start: "21:00", end: "09:00"}
  channels:
    push: {cost: 0.01}
    sms: {cost: 0.05}
    call: {cost: 1.0}
    in_app: {cost: 0.001}
benefits:
  coupon: {kind: coupon, label: coupon, share_of_order: 0.2, min_value: 5, max_value: 50, round_to: 5}
  small_coupon: {kind: coupon, label: coupon, share_of_order: 0.1, min_value: 5, max_value: 50, round_to: 5}
  pack: {kind: gift_pack, label: gift pack, value: 30, unit_cost: 4}
templates:
  coupon_push: "{nickname}, a {benefit} for you."
  coupon_sms: "{nickname}: code {coupon_code}."
  pack_push: "{nickname}, your {benefit}."
  care_push: "{nickname}, we picked {recommendation}."
  care_inapp: "Hi {nickname}, {recommendation}."
strategies:
  - id: guard
    match: {signals: [device_change]}
    priority: 1
    holdout_share: 0.0
    service: true
    steps:
      - {channel: in_app, delay_hours: 0, template: care_inapp}
  - id: coupon_ab
    match: {lifecycle_stage: [dormant_light, dormant_medium]}
    priority: 10
    holdout_share: 0.2
    steps:
      - channel: push
        delay_hours: 0
        template: coupon_push
        benefit: coupon
        variants:
          - {id: big, share: 0.5}
          - {id: small, share: 0.5, benefit: small_coupon}
      - {channel: sms, delay_hours: 24, template: coupon_sms, benefit: coupon}
  - id: pack
    match: {lifecycle_stage: [dormant_light, dormant_medium, at_risk]}
    priority: 20
    holdout_share: 0.2
    steps:
      - {channel: push, delay_hours: 0, template: pack_push, benefit: pack}
  - id: care
    match: {lifecycle_stage: [at_risk, dormant_light]}
    priority: 30
    holdout_share: 0.2
    steps:
      - {channel: in_app, delay_hours: 0, template: care_inapp}
      - {channel: push, delay_hours: 24, template: care_push}
"""


def uplift_library(**replacements: str):
    text = UPLIFT_LIBRARY
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    return parse_strategy_library(text)


def users(rows: list[dict]) -> pd.DataFrame:
    """Tier rows with defaults: a lightly dormant, medium-value user with $100 over one order."""
    base = {"lifecycle_stage": "dormant_light", "risk_level": "medium", "value_tier": "medium", "segment": "unclassified",
            "special_tier": None, "is_high_value_dormant": False, "risk_score": 40.0, "orders_90d": 1,
            "revenue_90d": 100.0, "signals_fired": ""}
    return pd.DataFrame([{**base, **row} for row in rows])


class FixedScorer:
    """Uplift in revenue (both windows) per treatment key, optionally per user; wake-up a tenth of it."""

    version = "fixed-test"

    def __init__(self, uplift: dict[str, float], per_user: dict[tuple[str, str], float] | None = None,
                 outcomes: tuple[str, ...] = ("revenue_90d", "revenue_30d", "woke_up")):
        self.uplift, self.per_user, self.outcomes = uplift, per_user or {}, outcomes

    def mature_keys(self, outcome: str) -> set[str]:
        return set(self.uplift) if outcome in self.outcomes else set()

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame.reset_index(drop=True)

    def predict(self, prepared: pd.DataFrame, rows: np.ndarray, key: str, outcome: str) -> np.ndarray:
        ids = prepared["user_id"].to_numpy()[rows]
        values = np.array([self.per_user.get((u, key), self.uplift[key]) for u in ids], dtype=float)
        return values / 10 if outcome == "woke_up" else values


# A day of 6,000 users for the budget fill: three stages (allowed treatments: at_risk pack or care; dormant_light
# coupon_ab, pack or care; dormant_medium coupon_ab or pack), half of them reachable by push, a churn probability.
BUDGET_WORLD_USERS = 6000
STAGES = ("at_risk", "dormant_light", "dormant_medium")
# Replacements for uplift_library: limits that bind on both channels the strategies start on.
TIGHT_BUDGETS = {"    push: {cost: 0.01}": "    push: {cost: 0.01, daily_capacity: 250}",
                 "    in_app: {cost: 0.001}": "    in_app: {cost: 0.001, daily_capacity: 1200}"}


def budget_world(seed: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(tier rows, profiles) of the budget world."""
    rng = np.random.default_rng(seed)
    ids = [f"p{i:05d}" for i in range(BUDGET_WORLD_USERS)]
    tiers = users([{"user_id": u, "lifecycle_stage": STAGES[i % 3], "churn_probability": float(rng.random())}
                   for i, u in enumerate(ids)])
    profiles = pd.DataFrame({"user_id": ids, "nickname": "Ann", "timezone": "UTC",
                             "push_opt_in": rng.random(len(ids)) < 0.5, "sms_opt_in": True, "call_opt_in": True})
    return tiers, profiles


def spread_scorer(keys: tuple[str, ...], seed: int = 3) -> FixedScorer:
    """Uplifts drawn per user and treatment (profitable for most): the budgets then cut a ranking, not a tie."""
    rng = np.random.default_rng(seed)
    ids = [f"p{i:05d}" for i in range(BUDGET_WORLD_USERS)]
    return FixedScorer({k: 0.0 for k in keys}, per_user={(u, k): float(rng.uniform(0.5, 40)) for u in ids for k in keys})
