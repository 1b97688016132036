"""A small policy comparison against the simulated app (slow: about a quarter of the default size): targeting
by expected incremental profit earns at least 1.3x the rules' true incremental profit at the same daily capacity,
contacts a smaller share of users whose true effect is negative, and no policy breaks a guardrail."""

from __future__ import annotations

import pytest

from orchestration.evaluation.policies import ComparisonConfig
from orchestration.runner import compare_policies_in_process

pytestmark = pytest.mark.slow


# Measured shortfall (docs/recall.md, "Comparing policies"): at this size the profit policy earned -13.0
# [-51.4, 43.3] against the rules' 64.6 [-30.4, 192.3], neither contacting a user with a negative true effect.
# Strict: the day it passes, the mark must go.
@pytest.mark.xfail(strict=True, reason="measured shortfall: uplift/risk-only ratio below 1.3 at 1,500 users")
def test_profit_targeting_beats_the_rules_against_the_simulated_app(tmp_path) -> None:
    config = ComparisonConfig(users=1500, learn_days=10, eval_days=3, bootstrap_reps=200)
    results = compare_policies_in_process(tmp_path, config, say=lambda line: None)
    rules, uplift = results["rules"], results["uplift"]
    assert all(r.violations == 0 for r in results.values())
    assert all(r.contacts <= config.capacity * 4 * config.eval_days for r in results.values())  # the same budgets
    assert rules.profit > 0 and uplift.profit >= 1.3 * rules.profit
    assert uplift.negative_share < rules.negative_share
