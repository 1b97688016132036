"""Tests of the early-warning evaluation: flag runs, recall, lead days, precision and the lead over silence on
hand-made tier rows; the full simulate-and-run evaluation is a slow test."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from orchestration.evaluation.early_warning import evaluate_early_warning, flag_runs, run_early_warning_evaluation

D0 = date(2026, 1, 1)


def tiers_of(user: str, stages: list[str], signals: list[str] | None = None, silent: list[int] | None = None):
    """One tier row per day from D0 for a user: stage, fired signals and silent days."""
    n = len(stages)
    return pd.DataFrame({
        "user_id": user,
        "tier_date": [D0 + timedelta(days=k) for k in range(n)],
        "lifecycle_stage": stages,
        "signals_fired": signals or [""] * n,
        "silent_days": silent or [0] * n,
    })


A, R, L, M = "active", "at_risk", "dormant_light", "dormant_medium"


@pytest.fixture()
def example() -> tuple[pd.DataFrame, pd.DataFrame]:
    # u1: signals flag on day 10, silence reaches 3 days on day 13, dormant on day 17, truly churns on day 15.
    u1 = tiers_of(
        "u1", [A] * 10 + [R] * 7 + [L] * 23,
        signals=[""] * 10 + ["login_drop,spend_drop"] * 3 + [""] * 27,
        silent=[0] * 10 + [1, 2, 0] + list(range(3, 30)),
    )
    # u2: silence-only warning from day 20 (3 silent days), churns on day 25.
    u2 = tiers_of("u2", [A] * 20 + [R] * 4 + [L] * 16, silent=[0] * 18 + list(range(1, 23)))
    # u3: churns on day 30 but is active until then: missed.
    u3 = tiers_of("u3", [A] * 40)
    # u4: a false alarm on days 5-6, never churns.
    u4 = tiers_of("u4", [A] * 5 + [R] * 2 + [A] * 33, signals=[""] * 5 + ["login_drop,depth_drop"] * 2 + [""] * 33)
    # u5: never flagged, never churns.
    u5 = tiers_of("u5", [A] * 40)
    tiers = pd.concat([u1, u2, u3, u4, u5], ignore_index=True)
    truth = pd.DataFrame({
        "user_id": ["u1", "u2", "u3", "u4", "u5"],
        "churn_date": [D0 + timedelta(days=15), D0 + timedelta(days=25), D0 + timedelta(days=30), None, None],
    })
    return tiers, truth


def test_flag_runs_start_on_the_first_flagged_day_of_each_stretch(example) -> None:
    runs = flag_runs(example[0])
    u1 = runs[runs["user_id"] == "u1"]
    assert u1["alarm"].sum() == 1 and u1.loc[u1["alarm"], "tier_date"].iloc[0] == pd.Timestamp(D0 + timedelta(days=10))
    assert (u1.loc[u1["flag"], "run_start"] == pd.Timestamp(D0 + timedelta(days=10))).all()
    assert runs[runs["user_id"] == "u4"]["alarm"].sum() == 1
    # A gap in the tier days breaks a run even when both days are flagged.
    gap = flag_runs(tiers_of("g", [R, R, R, R]).drop(index=1))
    assert gap["alarm"].tolist() == [True, True, False]


def test_recall_lead_and_lead_over_silence(example) -> None:
    table = evaluate_early_warning(*example, vertical="ecommerce", horizon_days=10)
    row = table.iloc[0]
    assert row["true_churners"] == 3 and row["flagged_before_churn"] == 2
    assert row["recall"] == pytest.approx(2 / 3)
    assert row["median_lead_days"] == pytest.approx((5 + 5) / 2)  # u1: 15-10, u2: 25-20
    assert row["at_risk_silent_days"] == 3  # inferred from silence-only at_risk rows
    # u1's run starts 3 days before its silence reaches 3 days; u2's starts with silence.
    assert row["mean_days_ahead_of_silence"] == pytest.approx((3 + 0) / 2)
    assert row["median_days_ahead_of_dormant"] == pytest.approx((7 + 4) / 2)
    assert row["flag_started_by_signals"] == pytest.approx(0.5)


def test_precision_counts_user_days_with_a_closed_horizon(example) -> None:
    tiers, truth = example
    row = evaluate_early_warning(tiers, truth, vertical="ecommerce", horizon_days=10).iloc[0]
    # Last day 39, so days 0..29 count, each only while its user has not churned yet: 15 + 25 + 30 + 30 + 30.
    # Churn within 10 days: u1 days 5..14, u2 days 15..24, u3 days 20..29.
    assert row["base_rate_10d"] == pytest.approx(30 / 130)
    # Flagged: u1 days 10..14 and u2 days 20..24 (all followed by churn), u4 days 5..6 (not).
    assert row["flagged_user_days"] == 12 and row["precision_10d"] == pytest.approx(10 / 12)
    assert row["precision_at_risk_10d"] == pytest.approx(9 / 11)  # u2 day 24 is dormant_light
    # Alarms: u1 day 10 (hit), u2 day 20 (hit), u4 day 5 (miss).
    assert row["alarms"] == 3 and row["alarm_precision_10d"] == pytest.approx(2 / 3)
    assert row["precision_lift"] == pytest.approx((10 / 12) / (30 / 130))
    short = evaluate_early_warning(tiers, truth, vertical="ecommerce", horizon_days=25).iloc[0]
    assert short["alarms"] == 2  # u2's alarm on day 20 + 25 > day 39: horizon not closed, not counted


def test_a_given_threshold_overrides_the_inferred_one(example) -> None:
    row = evaluate_early_warning(*example, vertical="game", horizon_days=10, at_risk_silent_days=5).iloc[0]
    assert row["at_risk_silent_days"] == 5 and row["vertical"] == "game"
    assert row["mean_days_ahead_of_silence"] == pytest.approx((5 + 2) / 2)


@pytest.mark.slow
@pytest.mark.parametrize("vertical", ["ecommerce", "game", "finance"])
def test_simulated_world_signals_fire_before_silence(vertical: str, tmp_path: Path) -> None:
    table = run_early_warning_evaluation(vertical, n_users=1500, n_days=90, home=tmp_path)
    row = table.iloc[0]
    print(table.T)
    assert row["true_churners"] > 20
    assert row["recall"] > 0.5
    assert row["median_lead_days"] > 0
    assert row["precision_lift"] > 1.5  # a flagged user is far likelier to churn than an average user
