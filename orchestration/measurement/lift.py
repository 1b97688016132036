"""Treatment-versus-control lift of a mean with Welch's standard error and a normal 95% interval
(contracts.md: lift = treatment mean - control mean, interval = lift +/- 1.96 * SE), its p-value,
the delta-method interval of the relative lift, and the sample-ratio-mismatch test over any number of groups
(treatment, strategy holdout, global holdout): chi-square on large samples, exact on small ones."""

from __future__ import annotations

import itertools
import math
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from scipy import special, stats

Z_95 = 1.96


@dataclass(frozen=True)
class LiftEstimate:
    """Lift of the treatment mean over the control mean; NaN where a quantity is undefined."""

    n_treatment: int
    n_control: int
    mean_treatment: float
    mean_control: float
    lift: float
    se: float
    ci_low: float
    ci_high: float
    relative_lift: float


def welch_lift(
    mean_t: np.ndarray | float,
    var_t: np.ndarray | float,
    n_t: np.ndarray | float,
    mean_c: np.ndarray | float,
    var_c: np.ndarray | float,
    n_c: np.ndarray | float,
) -> dict[str, np.ndarray]:
    """Vectorised lift from per-arm means, sample variances (ddof=1) and sizes.

    SE and interval are NaN when an arm has fewer than 2 values; relative lift is NaN when the
    control mean is 0 or undefined.
    """
    mean_t, var_t, n_t, mean_c, var_c, n_c = (
        np.asarray(x, dtype=float) for x in (mean_t, var_t, n_t, mean_c, var_c, n_c)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = mean_t - mean_c
        enough = (n_t >= 2) & (n_c >= 2)
        se = np.where(enough, np.sqrt(var_t / np.where(enough, n_t, 1) + var_c / np.where(enough, n_c, 1)), np.nan)
        relative = np.where(mean_c != 0, lift / mean_c, np.nan)
    return {
        "lift": lift,
        "se": se,
        "ci_low": lift - Z_95 * se,
        "ci_high": lift + Z_95 * se,
        "relative_lift": relative,
    }


def variance_floor(var: np.ndarray | float, n: np.ndarray | float, pooled: np.ndarray | float,
                   rate: bool) -> np.ndarray:
    """An arm whose journeys all had the same outcome has a sample variance of zero, which is no evidence of no
    spread: a small control arm with no wake-up at all would give a lift with no control uncertainty and an
    interval far too narrow. Such an arm gets the smallest variance it could have had: a rate that of one journey
    differing, (1/n)(1 - 1/n); an amount the variance of both arms pooled. Any arm with some spread keeps its own
    (a rate's sample variance is never below the floor), so large samples are untouched."""
    var, n, pooled = (np.asarray(x, dtype=float) for x in (var, n, pooled))
    with np.errstate(divide="ignore", invalid="ignore"):
        floor = (1.0 / n) * (1.0 - 1.0 / n) if rate else np.nan_to_num(pooled)
        degenerate = var <= 1e-12 * (1.0 + np.abs(floor))
    return np.where(degenerate & (n >= 2), np.maximum(var, floor), var)


def compare_arms(treatment: np.ndarray, control: np.ndarray) -> LiftEstimate:
    """Lift of mean(treatment) over mean(control); NaN values (immature outcomes) are ignored. Values that are all
    0 or 1 are a rate (variance_floor)."""
    t = np.asarray(treatment, dtype=float)
    c = np.asarray(control, dtype=float)
    t, c = t[~np.isnan(t)], c[~np.isnan(c)]
    mean_t = float(t.mean()) if t.size else float("nan")
    mean_c = float(c.mean()) if c.size else float("nan")
    both = np.concatenate([t, c])
    rate = bool(np.isin(both, (0.0, 1.0)).all())
    pooled = float(both.var(ddof=1)) if both.size >= 2 else float("nan")
    var_t = float(variance_floor(t.var(ddof=1), t.size, pooled, rate)) if t.size >= 2 else float("nan")
    var_c = float(variance_floor(c.var(ddof=1), c.size, pooled, rate)) if c.size >= 2 else float("nan")
    est = welch_lift(mean_t, var_t, t.size, mean_c, var_c, c.size)
    return LiftEstimate(
        n_treatment=int(t.size),
        n_control=int(c.size),
        mean_treatment=mean_t,
        mean_control=mean_c,
        **{k: float(v) for k, v in est.items()},
    )


def two_sided_p(lift: np.ndarray | float, se: np.ndarray | float) -> np.ndarray:
    """Two-sided p-value of lift = 0 under the normal approximation (NaN where se is NaN or 0)."""
    lift, se = np.asarray(lift, dtype=float), np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, np.abs(lift) / se, np.nan)
    return 2.0 * stats.norm.sf(z)


