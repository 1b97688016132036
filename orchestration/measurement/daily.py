"""A run's measurement, day by day: the outcomes of the journeys in the horizon as of each day, and the cohort metrics
of those days, a chunk of days at a time (what the recall_measurement asset runs, and its benchmark times)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from orchestration.ids import is_in
from orchestration.measurement.journeys import JourneyLog, is_decided
from orchestration.measurement.atoms import FIXED_KEY, Atoms, atoms_of, merged
from orchestration.measurement.metrics import cohort_metrics_by_day, metrics_of_atoms
from orchestration.measurement.outcomes import PRE_PERIOD_DAYS, day_numbers, measure_outcomes
from orchestration.measurement.pairs import ActivityPairs
from orchestration.measurement.readers import JourneyInputs, Shard, read_journeys, shards_for
from orchestration.prefetch import prefetched
from orchestration.warehouse import replace_rows, table_exists

if TYPE_CHECKING:
    import duckdb

    from orchestration.config import Settings
    from orchestration.recall.library import StrategyLibrary
    from orchestration.warehouse.engine import Engine

# Days whose metrics are computed together hold about this many journey outcomes in all: pandas' cost is mostly per
# call, so a range run's days are measured in a few passes (a daily run's three days at 20,000 users in one: 19% less
# time than two), and the pass's memory stays bounded (60 MB more than at 50,000 over eight days of the demo).
CHUNK_OUTCOMES = 150_000
# Journeys measured at a time by default (readers.Shard; the setting CHURN_RECALL_MEASUREMENT_SHARD_JOURNEYS): one
# pass over 1.36 million journeys (1M users, 44 days) raised the process by 3.7 GiB, three shards by 1.9 GiB, and a
# full horizon holds about 5 million.
SHARD_JOURNEYS = 500_000
# Consecutive as-of days that share one pairing of journeys with activity (pairs.py): a daily run's days share one; a
# long backfill pairs again every week, so that a day never selects among the pairs of journeys it cannot see.
PAIRED_DAYS = 7
# Days a sharded range measures together: each shard's journeys are read once per block, and the block's atoms are
# held until its last shard. Over 14 days of the 100,000-user world in four shards, blocks of two weeks took 31.7-33.7 s
# against 41.9-42.9 s for one week (one pass: 23.4-25.7 s), at a 0.08 GiB higher peak; over 31 days at 1M users,
# 76.3-79.5 s against 86.2-95.7 s at the same peak.
SHARDED_BLOCK_DAYS = 2 * PAIRED_DAYS


def library_design(library: StrategyLibrary) -> dict[str, object]:
    """cohort_metrics' design arguments: each strategy's holdout share, the global holdout share, and the share of
    every A/B variant (keyed by strategy and variant id), as the library has them now: the sample-ratio check's
    stand-in for journeys that did not record the design they were assigned under."""
    variants = {(s.id, v.id): v.share for s in library.strategies for step in s.steps for v in step.variants}
    return {"design_control_share": {s.id: s.holdout_share for s in library.strategies},
            "global_holdout_share": library.global_holdout_share, "variant_shares": variants}


def outcome_windows(settings: Settings) -> dict[str, int]:
    """measure_outcomes' window arguments for the configured vertical (and wake-up override)."""
    wake_up_days, churn_days = settings.measurement_windows
    return {"wake_up_days": wake_up_days, "churn_days": churn_days}


def activity_pairs(inputs: JourneyInputs, horizon: int, first: date, last: date) -> ActivityPairs:
    """The journeys of `inputs` that as-of days `first`..`last` can see (decided, or known only to the delivery log:
    assigned on its first row's day), paired with their users' activity up to `last` once for all those days."""
    decided, touches = inputs.decisions, inputs.touches
    logged = touches.loc[~is_decided(touches["action_id"], decided)]
    users = pd.concat([decided["user_id"], logged["user_id"]], ignore_index=True)
    days = np.concatenate([day_numbers(decided["assignment_date"]), day_numbers(logged["scheduled_at"])])
    earliest, latest = day_numbers(pd.Series([first - timedelta(days=horizon - 1), last]))
    seen = (days >= earliest) & (days <= latest)
    activity_day = day_numbers(inputs.activity["activity_date"])
    return ActivityPairs.of(users[seen].reset_index(drop=True), days[seen], inputs.activity["user_id"], activity_day,
                            -PRE_PERIOD_DAYS, horizon, usable=activity_day <= latest)


