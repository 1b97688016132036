"""Coverage study of the measurement: many simulated randomized campaigns with a known true effect,
measured by cohort_metrics in one call; reports how often the 95% intervals (plain and CUPED)
contain the truth, the CUPED interval width relative to the plain one, and the mean error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from orchestration.measurement.metrics import cohort_metrics

DAY = date(2026, 1, 5)
# True average effects on the outcome scale (probabilities are kept away from 0 and 1 so they are exact).
TRUE_EFFECT = {"wake_up": 0.05, "repurchase": 0.03, "revenue": 2.0}


@dataclass(frozen=True)
class CoverageResult:
    replications: int
    coverage: dict[str, float]  # metric -> share of intervals containing the truth (plain)
    coverage_cuped: dict[str, float]
    width_ratio_cuped: dict[str, float]  # mean CUPED width / mean plain width
    bias_in_se: dict[str, float]  # mean (estimate - truth) / mean SE (plain and CUPED alike should be ~0)
    bias_in_se_cuped: dict[str, float]


def simulate_campaigns(replications: int, users: int = 400, control_share: float = 0.3, seed: int = 2026) -> pd.DataFrame:
    """Outcome rows (measure_outcomes shape) of `replications` independent campaigns, one strategy each.

    Each user has a pre-period revenue x; wake-up and repurchase probabilities and the 30-day
    revenue rise with x; treatment adds TRUE_EFFECT to each (additively, no clipping).
    """
    rng = np.random.default_rng(seed)
    n = replications * users
    x = rng.gamma(1.5, 40.0, n)
    treated = rng.random(n) >= control_share
    p_wake = 0.05 + 0.3 * x / (x + 60.0)
    p_buy = 0.08 + 0.4 * x / (x + 60.0)
    woke = rng.random(n) < p_wake + TRUE_EFFECT["wake_up"] * treated
    bought = rng.random(n) < p_buy + TRUE_EFFECT["repurchase"] * treated
    revenue = 0.6 * x + rng.gamma(1.0, 15.0, n) + TRUE_EFFECT["revenue"] * treated
    rep = np.repeat(np.arange(replications), users)
    return pd.DataFrame({
        "action_id": [f"r{i}" for i in range(n)],
        "user_id": [f"u{i}" for i in range(n)],
        "strategy_id": [f"rep_{r:05d}" for r in rep],
        "arm": np.where(treated, "treatment", "control"),
        "assignment_date": DAY,
        "lifecycle_stage": "at_risk",
        "pre_period_revenue": x,
        "woke_up": woke,
        "repurchased_30d": bought,
        "revenue_30d": revenue,
        "second_churned": pd.array([pd.NA] * n, dtype="boolean"),
    })


def coverage_study(replications: int = 200, users: int = 400, control_share: float = 0.3, seed: int = 2026) -> CoverageResult:
    """Run the simulated campaigns through cohort_metrics and compare each campaign's interval with the truth."""
    outcomes = simulate_campaigns(replications, users, control_share, seed)
    design = {s: control_share for s in outcomes["strategy_id"].unique()}
    metrics = cohort_metrics(outcomes, DAY, design_control_share=design)
    rows = metrics[(metrics["cohort_level"] == "campaign") & (metrics["arm"] == "treatment")]
    result: dict[str, dict[str, float]] = {k: {} for k in ("cov", "cov_c", "ratio", "bias", "bias_c")}
    for metric, truth in TRUE_EFFECT.items():
        low, high = rows[f"{metric}_lift_ci_low"], rows[f"{metric}_lift_ci_high"]
        low_c, high_c = rows[f"{metric}_lift_cuped_ci_low"], rows[f"{metric}_lift_cuped_ci_high"]
        se, se_c = (high - low).mean() / (2 * 1.96), (high_c - low_c).mean() / (2 * 1.96)
        result["cov"][metric] = float(((low <= truth) & (truth <= high)).mean())
        result["cov_c"][metric] = float(((low_c <= truth) & (truth <= high_c)).mean())
        result["ratio"][metric] = float((high_c - low_c).mean() / (high - low).mean())
        result["bias"][metric] = float((rows[f"{metric}_lift"].mean() - truth) / se)
        result["bias_c"][metric] = float((rows[f"{metric}_lift_cuped"].mean() - truth) / se_c)
    return CoverageResult(len(rows), result["cov"], result["cov_c"], result["ratio"], result["bias"], result["bias_c"])
