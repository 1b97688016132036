"""Measurement (domain logic, no Dagster): per-journey outcomes as of a day, Welch lift with
95% intervals, CUPED, sample-ratio checks and cohort metrics with lift over the control arm."""

from orchestration.measurement.journeys import journeys_as_of
from orchestration.measurement.lift import LiftEstimate, compare_arms
from orchestration.measurement.metrics import METRIC_COLUMNS, cohort_metrics, cohort_metrics_by_day
from orchestration.measurement.outcomes import OUTCOME_COLUMNS, measure_outcomes, outcome_horizon_days

__all__ = ["LiftEstimate", "METRIC_COLUMNS", "OUTCOME_COLUMNS", "cohort_metrics", "cohort_metrics_by_day", "compare_arms", "journeys_as_of", "measure_outcomes",
           "outcome_horizon_days"]