def outcomes_as_of(inputs: JourneyInputs, day: date, horizon: int, windows: dict[str, int],
                   pairs: ActivityPairs | None = None, log: JourneyLog | None = None) -> pd.DataFrame:
    """The outcomes, known at the end of `day`, of the journeys assigned in the `horizon` days up to it (older
    journeys have every window closed: they were final at an earlier run). `windows`: measure_outcomes' wake_up_days
    and churn_days; `pairs`: activity_pairs over days that include `day`, shared by them; `log`: the inputs'
    JourneyLog, likewise."""
    log = log or JourneyLog.of(inputs.touches, inputs.decisions)
    journeys = log.as_of(day)
    visible = journeys[journeys["assignment_date"] >= day - timedelta(days=horizon - 1)]
    return measure_outcomes(visible, inputs.activity, day, redemptions=inputs.redemptions, pairs=pairs,
                            unique_ids=log.unique_ids, typed=True, **windows)


def outcomes_by_day(inputs: JourneyInputs, days: list[date], horizon: int,
                    windows: dict[str, int]) -> Iterator[tuple[date, pd.DataFrame]]:
    """outcomes_as_of each of `days` (consecutive, ascending), PAIRED_DAYS days sharing one pairing; the next day's
    are measured in the background while the caller uses this day's (prefetched: at 100,000 users a day's outcomes
    and its cohort metrics take about 1.5 s each, partly in calls that release the GIL)."""
    log = JourneyLog.of(inputs.touches, inputs.decisions)

    def paired() -> Iterator[tuple[date, ActivityPairs]]:
        for k, day in enumerate(days):
            if k % PAIRED_DAYS == 0:
                block = days[k:k + PAIRED_DAYS]
                pairs = activity_pairs(inputs, horizon, block[0], block[-1])
            yield day, pairs

    def measured(day_pairs: tuple[date, ActivityPairs]) -> tuple[date, pd.DataFrame]:
        day, pairs = day_pairs
        return day, outcomes_as_of(inputs, day, horizon, windows, pairs, log)

    return prefetched(paired(), measured)


def measure_days(con: duckdb.DuckDBPyConnection, days: list[date], horizon: int, windows: dict[str, int],
                 design: dict[str, object], engine: Engine | None = None,
                 write: Callable[[pd.DataFrame], object] | None = None,
                 log: Callable[[str], object] | None = None,
                 shard_journeys: int | None = None) -> Iterator[tuple[list[date], pd.DataFrame]]:
    """The cohort metrics of `days` (consecutive, ascending), a chunk of days at a time: each chunk's days and
    metrics. The journeys are read and measured a shard of users at a time (at most about `shard_journeys`
    journeys each, SHARD_JOURNEYS by default), each shard's outcomes summed into atoms that add up to the day's:
    the step's memory holds one shard's journeys however many the horizon has. `write` receives each shard's
    outcomes as of the last day; `log`, when given, a line per sharded block of days."""
    most = shard_journeys or SHARD_JOURNEYS

    def shards(block: list[date]) -> int:
        return shards_for(con, block[0] - timedelta(days=horizon - 1), block[-1], most)

    # One shard streams the days in one read (a day's atoms are complete once measured); several hold a block's
    # atoms until the last shard has measured it, so they take SHARDED_BLOCK_DAYS at a time, sharded as each needs.
    whole = shards(days)
    if whole == 1:
        yield from measure_block(con, days, 1, horizon, windows, design, engine, write)
        return
    for start in range(0, len(days), SHARDED_BLOCK_DAYS):
        block = days[start:start + SHARDED_BLOCK_DAYS]
        count = whole if len(block) == len(days) else shards(block)  # one block (a daily run): counted above
        if log is not None:
            log(f"measuring {block[0]}..{block[-1]} (days {start + 1}-{start + len(block)} of {len(days)}) in "
                f"{count} shard(s) of users (more than {most:,} journeys in its horizon)")
        yield from measure_block(con, block, count, horizon, windows, design, engine,
                                  write if block[-1] == days[-1] else None)


