"""Decisions by expected incremental profit: the arithmetic, the choice, service strategies,
exploration, the rules fallback, the budget fill by profit per unit of the scarcest limit, and a policy that knows
the effects (or learned them) earning more than the rules on a synthetic randomized world."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from orchestration.recall.actions import match_strategies
from orchestration.recall.assignment import assign_arm
from orchestration.uplift.decisions import DECISION_COLUMNS, DecisionInputs, decide, decide_by_risk
from orchestration.uplift.synthetic import TrueEffectScorer, synthetic_history, synthetic_tiers, true_effects
from orchestration.uplift.training import TrainingConfig, train_uplift_models
from orchestration.uplift.treatments import library_treatments
from tests.uplift_fixtures import FixedScorer, uplift_library, users

DAY = date(2026, 4, 1)
SEND_DAY = "2026-04-02"  # the planner draws a journey's arm per send day (DAY + 1)


def _decide(tiers: pd.DataFrame, lib=None, scorer=None, **inputs) -> pd.DataFrame:
    return decide(DecisionInputs(day=DAY, tiers=tiers, vertical="ecommerce", **inputs), lib or uplift_library(), scorer).set_index("user_id")


def _treated_users(strategy: str, n: int, lib) -> list[str]:
    """Users the strategy's holdout and the global holdout leave in the treatment arm."""
    from orchestration.recall.assignment import in_global_holdout

    ids = pd.Series([f"t{i:04d}" for i in range(400)])
    s = lib.get(strategy)
    keep = (assign_arm(ids, s.id, s.holdout_share, lib.salt, SEND_DAY) == "treatment").to_numpy() & ~in_global_holdout(ids, lib.global_holdout_share, lib.salt)
    return ids[keep].head(n).tolist()


def test_expected_profit_is_uplift_times_margin_minus_costs() -> None:
    scorer = FixedScorer({"coupon_ab/1=big": 20.0, "coupon_ab/1=small": 8.0, "pack": 9.0, "care": 1.0})
    row = _decide(users([{"user_id": "u1"}]), scorer=scorer).loc["u1"]
    # margin 0.5: big 10 - 0.06 - 20 x 0.3 x 0.5 = 6.94; small 4 - 0.06 - 4.5; pack 4.5 - 4.01; care 0.5 - 0.011.
    assert (row["decision"], row["basis"], row["reason"]) == ("treat", "model", "best_expected_profit")
    assert (row["strategy_id"], row["treatment_key"]) == ("coupon_ab", "coupon_ab/1=big")
    assert row["expected_profit"] == pytest.approx(20 * 0.5 - 0.06 - 3.0)
    assert (row["expected_margin"], row["uplift_revenue"], row["contact_cost"], row["benefit_cost"]) == pytest.approx((10, 20, 0.06, 3))
    assert row["profit_per_cost"] == pytest.approx(6.94 / 3.06)
    assert row["uplift_wake_up"] == pytest.approx(2.0) and row["objective"] == "margin_90d"
    assert row["treatments_considered"] == 4 and row["uplift_model_version"] == "fixed-test"
    # The same scores at another margin change the choice: at 10% only the care message pays.
    cheap = uplift_library(**{"margin_rate: {default: 0.5}": "margin_rate: {default: 0.1}"})
    assert _decide(users([{"user_id": "u1"}]), cheap, scorer).at["u1", "treatment_key"] == "care"


def test_nobody_is_contacted_when_no_treatment_pays() -> None:
    scorer = FixedScorer({"coupon_ab/1=big": -5.0, "coupon_ab/1=small": 2.0, "pack": 0.0, "care": 0.01},
                         per_user={("rich", "care"): 3.0})
    decided = _decide(users([{"user_id": "dog"}, {"user_id": "rich"}]), scorer=scorer)
    assert decided.loc["dog", ["decision", "basis", "reason"]].tolist() == ["none", "model", "no_profitable_treatment"]
    assert pd.isna(decided.at["dog", "strategy_id"]) and pd.isna(decided.at["dog", "arm"])
    assert decided.loc["rich", ["decision", "treatment_key"]].tolist() == ["treat", "care"]
    # An operator's minimum profit per contact raises the bar.
    strict = uplift_library(**{"decision: {exploration_share: 0.0}": "decision: {exploration_share: 0.0, min_expected_profit: 2.0}"})
    assert _decide(users([{"user_id": "rich"}]), strict, scorer).at["rich", "decision"] == "none"


