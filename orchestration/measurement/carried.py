"""A daily run's measurement carried from the run before: the journeys nothing new can change keep the outcome rows
recall_outcomes holds as of the last measured day S, and only the users something new touches are read and measured
again. The full measurement (daily.measure_days) reads and measures every journey of the 150-day horizon on each day
it measures, though from one day to the next 94% of them change nothing but their observed days
(docs/measurement.md).

A run measures its days F..L (F the earliest day late rows reopened, L its own day). A journey's row is the same as of
every day from min(F, S) to L, and the same as its row measured as of S, but for its observed days, unless:
- its user has activity the outcomes count (key actions, purchases, coupon orders) dated in that span, or an event
  landed since S's run dated on or before S (late events: the daily models recompute those days);
- a delivery-log row of its user landed since S's run, or a step of one becomes known in the span (scheduled, sent,
  opened or clicked);
- it starts in the span (a day's plan starts its journeys the next day), or the plan wrote a later step since S's run;
- one of its windows closes in the span (wake-up, return, 30 and 90 days), or it leaves the horizon;
- it returned, and its user had a key action exactly the churn threshold before a day of the span (the silence that
  follows may reach the threshold and settle its second churn).
The users of such journeys are measured again with every journey of theirs; the others' rows are carried: their
atoms summed once, their rows moved on to L in the warehouse. The result equals the full measurement
(tests/test_closed_loop_pipeline.py); a run measures in full whenever the warehouse's rows are not a complete
measurement as of S (carried_from).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pandas as pd

from orchestration.measurement.atoms import Atoms, atoms_of, merged
from orchestration.measurement.daily import PAIRED_DAYS, SHARD_JOURNEYS, measure_block
from orchestration.measurement.outcomes import LTV_DAYS, REPURCHASE_DAYS
from orchestration.measurement.readers import STARTED, STARTED_COLUMNS, Shard
from orchestration.measurement.second_churn import RETURN_DAYS
from orchestration.warehouse.io import WRITES_TABLE, read_frame, table_exists

if TYPE_CHECKING:
    import duckdb

    from orchestration.warehouse.engine import Engine

INPUTS = ("recall_outcomes", "recall_metrics", "recall_actions", "stg_events", "stg_recall_touches",
          "int_user_daily_activity")
REMEASURED = "remeasured_journeys"

# When S was measured, and when a day of its horizon was last planned (partition_writes): a day planned again after S
# was measured may have rewritten the later steps of its journeys in place (their A/B variants), which the state check
# below does not compare.
PLANNED_AGAIN = """
select
    (select max(written_at) from partition_writes where table_name = 'recall_outcomes' and day = $state),
    (select max(written_at) from partition_writes where table_name = 'recall_actions' and day between $first and $state)
"""
# Whether recall_outcomes holds exactly the decided journeys of day S's horizon, as recall_actions has them now, each
# measured as of S with the run's windows. It does not after a day planned again without being measured (journeys
# recall_actions no longer has or now has, or the same journeys with other attributes: an edited strategy library,
# relabelled users), or a run that failed between its shards, a day run again, other windows.
STATE_CHECK = """
with decided as (
    select {started} from recall_actions as started
    where step = 1 and journey_id is not null and cast(journey_started_at as date) between $first and $state
),
rows as (select * from recall_outcomes where assignment_date between $first and $state)
select
    count(*) filter (where rows.action_id is null or decided.action_id is null and rows.source = 'decisions'
        or decided.action_id is not null and rows.action_id is not null and ({differs})),
    count(*) filter (where rows.measured_through <> least($state, rows.assignment_date + ($horizon - 1))
        or rows.wake_up_window_days <> $wake or rows.churn_threshold_days <> $churn)
from decided full join rows on rows.action_id = decided.action_id
""".format(started=STARTED_COLUMNS,
           differs=" or ".join(f"rows.{name} is distinct from decided.{name}" for name in STARTED if name != "action_id"))
# The journeys whose rows may differ between any two of the days $since..$last (the run's days and the last measured
# one, $state) or from the rows measured as of $state (the module's docstring): every journey of a user with activity
# the outcomes count (a row with its user_id), and single journeys (a row with its journey_id). A journey whose
# second churn the stored rows know may have learnt it after $since.
REMEASURED_JOURNEYS = """
create or replace temp table {table} as
select distinct user_id, null::varchar as journey_id from stg_events
where (event_date > $since and event_date <= $last or _landing_date > $state and event_date <= $state)
    and (is_key_action or amount is not null or coupon_code is not null) and user_id is not null
