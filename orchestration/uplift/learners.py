"""The X-learner (Künzel, Sekhon, Bickel & Yu 2019) assembled from scikit-learn's histogram gradient
boosting: the meta-learner for randomized arms of unequal size, which ours are (a strategy holds out
10-20% of its users).

1. mu0(x): the outcome without treatment, fitted on control journeys. It is shared by every
   treatment: pooling the controls of all strategies is valid because which strategy a user is
   assigned is a function of the features (the tier matching, or the model's choice on them) and
   the arm is a coin flip, so E[Y(0) | x] does not depend on the strategy.
2. mu1(x): the outcome under the treatment, fitted on its treated journeys.
3. Imputed effects: D1 = Y - mu0(x) on the treated, D0 = mu1(x) - Y on the strategy's controls;
   tau1 and tau0 are fitted on them.
4. tau(x) = g x tau0(x) + (1 - g) x tau1(x), g = the treated share (the known propensity of the
   randomization), so the estimate leans on the side learned from the larger arm.
5. Distilled: one more boosting fitted to tau(x) on the training rows, which is what scores. A
   deterministic target is learned almost exactly, and scoring a million users costs one ensemble
   per treatment instead of two, without the category encoder (the held-out Qini in the card is the
   distilled model's).

Chosen over the T-learner (noisier: the difference of two separate fits) and the DR-learner (inverse
propensity weights of 1/0.15 make its pseudo-outcomes very noisy on small holdouts); on the
Hillstrom campaign all three ranked visits similarly (docs/recall.md). causalml was not used: it
pulls xgboost with a 350 MB CUDA library, numba, shap and black; scikit-uplift's last release (2022)
calls scikit-learn functions that 1.10 removes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from sklearn.ensemble import HistGradientBoostingRegressor


class BoostingParams(BaseModel):
    """Settings of every gradient-boosting fit: shallow, slow and regularized, because uplift is a
    small signal in noisy outcomes and the strategies' arms can be small."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_iter: int = Field(default=50, ge=1)
    learning_rate: float = Field(default=0.08, gt=0, le=1)
    max_leaf_nodes: int = Field(default=15, ge=2)
    min_samples_leaf: int = Field(default=60, ge=1)
    l2_regularization: float = Field(default=1.0, ge=0)
    random_state: int = 0


def boosting(params: BoostingParams, categorical: list[bool]) -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(
        max_iter=params.max_iter, learning_rate=params.learning_rate, max_leaf_nodes=params.max_leaf_nodes,
        min_samples_leaf=params.min_samples_leaf, l2_regularization=params.l2_regularization,
        categorical_features=np.asarray(categorical, dtype=bool) if any(categorical) else None,
        early_stopping=False, random_state=params.random_state)


def _fit(model: HistGradientBoostingRegressor, x: np.ndarray, y: np.ndarray) -> HistGradientBoostingRegressor:
    # A feature missing on every row of this fit (e.g. the churn probability before the first churn model, in
    # one treatment's rows) makes scikit-learn's binning fail; as a constant it carries the same (no) information.
    empty = np.isnan(x).all(axis=0) if len(x) else np.zeros(x.shape[1], dtype=bool)
    if empty.any():
        x = x.copy()
        x[:, empty] = 0.0
    return model.fit(x, y)


def fit_outcome_model(x: np.ndarray, y: np.ndarray, params: BoostingParams, categorical: list[bool]) -> HistGradientBoostingRegressor:
    """An outcome model (mu0 or mu1)."""
    return _fit(boosting(params, categorical), x, y)


@dataclass
class XLearner:
    """tau(x) = propensity x tau_control(x) + (1 - propensity) x tau_treated(x), scored through its
    distilled model when there is one."""

    tau_treated: HistGradientBoostingRegressor
    tau_control: HistGradientBoostingRegressor
    propensity: float
    distilled: HistGradientBoostingRegressor | None = None

    def combined(self, x: np.ndarray) -> np.ndarray:
        """The X-learner's own estimate (both effect models)."""
        if not len(x):
            return np.zeros(0)
        return self.propensity * self.tau_control.predict(x) + (1 - self.propensity) * self.tau_treated.predict(x)

    def predict(self, x: np.ndarray) -> np.ndarray:
        if self.distilled is None or not len(x):
            return self.combined(x)
        return self.distilled.predict(x)


def fit_x_learner(x_treated: np.ndarray, y_treated: np.ndarray, x_control: np.ndarray, y_control: np.ndarray,
                  mu0: HistGradientBoostingRegressor, params: BoostingParams, categorical: list[bool]) -> XLearner:
    """Fit one treatment's X-learner given the shared control-outcome model mu0 (call within `fitting_threads()`)."""
    if len(x_treated) < 2 or len(x_control) < 2:
        raise ValueError(f"an X-learner needs at least two rows per arm, got {len(x_treated)} treated and {len(x_control)} control")
    mu1 = fit_outcome_model(x_treated, y_treated, params, categorical)
    imputed_treated, imputed_control = y_treated - mu0.predict(x_treated), mu1.predict(x_control) - y_control
    tau_treated = _fit(boosting(params, categorical), x_treated, imputed_treated)
    tau_control = _fit(boosting(params, categorical), x_control, imputed_control)
    propensity = len(x_treated) / (len(x_treated) + len(x_control))
    learner = XLearner(tau_treated, tau_control, propensity)
    rows = np.vstack([x_treated, x_control])
    target = learner.combined(rows)
    # Categories enter the distilled model as their codes: scoring then skips scikit-learn's category
    # encoder, a third of the scoring time; the codes are fixed vocabularies, so the splits still separate them.
    # A noiseless target needs fewer, larger trees at a faster rate: scoring cost is trees x depth.
    learner.distilled = _fit(boosting(params, [False] * len(categorical)).set_params(
        max_iter=max(1, params.max_iter * 3 // 5), learning_rate=min(1.0, params.learning_rate * 2.5),
        max_leaf_nodes=2 * params.max_leaf_nodes + 1, min_samples_leaf=max(1, params.min_samples_leaf // 3)), rows, target)
    return learner


@dataclass(frozen=True)
class CalibratedUplift:
    """A treatment's uplift as the decision reads it: the randomized average effect, with the X-learner's
    individual differences around it only where its held-out ranking is proven (Qini interval above zero).

    Why: the learner's level is biased (its control model is shared by every strategy), and the decision
    takes each user's best of several noisy estimates, so it picks their errors: in a policy comparison at
    6,000 users the model chose a treatment for a predicted 38.9 of 30-day revenue whose true effect was 2.6,
    while a treatment with a held-out average of 27.9 was predicted at 3.0 and left out."""

    learner: XLearner
    average_effect: float
    individual: bool
    shift: float = 0.0  # average_effect minus the learner's mean prediction on its training journeys

    def predict(self, x: np.ndarray) -> np.ndarray:
        if not self.individual:
            return np.full(len(x), self.average_effect)
        return self.learner.predict(x) + self.shift


def calibrate(learner: XLearner, x_train: np.ndarray, average_effect: float, ranking_proven: bool) -> CalibratedUplift:
    """The learner set to the treatment's randomized `average_effect` (see CalibratedUplift)."""
    if not ranking_proven or not len(x_train):  # the average alone: no level to shift
        return CalibratedUplift(learner, float(average_effect), bool(ranking_proven))
    return CalibratedUplift(learner, float(average_effect), True, average_effect - float(learner.predict(x_train).mean()))