def test_without_a_mature_model_the_rules_decide_and_say_so() -> None:
    lib = uplift_library()
    rng = np.random.default_rng(1)
    tiers = users([{"user_id": f"u{i:04d}", "lifecycle_stage": stage}
                   for i, stage in enumerate(rng.choice(["at_risk", "dormant_light", "dormant_medium", "active"], 600))])
    decided = _decide(tiers, lib)
    rules = dict(zip(tiers["user_id"], match_strategies(tiers, lib, DAY + pd.Timedelta(days=1), "ecommerce")))
    assert set(decided["basis"]) == {"rules"} and set(decided["reason"]) == {"no_mature_model"}
    assert decided["strategy_id"].to_dict() == {u: s for u, s in rules.items() if isinstance(s, str)}
    assert decided["uplift_model_version"].isna().all() and decided["expected_profit"].isna().all()
    # The rules' variants are the planner's hash draw, recorded as the treatment key.
    coupon = decided[decided["strategy_id"] == "coupon_ab"]
    assert set(coupon["treatment_key"]) == {"coupon_ab/1=big", "coupon_ab/1=small"}
    # A model that knows only some treatments: users with none of them keep the rules.
    partial = _decide(tiers, lib, FixedScorer({"care": 5.0}))
    assert set(partial.loc[partial["basis"] == "rules", "reason"]) == {"treatment_not_modelled"}
    assert (partial.loc[tiers.set_index("user_id").loc[partial.index, "lifecycle_stage"].eq("dormant_medium"), "basis"] == "rules").all()
    assert (partial.loc[partial["basis"] == "model", "treatment_key"] == "care").all()


def test_service_strategies_come_first_whatever_the_model_says() -> None:
    scorer = FixedScorer({"coupon_ab/1=big": 50.0, "coupon_ab/1=small": 1.0, "pack": 1.0, "care": 1.0, "guard": -10.0})
    decided = _decide(users([{"user_id": "g", "signals_fired": "device_change"}]), scorer=scorer)
    assert decided.loc["g", ["strategy_id", "basis", "reason", "decision"]].tolist() == ["guard", "service", "service_strategy", "treat"]


def test_exploration_is_a_stable_keyed_share_over_allowed_treatments() -> None:
    lib = uplift_library(**{"decision: {exploration_share: 0.0}": "decision: {exploration_share: 0.2}"})
    tiers = users([{"user_id": f"e{i:05d}"} for i in range(5000)])
    scorer = FixedScorer({"coupon_ab/1=big": 20.0, "coupon_ab/1=small": 1.0, "pack": 1.0, "care": -1.0})
    first = _decide(tiers, lib, scorer)
    explored = first["basis"] == "exploration"
    assert 0.18 < explored.mean() < 0.22 and (first.loc[explored, "reason"] == "exploration").all()
    # Explorers draw uniformly among their four treatments, the unprofitable care message included.
    shares = first.loc[explored, "treatment_key"].value_counts(normalize=True)
    assert set(shares.index) == {"coupon_ab/1=big", "coupon_ab/1=small", "pack", "care"} and shares.min() > 0.2
    assert (first.loc[~explored, "treatment_key"] == "coupon_ab/1=big").all()
    # Stable: the same day gives the same draw in any order; another day draws other users.
    again = _decide(tiers.sample(frac=1, random_state=5), lib, scorer)
    pd.testing.assert_frame_equal(first.sort_index(), again.sort_index())
    later = decide(DecisionInputs(day=date(2026, 4, 2), tiers=tiers, vertical="ecommerce"), lib, scorer).set_index("user_id")
    assert 0.1 < ((later["basis"] == "exploration") != explored).mean() < 0.5


