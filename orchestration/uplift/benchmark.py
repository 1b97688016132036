"""Benchmark of planning with the uplift models: refit the models on a synthetic randomized history,
then for N synthetic users time the decision (features, the models' scores for every allowed
treatment, the choice, the budget fill) and the rules planner's day (journeys, holdouts, variants,
coupons, messages, guardrails) on the same users, and print seconds and users per second."""

from __future__ import annotations

import time
from datetime import date, timedelta

import numpy as np
import pandas as pd

from orchestration.recall.actions import DayInputs, finalize, propose
from orchestration.recall.library import StrategyLibrary
from orchestration.uplift.decisions import DecisionInputs, decide
from orchestration.uplift.synthetic import synthetic_history, synthetic_tiers
from orchestration.uplift.training import TrainingConfig, train_uplift_models


def _timed(label: str, n: int, action):
    """Wall seconds, and the process's CPU seconds: on a machine shared with other work the CPU
    seconds are what the step costs (single-threaded, they are its wall time on an idle core)."""
    started, cpu = time.perf_counter(), time.process_time()
    result = action()
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    print(f"  {label:<56} {seconds:7.2f} s wall {cpu_seconds:7.2f} s cpu  {n / seconds:10,.0f} users/s", flush=True)
    return result, seconds, cpu_seconds


def _consent(tiers: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(tiers)
    return pd.DataFrame({
        "user_id": tiers["user_id"], "nickname": np.char.add("fan", (np.arange(n) % 9973).astype(str)).astype(object),
        "timezone": rng.choice(["Asia/Shanghai", "Europe/Berlin", "America/Los_Angeles"], n),
        "push_opt_in": rng.random(n) < 0.85, "sms_opt_in": rng.random(n) < 0.6, "call_opt_in": rng.random(n) < 0.3,
    })


def run_uplift_benchmark(library: StrategyLibrary, n_users: int, train_users: int = 40_000,
                         day: date = date(2026, 4, 1)) -> dict[str, float]:
    print(f"uplift planning benchmark: {n_users:,} users, library revision {library.revision}")
    history, _ = synthetic_history(library, train_users, day - timedelta(days=150), days=60, seed=1)
    model, t_fit, _ = _timed(f"refit: X-learners on {len(history):,} randomized journeys", len(history),
                          lambda: train_uplift_models(history, library, day - timedelta(days=1), TrainingConfig(bootstrap_reps=100)))
    mature = sorted(model.mature_keys("revenue_90d"))
    print(f"    {len(mature)} treatments with a mature 90-day model, version {model.version}")
    tiers = synthetic_tiers(n_users, seed=2)
    users = _consent(tiers, seed=3)
    decisions, t_decide, c_decide = _timed("decide: features + scores + choice + budget fill", n_users,
                                 lambda: decide(DecisionInputs(day=day, tiers=tiers, vertical="ecommerce", users=users), library, model))
    inputs = DayInputs(day=day, tiers=tiers, users=users)
    planned, t_plan, c_plan = _timed("rules planner: journeys, holdouts, messages, guardrails", n_users,
                             lambda: finalize(propose(inputs, library), inputs, library))
    total = t_decide + t_plan
    print(f"  decisions: {decisions['basis'].value_counts().to_dict()}; treat {int((decisions['decision'] == 'treat').sum()):,}, "
          f"expected profit {decisions['expected_profit'].fillna(0).where(decisions['decision'] == 'treat', 0).sum():,.0f}")
    print(f"  planner statuses: {planned['status'].value_counts().to_dict()}")
    print(f"planning {n_users:,} users with the models: {total:.2f} s wall, {c_decide + c_plan:.2f} s cpu "
          f"(decide {t_decide:.2f} s + plan {t_plan:.2f} s wall); refit {t_fit:.1f} s")
    return {"users": float(n_users), "refit_seconds": t_fit, "decide_seconds": t_decide, "plan_seconds": t_plan,
            "total_seconds": total, "total_cpu_seconds": c_decide + c_plan}
