"""Benchmark of the recall engine alone: apply the default strategy library to N at-risk and
dormant users (matching, holdouts, variants, coupons, messages, guardrails), then plan the next
day for the journeys that started, and report seconds and users per second per phase."""

from __future__ import annotations

import time
from datetime import date, timedelta

import numpy as np
import pandas as pd

from orchestration.recall.actions import DayInputs, finalize, propose
from orchestration.recall.library import StrategyLibrary

STAGES = ["at_risk", "dormant_light", "dormant_medium", "dormant_severe", "churned"]


def synthetic_population(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tiers and users for n at-risk/dormant/churned users with varied value, consent and timezones."""
    rng = np.random.default_rng(seed)
    ids = pd.Series(np.char.add("u", np.char.zfill(np.arange(n).astype(str), 8)), dtype=object)
    orders = rng.poisson(2.0, n)
    tiers = pd.DataFrame({
        "user_id": ids, "lifecycle_stage": rng.choice(STAGES, n), "risk_level": "high",
        "value_tier": rng.choice(["high", "medium", "low"], n, p=[0.2, 0.4, 0.4]),
        "is_high_value_dormant": rng.random(n) < 0.05, "risk_score": rng.random(n) * 100,
        "segment": rng.choice(["price_sensitive", "feature_dependent", "social_driven", "unclassified"], n),
        "special_tier": None, "orders_90d": orders, "revenue_90d": (orders * rng.gamma(2.0, 30.0, n)).round(2),
    })
    users = pd.DataFrame({
        "user_id": ids, "nickname": np.char.add("fan", (np.arange(n) % 9973).astype(str)).astype(object),
        "timezone": rng.choice(["Asia/Shanghai", "Asia/Singapore", "Europe/Berlin", "America/Los_Angeles"], n),
        "push_opt_in": rng.random(n) < 0.85, "sms_opt_in": rng.random(n) < 0.6, "call_opt_in": rng.random(n) < 0.3,
    })
    return tiers, users


def _phase(label: str, n: int, action):
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    print(f"  {label:<46} {seconds:7.2f} s  {n / seconds:12,.0f} users/s", flush=True)
    return result, seconds


def run_recall_benchmark(library: StrategyLibrary, n_users: int, day: date = date(2026, 3, 1)) -> dict[str, float]:
    tiers, users = synthetic_population(n_users)
    print(f"recall benchmark: {n_users:,} at-risk/dormant users, library revision {library.revision}")
    inputs = DayInputs(day=day, tiers=tiers, users=users)
    candidates, t_propose = _phase("match + journeys + holdouts (propose)", n_users, lambda: propose(inputs, library))
    actions, t_finalize = _phase("variants + coupons + messages + guardrails", n_users,
                                 lambda: finalize(candidates, inputs, library))
    next_day = DayInputs(day=day + timedelta(days=1), tiers=tiers, users=users, history=actions)
    _, t_next = _phase("next day: advance ladders + caps vs history", n_users,
                       lambda: finalize(propose(next_day, library), next_day, library))
    total = t_propose + t_finalize
    print(f"  first day total {total:.2f} s for {n_users:,} users; statuses: "
          f"{actions['status'].value_counts().to_dict()}")
    return {"users": float(n_users), "first_day_seconds": total, "next_day_seconds": t_next}
