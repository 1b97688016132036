"""Validation on real data: the Hillstrom e-mail campaign, imported into the input contracts and measured
by the pipeline's own code, reproduces the data's known arm differences, and its intervals agree
with a Welch t-test computed here independently with scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from orchestration.evaluation.hillstrom import CONTROL_ARM, SHARED_DATA_ENV, hillstrom_csv, load_hillstrom, measure_hillstrom, to_contracts

# Published arm differences (treatment minus No E-Mail), visit in points and spend in dollars per customer.
KNOWN = {"mens_email": ("Mens E-Mail", 7.66, 0.770), "womens_email": ("Womens E-Mail", 4.52, 0.424)}


@pytest.fixture(scope="module")
def hillstrom() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    path = hillstrom_csv()
    if not path.is_file():
        pytest.skip(f"Hillstrom data missing: {path} does not exist; set {SHARED_DATA_ENV} to the folder "
                    f"that holds hillstrom/hillstrom.csv")
    raw = load_hillstrom(path)
    outcomes, metrics = measure_hillstrom(to_contracts(raw))
    return raw, outcomes, metrics


def _campaign_row(metrics: pd.DataFrame, strategy: str) -> pd.Series:
    rows = metrics[(metrics["cohort_level"] == "campaign") & (metrics["strategy_id"] == strategy) & (metrics["arm"] == "treatment")]
    assert len(rows) == 1
    return rows.iloc[0]


def test_contracts_and_outcome_windows(hillstrom) -> None:
    raw, outcomes, _ = hillstrom
    n_control = int((raw["segment"] == CONTROL_ARM).sum())
    assert len(outcomes) == len(raw) + n_control  # control customers are the control of both strategies
    assert outcomes[["woke_up_mature", "repurchased_30d_mature"]].all().all()
    assert not outcomes["revenue_90d_mature"].any()
    # Visitors returned on A: their second churn is not observed by the data; the others never returned.
    returned = outcomes["return_date"].notna()
    assert (returned == outcomes["woke_up"]).all()  # a visit is a key action on A
    assert outcomes.loc[returned, "second_churned"].isna().all() and not outcomes.loc[~returned, "second_churned"].any()
    assert outcomes["revenue_30d"].sum() == pytest.approx(raw["spend"].sum() + raw.loc[raw["segment"] == CONTROL_ARM, "spend"].sum())


@pytest.mark.parametrize("strategy", sorted(KNOWN))
def test_lifts_reproduce_the_known_arm_differences(hillstrom, strategy: str) -> None:
    raw, _, metrics = hillstrom
    arm, visit_points, spend = KNOWN[strategy]
    row = _campaign_row(metrics, strategy)
    assert round(row["wake_up_lift"] * 100, 2) == visit_points
    assert round(row["revenue_lift"], 3) == spend
    assert not row["srm_alarm"] and row["trustworthy"] and not row["small_cohort"]
    treated, control = raw[raw["segment"] == arm], raw[raw["segment"] == CONTROL_ARM]
    for metric, column in (("wake_up", "visit"), ("repurchase", "conversion"), ("revenue", "spend")):
        welch = stats.ttest_ind(treated[column], control[column], equal_var=False)
        low, high = welch.confidence_interval(0.95)
        diff = treated[column].mean() - control[column].mean()
        assert row[f"{metric}_lift"] == pytest.approx(diff, rel=1e-9)
        # Normal (1.96) versus Welch t quantile with ~40,000 df: equal to 1e-4 of the half-width.
        half = (high - low) / 2
        assert abs(row[f"{metric}_lift_ci_low"] - low) < 1e-3 * half
        assert abs(row[f"{metric}_lift_ci_high"] - high) < 1e-3 * half
        assert row[f"{metric}_p_value"] == pytest.approx(welch.pvalue, rel=0.02, abs=1e-12)


def test_cuped_on_past_year_spend_keeps_the_estimate_and_does_not_widen(hillstrom) -> None:
    _, _, metrics = hillstrom
    for strategy in KNOWN:
        row = _campaign_row(metrics, strategy)
        width = row["revenue_lift_ci_high"] - row["revenue_lift_ci_low"]
        cuped_width = row["revenue_lift_cuped_ci_high"] - row["revenue_lift_cuped_ci_low"]
        assert cuped_width <= width
        assert abs(row["revenue_lift_cuped"] - row["revenue_lift"]) < 0.1 * width


def test_breakdowns_cover_every_customer(hillstrom) -> None:
    raw, _, metrics = hillstrom
    for level in ("lifecycle_stage", "value_tier", "segment"):
        rows = metrics[(metrics["cohort_level"] == level) & (metrics["arm"] == "treatment") & (metrics["strategy_id"] == "mens_email")]
        assert rows["users"].sum() == (raw["segment"] == "Mens E-Mail").sum(), level
        assert rows["wake_up_lift_ci_low"].notna().all() and np.isfinite(rows["srm_p_value"]).all()