def test_budgets_fill_by_profit_with_a_second_chance() -> None:
    # Push holds 3 contacts' budget; in_app is free of limits. Controls cost nothing.
    lib = uplift_library(**{"    push: {cost: 0.01}": "    push: {cost: 0.01, daily_budget: 0.03}"})
    ids = _treated_users("pack", 6, lib)
    tiers = users([{"user_id": u, "lifecycle_stage": "at_risk"} for u in ids])  # allowed: pack (push), care (in_app)
    pack_uplift = dict(zip(ids, [20.0, 30.0, 40.0, 50.0, 60.0, 9.0]))
    scorer = FixedScorer({"pack": 0.0, "care": 0.1}, per_user={**{(u, "pack"): v for u, v in pack_uplift.items()},
                                                               (ids[5], "care"): -1.0})
    decided = _decide(tiers, lib, scorer)
    assert set(decided.loc[decided["treatment_key"] == "pack"].index) == set(ids[2:5])  # the three most profitable
    # The others fall back to their next best treatment on a channel with room (care, in the app),
    # unless it does not pay: then none, because of the budget.
    assert decided.loc[ids[:2], "treatment_key"].tolist() == ["care", "care"]
    assert decided.loc[ids[5], ["decision", "reason"]].tolist() == ["none", "over_budget"]
    # Budget already taken by continuing journeys' steps on the send day comes first.
    committed = pd.DataFrame({"channel": ["push", "push"], "cost": [0.01, 0.01]})
    fewer = _decide(tiers, lib, scorer, committed=committed)
    assert set(fewer.loc[fewer["treatment_key"] == "pack"].index) == {ids[4]}
    # Users who cannot be reached on the push (no opt-in) use no push budget: the three reachable ones all fit.
    # Ranked where a contact would not have fitted, an unreachable user is cut all the same (as a control there
    # is): what the cut keeps must not depend on the user's own arm or reach.
    opted = pd.DataFrame({"user_id": ids, "push_opt_in": [True] * 3 + [False] * 3, "sms_opt_in": True, "call_opt_in": True})
    reach = _decide(tiers, lib, scorer, users=opted)
    assert set(reach.loc[reach["treatment_key"] == "pack"].index) == set(ids[:5])
    assert reach.loc[ids[5], ["decision", "reason"]].tolist() == ["none", "over_budget"]


def test_a_binding_capacity_goes_to_the_most_profit_per_contact() -> None:
    # Push serves 3 contacts a day. A slot is one contact whatever it costs, so users whose pack earns 10.99 after
    # its gift (uplift 30 x margin 0.5 - 0.01 - 4) come before users whose near-free care message earns 4.99, though
    # the message earns far more per unit of cost (499 against 2.7).
    care_on_push = {"      - {channel: in_app, delay_hours: 0, template: care_inapp}\n      - {channel: push, delay_hours: 24, template: care_push}":
                    "      - {channel: push, delay_hours: 0, template: care_push}"}
    lib = uplift_library(**{"    push: {cost: 0.01}": "    push: {cost: 0.01, daily_capacity: 3}"}, **care_on_push)
    both = [u for u in _treated_users("pack", 40, lib) if u in set(_treated_users("care", 40, lib))][:6]
    pack_users, care_users = both[:3], both[3:]
    scores = {**{(u, "pack"): 30.0 for u in pack_users}, **{(u, "care"): -1.0 for u in pack_users},
              **{(u, "pack"): -10.0 for u in care_users}, **{(u, "care"): 10.0 for u in care_users}}
    decided = _decide(users([{"user_id": u, "lifecycle_stage": "at_risk"} for u in both]), lib,
                      FixedScorer({"pack": 0.0, "care": 0.0}, per_user=scores))
    assert decided.loc[pack_users, "treatment_key"].tolist() == ["pack"] * 3
    assert decided.loc[care_users, ["decision", "reason"]].values.tolist() == [["none", "over_capacity"]] * 3


def test_controls_use_no_budget_and_get_the_planners_arm() -> None:
    lib = uplift_library(**{"    push: {cost: 0.01}": "    push: {cost: 0.01, daily_capacity: 5}"})
    tiers = users([{"user_id": f"c{i:04d}", "lifecycle_stage": "at_risk"} for i in range(300)])
    decided = _decide(tiers, lib, FixedScorer({"pack": 20.0, "care": -1.0}))
    served = decided[decided["decision"] == "treat"]
    assert (served["arm"] == "treatment").sum() == 5
    expected = assign_arm(pd.Series(served.index), "pack", 0.2, lib.salt, SEND_DAY).to_numpy().copy()
    from orchestration.recall.assignment import in_global_holdout
    expected[in_global_holdout(pd.Series(served.index), 0.05, lib.salt)] = "control"
    assert served["arm"].tolist() == expected.tolist()
    assert (decided.loc[decided["decision"] == "none", "reason"] == "over_capacity").all()


