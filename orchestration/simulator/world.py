"""Runs a simulated world in memory: population, day blocks between campaigns, events, defects and truth.

With `closed_loop_days` set, only the history (the days before them) is generated here, and the world's state at
its end is handed to the closed loop (simulator/loop), which simulates the remaining days one at a time."""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from .activity import (
    NO_START,
    OutcomeDraws,
    churn_days,
    coupon_window,
    decay_factor,
    draw_outcome_randoms,
    effective_engagement,
    latent_engagement,
    outcome_path,
)
from .campaigns import Journeys, Observed, campaign_days, run_campaign, select_targets
from .carry import HistoryEnd
from .config import DEFAULT_VERTICAL, SimulationConfig
from .defects import delivered_events
from .events import WorldPaths, build_events
from .population import US_PER_DAY, Population, build_population
from .touches import TOUCH_SCHEMA, action_ids, coupon_codes, touches_table
from .truth import campaign_effects_table, journeys_table, potential_outcomes, truth_users_table

logger = logging.getLogger(__name__)
ProgressCallback = Callable[[str, float], None]


@dataclass(frozen=True)
class SimulatedWorld:
    """Landing tables (users, events, recall touches) and ground-truth tables of one simulated world."""

    config: SimulationConfig
    users: pa.Table
    events: pa.Table
    touches: pa.Table
    truth_users: pa.Table
    truth_journeys: pa.Table
    truth_campaign_effects: pa.Table
    stats: dict[str, int] = field(default_factory=dict)
    history_end: HistoryEnd | None = None  # the state the closed loop starts from (closed_loop_days > 0)


@dataclass(frozen=True)
class WorldCore:
    """What a world is before anything happens in it, re-created identically from its config in any process:
    the users and the per-(day, user) random numbers of their outcome path over every day of the world."""

    config: SimulationConfig
    epoch_day: int  # start_date as days since 1970-01-01
    pop: Population
    draws: OutcomeDraws


def world_core(config: SimulationConfig) -> WorldCore:
    """The population and outcome draws of a config (the first two of simulate()'s random streams)."""
    seeds = np.random.SeedSequence(config.seed).spawn(6)
    epoch_day = (config.start_date - datetime.date(1970, 1, 1)).days
    pop = build_population(config, np.random.default_rng(seeds[0]), epoch_day)
    return WorldCore(config, epoch_day, pop, draw_outcome_randoms(np.random.default_rng(seeds[1]), config.n_days, pop))


def _log_progress(stage: str, fraction: float) -> None:
    logger.info("simulation %3.0f%%: %s", 100 * fraction, stage)


