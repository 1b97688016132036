"""The anchor to beat: a BG/NBD model (Fader, Hardie & Lee 2005) of the key-action log, fitted with the
`lifetimes` package, as P(no key action in the next H days) per user.

Why lifetimes: it is the reference Python implementation (its fit reproduces the published CDNOW
parameters, see tests/test_bgnbd.py), installs in seconds with the pinned pandas/numpy/scipy and ships
the CDNOW log this project validates on. It is no longer developed (last release 2020); its maintained
successor, pymc-marketing's CLV module, needs Python 3.12 from 0.19.3 on, and 0.19.2 pulls in ~45
packages (PyMC, PyTensor, numba, ...) and took 100 s for a MAP fit that lifetimes does in 0.2 s.

Time is counted in days; a customer's history starts at its first key-action day (BG/NBD models
customers, so a user without a key action yet has no history: P = 1, the most likely to stay silent).
"""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter
from lifetimes.utils import ConvergenceError

# L2 penalties tried in turn: a light one keeps the fit finite on logs where almost everyone repeats
# daily (a game's logins); stronger ones when the optimizer still does not converge.
PENALIZERS = (0.001, 0.01, 0.1)


def key_action_days(con: duckdb.DuckDBPyConnection, until: date) -> pd.DataFrame:
    """(user_id, activity_date) of every day with a key action up to `until` (the log BG/NBD sees)."""
    return con.execute(
        "select user_id, activity_date from int_user_daily_activity where key_actions > 0 and activity_date <= ?",
        [until],
    ).df()


def rfm_summary(actions: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Per user with a key action by `as_of`: frequency (repeat key-action days), recency (first to last
    key-action day) and T (first key-action day to as_of), in days; indexed by user_id."""
    known = actions[pd.to_datetime(actions["activity_date"]) <= pd.Timestamp(as_of)]
    days = pd.to_datetime(known["activity_date"])
    grouped = days.groupby(known["user_id"])
    first, last = grouped.min(), grouped.max()
    return pd.DataFrame({
        "frequency": grouped.nunique().astype(float) - 1.0,
        "recency": (last - first).dt.days.astype(float),
        "T": (pd.Timestamp(as_of) - first).dt.days.astype(float),
    })


def fit_bgnbd(summary: pd.DataFrame) -> BetaGeoFitter | None:
    """The BG/NBD fit of the summary with the lightest penalty that converges; None when none does."""
    for penalizer in PENALIZERS:
        try:
            return BetaGeoFitter(penalizer_coef=penalizer).fit(summary["frequency"], summary["recency"], summary["T"])
        except ConvergenceError:
            continue
    return None


def p_no_key_action(fitter: BetaGeoFitter, summary: pd.DataFrame, horizon_days: int) -> pd.Series:
    """P(no key action in the next `horizon_days` days | history), per user of `summary`.

    lifetimes gives P(alive); a customer alive at T with x repeats has a purchase rate distributed
    Gamma(r + x, alpha + T) (the BG/NBD posterior), and cannot drop out without purchasing, so
    P(none in t | alive) = ((alpha + T) / (alpha + T + t)) ** (r + x); a dead customer buys nothing.
    """
    params = fitter.params_
    x, t_x, big_t = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    alive = np.asarray(fitter.conditional_probability_alive(x, t_x, big_t), dtype=float)
    silent_if_alive = ((params["alpha"] + big_t) / (params["alpha"] + big_t + horizon_days)) ** (params["r"] + x)
    return pd.Series(1.0 - alive + alive * silent_if_alive, index=summary.index, name="bgnbd_probability")