def test_targeting_by_risk_serves_the_likeliest_to_churn_first() -> None:
    lib = uplift_library(**{"    push: {cost: 0.01}": "    push: {cost: 0.01, daily_capacity: 3}"})
    ids = _treated_users("coupon_ab", 8, lib)
    tiers = users([{"user_id": u, "churn_probability": p} for u, p in zip(ids, [0.9, 0.2, 0.8, 0.1, 0.7, 0.3, 0.6, 0.5])])
    decided = decide(DecisionInputs(day=DAY, tiers=tiers, vertical="ecommerce"), lib).set_index("user_id")
    by_risk = decide_by_risk(DecisionInputs(day=DAY, tiers=tiers, vertical="ecommerce"), lib).set_index("user_id")
    # The rules' strategy for everyone; the three push contacts go to the highest churn probabilities.
    assert (by_risk["strategy_id"].dropna() == "coupon_ab").all() and set(by_risk["basis"]) == {"risk"}
    assert set(by_risk.index[by_risk["decision"] == "treat"]) == {ids[0], ids[2], ids[4]}
    assert set(by_risk.loc[by_risk["decision"] == "none", "reason"]) == {"over_capacity"}
    # The rules decision leaves the cut to the planner's guardrails (by priority and expected value).
    assert (decided["decision"] == "treat").all()
    with pytest.raises(ValueError, match="risk score column 'churn_probability'"):
        decide_by_risk(DecisionInputs(day=DAY, tiers=tiers.drop(columns="churn_probability"), vertical="ecommerce"), lib)


def test_decisions_have_their_columns_and_fail_clearly() -> None:
    assert list(_decide(users([{"user_id": "u"}])).reset_index().columns) == DECISION_COLUMNS
    assert _decide(users([{"user_id": "u", "lifecycle_stage": "active"}])).empty
    with pytest.raises(ValueError, match="one row per user"):
        _decide(users([{"user_id": "u"}, {"user_id": "u"}]))


# --- profit against the truth -----------------------------------------------------------------------


def _true_profit(decided: pd.DataFrame, tiers: pd.DataFrame, lib, basis: tuple[str, ...] = ("service", "model", "rules", "exploration")
                 ) -> tuple[float, float, int]:
    """(true incremental profit, share of contacted users with a negative true effect, contacts),
    over the contacts chosen on `basis`."""
    treatments = library_treatments(lib)
    contacted = decided[(decided["decision"] == "treat") & (decided["arm"] == "treatment") & decided["basis"].isin(basis)]
    rows = tiers.set_index("user_id").loc[contacted.index].reset_index()
    effect = np.zeros(len(rows))
    for key, index in rows.groupby(contacted["treatment_key"].to_numpy()).groups.items():
        effect[index] = true_effects(rows.loc[index], treatments[key], lib)["revenue_90d"]
    profit = effect * 0.5 - contacted["contact_cost"].to_numpy() - contacted["benefit_cost"].to_numpy()
    return float(profit.sum()), float((effect < 0).mean()), len(contacted)


def test_choosing_by_profit_beats_the_rules_against_the_truth() -> None:
    lib = uplift_library()
    tiers = synthetic_tiers(6000, seed=21)
    tiers = tiers[tiers["lifecycle_stage"] != "active"].reset_index(drop=True)
    rules = _decide(tiers, lib)
    oracle = _decide(tiers, lib, TrueEffectScorer(lib))
    training, _ = synthetic_history(lib, 24_000, date(2026, 1, 1), seed=8)
    learned = _decide(tiers, lib, train_uplift_models(training, lib, date(2026, 3, 31), TrainingConfig(bootstrap_reps=0)))
    (rules_profit, rules_harm, _), (oracle_profit, oracle_harm, _), (learned_profit, learned_harm, _) = (
        _true_profit(d, tiers, lib) for d in (rules, oracle, learned))
    assert oracle_profit > learned_profit > 1.3 * rules_profit > 0
    assert learned_harm < rules_harm
    # Knowing the effects, only the service message (applied whatever it earns) reaches a user it hurts.
    assert _true_profit(oracle, tiers, lib, basis=("model",))[1] == 0 and oracle_harm > 0