def simulate(config: SimulationConfig, progress: ProgressCallback | None = None) -> SimulatedWorld:
    """Generate a world deterministically from the config (same config, identical tables)."""
    report = progress or _log_progress
    seeds = np.random.SeedSequence(config.seed).spawn(6)
    rng_campaign, rng_events, rng_defects = (np.random.default_rng(s) for s in seeds[2:5])
    # Draws only other verticals need come from a sixth stream, so ecommerce worlds stay bit for bit the same.
    rng_vertical = np.random.default_rng(seeds[5]) if config.vertical != "ecommerce" else None
    core = world_core(config)
    epoch_day, pop, draws = core.epoch_day, core.pop, core.draws
    # The world spans n_days (users sign up and decay over all of them); the history is generated here.
    n_days, n_users = config.history_days, config.n_users

    factor = decay_factor(pop, n_days)
    e0 = latent_engagement(pop, factor, config.start_date.weekday())
    draws = OutcomeDraws(*(getattr(draws, f)[:n_days] for f in OutcomeDraws.__dataclass_fields__))
    force = np.arange(n_days)[:, None] == pop.signup_day[None, :]
    report("population and latent engagement", 0.1)

    engagement = np.empty((n_days, n_users), np.float32)
    active = np.empty((n_days, n_users), bool)
    n_orders = np.empty((n_days, n_users), np.int8)
    paid1 = np.empty((n_days, n_users), np.int32)
    coupon_journey = np.full((n_days, n_users), -1, np.int32)
    boost = np.zeros(n_users, np.float32)
    boost_start = np.full(n_users, NO_START, np.int32)
    coupon_start = np.full(n_users, NO_START, np.int32)
    coupon_cents = np.zeros(n_users, np.int32)
    coupon_owner = np.full(n_users, -1, np.int32)
    last_assigned = np.full(n_users, NO_START, np.int64)

    campaigns = campaign_days(n_days, config.campaign_every_days)  # pre-made campaigns: history only
    bounds = [0, *[c for c in campaigns if c > 0], n_days]
    all_journeys: list[Journeys] = []
    journey_offset = 0
    for b0, b1 in zip(bounds[:-1], bounds[1:], strict=True):
        if b0 in campaigns:
            consent = pop.consent_on(b0)
            seen = Observed(active[:b0], n_orders[:b0], _revenue(n_orders[:b0], paid1[:b0], draws.gross_cents2[:b0]))
            users, strategy = select_targets(b0, pop, consent, seen, last_assigned)
            journeys = run_campaign(b0, users, strategy, pop, consent, config.holdout_share, epoch_day, rng_campaign)
            hit = journeys.treated & journeys.responds
            who = journeys.users[hit]
            boost[who] = journeys.boost[hit]
            boost_start[who] = journeys.response_day[hit]
            with_coupon = hit & (journeys.coupon_cents > 0)
            coupon_start[journeys.users[with_coupon]] = journeys.response_day[with_coupon]
            coupon_cents[journeys.users[with_coupon]] = journeys.coupon_cents[with_coupon]
            coupon_owner[journeys.users[with_coupon]] = journey_offset + np.flatnonzero(with_coupon)
            last_assigned[users] = b0
            all_journeys.append(journeys)
            journey_offset += len(journeys)
        days = np.arange(b0, b1)[:, None]
        block = slice(b0, b1)
        engagement[block] = effective_engagement(e0[block], boost[None, :], boost_start[None, :], days)
        path = outcome_path(
            engagement[block], coupon_window(coupon_start[None, :], days), coupon_cents[None, :],
            pop.segment[None, :], draws.u_active[block], draws.u_order1[block], draws.u_order2[block],
            draws.gross_cents1[block], draws.gross_cents2[block], force[block], pop.behaviour,
        )
        active[block], n_orders[block], paid1[block] = path.active, path.n_orders, path.paid_cents1
        coupon_journey[block] = np.where(path.redeemed, coupon_owner[None, :], -1)
        report(f"days {b0}..{b1 - 1} simulated", 0.1 + 0.3 * b1 / n_days)

    start = config.start_date
    ids = [action_ids(j, start) for j in all_journeys]
    codes = [coupon_codes(j, start) for j in all_journeys]
    all_codes = pa.concat_arrays(codes) if codes else pa.array([], pa.string())
    world = WorldPaths(engagement, active, n_orders, paid1, draws.gross_cents2, coupon_journey)
    columns, ledger = build_events(pop, world, all_codes, epoch_day, rng_events, rng_vertical)
    report(f"{len(columns)} events generated", 0.75)
    events, stats = delivered_events(columns, config, epoch_day, rng_defects)
    history_end = None
    if config.closed_loop_days:
        history_end = HistoryEnd.after(
            pop, all_journeys, ids, all_codes, world, columns, ledger, events.num_rows - stats["duplicate_events"],
            boost=boost, boost_start=boost_start, coupon_start=coupon_start, coupon_cents=coupon_cents,
            coupon_owner=coupon_owner,
        )
    report("late, duplicate and invalid rows added", 0.85)

    end_us = (epoch_day + n_days) * US_PER_DAY
    touches = [touches_table(j, pop.user_ids, start, end_us) for j in all_journeys]
    truth = [
        journeys_table(j, potential_outcomes(j, e0, draws, force, pop), a, pop.user_ids, start)
        for j, a in zip(all_journeys, ids, strict=True)
    ]
    truth_journeys = pa.concat_tables(truth) if truth else _empty_journeys(pop, start)
    stats.update(events=events.num_rows, journeys=truth_journeys.num_rows, users=n_users)
    report("truth tables built", 1.0)
    users = pop.users_table
    if config.closed_loop_days:  # later signups and consent changes land day by day in the closed loop
        stamps = users["updated_at"].cast(pa.int64()).to_numpy()
        users = users.filter(pa.array(stamps < end_us))
    return SimulatedWorld(
        config=config,
        users=users,
        events=events,
        touches=pa.concat_tables(touches) if touches else TOUCH_SCHEMA.empty_table(),
        truth_users=truth_users_table(
            pop, churn_days(factor, pop), start, ledger.big_withdrawal_day if ledger is not None else None
        ),
        truth_journeys=truth_journeys,
        truth_campaign_effects=campaign_effects_table(truth_journeys),
        stats=stats,
        history_end=history_end,
    )


def _revenue(n_orders: np.ndarray, paid1: np.ndarray, gross2: np.ndarray) -> np.ndarray:
    return (n_orders >= 1) * paid1.astype(np.int64) + (n_orders >= 2) * gross2.astype(np.int64)


def _empty_journeys(pop: Population, start: datetime.date) -> pa.Table:
    """A journeys table with no rows (worlds too short for any campaign)."""
    empty = Journeys(
        day=0, users=np.zeros(0, np.int32), strategy=np.zeros(0, np.int8), treated=np.zeros(0, bool),
        coupon_cents=np.zeros(0, np.int32), attempted=np.zeros((0, 3), bool), scheduled_us=np.zeros((0, 3), np.int64),
        delivered=np.zeros((0, 3), bool), sent_us=np.zeros((0, 3), np.int64), opened=np.zeros((0, 3), bool),
        opened_us=np.zeros((0, 3), np.int64), clicked=np.zeros((0, 3), bool), clicked_us=np.zeros((0, 3), np.int64),
        responds=np.zeros(0, bool), response_day=np.zeros(0, np.int32), boost=np.zeros(0, np.float32),
    )
    outcomes = {f"{arm}_{name}": np.zeros(0) for arm in ("y0", "y1") for name in ("woke_up_7d", "repurchased_30d",
                                                                                   "revenue_30d")}
    return journeys_table(empty, outcomes, pa.array([], pa.string()), pop.user_ids, start)


def _quiet(stage: str, fraction: float) -> None:
    """A progress callback that reports nothing."""


def benchmark_generation(
    n_users: int = 20_000, n_days: int = 120, seed: int = 7, vertical: str = DEFAULT_VERTICAL
) -> dict[str, float]:
    """Events generated per second of simulate() (file writing excluded)."""
    config = SimulationConfig(n_users=n_users, n_days=n_days, seed=seed, vertical=vertical)
    simulate(SimulationConfig(n_users=50, n_days=30, seed=seed, vertical=vertical), progress=_quiet)  # one-time library warm-up
    began = time.perf_counter()
    world = simulate(config, progress=_quiet)
    seconds = time.perf_counter() - began
    events = world.events.num_rows
    return {"events": events, "seconds": seconds, "events_per_second": events / seconds}