def ratio_interval(
    mean_t: np.ndarray, var_mean_t: np.ndarray, mean_c: np.ndarray, var_mean_c: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """95% interval of the relative lift mean_t / mean_c - 1 by the delta method (arms independent)."""
    mean_t, var_mean_t, mean_c, var_mean_c = (np.asarray(x, dtype=float) for x in (mean_t, var_mean_t, mean_c, var_mean_c))
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = mean_c != 0
        ratio = np.where(ok, mean_t / mean_c, np.nan)
        se = np.where(ok, np.sqrt(var_mean_t / mean_c**2 + mean_t**2 * var_mean_c / mean_c**4), np.nan)
    return ratio - 1 - Z_95 * se, ratio - 1 + Z_95 * se


# Pearson's chi-square is used when every expected group size is at least this (Cochran's rule); below it the
# approximation is far too liberal (with 20 journeys and a 5% global holdout, one expected global journey: about 4
# alarms in a thousand correct campaigns at p < 0.001), so the exact multinomial test is used instead.
MIN_EXPECTED_FOR_CHI2 = 5.0
# An expected size is a sum of shares, and its last bits depend on the order they were added in: 5 computed as
# 4.999999999999999 must not switch the test (the chi-square and the exact p of one split differ by a few hundredths).
_ROUNDING = 1e-9
# Beyond this many possible splits the exact test is not enumerated (the chi-square is then used regardless).
MAX_EXACT_OUTCOMES = 2_000_000


def _chi2_applies(smallest_expected: np.ndarray | float) -> np.ndarray | bool:
    """Whether the smallest expected group size reaches MIN_EXPECTED_FOR_CHI2 (up to rounding)."""
    return smallest_expected >= MIN_EXPECTED_FOR_CHI2 * (1 - _ROUNDING)


def srm_p_value(counts: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Sample-ratio p-value per row of observed group sizes (rows, groups) against the design's expected shares.

    NaN where the design is unknown (a NaN share) or the row is empty. A journey in a group of share 0 (one the
    design rules out) gives 0; a design that leaves a single group (every journey must be in it, and is) gives 1:
    the split observed is the only one possible. Otherwise Pearson's chi-square
    (groups - 1 degrees of freedom) when every expected size is at least MIN_EXPECTED_FOR_CHI2, else the exact
    multinomial test: the probability, under the design, of a split no more likely than the one observed."""
    counts, shares = np.asarray(counts, dtype=float), np.asarray(shares, dtype=float)
    n = counts.sum(axis=1)
    out = np.full(len(counts), np.nan)
    known = np.isfinite(shares).all(axis=1) & (n > 0)
    ruled_out = known & ((shares <= 0) & (counts > 0)).any(axis=1)
    out[ruled_out] = 0.0
    positive = shares > 0
    out[known & ~ruled_out & (positive.sum(axis=1) == 1)] = 1.0
    testable = known & ~ruled_out & (positive.sum(axis=1) >= 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(positive, shares, 0.0)
        p = p / p.sum(axis=1, keepdims=True)
        expected = n[:, None] * p
        large = testable & _chi2_applies(np.where(positive, expected, np.inf).min(axis=1))
        statistic = np.where(positive, (counts - expected) ** 2 / expected, 0.0).sum(axis=1)
    # A day's metrics test thousands of cohorts: the chi-square for all at once, the exact test once per distinct
    # split and design (most small cohorts repeat one).
    out[large] = stats.chi2.sf(statistic[large], positive[large].sum(axis=1) - 1)
    small = np.flatnonzero(testable & ~large)
    if len(small):
        keys = np.hstack([counts[small], p[small]])
        _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        tested = [_EXACT_TESTS.get(row.tobytes()) for row in keys[first]]
        new = np.array([r for r, value in enumerate(tested) if value is None], dtype=np.int64)
        if len(new):  # only the splits and designs not tested before get their margins and the exact test
            rows = small[first[new]]
            low, high = _margins(n[rows], p[rows])  # p is 0 outside the positive groups
            for k, (r, i) in enumerate(zip(new, rows)):
                on = positive[i]
                tested[r] = _multinomial_p(tuple(int(c) for c in counts[i, on]), tuple(float(s) for s in p[i, on]),
                                           tuple(int(x) for x in low[k, on]), tuple(int(x) for x in high[k, on]))
                _remember(keys[first[r]].tobytes(), tested[r])
        out[small] = np.asarray(tested)[inverse.ravel()]
    return out


# Beyond this many splits, the exact test enumerates only those each group's binomial margin allows, its TAIL
# quantiles dropped: the splits left out hold at most 2 x groups x TAIL of the probability (a pooled cohort of 1,444
# journeys with a global holdout expected below 5 had a million splits, 0.3 s; those that carry any probability are a
# few thousand).
ALL_SPLITS_UP_TO = 20_000
TAIL = 1e-15


def _margins(n: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of sizes `n` and shares `p` (rows, groups), the least and most journeys each group is enumerated
    with: every split where there are at most ALL_SPLITS_UP_TO, else each group's binomial TAIL quantiles (one
    vectorised scipy call for all of a day's tests)."""
    n = np.asarray(n, dtype=float)
    groups = (np.asarray(p) > 0).sum(axis=1)
    every = np.array([math.comb(int(m) + int(k) - 1, int(k) - 1) <= ALL_SPLITS_UP_TO for m, k in zip(n, groups)],
                     dtype=bool)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # boost may fail to bracket a quantile: no bound then
        low, high = stats.binom.ppf(TAIL, n[:, None], p), stats.binom.isf(TAIL, n[:, None], p)
    total = np.broadcast_to(n[:, None], np.shape(p))
    low, high = np.where(np.isnan(low), 0.0, low), np.where(np.isnan(high), total, high)
    low, high = np.where(every[:, None], 0.0, low), np.where(every[:, None], total, high)
    return np.clip(low, 0, total).astype(np.int64), np.clip(high, 0, total).astype(np.int64)


# The exact tests done (srm_p_value), by the bytes of their split and design. A day's metrics at 100,000 users test
# about 6,000 distinct small splits, and the next day (a backfill's, a daily loop's, the lookback's) nearly the same
# ones: looked up by their bytes, they skip the margins and the test. More are kept than a day has, or every entry
# would be dropped before its reuse (none was reused at 4,096). An entry is about 150 bytes.
_EXACT_TESTS: dict[bytes, float] = {}
EXACT_TESTS_KEPT = 2**16


def _remember(key: bytes, p_value: float) -> None:
    """Keep an exact test's p-value, dropping the oldest entries beyond EXACT_TESTS_KEPT."""
    _EXACT_TESTS[key] = p_value
    _bound()


def _bound() -> None:
    if len(_EXACT_TESTS) > EXACT_TESTS_KEPT:
        for old in list(itertools.islice(_EXACT_TESTS, len(_EXACT_TESTS) - EXACT_TESTS_KEPT)):
            del _EXACT_TESTS[old]


# What the kept p-values were computed with: a store saved under other parameters is not read.
EXACT_TESTS_FORMAT = f"exact tests v1: chi2 from {MIN_EXPECTED_FOR_CHI2}, all splits to {ALL_SPLITS_UP_TO}, tail {TAIL}"


def save_exact_tests(path: Path) -> None:
    """Write the exact tests kept so far to `path` (Parquet, replaced whole): a new process (each Dagster run) then
    looks its first day's tests up instead of computing them again (0.5 s of a 100,000-user day's metrics)."""
    table = pa.table({"key": pa.array(list(_EXACT_TESTS), pa.binary()),
                      "p_value": pa.array(list(_EXACT_TESTS.values()), pa.float64())},
                     metadata={"format": EXACT_TESTS_FORMAT})
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    pq.write_table(table, partial)
    os.replace(partial, path)


def load_exact_tests(path: Path) -> int:
    """Keep the exact tests saved at `path` besides those kept already; how many it added. A missing, unreadable or
    other-format file adds none: the store only spares work, and every test missing from it is computed."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException):
        return 0
    if (table.schema.metadata or {}).get(b"format") != EXACT_TESTS_FORMAT.encode():
        return 0
    before = len(_EXACT_TESTS)
    for key, p_value in zip(table["key"].to_pylist(), table["p_value"].to_pylist()):
        _EXACT_TESTS.setdefault(key, p_value)
    added = len(_EXACT_TESTS) - before
    _bound()
    return added


@contextmanager
def exact_tests_saved_at(path: Path) -> Iterator[int]:
    """Inside the block the exact tests saved at `path` are looked up (yields how many were loaded); after it the
    store is saved there again if the block did tests it did not have (each new one is kept last)."""
    loaded = load_exact_tests(path)
    newest = next(reversed(_EXACT_TESTS), None)
    yield loaded
    if next(reversed(_EXACT_TESTS), None) != newest:
        save_exact_tests(path)


def _multinomial_p(counts: tuple[int, ...], shares: tuple[float, ...], low: tuple[int, ...],
                   high: tuple[int, ...]) -> float:
    """The exact test of one split, group j enumerated with low[j]..high[j] journeys (_margins)."""
    n, p = sum(counts), np.asarray(shares)
    expected = n * p
    if _chi2_applies(expected.min()) or math.comb(n + len(counts) - 1, len(counts) - 1) > MAX_EXACT_OUTCOMES:
        statistic = float((((np.asarray(counts) - expected) ** 2) / expected).sum())
        return float(stats.chi2.sf(statistic, len(counts) - 1))
    splits, log_coefficient = _split_terms(n, low, high)
    log_p, log_factorial = np.log(p), _log_factorials(n)
    log_pmf = log_coefficient + splits @ log_p
    observed = log_factorial[n] - log_factorial[list(counts)].sum() + np.asarray(counts) @ log_p
    # "No more likely than observed", with a relative tolerance for rounding (scipy's binomtest uses the same).
    return float(min(1.0, np.exp(log_pmf[log_pmf <= observed + 1e-7]).sum()))


def _log_factorials(n: int) -> np.ndarray:
    """log(k!) for k = 0..n at least (a table read by index: gammaln over every split was a third of the exact test)."""
    return _log_factorial_table(1 << max(n, 1).bit_length())


@lru_cache(maxsize=None)
def _log_factorial_table(size: int) -> np.ndarray:
    return special.gammaln(np.arange(size) + 1.0)


@lru_cache(maxsize=256)
def _split_terms(n: int, low: tuple[int, ...], high: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """_splits and each split's log multinomial coefficient, log(n! / prod k_j!): they depend on the sizes only, and
    a day's small cohorts repeat a few sizes over many splits and shares (a third of the exact tests' time)."""
    splits = _splits(n, low, high)
    log_factorial = _log_factorials(n)
    return splits, log_factorial[n] - log_factorial[splits].sum(axis=1)


def _splits(n: int, low: tuple[int, ...], high: tuple[int, ...]) -> np.ndarray:
    """Every way of splitting n journeys into ordered groups, group j taking low[j]..high[j] of them, as an (m, k)
    array (built a group at a time with array operations: a recursion over Python lists took a minute a day on
    the demo's pooled cohorts)."""
    rows, rest = np.zeros((1, 0), dtype=np.int64), np.array([n], dtype=np.int64)
    for j in range(len(low) - 1):
        # The next group takes what its bounds and the groups after it (their bounds) leave possible.
        least = np.maximum(low[j], rest - sum(high[j + 1:]))
        most = np.minimum(high[j], rest - sum(low[j + 1:]))
        choices = np.maximum(most - least + 1, 0)
        parent = np.repeat(np.arange(len(rest)), choices)
        taken = least[parent] + np.arange(choices.sum()) - np.repeat(np.cumsum(choices) - choices, choices)
        rows, rest = np.column_stack([rows[parent], taken]), rest[parent] - taken
    return np.column_stack([rows, rest])
