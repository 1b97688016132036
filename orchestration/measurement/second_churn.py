"""Return and second churn of a journey (docs/measurement.md), from its user's key-action days.

The issue asks whether a recalled user "came back, then went silent again past the churn threshold
within 60 days of returning". Churn is time × key action, as in the dbt labels (their `silent_days`
and the churned stage count days without a key action): return day R = the first key action on days
A..A+29 (the 30-day outcome window, so late returners count). Second churn = some key-action day L
with R <= L <= R+60 is followed by at least T days without a key action (days L+1..L+T), T the
vertical's churn threshold (`stage_churned_days`). Sessions without a key action do not keep a user
from churning, as they do not keep the labels' churned stage away. The flag is known as soon as the
silence has been seen, or once a key action after R+60 follows gaps all shorter than T; by day
R+60+T it is always known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RETURN_DAYS = 30  # R is the first key action on A .. A+29
SECOND_CHURN_WITHIN_DAYS = 60  # the silent run must start after a key action on or before R+60


def second_churn(days: pd.DataFrame, observed: np.ndarray, churn_days: int) -> tuple[np.ndarray, pd.arrays.BooleanArray, np.ndarray]:
    """Per journey 0..n-1 (n = len(observed)): return offset R, second_churned and its maturity.

    `days`: one row per journey and key-action day seen, with `journey` (position) and `offset` (days
    since A, 0..observed). `observed`: the last offset seen per journey. R is NaN without a return;
    second_churned is NA until known and False for a journey whose return window closed without a
    return (it cannot churn a second time).
    """
    n = len(observed)
    journey, offset = days["journey"].to_numpy().astype(np.int64), days["offset"].to_numpy().astype(np.int64)
    # Each journey's key-action days in order, sorted as one integer key (journey, then day): a frame's two-column
    # sort and a grouped shift took an eighth of a 100,000-user backfill's measurement.
    low = int(offset.min()) if len(offset) else 0
    span = int(offset.max()) - low + 1 if len(offset) else 1
    ordered = np.sort(journey * span + (offset - low))
    journey, offset = ordered // span, ordered % span + low
    # R: each journey's first key-action day within the return window (in this order, the first of its run there)
    returns = np.flatnonzero(offset < RETURN_DAYS)
    first = returns[np.r_[True, journey[returns][1:] != journey[returns][:-1]]] if len(returns) else returns
    r = np.full(n, np.nan)
    r[journey[first]] = offset[first]
    after = offset >= r[journey]  # NaN R keeps nothing
    journey, offset = journey[after], offset[after].astype(float)
    following = np.full(len(offset), np.nan)  # the journey's next key-action day
    following[:-1] = np.where(journey[1:] == journey[:-1], offset[1:], np.nan)
    # Silent days after each key-action day: up to the next one, or up to the last day seen.
    silent = np.where(np.isnan(following), observed[journey] - offset, following - offset - 1)
    starts = offset <= r[journey] + SECOND_CHURN_WITHIN_DAYS
    churned = np.zeros(n, bool)
    churned[journey[starts & (silent >= churn_days)]] = True
    # A key action after R+60 closes the last gap that could count: every gap is then known.
    settled = np.zeros(n, bool)
    settled[journey[~starts]] = True
    returned = ~np.isnan(r)
    mature = np.where(returned, churned | settled, observed >= RETURN_DAYS - 1)
    flag = pd.array(churned & returned, dtype="boolean")
    flag[~mature] = pd.NA
    return r, flag, mature
