"""Finance ledger: each investor's assets (balance) through deposits, investments and withdrawals, with the large
withdrawal that many decaying investors make before going quiet (partial churn)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .population import Population
from .presets import Withdrawals

MIN_WITHDRAWAL_CENTS = 100
NEVER = np.iinfo(np.int32).max  # planned day of a large withdrawal that will not happen (any more)


@dataclass(frozen=True)
class LedgerStart:
    """The ledger carried into a block of days: each investor's assets and the day of the large withdrawal still
    to come (NEVER when none is planned or it has happened)."""

    balance: np.ndarray      # int64 cents
    planned_day: np.ndarray  # int32


@dataclass(frozen=True)
class Ledger:
    """Withdrawals (rows of the active (day, user) list, sorted by day) and the balance after every money event."""

    withdraw_rows: np.ndarray      # int64 index into the active (day, user) rows
    withdraw_cents: np.ndarray     # int64
    withdraw_balance: np.ndarray   # int64 assets after the withdrawal, cents
    payment_balance: np.ndarray    # int64 assets after each payment row, cents
    big_withdrawal_day: np.ndarray  # int32 per user: day of the large withdrawal, -1 if none
    end: LedgerStart              # balances after the block and the large withdrawals still to come


def finance_ledger(
    pop: Population, rules: Withdrawals, act_d: np.ndarray, act_u: np.ndarray,
    pay_d: np.ndarray, pay_u: np.ndarray, pay_i: np.ndarray, pay_cents: np.ndarray, rng: np.random.Generator,
    start: LedgerStart | None = None,
) -> Ledger:
    """Withdrawals on active days, then the balance walk: within a day a withdrawal precedes the payments.

    Deposits and investments (bought by bank card) add to assets; a withdrawal takes a share of them. The walk
    is a loop over days with vectorised updates, since a withdrawal's amount depends on the balance before it.
    `start` continues a ledger (a world simulated a day at a time); without it every investor starts at zero
    and the large withdrawals are planned here.
    """
    n = len(pop.base)
    if start is None:
        big = pop.decays & (rng.random(n) < rules.big_probability)
        planned = pop.decay_start_day + np.ceil(rng.uniform(*rules.big_delay_days, n)).astype(np.int32)
        planned = np.where(big, planned, NEVER).astype(np.int32)
        balance = np.zeros(n, np.int64)
    else:
        planned, balance = start.planned_day.copy(), start.balance.copy()
    # The large withdrawal happens on the first active day on or after the planned day.
    candidates = np.flatnonzero(act_d >= planned[act_u])
    _, first = np.unique(act_u[candidates], return_index=True)
    big_rows = candidates[first]
    routine = np.setdiff1d(np.flatnonzero(rng.random(len(act_d)) < rules.daily_rate), big_rows)
    rows = np.concatenate([routine, big_rows])
    share = np.concatenate([rng.uniform(*rules.routine_share, len(routine)), rng.uniform(*rules.big_share, len(big_rows))])
    is_big = np.concatenate([np.zeros(len(routine), bool), np.ones(len(big_rows), bool)])
    order = np.argsort(rows, kind="stable")
    rows, share, is_big = rows[order], share[order], is_big[order]

    first_day = int(act_d.min()) if len(act_d) else 0
    days = np.arange(first_day, int(act_d.max()) + 2 if len(act_d) else 1)
    w_day, w_user = act_d[rows], act_u[rows]
    w_cut = np.searchsorted(w_day, days)
    firsts, seconds = np.flatnonzero(pay_i == 0), np.flatnonzero(pay_i > 0)
    f_cut = np.searchsorted(pay_d[firsts], days)
    s_cut = np.searchsorted(pay_d[seconds], days)
    w_cents, w_balance = np.zeros(len(rows), np.int64), np.zeros(len(rows), np.int64)
    p_balance = np.zeros(len(pay_d), np.int64)
    for d in range(len(days) - 1):
        s = slice(w_cut[d], w_cut[d + 1])
        u = w_user[s]  # one withdrawal per user and day at most
        taken = np.floor(balance[u] * share[s]).astype(np.int64)
        taken[taken < MIN_WITHDRAWAL_CENTS] = 0
        balance[u] -= taken
        w_cents[s], w_balance[s] = taken, balance[u]
        for idx, cut in ((firsts, f_cut), (seconds, s_cut)):
            rows_d = idx[cut[d]:cut[d + 1]]
            balance[pay_u[rows_d]] += pay_cents[rows_d]
            p_balance[rows_d] = balance[pay_u[rows_d]]
    kept = w_cents > 0
    big_day = np.full(n, -1, np.int32)
    big_day[w_user[kept & is_big]] = w_day[kept & is_big]
    planned[w_user[is_big]] = NEVER
    return Ledger(rows[kept], w_cents[kept], w_balance[kept], p_balance, big_day, LedgerStart(balance, planned))