def measure_block(con: duckdb.DuckDBPyConnection, days: list[date], shards: int, horizon: int,
                  windows: dict[str, int], design: dict[str, object], engine: Engine | None,
                  write: Callable[[pd.DataFrame], object] | None, selection: str | None = None,
                  carried: Callable[[date], Atoms | None] | None = None) -> Iterator[tuple[list[date], pd.DataFrame]]:
    """measure_days over `days` in `shards` shards of users (of the journeys the table `selection` lists, when given:
    readers.Shard); `write` receives the outcomes as of the last day; `carried(day)`: the atoms of journeys not
    measured here, added to the day's (carried.py)."""
    atoms: dict[date, Atoms | None] = {}
    journeys: dict[date, int] = dict.fromkeys(days, 0)
    complete: list[date] = []
    for index in range(shards):
        for day, outcomes in _shard_outcomes(con, days, Shard(index, shards, selection), horizon, windows, engine):
            if write is not None and day == days[-1]:
                write(outcomes.drop(columns=FIXED_KEY, errors="ignore"))  # the atoms' key, not an outcome
            atoms[day] = merged([atoms.get(day), atoms_of({day: outcomes})])
            journeys[day] += len(outcomes)
            if index == shards - 1:  # the day's atoms are complete
                complete.append(day)
                if sum(journeys[d] for d in complete) >= CHUNK_OUTCOMES or day == days[-1]:
                    parts = [atoms.pop(d) for d in complete] + [carried(d) for d in complete if carried is not None]
                    yield complete, _metrics(parts, design)
                    complete = []
        del outcomes  # the last day's: freed before the next shard is read, as the shard's inputs are


def _shard_outcomes(con: duckdb.DuckDBPyConnection, days: list[date], shard: Shard, horizon: int,
                    windows: dict[str, int], engine: Engine | None) -> Iterator[tuple[date, pd.DataFrame]]:
    """outcomes_by_day of the `shard`'s journeys (its inputs live as long as this generator)."""
    inputs = read_journeys(con, days[0] - timedelta(days=horizon - 1), days[-1], engine, shard)
    yield from outcomes_by_day(inputs, days, horizon, windows)


def _metrics(parts: list[Atoms | None], design: dict[str, object]) -> pd.DataFrame:
    """The cohort metrics of the days whose atoms are `parts` (an empty frame when no day has a journey)."""
    atoms = merged(parts)
    if atoms is None:
        return cohort_metrics_by_day({})
    return metrics_of_atoms(atoms, **design)


def write_outcomes(con: duckdb.DuckDBPyConnection, outcomes: pd.DataFrame, first: date, as_of: date) -> int:
    """Replace the rows of the journeys measured as of `as_of` (assigned from `first`), except those a later run
    already measured: a journey never moves back in time (re-running an older day leaves the later measurements).
    The rows written."""
    if table_exists(con, "recall_outcomes"):
        later = con.execute(
            "select action_id from recall_outcomes where assignment_date between ? and ? and measured_through > ?",
            [first, as_of, as_of],
        ).df()["action_id"]
        outcomes = outcomes[~is_in(outcomes["action_id"], later)]
    con.register("measured", outcomes[["action_id"]])
    try:
        replace_rows(con, "recall_outcomes", outcomes, "action_id in (select action_id from measured)", [])
    finally:
        con.unregister("measured")
    return len(outcomes)
