"""Expansion of the per-(day, user) world into individual events: sessions, in-session behaviour by segment,
orders with amounts and coupons, device changes; times and JSON properties built with array operations."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import params as P
from .finance import Ledger, LedgerStart, finance_ledger
from .population import US_PER_DAY, Population
from .presets import VerticalBehaviour
from .strings import concat, decimal_amounts, digit_strings, join_fixed, lookup, padded

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class WorldPaths:
    """The observed world per (day, user): engagement and the outcome path."""

    engagement: np.ndarray   # float32 effective engagement (boost included)
    active: np.ndarray       # bool
    n_orders: np.ndarray     # int8
    paid_cents1: np.ndarray  # int32
    paid_cents2: np.ndarray  # int32
    coupon_journey: np.ndarray  # int32 global journey index whose coupon pays the first order, -1 if none


@dataclass(frozen=True)
class EventColumns:
    """Generated events before ids, delivery times and defects: session rows by (day, user, time), then device
    changes, then orders."""

    user: np.ndarray        # int32 user index
    code: np.ndarray        # int8 index into params.EVENT_NAMES
    time_us: np.ndarray     # int64 microseconds since the epoch
    properties: pa.Array    # JSON strings

    def __len__(self) -> int:
        return len(self.user)


def _segment_runs(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of the given sizes laid end to end: each row's group index and position within it."""
    starts = np.cumsum(counts) - counts
    group = np.repeat(np.arange(len(counts)), counts)
    return group, np.arange(int(counts.sum())) - starts[group]


def _in_session_codes(
    rng: np.random.Generator, segment: np.ndarray, core_share: np.ndarray, b: VerticalBehaviour
) -> np.ndarray:
    """Event codes of the rows after app_open: core feature with probability core_share, then the segment's mix.

    One uniform decides both (core or not, then which event, by rescaling), looked up with one searchsorted
    over the cumulative mixes of all (segment, core/other) pairs laid end to end.
    """
    width = max(b.core_mix.shape[1], b.other_mix.shape[1])
    mixes, codes = [], []
    for seg in range(len(P.SEGMENTS)):
        for mix, names in ((b.core_mix[seg], b.core_events), (b.other_mix[seg], b.other_events)):
            cumulative = np.cumsum(mix) / mix.sum()
            mixes.append(np.concatenate([cumulative[:-1], np.ones(width - len(cumulative) + 1)]))
            codes.append([b.code(name) for name in names] + [b.code(names[-1])] * (width - len(names)))
    table = (np.array(mixes) + np.arange(len(mixes))[:, None]).ravel()
    share = np.clip(core_share, 1e-9, 1.0 - 1e-9)
    u = rng.random(len(segment))
    other = u >= share
    scaled = np.minimum(np.where(other, (u - share) / (1.0 - share), u / share), 1.0 - 1e-9)
    row = segment.astype(np.int64) * 2 + other
    pick = np.minimum(np.searchsorted(table, row + scaled, side="right") - row * width, width - 1)
    return np.array(codes, np.int8).ravel()[row * width + pick]


@dataclass(frozen=True)
class Continuation:
    """Where a block of days picks up when the world is simulated a day at a time (simulator/loop): the block's
    first day, each user's device changes so far, the next order and withdrawal numbers, the finance ledger."""

    first_day: int
    device_changes: np.ndarray  # int16 per user
    next_order_id: int
    next_withdrawal_id: int
    ledger: LedgerStart | None = None


