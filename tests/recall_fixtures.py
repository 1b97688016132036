"""Shared hand-made inputs for the recall engine tests: a small library and tiny worlds."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from orchestration.recall import ACTION_COLUMNS, DayInputs, parse_strategy_library, plan_day

DAY = date(2026, 2, 1)

SMALL_LIBRARY = """\
version: 2
revision: test.1
salt: churn-recall
cooldown_days: 14
global_holdout_share: 0.0
send_hour_utc: 10
default_recommendation: our picks
link_base: https://x.test/r
economics:
  wake_probability: {at_risk: 0.3, dormant_light: 0.2, dormant_medium: 0.1}
  skip_below_cost_tiers: [low]
guardrails:
  quiet_hours: {start: "21:00", end: "09:00"}
  frequency_caps:
    - {channel: any, max_contacts: 3, window_days: 7}
    - {channel: sms, max_contacts: 1, window_days: 7}
  channels:
    push: {cost: 0.01}
    sms: {cost: 0.05}
    call: {cost: 1.0, daily_capacity: 2}
benefits:
  coupon: {kind: coupon, label: coupon, share_of_order: 0.2, min_value: 5, max_value: 50, round_to: 5, valid_days: 7}
  pack: {kind: gift_pack, label: gift pack, value: 30, unit_cost: 5, valid_days: 14}
templates:
  vip_push: "{nickname}, your {benefit} is ready. {countdown} left."
  vip_sms: "{nickname}: code {coupon_code}, {countdown} left. {link}"
  vip_call: "Call {nickname} about the {benefit}."
  coupon_sms: "{nickname}: a {benefit} for you, code {coupon_code}."
  care_push: "{nickname}, we picked {recommendation} for you."
strategies:
  - id: vip
    match: {lifecycle_stage: [dormant_light, dormant_medium], high_value_dormant: true}
    priority: 10
    holdout_share: 0.1
    steps:
      - {channel: push, delay_hours: 0, template: vip_push, benefit: pack}
      - {channel: sms, delay_hours: 24, template: vip_sms, benefit: pack}
      - {channel: call, delay_hours: 48, template: vip_call, benefit: pack}
  - id: winback
    match: {lifecycle_stage: [dormant_light, dormant_medium]}
    priority: 20
    holdout_share: 0.2
    steps:
      - {channel: sms, delay_hours: 0, template: coupon_sms, benefit: coupon}
  - id: care
    match: {lifecycle_stage: [at_risk]}
    priority: 5
    holdout_share: 0.0
    steps:
      - {channel: push, delay_hours: 0, template: care_push}
"""


def library(text: str = SMALL_LIBRARY, **replacements: str):
    for old, new in replacements.items():
        text = text.replace(old, new)
    return parse_strategy_library(text)


def tier_rows(rows: list[dict]) -> pd.DataFrame:
    """Tier rows with defaults: a medium-value, lightly dormant user with $100 over 2 orders."""
    base = {"lifecycle_stage": "dormant_light", "risk_level": "medium", "value_tier": "medium",
            "is_high_value_dormant": False, "risk_score": 50.0, "segment": "unclassified", "special_tier": None,
            "orders_90d": 2, "revenue_90d": 100.0}
    return pd.DataFrame([{**base, **row} for row in rows])


def user_rows(user_ids: list[str], **overrides) -> pd.DataFrame:
    frame = pd.DataFrame({"user_id": user_ids, "nickname": [f"nick{i}" for i in range(len(user_ids))],
                          "timezone": "UTC", "push_opt_in": True, "sms_opt_in": True, "call_opt_in": True})
    for column, value in overrides.items():
        frame[column] = value
    return frame


def random_world(n: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = [f"u{i:07d}" for i in range(n)]
    tiers = tier_rows([{}] * n).assign(
        user_id=ids,
        lifecycle_stage=rng.choice(["active", "at_risk", "dormant_light", "dormant_medium", "churned"], n),
        value_tier=rng.choice(["high", "medium", "low"], n),
        is_high_value_dormant=rng.random(n) < 0.3,
        revenue_90d=rng.gamma(2.0, 60.0, n).round(2),
    )
    users = user_rows(ids).assign(
        timezone=rng.choice(["UTC", "Asia/Shanghai", "America/Los_Angeles", "Not/AZone"], n),
        push_opt_in=rng.random(n) < 0.8, sms_opt_in=rng.random(n) < 0.6, call_opt_in=rng.random(n) < 0.4,
    )
    return tiers, users


def run_days(lib, tiers_by_day, users: pd.DataFrame, first: date, days: int,
             responses: pd.DataFrame | None = None, known_late: bool = False) -> pd.DataFrame:
    """Plan `days` consecutive days, feeding each day the history of the previous ones.

    tiers_by_day: a frame (same every day) or a function of the day. known_late: responses are known
    up to each step's due time (an intraday run), instead of only through the end of the day."""
    history = pd.DataFrame(columns=ACTION_COLUMNS)
    for offset in range(days):
        day = first + timedelta(days=offset)
        tiers = tiers_by_day(day) if callable(tiers_by_day) else tiers_by_day
        known = pd.Timestamp(day + timedelta(days=3), tz="UTC") if known_late else None
        inputs = DayInputs(day=day, tiers=tiers, users=users, history=history, known_until=known,
                           responses=responses if responses is not None else pd.DataFrame(columns=["user_id", "responded_at"]))
        history = pd.concat([history, plan_day(inputs, lib)], ignore_index=True) if len(history) else plan_day(inputs, lib)
    return history
