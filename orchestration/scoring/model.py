"""The churn model: histogram gradient boosting (scikit-learn) on the label features, calibrated with
isotonic regression on the newest matured days, and the quality figures of its held-out test days.

Why these choices: boosting on a few dozen numeric columns needs no scaling, handles the nulls of
users without history natively and fits hundreds of thousands of rows in seconds; the boosted scores
rank well but are not probabilities, so an isotonic map of the booster's decision function, fitted on
days the boosting never saw, turns them into calibrated ones. The isotonic map is a step function: it
would tie every user of a step, and a day's top decile or at_risk volume would then be cut inside a
step by user id. So the booster's own score breaks those ties (TIE_BREAK: a millionth of the
probability, far below any calibration figure): the ranking stays the booster's (on the simulated
shop the top decile's precision was 0.796 ranked by the booster against 0.780 by the tied steps;
finance 0.664 against 0.656). Users the booster itself cannot tell apart - on a game, every player
silent past the recency cap with no activity left - are ordered by their uncapped silence.

The recency features are capped at the silence 99% of the training rows stay under (at least H days):
on a young app that is where its history stops (a game's first model: 14 days), on an old one it keeps
the long silences apart (CDNOW, as of 1997-09-29: 213 days; capped at H = 30 days the model's test ROC AUC
was 0.729 instead of 0.773, below recency's 0.766, because nearly every customer is silent for longer and
the ranking among them is the whole question).

The newest matured day is still H days older than the cut-off, and the model scores the week after it:
on an app whose users age the outcome rate drifts meanwhile (a simulated shop's probabilities ran 4-8
points under the observed rate; calibrating on 14 days instead of 7, or on the test days too, made it
worse: 0.058 and 0.065 against 0.053). So the calibrated probabilities are shifted in log-odds by what
the newest week with a known short outcome says (prior_shift): the calibrated model's probability, mapped
by isotonic regression to the short outcome on the calibration slice, predicts that outcome's rate on
the recent slice; the log-odds shift that makes it match the observed rate is applied to the churn
probability too (the assumption: the drift the features do not explain moves both outcomes' log-odds
alike). Refitting the simulated worlds' weekly models offline with and without it, it took the scored
days' calibration error from 0.053 to 0.033 (shop), 0.036 to 0.027 (bank) and 0.017 to 0.013 (game),
the ranking unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit, logit
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from orchestration.config.threads import fitting_threads, predict_side_by_side

from .features import FEATURE_NAMES, MONOTONE, RECENCY

BOOSTING = {
    "max_iter": 200, "learning_rate": 0.08, "max_leaf_nodes": 31, "min_samples_leaf": 200,
    "l2_regularization": 1.0, "early_stopping": True, "validation_fraction": 0.1, "n_iter_no_change": 15,
    "random_state": 0,
}
CALIBRATION_BINS = 10
RECENCY_CAP_QUANTILE = 0.99
# the prior shift: at most this many log-odds either way (measured: -0.14 to +0.49 on the simulated worlds,
# -0.27 to -0.21 on CDNOW), and nothing without this
# many recent rows of each short outcome
MAX_PRIOR_SHIFT = 1.0
MIN_SHIFT_CLASS_ROWS = 30
# probabilities are kept this far inside (0, 1) before a shift in log-odds
EPSILON = 1e-9
# the weight of the booster's score in the probability: it only orders the users of one isotonic step
TIE_BREAK = 1e-6
# the weight of log(1 + silent days) next to the booster's score (log-odds) in that order: it only orders
# users whose scores are equal or nearly so
SILENCE_TIE = 1e-4


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
    """What the registry stores: the booster, the isotonic map of its decision function to the probability,
    the recency cap its features were fitted with and the log-odds shift towards the recent days."""

    booster: HistGradientBoostingClassifier
    isotonic: IsotonicRegression
    recency_cap: float
    prior_shift: float = 0.0


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


def fit_model(train: pd.DataFrame, calibration: pd.DataFrame, horizon_days: int,
              recent: pd.DataFrame | None = None) -> ChurnModel:
    """Boosting fitted on `train`, isotonic calibration fitted on `calibration` (days the boosting never saw),
    shifted towards `recent` (prior_shift; not shifted without it)."""
    cap = recency_cap(train, horizon_days)
    features = matrix(train, cap)
    # scikit-learn 1.9.1 cannot bin a feature without any value (e.g. balances in an app without one); such a
    # column carries no information, so it is fitted as zeros (scoring rows keep their nulls)
    features[:, np.isnan(features).all(axis=0)] = 0.0
    with fitting_threads():
        booster = HistGradientBoostingClassifier(**BOOSTING, monotonic_cst=list(MONOTONE))
        booster.fit(features, train["churned"].to_numpy(dtype=bool))
    score = predict_side_by_side(partial(booster_score, booster), matrix(calibration, cap))
    isotonic = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    isotonic.fit(score, calibration["churned"].to_numpy(dtype=float))
    model = ChurnModel(booster, isotonic, cap)
    if recent is None:
        return model
    calibrated = _probability(model, score, calibration, shifted=False)  # the booster's scores, not scored again
    return ChurnModel(booster, isotonic, cap, prior_shift(model, calibration, calibrated, recent))


def prior_shift(model: ChurnModel, calibration: pd.DataFrame, calibrated: np.ndarray, recent: pd.DataFrame) -> float:
    """The log-odds shift that makes the calibrated model (`calibrated`: its unshifted probabilities of the
    calibration rows), mapped to the short outcome (`quiet_next_days`) on the calibration rows, predict that
    outcome's observed rate on the recent rows; 0 when either slice has fewer than MIN_SHIFT_CLASS_ROWS rows of an
    outcome, at most MAX_PRIOR_SHIFT either way."""
    observed = recent["quiet_next_days"].to_numpy(dtype=float)
    known = calibration["quiet_next_days"].to_numpy(dtype=float)
    if min(observed.sum(), len(observed) - observed.sum(), known.sum(), len(known) - known.sum()) < MIN_SHIFT_CLASS_ROWS:
        return 0.0
    short = IsotonicRegression(y_min=EPSILON, y_max=1 - EPSILON, out_of_bounds="clip")
    short.fit(calibrated, known)
    expected = logit(short.predict(churn_probability(model, recent, shifted=False)))
    target = observed.mean()

    def gap(shift: float) -> float:
        return float(expit(expected + shift).mean() - target)

    if gap(-MAX_PRIOR_SHIFT) > 0 or gap(MAX_PRIOR_SHIFT) < 0:  # no root within the bound: the bound
        return -MAX_PRIOR_SHIFT if gap(-MAX_PRIOR_SHIFT) > 0 else MAX_PRIOR_SHIFT
    return float(brentq(gap, -MAX_PRIOR_SHIFT, MAX_PRIOR_SHIFT, xtol=1e-6))


def churn_probability(model: ChurnModel, frame: pd.DataFrame, shifted: bool = True) -> np.ndarray:
    """P(churned) per row of `frame`: the calibrated probability, shifted by the model's prior_shift
    unless `shifted` is false (the held-out test days, older than the calibration days, are judged
    unshifted: the shift is for the days after them)."""
    if frame.empty:
        return np.empty(0)
    score = predict_side_by_side(partial(booster_score, model.booster), matrix(frame, model.recency_cap))
    return _probability(model, score, frame, shifted)


def booster_score(booster: HistGradientBoostingClassifier, x: np.ndarray) -> np.ndarray:
    """booster.decision_function(x), its trees walked on x's bins (the booster's own bin mapper) instead of the raw
    values: the same numbers, since a split on bin b sends left exactly the values at or below the b-th bin
    threshold, which is what the raw walk compares with; but a byte per value instead of eight is about half the
    CPU (100,000 rows, 200 trees: 0.50-0.55 s against 0.93-1.0 s on one thread), and a day's scoring is mostly
    this. It reads scikit-learn's private members, so a booster without them (another version) or with
    categorical features takes the public path; tests/test_scoring.py checks the two agree."""
    try:
        from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

        mapper, predictors, walk = booster._bin_mapper, booster._predictors, booster._predict_iterations
    except (ImportError, AttributeError):
        return booster.decision_function(x)
    if mapper.is_categorical_ is not None and mapper.is_categorical_.any():
        return booster.decision_function(x)
    raw = np.zeros((len(x), 1), order="F") + booster._baseline_prediction
    walk(mapper.transform(x), predictors, raw, is_binned=True, n_threads=_openmp_effective_n_threads())
    return raw.ravel()


def _probability(model: ChurnModel, score: np.ndarray, frame: pd.DataFrame, shifted: bool) -> np.ndarray:
    """churn_probability of the rows of `frame` whose booster scores are `score`."""
    probability = model.isotonic.predict(score)
    if shifted and model.prior_shift != 0:
        probability = expit(logit(np.clip(probability, EPSILON, 1 - EPSILON)) + model.prior_shift)
    return (1 - TIE_BREAK) * probability + TIE_BREAK * tie_break(score, frame)


def tie_break(score: np.ndarray, frame: pd.DataFrame) -> np.ndarray:
    """A value in (0, 1) increasing in the booster's score and, among users the booster scores alike, in
    the silence it saw only up to the recency cap (the monotone constraint carried past the cap: a user
    silent 60 days ranks above one silent 20 days when nothing else tells them apart)."""
    silence = np.log1p(np.nan_to_num(frame["silent_days"].to_numpy(dtype=float), nan=0.0).clip(min=0))
    ordered = score + SILENCE_TIE * silence
    return 0.5 + 0.5 * ordered / (1 + np.abs(ordered))


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
