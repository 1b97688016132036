"""The planner under the uplift policy (orchestration/uplift/planning.py into recall.actions.propose):
each journey records what decided it, a decision of none is a skipped row with its reason, the rules
decide (and say so) before a model is mature, the rules' value gate applies to rules choices only, a
fixed variant is served on every step, and consent and holdouts stay absolute whatever the model wants."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from orchestration.recall import DayInputs, finalize, propose
from orchestration.recall.actions import match_strategies
from orchestration.uplift.planning import decider, mature
from tests.uplift_fixtures import FixedScorer, uplift_library, users

DAY = date(2026, 4, 1)


def _profiles(ids, push: bool = True, sms: bool = True) -> pd.DataFrame:
    return pd.DataFrame({"user_id": list(ids), "nickname": "Ann", "timezone": "UTC", "push_opt_in": push,
                         "sms_opt_in": sms, "call_opt_in": True})


def _plan(tiers: pd.DataFrame, lib, scorer=None, policy: str = "uplift", profiles: pd.DataFrame | None = None,
          day: date = DAY, history: pd.DataFrame | None = None) -> pd.DataFrame:
    profiles = _profiles(tiers["user_id"]) if profiles is None else profiles
    inputs = DayInputs(day=day, tiers=tiers, users=profiles, vertical="ecommerce",
                       **({"history": history} if history is not None else {}))
    decide = decider(policy, day, "ecommerce", lib, profiles, scorer)
    return finalize(propose(inputs, lib, decide=decide), inputs, lib)


def test_each_journey_records_its_decision_and_none_is_skipped_with_the_reason() -> None:
    lib = uplift_library()
    scorer = FixedScorer({"coupon_ab/1=big": 2.0, "coupon_ab/1=small": 30.0, "pack": 0.0, "care": 0.0},
                         per_user={("dog", "coupon_ab/1=small"): -10.0, ("dog", "coupon_ab/1=big"): -10.0})
    ids = [f"u{i:03d}" for i in range(60)] + ["dog"]
    plan = _plan(users([{"user_id": u} for u in ids]), lib, scorer).set_index("user_id")
    journeys = plan.loc[plan["journey_id"].notna()]
    assert len(journeys) == 60
    assert (journeys["strategy_id"] == "coupon_ab").all() and (journeys["treatment_key"] == "coupon_ab/1=small").all()
    assert (journeys["basis"] == "model").all() and (journeys["decision_reason"] == "best_expected_profit").all()
    # 30 x 0.5 margin - push 0.01 - sms 0.05 - the ladder's coupons' expected cost (money.treatment_costs: 4.5)
    assert journeys["expected_profit"].astype(float).to_numpy() == pytest.approx(np.full(60, 15 - 0.06 - 4.5))
    assert (journeys["uplift_revenue"] == 30.0).all()
    assert journeys["uplift_wake_up"].to_numpy() == pytest.approx(np.full(60, 3.0))
    assert (journeys["uplift_model_version"] == "fixed-test").all()
    # The variant the treatment key fixes is served (the hash alone would give 'big' to about half).
    queued = journeys.loc[journeys["status"] == "queued"]
    assert len(queued) > 30 and (queued["variant"] == "small").all() and (queued["benefit"] == "small_coupon").all()
    # The user every treatment loses money on is skipped, with the decision's reason, and never contacted.
    dog = plan.loc["dog"]
    assert (dog["status"], dog["reason"], dog["basis"], dog["decision_reason"]) == (
        "skipped", "no_profitable_treatment", "model", "no_profitable_treatment")
    assert pd.isna(dog["journey_id"]) and pd.isna(dog["channel"])


def test_the_next_steps_carry_the_decision_and_serve_the_fixed_variant() -> None:
    lib = uplift_library()
    scorer = FixedScorer({"coupon_ab/1=big": 2.0, "coupon_ab/1=small": 30.0, "pack": 0.0, "care": 0.0})
    tiers = users([{"user_id": f"u{i:03d}"} for i in range(40)])
    first = _plan(tiers, lib, scorer)
    nxt = DAY + timedelta(days=1)
    second = _plan(tiers, lib, scorer, day=nxt, history=first)
    steps = second.loc[second["step"] == 2]
    assert len(steps) > 20
    assert (steps["treatment_key"] == "coupon_ab/1=small").all() and (steps["basis"] == "model").all()
    assert (steps["uplift_model_version"] == "fixed-test").all()


def test_without_a_mature_model_the_rules_choose_and_say_so() -> None:
    lib = uplift_library()
    ids = [f"r{i:03d}" for i in range(200)]
    stages = np.resize(["dormant_light", "at_risk", "dormant_medium"], len(ids))
    tiers = users([{"user_id": u, "lifecycle_stage": s} for u, s in zip(ids, stages)])
    immature = FixedScorer({"pack": 5.0}, outcomes=("woke_up",))  # a model with no revenue model is not mature
    assert mature(immature) is None
    plan = _plan(tiers, lib, immature).set_index("user_id")
    assert (plan["basis"] == "rules").all() and (plan["decision_reason"] == "no_mature_model").all()
    assert plan["uplift_model_version"].isna().all() and plan["expected_profit"].isna().all()
    rules = match_strategies(tiers, lib, DAY + timedelta(days=1), "ecommerce").set_axis(tiers["user_id"])
    assert plan["strategy_id"].tolist() == rules.loc[plan.index].tolist()
    # The rules policy records itself too.
    by_rules = _plan(tiers, lib, policy="rules")
    assert (by_rules["basis"] == "rules").all() and (by_rules["decision_reason"] == "rules_policy").all()


def test_the_value_gate_applies_to_rules_choices_only() -> None:
    lib = uplift_library(**{"  margin_rate: {default: 0.5}": "  margin_rate: {default: 0.5}\n  skip_below_cost_tiers: [low]"})
    poor = users([{"user_id": "poor", "lifecycle_stage": "at_risk", "value_tier": "low", "revenue_90d": 0.0,
                   "orders_90d": 0}])
    assert _plan(poor, lib).set_index("user_id").at["poor", "reason"] == "low_expected_value"
    # The model prices the contact itself: a profitable choice for the same user is not gated.
    chosen = _plan(poor, lib, FixedScorer({"pack": 0.0, "care": 5.0})).set_index("user_id")
    assert chosen.at["poor", "basis"] == "model" and chosen.at["poor", "journey_id"] is not None
    assert chosen.at["poor", "reason"] != "low_expected_value"


def test_opted_out_and_control_users_are_never_contacted_under_the_uplift_policy() -> None:
    lib = uplift_library()
    ids = [f"c{i:04d}" for i in range(600)]
    tiers = users([{"user_id": u, "lifecycle_stage": "dormant_medium"} for u in ids])  # coupon_ab or pack: push first
    profiles = _profiles(ids).assign(push_opt_in=[i % 3 != 0 for i in range(len(ids))])
    scorer = FixedScorer({"coupon_ab/1=big": 40.0, "coupon_ab/1=small": 40.0, "pack": 40.0})
    plan = _plan(tiers, lib, scorer, profiles=profiles).merge(profiles[["user_id", "push_opt_in"]], on="user_id")
    queued = plan.loc[plan["status"] == "queued"]
    assert len(queued) > 200 and (queued["basis"] == "model").all()
    assert queued["push_opt_in"].all() and (queued["arm"] == "treatment").all()
    refused = plan.loc[~plan["push_opt_in"] & (plan["arm"] == "treatment")]
    assert len(refused) > 100 and (refused["status"] == "cancelled").all() and (refused["reason"] == "no_consent").all()
    control = plan.loc[plan["arm"] == "control"]
    assert len(control) > 50 and (control["status"] == "holdout").all() and control["channel"].isna().all()
    assert set(control["holdout"]) == {"strategy", "global"}
