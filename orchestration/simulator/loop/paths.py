"""The outcome path of a block of (day, column) cells under a set of journey effects, in one place for both uses:
the world's day (one day, a column per user) and the truth's replays (a column per journey, its window of days).

Sharing the arithmetic, and adding boosts in one fixed order (by user, response day, journey id), makes a replay of
the world's own effects reproduce it bit for bit; a replay with one journey's effects removed, or a control
journey's ghost effects added, gives the other potential outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..activity import NO_START, OutcomeDraws, activity_and_orders, boost_fade, latent_cells, paid_first
from ..population import Population

# Effect columns a path needs (carry.EFFECT_COLUMNS), sorted by EFFECT_ORDER within each column of cells.
EFFECT_ORDER = ["response_day", "journey_id"]


@dataclass(frozen=True)
class Block:
    """Cells of `days` (L, C) for `users` (C,); `inside` marks cells within the simulated days."""

    days: np.ndarray   # int64 (L, C)
    users: np.ndarray  # int32 (C,)
    inside: np.ndarray  # bool (L, C)


@dataclass(frozen=True)
class Path:
    """Per cell: activity, orders and revenue; `coupon_effect` is the row (of the effects given) whose coupon
    was redeemed in the cell, -1 if none."""

    active: np.ndarray
    n_orders: np.ndarray     # int8
    paid_cents1: np.ndarray  # int32
    paid_cents2: np.ndarray  # int32
    coupon_effect: np.ndarray  # int64
    engagement: np.ndarray   # float32

    def revenue_cents(self) -> np.ndarray:
        first = (self.n_orders >= 1) * self.paid_cents1.astype(np.int64)
        return first + (self.n_orders >= 2) * self.paid_cents2.astype(np.int64)


def _ranks(cols: np.ndarray) -> np.ndarray:
    """Position of each row within its column (rows are grouped by column)."""
    if not len(cols):
        return cols.astype(np.int64)
    starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
    counts = np.diff(np.r_[starts, len(cols)])
    return np.arange(len(cols)) - np.repeat(starts, counts)


def order_effects(effects: pd.DataFrame, col: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """The effects and their column index, sorted by column, then response day, then journey id."""
    frame = effects.assign(_col=col).sort_values(["_col", *EFFECT_ORDER], kind="stable")
    return frame.drop(columns="_col").reset_index(drop=True), frame["_col"].to_numpy(np.int64)


def outcome_path(
    pop: Population, draws: OutcomeDraws, block: Block, effects: pd.DataFrame, col: np.ndarray,
    first_weekday: int, redeemed_before: np.ndarray | None = None,
) -> Path:
    """The path of the block's cells under `effects` (rows placed in columns `col`, as order_effects sorts them).

    redeemed_before: per effect row, whether its coupon was redeemed before the block's first day (as the world
    recorded it: before a journey starts, both of its potential worlds are the world as it happened)."""
    days, users = block.days, block.users
    n_cols = len(users)
    harm = effects["harm_day"].to_numpy(np.int64)
    harmed = harm != NO_START
    decay_start = np.where(pop.decays, pop.decay_start_day, np.iinfo(np.int32).max).astype(np.int64)[users]
    np.minimum.at(decay_start, col[harmed], harm[harmed])
    decays = pop.decays[users].copy()
    decays[col[harmed]] = True
    cell_users = np.broadcast_to(users[None, :], days.shape)
    latent = latent_cells(pop, cell_users, days, decay_start[None, :], decays[None, :], first_weekday)

    # Response boosts, added rank by rank so that every column sums its boosts in the same order.
    boost = effects["boost"].to_numpy(np.float32)
    response = effects["response_day"].to_numpy(np.int64)
    live = np.flatnonzero(boost > 0)
    acc = np.zeros(days.shape, np.float32)
    ranks = _ranks(col[live])
    for rank in range(int(ranks.max()) + 1 if len(ranks) else 0):
        rows = live[ranks == rank]
        c = col[rows]
        acc[:, c] = acc[:, c] + boost[rows][None, :] * boost_fade(days[:, c], response[rows][None, :])
    engagement = latent + acc

    # The coupon in force in a cell: of the windows covering it, the one that started last.
    start = effects["coupon_start"].to_numpy(np.int64)
    end = effects["coupon_end"].to_numpy(np.int64)
    windows = np.flatnonzero(start != NO_START)
    windows = windows[np.lexsort((effects["journey_id"].to_numpy()[windows].astype(str), start[windows], col[windows]))]
    coupon = np.full(days.shape, -1, np.int64)
    ranks = _ranks(col[windows])
    for rank in range(int(ranks.max()) + 1 if len(ranks) else 0):
        rows = windows[ranks == rank]
        c = col[rows]
        covered = (days[:, c] >= start[rows][None, :]) & (days[:, c] < end[rows][None, :])
        coupon[:, c] = np.where(covered, rows[None, :], coupon[:, c])
    coupon_on = coupon >= 0
    cents = _take(effects["coupon_cents"].to_numpy(np.int32), coupon, 0).astype(np.int32)

    force = days == pop.signup_day[users][None, :]
    click = effects["click_day"].to_numpy(np.int64)
    clicked = np.flatnonzero(click != NO_START)
    for rows in _by_rank(col[clicked], clicked):
        c = col[rows]
        force[:, c] |= days[:, c] == click[rows][None, :]

    at = (np.minimum(days, draws.u_active.shape[0] - 1), cell_users)
    active, first, second = activity_and_orders(
        engagement, coupon_on, pop.segment[cell_users], draws.u_active[at], draws.u_order1[at], draws.u_order2[at],
        force, pop.behaviour,
    )
    active &= block.inside
    first &= block.inside
    second &= block.inside
    # A coupon pays for the first order placed while it is in force, once.
    usable = first & coupon_on
    if redeemed_before is not None:
        usable &= ~_take(redeemed_before, coupon, False)
    redeemed = _first_per_coupon(usable, coupon)
    paid1 = paid_first(redeemed, draws.gross_cents1[at], cents, pop.behaviour)
    return Path(active=active, n_orders=first.astype(np.int8) + second.astype(np.int8), paid_cents1=paid1,
                paid_cents2=draws.gross_cents2[at], coupon_effect=np.where(redeemed, coupon, -1), engagement=engagement)


def _take(values: np.ndarray, index: np.ndarray, default: object) -> np.ndarray:
    """values[index] where index >= 0, else default."""
    if not len(values):
        return np.full(index.shape, default, dtype=values.dtype)
    return np.where(index >= 0, values[np.maximum(index, 0)], default)


def _by_rank(cols: np.ndarray, rows: np.ndarray) -> list[np.ndarray]:
    """Rows split so that no part holds a column twice (fancy-index updates need distinct columns)."""
    order = np.argsort(cols, kind="stable")
    ranks = np.empty(len(rows), np.int64)
    ranks[order] = _ranks(cols[order])
    return [rows[ranks == r] for r in range(int(ranks.max()) + 1)] if len(rows) else []


def _first_per_coupon(usable: np.ndarray, coupon: np.ndarray) -> np.ndarray:
    """Cells that are the first usable cell (in day order) of their column and coupon."""
    day, column = np.nonzero(usable)  # row-major: ordered by day
    if not len(day):
        return np.zeros(usable.shape, bool)
    key = column * (coupon.max() + 2) + coupon[day, column]
    _, first = np.unique(key, return_index=True)
    out = np.zeros(usable.shape, bool)
    out[day[first], column[first]] = True
    return out
