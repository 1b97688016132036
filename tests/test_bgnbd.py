"""The BG/NBD baseline: lifetimes reproduces the published CDNOW fit, the key-action log becomes the right
(frequency, recency, T) summary, and P(no key action in t days) matches its closed form and a simulation."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter

from orchestration.evaluation.bgnbd import p_no_key_action, rfm_summary


def test_lifetimes_reproduces_the_published_cdnow_parameters():
    import lifetimes

    summary = pd.read_csv(Path(lifetimes.__file__).parent / "datasets" / "cdnow_customers_summary.csv")
    fitter = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    # Fader, Hardie & Lee (2005), "Counting your customers the easy way", table 1 (weeks)
    assert fitter.params_.round(3).to_dict() == {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def test_summary_counts_repeat_days_from_the_first_key_action():
    actions = pd.DataFrame({
        "user_id": ["a", "a", "a", "b", "c"],
        "activity_date": [date(2026, 1, 1), date(2026, 1, 5), date(2026, 1, 11), date(2026, 1, 8), date(2026, 2, 1)],
    })
    summary = rfm_summary(actions, date(2026, 1, 11))
    assert summary.loc["a"].to_dict() == {"frequency": 2.0, "recency": 10.0, "T": 10.0}
    assert summary.loc["b"].to_dict() == {"frequency": 0.0, "recency": 0.0, "T": 3.0}
    assert "c" not in summary.index  # no key action yet by the day


def _fitter(r: float, alpha: float, a: float, b: float) -> BetaGeoFitter:
    fitter = BetaGeoFitter()
    fitter.params_ = pd.Series({"r": r, "alpha": alpha, "a": a, "b": b})
    return fitter


def test_a_new_customer_matches_the_unconditional_probability_of_lifetimes():
    fitter = _fitter(0.25, 30.0, 0.7, 2.2)
    new = pd.DataFrame({"frequency": [0.0], "recency": [0.0], "T": [0.0]})
    expected = fitter.probability_of_n_purchases_up_to_time(30, 0)
    assert p_no_key_action(fitter, new, 30).iloc[0] == pytest.approx(float(expected), rel=1e-9)


def test_probability_of_silence_matches_a_simulation_of_the_bgnbd_process():
    """Draw customers from the BG/NBD prior (time 0 = the first purchase; after the j-th repeat purchase a
    customer drops out with probability p), keep those with the observed history (x = 2 repeats, the last on
    day 20, T = 40) and count how many buy nothing in the next 30 days."""
    r, alpha, a, b = 0.8, 10.0, 1.0, 3.0
    rng = np.random.default_rng(3)
    n = 400_000
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    horizon, x_obs, tx_obs, big_t = 30, 2, 20, 40
    times = np.cumsum(rng.exponential(1 / lam[:, None], (n, 8)), axis=1)  # repeat purchases while alive
    repeats_made = rng.geometric(p)  # drops out right after this repeat purchase (1, 2, ...)
    alive_times = np.where(np.arange(8)[None, :] < repeats_made[:, None], times, np.inf)
    in_history = (alive_times <= big_t).sum(axis=1)
    last = np.where(alive_times <= big_t, alive_times, -np.inf).max(axis=1)
    match = (in_history == x_obs) & (np.floor(last) == tx_obs)  # the last repeat on day 20 (t_x in [20, 21))
    kept = int(match.sum())
    silent = int((match & ~((alive_times > big_t) & (alive_times <= big_t + horizon)).any(axis=1)).sum())
    summary = pd.DataFrame({"frequency": [float(x_obs)], "recency": [tx_obs + 0.5], "T": [float(big_t)]})
    predicted = p_no_key_action(_fitter(r, alpha, a, b), summary, horizon).iloc[0]
    assert kept > 500
    assert predicted == pytest.approx(silent / kept, abs=0.04)
