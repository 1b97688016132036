"""Validation on simulated campaigns: the 95% intervals of cohort_metrics contain the true effect
about 95% of the time, and CUPED narrows them without moving the estimates away from the truth."""

from __future__ import annotations

import math

import pytest

from orchestration.evaluation.coverage import TRUE_EFFECT, coverage_study


def _check(replications: int, low: float, high: float) -> None:
    result = coverage_study(replications)
    print(f"\ncoverage over {result.replications} campaigns: plain {result.coverage}, CUPED {result.coverage_cuped}; "
          f"CUPED width ratio {result.width_ratio_cuped}; bias/SE {result.bias_in_se}, CUPED {result.bias_in_se_cuped}")
    assert result.replications == replications
    for metric in TRUE_EFFECT:
        assert low <= result.coverage[metric] <= high, (metric, result.coverage)
        assert low <= result.coverage_cuped[metric] <= high, (metric, result.coverage_cuped)
        # The mean estimate over R campaigns has a standard error of SE / sqrt(R): allow 4 of those.
        assert abs(result.bias_in_se[metric]) < 4 / math.sqrt(replications)
        assert abs(result.bias_in_se_cuped[metric]) < 4 / math.sqrt(replications)
        assert result.width_ratio_cuped[metric] <= 1.0
    assert result.width_ratio_cuped["revenue"] < 0.7  # revenue follows the pre-period revenue closely


def test_interval_coverage_and_cuped_on_200_campaigns() -> None:
    _check(200, 0.88, 0.995)


@pytest.mark.slow
def test_interval_coverage_on_2000_campaigns() -> None:
    _check(2000, 0.935, 0.965)
