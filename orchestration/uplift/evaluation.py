"""How well an uplift model ranks users on held-out randomized data: the Qini coefficient and the area
under the uplift (cumulative gain) curve, each above random targeting, with bootstrap intervals.

Rows are ranked by predicted uplift, highest first; at each cut (a whole group of tied scores at a
time, so ties cannot flatter a model) with n_t treated and n_c control rows above it, summing
outcomes y_t and y_c:
- Qini curve Q = y_t - y_c x n_t / n_c (incremental outcomes among the treated targeted so far);
- gain curve G = (y_t / n_t - y_c / n_c) x (n_t + n_c) (uplift of the targeted times how many).
Both start at 0 and are plotted against the share of rows targeted; the coefficient is the area
between the curve and the straight line to its end (random targeting), divided by the row count, so
it reads in outcome units per user (e.g. extra visits or dollars per user of the population). Zero
means no better than random; it is positive when users ranked first gain more.

Hand-written (about 40 lines) rather than taken from scikit-uplift: that package's last release is
from 2022 and calls a scikit-learn function deprecated in 1.8 and removed in 1.10; its figures agree
with these on the same data (checked when choosing, see docs/recall.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CurveScore:
    """A coefficient with its bootstrap interval (level 95% unless said otherwise)."""

    value: float
    low: float
    high: float

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high}


def _sorted(score: np.ndarray, treated: np.ndarray, outcome: np.ndarray) -> tuple[np.ndarray, ...]:
    score = np.asarray(score, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    outcome = np.asarray(outcome, dtype=float)
    if not (len(score) == len(treated) == len(outcome)):
        raise ValueError("score, treated and outcome must have the same length")
    if np.isnan(score).any() or np.isnan(outcome).any():
        raise ValueError("score and outcome must not contain NaN")
    order = np.argsort(-score, kind="stable")
    score = score[order]
    group_end = np.r_[score[1:] != score[:-1], True] if len(score) else np.array([], dtype=bool)
    return treated[order], outcome[order], group_end


def _areas(treated: np.ndarray, outcome: np.ndarray, group_end: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """(qini, gain) coefficients for rows already in rank order, each row counted `weights` times."""
    w_t, w_c = weights * treated, weights * ~treated
    n_t, n_c = np.cumsum(w_t)[group_end], np.cumsum(w_c)[group_end]
    y_t, y_c = np.cumsum(w_t * outcome)[group_end], np.cumsum(w_c * outcome)[group_end]
    total = float(weights.sum())
    if total == 0 or n_t[-1] == 0 or n_c[-1] == 0:
        return float("nan"), float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        qini = np.where(n_c > 0, y_t - y_c * n_t / n_c, 0.0)
        gain = np.where((n_t > 0) & (n_c > 0), (y_t / n_t - y_c / n_c) * (n_t + n_c), 0.0)
    share = np.r_[0.0, (n_t + n_c) / total]
    out = []
    for curve in (qini, gain):
        curve = np.r_[0.0, curve]
        area = float(np.sum((share[1:] - share[:-1]) * (curve[1:] + curve[:-1]) / 2))
        out.append((area - curve[-1] / 2) / total)
    return out[0], out[1]


def qini_coefficient(score: np.ndarray, treated: np.ndarray, outcome: np.ndarray) -> float:
    """Area between the Qini curve and random targeting, per row (outcome units per user)."""
    t, y, ends = _sorted(score, treated, outcome)
    return _areas(t, y, ends, np.ones(len(t)))[0]


def auuc(score: np.ndarray, treated: np.ndarray, outcome: np.ndarray) -> float:
    """Area between the uplift gain curve and random targeting, per row."""
    t, y, ends = _sorted(score, treated, outcome)
    return _areas(t, y, ends, np.ones(len(t)))[1]


def ranking_scores(score: np.ndarray, treated: np.ndarray, outcome: np.ndarray, reps: int = 200, seed: int = 0,
                   level: float = 0.95) -> dict[str, CurveScore]:
    """Qini and AUUC with percentile intervals from `reps` bootstrap resamples of the rows (the
    ranking is kept, the rows are redrawn with replacement)."""
    t, y, ends = _sorted(score, treated, outcome)
    n = len(t)
    qini, gain = _areas(t, y, ends, np.ones(n))
    rng = np.random.default_rng(seed)
    draws = np.empty((reps, 2))
    for i in range(reps):
        weights = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        draws[i] = _areas(t, y, ends, weights)
    tail = (1 - level) / 2 * 100
    low, high = np.nanpercentile(draws, [tail, 100 - tail], axis=0) if reps else (np.full(2, np.nan),) * 2
    return {"qini": CurveScore(float(qini), float(low[0]), float(high[0])),
            "auuc": CurveScore(float(gain), float(low[1]), float(high[1]))}


def mean_difference(treated: np.ndarray, outcome: np.ndarray, level_z: float = 1.959964) -> CurveScore:
    """Treatment mean minus control mean with a Welch normal interval (the average effect on the rows)."""
    treated = np.asarray(treated, dtype=bool)
    outcome = np.asarray(outcome, dtype=float)
    a, b = outcome[treated], outcome[~treated]
    if len(a) < 2 or len(b) < 2:
        return CurveScore(float("nan"), float("nan"), float("nan"))
    diff = float(a.mean() - b.mean())
    se = float(np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)))
    return CurveScore(diff, diff - level_z * se, diff + level_z * se)
