"""The policy comparison: its arithmetic on hand-made journeys (fast), and a small comparison against the
simulated app (slow): the profit policy earns at least 1.3x the rules' true incremental profit, contacts a
smaller share of users whose true effect is negative, and no policy breaks a guardrail."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import yaml

from orchestration.config import DEFAULT_STRATEGIES
from orchestration.evaluation.policies import (
    ComparisonConfig, PolicyResult, comparison_library, journey_profits, ratio_line, summarize,
)
from orchestration.recall import parse_strategy_library


def _library():
    return parse_strategy_library(yaml.safe_dump(comparison_library(DEFAULT_STRATEGIES, ComparisonConfig(users=4000))))


def test_the_comparison_library_binds_every_channel_to_the_same_capacity() -> None:
    config = ComparisonConfig(users=6000)
    library = parse_strategy_library(yaml.safe_dump(comparison_library(DEFAULT_STRATEGIES, config, exploration=0.4)))
    assert {c.daily_capacity for c in library.guardrails.channels.values()} == {30}
    assert all(c.daily_budget is None for c in library.guardrails.channels.values())
    decision = library.economics.decision
    assert (decision.exploration_share, decision.objective, decision.min_treated_journeys) == (0.4, "margin_30d", 60)


def test_profit_counts_the_true_effect_at_margin_minus_what_was_spent() -> None:
    library = _library()
    margin = library.economics.margin_for("ecommerce")
    journeys = pd.DataFrame({
        "journey_id": ["j1", "j2", "j3", "j4"], "user_id": ["a", "b", "c", "d"], "cost": [0.04, 0.001, 0.0, 1.2],
        "benefit": ["personal_coupon", None, None, "exclusive_benefit_pack"], "coupon_value": [10.0, None, None, 30.0],
        "sent": [True, True, False, True], "coupon_redeemed": [True, False, False, False]})
    truth = pd.DataFrame({"journey_id": ["j1", "j2", "j4"], "y0_revenue_30d": [50.0, 80.0, 0.0],
                          "y1_revenue_30d": [90.0, 60.0, 0.0], "contacted": [True, True, True]})
    out = journey_profits(journeys, truth, library, margin).set_index("journey_id")
    assert out.at["j1", "profit"] == pytest.approx(margin * 40 - 0.04 - 10 * (1 - margin))
    assert out.at["j2", "profit"] == pytest.approx(margin * -20 - 0.001)
    assert out.at["j3", "effect"] == 0 and out.at["j3", "profit"] == 0  # never reached the world: touched nobody
    assert out.at["j4", "profit"] == pytest.approx(-1.2 - 6.0)  # the gift pack's unit cost once sent
    result = summarize("uplift", out.reset_index(), contacts=5, violations=0, reps=500)
    assert result.profit == pytest.approx(out["profit"].sum()) and result.low <= result.profit <= result.high
    assert result.contacted_users == 3 and result.negative_share == pytest.approx(1 / 3)
    # An outcome not final yet is an error, not a zero.
    with pytest.raises(ValueError, match="no final 30-day outcome"):
        journey_profits(journeys, truth.assign(y1_revenue_30d=[90.0, None, 0.0]), library, margin)


def test_the_last_line_is_the_ratio_of_the_profit_policy_to_the_rules() -> None:
    def result(policy: str, profit: float) -> PolicyResult:
        return PolicyResult(policy, profit, profit - 1, profit + 1, 10, 10, 10, 0.1, 0)

    assert ratio_line({"rules": result("rules", 40.0), "uplift": result("uplift", 58.0)}) == \
        "uplift/risk-only incremental profit ratio: 1.45"
    # No ratio when the rules earned nothing.
    assert math.isnan(float(ratio_line({"rules": result("rules", -3.0), "uplift": result("uplift", 5.0)}).split(": ")[1]))


def test_the_command_states_the_comparisons_defaults(capsys) -> None:
    from orchestration.cli import main

    with pytest.raises(SystemExit):
        main(["compare-policies", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    defaults = ComparisonConfig()
    for stated in (f"(default {defaults.users:,})", f"(default {defaults.seed})",
                   f"(default {defaults.learn_days})", f"(default {defaults.eval_days})"):
        assert stated in text
