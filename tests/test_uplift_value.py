"""The value beyond 90 days on a real purchase log (CDNOW, shipped by the lifetimes package), and the
uplift learner on a real randomized campaign (Hillstrom, from the shared data folder)."""

from __future__ import annotations

import os
from datetime import date

import numpy as np
import pandas as pd
import pytest

from orchestration.evaluation.hillstrom import hillstrom_csv, load_hillstrom
from orchestration.evaluation.hillstrom_uplift import evaluate_hillstrom_uplift
from orchestration.uplift.value import fit_value_model, predict_value, purchase_summary

CALIBRATION_END = date(1997, 9, 30)


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    import lifetimes

    path = os.path.join(os.path.dirname(lifetimes.__file__), "datasets", "CDNOW_master.txt")
    orders = pd.read_csv(path, sep=r"\s+", header=0, names=["user_id", "order_date", "quantity", "revenue"],
                         dtype={"user_id": str, "order_date": str})
    return orders.assign(order_date=pd.to_datetime(orders["order_date"], format="%Y%m%d"))


def test_purchase_summary_counts_repeat_days_point_in_time() -> None:
    orders = pd.DataFrame({"user_id": ["a", "a", "a", "a", "b", "c"],
                           "order_date": ["2026-01-01", "2026-01-01", "2026-01-11", "2026-03-01", "2026-01-05", "2026-02-10"],
                           "revenue": [10.0, 5.0, 30.0, 99.0, 20.0, 7.0]})
    summary = purchase_summary(orders, date(2026, 1, 31))
    assert summary.to_dict("index") == {"a": {"frequency": 1, "recency": 10, "T": 30, "monetary_value": 30.0},
                                        "b": {"frequency": 0, "recency": 0, "T": 26, "monetary_value": 0.0}}
    with pytest.raises(ValueError, match="negative revenue"):
        purchase_summary(orders.assign(revenue=-1.0), date(2026, 1, 31))


def test_twelve_month_value_on_cdnow(cdnow: pd.DataFrame) -> None:
    summary = purchase_summary(cdnow, CALIBRATION_END)
    model = fit_value_model(summary, CALIBRATION_END)
    # Gamma-Gamma close to the published CDNOW fit (Fader & Hardie: p 6.25, q 3.74, v 15.44).
    spend = model.spend.params_
    assert spend["p"] == pytest.approx(6.25, rel=0.1) and spend["q"] == pytest.approx(3.74, rel=0.1)
    assert spend["v"] == pytest.approx(15.44, rel=0.1)
    value = predict_value(model, summary)
    later = cdnow.loc[(cdnow["order_date"] > pd.Timestamp(CALIBRATION_END))
                      & (cdnow["order_date"] <= pd.Timestamp(CALIBRATION_END) + pd.Timedelta(days=365))]
    actual = later.groupby("user_id")["revenue"].sum().reindex(summary.index).fillna(0.0)
    assert value.sum() == pytest.approx(actual.sum(), rel=0.10)  # the next year's revenue of the cohort
    assert np.corrcoef(value, actual)[0, 1] > 0.6
    # Customers who bought more often and more recently are worth more.
    assert value.groupby(summary["frequency"].clip(upper=3)).mean().is_monotonic_increasing


@pytest.mark.skipif(not hillstrom_csv().is_file(), reason=f"Hillstrom data not found at {hillstrom_csv()} "
                    "(set CHURN_RECALL_SHARED_DATA to the folder holding hillstrom/hillstrom.csv)")
def test_uplift_learner_ranks_hillstrom_visits_above_random() -> None:
    result = evaluate_hillstrom_uplift(load_hillstrom(hillstrom_csv()), outcomes=("visit",), reps=150)
    for treatment in ("womens_email", "any_email"):
        row = result.row(treatment, "visit")
        assert row["qini_low"] > 0 and row["auuc_low"] > 0, row
        # The average predicted uplift agrees with the held-out difference of means.
        assert row["effect_low"] <= row["mean_predicted_uplift"] <= row["effect_high"]