def test_rules_choices_for_unmodelled_treatments_get_what_the_model_leaves() -> None:
    # Push carries 3 contacts. A mature model covers coupon_ab only; at-risk users are allowed pack and care,
    # neither modelled, so the rules choose for them (pack first by priority, on push too): they must not
    # crowd out the model's picks.
    lib = uplift_library(**{"    push: {cost: 0.01}": "    push: {cost: 0.01, daily_capacity: 3}"})
    modelled = _treated_users("coupon_ab", 3, lib)
    tiers = users([{"user_id": u, "lifecycle_stage": "dormant_medium"} for u in modelled]
                  + [{"user_id": f"r{i}", "lifecycle_stage": "at_risk"} for i in range(6)])
    decided = _decide(tiers, lib, FixedScorer({"coupon_ab/1=big": 40.0, "coupon_ab/1=small": 40.0}))
    assert (decided.loc[modelled, "basis"] == "model").all() and (decided.loc[modelled, "decision"] == "treat").all()
    rules = decided.loc[[f"r{i}" for i in range(6)]]
    assert (rules["basis"] == "rules").all()
    # Push is full with the model's three: every rules user who would be sent on push waits, as over capacity.
    sent = rules.loc[(rules["decision"] == "treat") & (rules["arm"] == "treatment")]
    assert sent.empty and (rules["reason"] == "over_capacity").sum() >= 3


def test_controls_below_the_budget_cut_are_not_kept() -> None:
    # Push carries 5 contacts and 300 users want pack: the control arm must come from the same top of the
    # ranking as the served users, not from everyone the budget turned away.
    lib = uplift_library(**{"    push: {cost: 0.01}": "    push: {cost: 0.01, daily_capacity: 5}"})
    ids = [f"k{i:04d}" for i in range(300)]
    tiers = users([{"user_id": u, "lifecycle_stage": "at_risk"} for u in ids])
    scorer = FixedScorer({"pack": 0.0, "care": -5.0}, per_user={(u, "pack"): 10.0 + i for i, u in enumerate(ids)})
    decided = _decide(tiers, lib, scorer)
    served = decided[decided["decision"] == "treat"]
    treated, control = served[served["arm"] == "treatment"], served[served["arm"] == "control"]
    assert len(treated) == 5
    # Every kept control ranks above the best treated user who was turned away.
    turned_away = decided.loc[decided["reason"] == "over_capacity", "expected_profit"]
    assert len(control) < 5 and (control["expected_profit"] > turned_away.max()).all()


def test_exploration_takes_at_most_its_share_of_a_channels_capacity() -> None:
    # 40% explore (pack or care); push carries 10: exploration may use 4 of them, the model's pick the rest.
    lib = uplift_library(**{"    push: {cost: 0.01}": "    push: {cost: 0.01, daily_capacity: 10}",
                            "decision: {exploration_share: 0.0}": "decision: {exploration_share: 0.4}"})
    ids = [f"x{i:04d}" for i in range(400)]
    tiers = users([{"user_id": u, "lifecycle_stage": "dormant_medium"} for u in ids])  # coupon_ab and pack: push
    decided = _decide(tiers, lib, FixedScorer({"coupon_ab/1=big": 30.0, "coupon_ab/1=small": 5.0, "pack": 1.0}))
    sent = decided[(decided["decision"] == "treat") & (decided["arm"] == "treatment")]
    assert (sent["basis"] == "exploration").sum() == 4 and (sent["basis"] == "model").sum() == 6
    # The explorers who did not fit are turned away at random, and their controls with them.
    explorers = decided[decided["basis"] == "exploration"]
    assert (explorers["reason"] == "over_capacity").sum() > 100
    assert (explorers["arm"] == "control").sum() < 4
