"""The churn model: histogram gradient boosting (scikit-learn) on the label features, calibrated with
isotonic regression on the newest matured days, and the quality figures of its held-out test days.

Why these choices: boosting on a few dozen numeric columns needs no scaling, handles the nulls of
users without history natively and fits hundreds of thousands of rows in seconds; the boosted scores
rank well but are not probabilities, so an isotonic map fitted on days the boosting never saw turns
them into calibrated ones (monotone, so the ranking is unchanged).

The recency features are capped at the silence 99% of the training rows stay under (at least H days):
on a young app that is where its history stops (a game's first model: 14 days), on an old one it keeps
the long silences apart (CDNOW, as of 1997-09-29: 213 days; capped at H = 30 days the model's test ROC AUC
was 0.729 instead of 0.773, below recency's 0.766, because nearly every customer is silent for longer and
the ranking among them is the whole question).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from threadpoolctl import threadpool_limits

from .features import FEATURE_NAMES, MONOTONE, RECENCY

BOOSTING = {
    "max_iter": 200, "learning_rate": 0.08, "max_leaf_nodes": 31, "min_samples_leaf": 200,
    "l2_regularization": 1.0, "early_stopping": True, "validation_fraction": 0.1, "n_iter_no_change": 15,
    "random_state": 0,
}
CALIBRATION_BINS = 10
# One OpenMP thread for fitting and predicting: the pipeline shares its cores (dbt, DuckDB, other runs), and
# OpenMP's busy-waiting threads made a 40,000-row fit 13x slower (115 s against 8.8 s) on a loaded 2-core machine.
THREADS = 1
RECENCY_CAP_QUANTILE = 0.99


@dataclass(frozen=True)
class Quality:
    """How well probabilities separate and match outcomes on held-out rows."""

    rows: int
    base_rate: float
    roc_auc: float
    pr_auc: float
    brier: float
    calibration_error: float

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class ChurnModel:
    """What the registry stores: the calibrated booster and the recency cap its features were fitted with."""

    calibrated: CalibratedClassifierCV
    recency_cap: float


def matrix(frame: pd.DataFrame, recency_cap: float) -> np.ndarray:
    """The feature columns in FEATURE_NAMES order as float64 (nulls as NaN), recency capped at
    `recency_cap` (a null recency - never, or no purchase in 90 days - counts as the cap)."""
    values = frame.loc[:, list(FEATURE_NAMES)].to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    for column in (FEATURE_NAMES.index(name) for name in RECENCY):
        values[:, column] = np.minimum(np.nan_to_num(values[:, column], nan=recency_cap), recency_cap)
    return values


def recency_cap(train: pd.DataFrame, horizon_days: int) -> float:
    """The silence RECENCY_CAP_QUANTILE of the training rows stay under, and at least the horizon."""
    return float(max(horizon_days, np.quantile(train["silent_days"].to_numpy(dtype=float), RECENCY_CAP_QUANTILE)))


def fit_model(train: pd.DataFrame, calibration: pd.DataFrame, horizon_days: int) -> ChurnModel:
    """Boosting fitted on `train`, isotonic calibration fitted on `calibration` (days the boosting never saw)."""
    cap = recency_cap(train, horizon_days)
    features = matrix(train, cap)
    # scikit-learn 1.9.1 cannot bin a feature without any value (e.g. balances in an app without one); such a
    # column carries no information, so it is fitted as zeros (scoring rows keep their nulls)
    features[:, np.isnan(features).all(axis=0)] = 0.0
    with threadpool_limits(limits=THREADS, user_api="openmp"):
        booster = HistGradientBoostingClassifier(**BOOSTING, monotonic_cst=list(MONOTONE))
        booster.fit(features, train["churned"].to_numpy(dtype=bool))
        calibrated = CalibratedClassifierCV(FrozenEstimator(booster), method="isotonic")
        calibrated.fit(matrix(calibration, cap), calibration["churned"].to_numpy(dtype=bool))
    return ChurnModel(calibrated, cap)


def churn_probability(model: ChurnModel, frame: pd.DataFrame) -> np.ndarray:
    """P(churned) per row of `frame`."""
    if frame.empty:
        return np.empty(0)
    churned_column = list(model.calibrated.classes_).index(True)
    with threadpool_limits(limits=THREADS, user_api="openmp"):
        return model.calibrated.predict_proba(matrix(frame, model.recency_cap))[:, churned_column]


def calibration_error(probability: np.ndarray, outcome: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Expected calibration error: |mean probability - outcome rate| over equal-count bins of the
    probability, weighted by bin size (0 = perfectly calibrated)."""
    order = np.argsort(probability, kind="stable")
    gaps = [abs(probability[part].mean() - outcome[part].mean()) * len(part)
            for part in np.array_split(order, min(bins, len(order))) if len(part)]
    return float(sum(gaps) / len(order))


def quality(probability: np.ndarray, outcome: np.ndarray) -> Quality:
    """ROC AUC, PR AUC (average precision), Brier score and calibration error of probabilities."""
    outcome = np.asarray(outcome, dtype=bool)
    return Quality(
        rows=int(len(outcome)),
        base_rate=float(outcome.mean()),
        roc_auc=float(roc_auc_score(outcome, probability)),
        pr_auc=float(average_precision_score(outcome, probability)),
        brier=float(brier_score_loss(outcome, probability)),
        calibration_error=calibration_error(np.asarray(probability, dtype=float), outcome.astype(float)),
    )