union all
select distinct null, journey_id from (
    select coalesce(steps.journey_id, touches.action_id) as journey_id  -- a step's journey, or the log's own
    from (
        select action_id from stg_recall_touches  -- known by the run's last day
        where cast(scheduled_at as date) <= $last and (_landing_date > $state
            or cast(scheduled_at as date) > $since or cast(sent_at as date) between $since + 1 and $last
            or cast(opened_at as date) between $since + 1 and $last
            or cast(clicked_at as date) between $since + 1 and $last)
    ) as touches
    left join (select action_id, journey_id from recall_actions where journey_id is not null) as steps
        using (action_id)
    union all
    select journey_id from recall_actions
    where journey_id is not null and cast(journey_started_at as date) <= $last
        and (cast(journey_started_at as date) > $since or action_date > $state)
    union all
    select action_id from recall_outcomes
    where assignment_date between $since - ($horizon - 1) and $state
        and (assignment_date <= $last - $horizon or {closing})
    union all
    select outcomes.action_id from recall_outcomes as outcomes
    join int_user_daily_activity as activity using (user_id)
    where outcomes.assignment_date between $first and $state
        and outcomes.return_date is not null and (not outcomes.second_churned_mature or $since < $state)
        and activity.activity_date > $since - $churn and activity.activity_date <= $last - $churn
        and activity.key_actions > 0
)
where journey_id is not null
"""
# A window of k days closes on day A + k - 1: after $since and by the run's last day.
WINDOW_CLOSES = "assignment_date between $since - {k} + 2 and $last - {k} + 1"
# recall_outcomes' rows of the journeys not measured again.
CARRIED = f"not {Shard(selection=REMEASURED).predicate('user_id', 'action_id')}"
# Each carried journey's row as the atoms read it (atoms._prepare), a shard of users at a time. Only whether a
# journey handed out a coupon matters there, not its code.
CARRIED_ROWS = """
select assignment_date, strategy_id, arm, lifecycle_stage, holdout, first_journey, value_tier, segment, step_variant,
    channel, source, design_holdout_share, design_global_holdout_share, design_variant_share, wake_up_window_days,
    churn_threshold_days, woke_up, repurchased_30d, revenue_30d, revenue_90d, pre_period_revenue, return_date,
    second_churned, case when coupon_code is not null then 'c' end as coupon_code, coupon_redeemed,
    sent, delivered, opened, clicked, responded, cost
from recall_outcomes
where assignment_date between ? and ? and {carried} and {shard}
"""
# The carried journeys' rows move on to the run's last day: only their observed days change.
MOVE_ON = """
update recall_outcomes
set days_observed = least(date_diff('day', assignment_date, $last) + 1, $horizon),
    measured_through = assignment_date + cast(least(date_diff('day', assignment_date, $last), $horizon - 1) as integer)
where assignment_date between $first and $state and {carried}
"""


def carried_from(con: duckdb.DuckDBPyConnection, days: list[date], horizon: int,
                 windows: dict[str, int]) -> date | None:
    """The day S a run measuring `days` can carry the outcome rows of: the last day measured, when the run measures
    at most PAIRED_DAYS days, the day after S or days up to it first, and days after it; and when recall_outcomes
    holds every journey of S's horizon as of S with the run's windows. None: measure in full."""
    if len(days) > PAIRED_DAYS or not all(table_exists(con, table) for table in INPUTS):
        return None
    state = con.execute("select max(as_of_date) from recall_metrics where as_of_date <= ?", [days[-1]]).fetchall()[0][0]
    if state is None or not days[0] - timedelta(days=1) <= state < days[-1]:
        return None
    if _planned_again(con, state, state - timedelta(days=horizon - 1)):
        return None
    unmatched, stale = con.execute(STATE_CHECK, {
        "first": state - timedelta(days=horizon - 1), "state": state, "horizon": horizon,
        "wake": windows["wake_up_days"], "churn": windows["churn_days"]}).fetchall()[0]
    return state if unmatched == 0 and stale == 0 else None


def _planned_again(con: duckdb.DuckDBPyConnection, state: date, first: date) -> bool:
    """Whether a day of S's horizon was planned again since S was measured, or it is not known when S was: a plan
    replaced in place may have changed later steps (their A/B variants) that STATE_CHECK does not compare."""
    if not table_exists(con, WRITES_TABLE):
        return True
    measured_at, planned_at = con.execute(PLANNED_AGAIN, {"state": state, "first": first}).fetchall()[0]
    return measured_at is None or (planned_at is not None and planned_at >= measured_at)


def remeasured_journeys(con: duckdb.DuckDBPyConnection, state: date, days: list[date], horizon: int,
                        windows: dict[str, int]) -> int:
    """Collect in the temp table REMEASURED the users and journeys a run of `days` carrying from `state` measures
    again; how many journeys that selects in the run's horizon (an upper bound: decided ones and the delivery
    log's)."""
    closing = " or ".join(WINDOW_CLOSES.format(k=k) for k in
                          sorted({windows["wake_up_days"], RETURN_DAYS, REPURCHASE_DAYS, LTV_DAYS}))
    con.execute("set TimeZone = 'UTC'")  # the delivery log's times -> business day, as the reader takes them
    con.execute(REMEASURED_JOURNEYS.format(table=REMEASURED, closing=closing), {
        "state": state, "last": days[-1], "since": min(days[0], state), "first": state - timedelta(days=horizon - 1),
        "horizon": horizon, "churn": windows["churn_days"]}).fetchall()
    first, selected = days[0] - timedelta(days=horizon - 1), Shard(selection=REMEASURED)
    return sum(con.execute(sql, [first, days[-1]]).fetchall()[0][0] for sql in (
        "select count(*) from recall_actions where step = 1 and journey_id is not null "
        f"and cast(journey_started_at as date) between ? and ? and {selected.predicate('user_id', 'journey_id')}",
        "select count(distinct action_id) from stg_recall_touches where scheduled_date between ? and ? "
        f"and {selected.predicate('user_id', 'action_id')}"))