def build_events(
    pop: Population, world: WorldPaths, coupon_codes: pa.Array, epoch_day: int, rng: np.random.Generator,
    rng_vertical: np.random.Generator | None = None, continuation: Continuation | None = None,
) -> tuple[EventColumns, Ledger | None]:
    """All valid events of the world: session rows by (day, user, time), then device changes, then payments, then
    (finance) withdrawals; with the finance ledger (balances, large withdrawals) when the vertical has one.

    rng_vertical draws what only non-ecommerce verticals need, so the ecommerce draws never change.
    epoch_day is the day number (since 1970) of the world's day 0; the block starts at continuation.first_day.
    """
    b = pop.behaviour
    first_day = continuation.first_day if continuation is not None else 0
    act_d, act_u = np.nonzero(world.active)
    act_d = act_d + first_day  # world day of each active (day, user) row
    e = world.engagement[act_d - first_day, act_u].astype(np.float64)
    rel = np.clip(e / pop.base[act_u], 0.0, 1.5)
    # Signup day: the day's events are squeezed into the time after signup (linear map, order kept).
    signup = act_d == pop.signup_day[act_u]
    sig_us = np.where(signup, pop.signup_us[act_u], 0)
    squeeze = (US_PER_DAY - sig_us) / SECONDS_PER_DAY  # microseconds per simulated second
    day_us = (epoch_day + act_d.astype(np.int64)) * US_PER_DAY + sig_us

    # Sessions sit in evenly spread slots of the day, so they never overlap; each opens with app_open.
    n_sess = np.minimum(1 + rng.poisson(b.session_rate * np.minimum(e, 3.0)), b.max_sessions)
    sess_a, sess_k = _segment_runs(n_sess)
    slot = SECONDS_PER_DAY / n_sess[sess_a]
    start_us = day_us[sess_a] + (sess_k + 0.5 * rng.random(len(sess_a))) * slot * squeeze[sess_a]
    size = 1 + rng.poisson(b.depth_base + b.depth_slope * rel[sess_a])
    rows_s, pos = _segment_runs(size)
    gaps = rng.exponential(b.event_gap_seconds, len(rows_s))
    gaps[pos == 0] = 0.0
    elapsed = np.cumsum(gaps)
    first_row = np.cumsum(size) - size
    squeeze_s = squeeze[sess_a]
    offset = np.minimum(elapsed - np.repeat(elapsed[first_row], size), np.repeat(0.45 * slot, size))
    row_time = (np.repeat(start_us, size) + offset * np.repeat(squeeze_s, size)).astype(np.int64)

    # In-session behaviour: the core-feature share falls with relative engagement; mixes differ by segment.
    later = np.flatnonzero(pos > 0)
    seg_s = pop.segment[act_u[sess_a]]
    core_s = b.core_share[seg_s] * np.minimum(rel[sess_a], 1.0)
    row_codes = np.full(len(rows_s), b.code(b.session_event), np.int8)
    later_s = rows_s[later]
    row_codes[later] = _in_session_codes(rng, seg_s[later_s], core_s[later_s], b)

    # Device changes happen when the first session of the day opens.
    change = np.flatnonzero((rng.random(len(act_d)) < P.DEVICE_CHANGE_RATE) & ~signup)
    device_count = np.zeros(world.active.shape, np.int16)
    device_count[act_d[change] - first_day, act_u[change]] = 1
    np.cumsum(device_count, axis=0, out=device_count)
    if continuation is not None:
        device_count += continuation.device_changes[None, :]
    day_first_session = np.cumsum(n_sess) - n_sess
    dev_time = start_us[day_first_session[change]].astype(np.int64)
    dev_props = join_fixed([
        b'{"device_id":"d', digit_strings(act_u[change] + 1, 7), b"-",
        digit_strings(np.minimum(device_count[act_d[change] - first_day, act_u[change]], 99), 2), b'"}',
    ])

    # Payments come after the day's last session; the recall coupon pays the first one when redeemed.
    n_ord = world.n_orders[act_d - first_day, act_u].astype(np.int64)
    ord_a, ord_i = _segment_runs(n_ord)
    day_last_row = np.cumsum(size)[day_first_session + n_sess - 1] - 1
    last_row = day_last_row[ord_a]
    after = 30 + 90 * rng.random(len(ord_a)) + ord_i * (120 + 180 * rng.random(len(ord_a)))
    ord_time = row_time[last_row] + (after * squeeze[ord_a]).astype(np.int64)
    d_o, u_o = act_d[ord_a], act_u[ord_a]
    cents = np.where(ord_i == 0, world.paid_cents1[d_o - first_day, u_o], world.paid_cents2[d_o - first_day, u_o])
    journey = np.where(ord_i == 0, world.coupon_journey[d_o - first_day, u_o], -1)
    first_order = continuation.next_order_id if continuation is not None else 1
    order_props = _order_properties(rng, cents, journey, pop.segment[u_o], coupon_codes, b, first_order)
    ord_code = np.full(len(ord_a), b.code(b.payment_events[0]), np.int8)
    if b.first_alt_share.any() and rng_vertical is not None:
        alternative = (ord_i == 0) & (rng_vertical.random(len(ord_a)) < b.first_alt_share[pop.segment[u_o]])
        ord_code[alternative] = b.code(b.payment_events[1])
    ord_code[ord_i > 0] = b.code(b.second_payment_event)

    constant = [("{}" if name not in b.core_events else f'{{"feature":"{name}"}}') for name in b.event_names]
    constant[b.code("coupon_claim")] = '{"coupon_code":"' + b.organic_codes[0] + '"}'
    users = [np.repeat(act_u[sess_a], size), act_u[change], u_o]
    codes = [row_codes, np.full(len(change), b.code("device_change"), np.int8), ord_code]
    times = [row_time, dev_time, ord_time]
    props = [lookup(constant, row_codes), dev_props, order_props]
    ledger = None
    if b.withdrawals is not None and rng_vertical is not None:
        # A withdrawal comes after the day's last session and before its payments (which start 30 s later).
        ledger = finance_ledger(pop, b.withdrawals, act_d, act_u, d_o, u_o, ord_i, cents, rng_vertical,
                                continuation.ledger if continuation is not None else None)
        w_act = ledger.withdraw_rows
        first_withdrawal = continuation.next_withdrawal_id if continuation is not None else 1
        w_time = row_time[day_last_row[w_act]] + ((5 + 20 * rng_vertical.random(len(w_act))) * squeeze[w_act]).astype(
            np.int64)
        props[2] = concat(pc.utf8_slice_codeunits(order_props, 0, -1), ',"balance":',
                          decimal_amounts(ledger.payment_balance), "}")
        users.append(act_u[w_act])
        codes.append(np.full(len(w_act), b.code("withdraw"), np.int8))
        times.append(w_time)
        props.append(concat(
            '{"amount":', decimal_amounts(ledger.withdraw_cents), f',"currency":"{P.CURRENCY}","order_id":"w',
            padded(np.arange(first_withdrawal, first_withdrawal + len(w_act)), 9), '","balance":',
            decimal_amounts(ledger.withdraw_balance), "}",
        ))
    columns = EventColumns(
        user=np.concatenate(users).astype(np.int32),
        code=np.concatenate(codes),
        time_us=np.concatenate(times),
        properties=pa.concat_arrays(props),
    )
    return columns, ledger


def _order_properties(
    rng: np.random.Generator, cents: np.ndarray, journey: np.ndarray, segment: np.ndarray, coupon_codes: pa.Array,
    b: VerticalBehaviour, first_order: int = 1,
) -> pa.Array:
    """JSON of a payment: amount, currency, order_id, and coupon_code when a recall or platform coupon was used."""
    n = len(cents)
    organic = (journey < 0) & (rng.random(n) < b.organic_coupon[segment])
    organic_code = lookup(b.organic_codes, rng.integers(0, len(b.organic_codes), n))
    recall_code = pc.take(coupon_codes, pa.array(np.maximum(journey, 0))) if len(coupon_codes) else organic_code
    code = pc.if_else(pa.array(journey >= 0), recall_code, organic_code)
    coupon_part = pc.if_else(pa.array((journey >= 0) | organic), concat(',"coupon_code":"', code, '"'), pa.scalar(""))
    return concat(
        '{"amount":', decimal_amounts(cents), f',"currency":"{P.CURRENCY}","order_id":"o',
        padded(np.arange(first_order, first_order + n), 9), '"', coupon_part, "}",
    )