def carried_atoms(con: duckdb.DuckDBPyConnection, state: date, horizon: int, shard_rows: int) -> Atoms | None:
    """The atoms of the journeys carried from `state` (recall_outcomes' rows REMEASURED does not select), read about
    `shard_rows` rows at a time; their as-of day is `state`."""
    first = state - timedelta(days=horizon - 1)
    rows = con.execute(f"select count(*) from recall_outcomes where assignment_date between ? and ? and {CARRIED}",
                       [first, state]).fetchall()[0][0]
    shards = max(1, -(-rows // shard_rows))
    parts = []
    for index in range(shards):
        shard = Shard(index, shards).predicate("user_id", "action_id")
        frame = read_frame(con, CARRIED_ROWS.format(carried=CARRIED, shard=shard), [first, state])
        parts.append(atoms_of({state: frame}))
        del frame
    return merged(parts)


def as_of(atoms: Atoms | None, day: date) -> Atoms | None:
    """Carried atoms as of another `day` of the run: only their as-of day moves (no window of theirs closes in
    between, remeasured_journeys)."""
    if atoms is None:
        return None
    return Atoms(atoms.frame.assign(_as_of=pd.Timestamp(day)), atoms.names, atoms.totals)


def measure_carried(con: duckdb.DuckDBPyConnection, days: list[date], state: date, horizon: int,
                    windows: dict[str, int], design: dict[str, object], engine: Engine | None = None,
                    write: Callable[[pd.DataFrame], object] | None = None,
                    log: Callable[[str], object] | None = None,
                    shard_journeys: int | None = None,
                    move_on: bool = True) -> Iterator[tuple[list[date], pd.DataFrame]]:
    """daily.measure_days' chunks of `days`, carrying the rows measured as of `state` (carried_from) for the journeys
    nothing new can change; the users measured again are read a shard at a time like measure_days' (at most about
    `shard_journeys` journeys each). `write` receives their outcomes as of the last day, and the carried rows move
    on to it in the warehouse (unless not `move_on`: a read-only benchmark)."""
    most = shard_journeys or SHARD_JOURNEYS
    try:
        journeys = remeasured_journeys(con, state, days, horizon, windows)
        shards = max(1, -(-journeys // most))
        carried = carried_atoms(con, state, horizon, most)
        if log is not None:
            log(f"measuring {days[0]}..{days[-1]} carried from {state}: at most {journeys:,} journeys measured "
                f"again in {shards} shard(s), {0 if carried is None else int(carried.frame['_n'].sum()):,} carried")
        if write is not None and move_on:
            con.execute(MOVE_ON.format(carried=CARRIED), {
                "last": days[-1], "horizon": horizon, "first": state - timedelta(days=horizon - 1),
                "state": state}).fetchall()
        yield from measure_block(con, days, shards, horizon, windows, design, engine, write, REMEASURED,
                                 lambda day: as_of(carried, day))
    finally:
        con.execute(f"drop table if exists {REMEASURED}").fetchall()
