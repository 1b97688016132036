"""Which lookback days a run re-measures: those that data landed since the last measured day can change (late
events, the delivery log) and those never measured; the others keep their rows."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from orchestration.measurement import daily
from orchestration.measurement.readers import Shard, days_to_measure, shards_for

D = date(2026, 4, 20)
RUN = [D - timedelta(days=k) for k in (3, 2, 1, 0)]  # a daily run of D with three lookback days


def _day(offset: int) -> date:
    return D + timedelta(days=offset)


@pytest.fixture
def con():
    """A warehouse measured through D-1, with landing days D-1 (events dated D-1) and D (its events and
    delivery records dated D)."""
    with duckdb.connect() as con:
        con.execute("create table recall_metrics (as_of_date date)")
        con.execute("create table stg_events (event_date date, _landing_date date)")
        con.execute("create table stg_recall_touches (scheduled_date date, _landing_date date)")
        con.executemany("insert into recall_metrics values (?)", [[_day(k)] for k in range(-30, 0)])
        con.executemany("insert into stg_events values (?, ?)", [[_day(-1), _day(-1)], [_day(0), _day(0)]])
        con.execute("insert into stg_recall_touches values (?, ?)", [_day(0), _day(0)])
        yield con


def test_without_late_data_only_the_window_is_measured(con) -> None:
    assert days_to_measure(con, RUN, D) == [D]


def test_a_late_event_reopens_its_day_and_the_days_after_it(con) -> None:
    con.execute("insert into stg_events values (?, ?)", [_day(-2), _day(0)])
    assert days_to_measure(con, RUN, D) == [_day(-2), _day(-1), D]


def test_a_late_delivery_record_reopens_its_day(con) -> None:
    con.execute("insert into stg_recall_touches values (?, ?)", [_day(-1), _day(0)])
    assert days_to_measure(con, RUN, D) == [_day(-1), D]


def test_data_a_failed_run_landed_counts_as_new(con) -> None:
    # The run of D-1 landed an event dated D-3 and failed before measuring: D-1 was never measured.
    con.execute("delete from recall_metrics where as_of_date = ?", [_day(-1)])
    con.execute("insert into stg_events values (?, ?)", [_day(-3), _day(-1)])
    assert days_to_measure(con, RUN, D) == [_day(-3), _day(-2), _day(-1), D]


def test_days_never_measured_are_measured(con) -> None:
    con.execute("delete from recall_metrics where as_of_date >= ?", [_day(-2)])
    assert days_to_measure(con, RUN, D) == [_day(-2), _day(-1), D]
    con.execute("delete from recall_metrics")
    assert days_to_measure(con, RUN, D) == [_day(-3), _day(-2), _day(-1), D]


def test_a_run_of_an_earlier_day_never_moves_a_journey_back_in_time() -> None:
    """Re-running day D after D+2 was measured keeps the journeys D+2 measured as they were, and writes the others."""
    from orchestration.warehouse import replace_rows

    assigned = _day(-5)
    with duckdb.connect() as con:
        later = pd.DataFrame({"action_id": ["j1_1"], "assignment_date": [assigned], "measured_through": [_day(2)],
                              "woke_up": [True]})
        replace_rows(con, "recall_outcomes", later, "1 = 0", [])
        rerun = pd.DataFrame({"action_id": ["j1_1", "j2_1"], "assignment_date": [assigned, assigned],
                              "measured_through": [D, D], "woke_up": [False, False]})
        assert daily.write_outcomes(con, rerun, D - timedelta(days=149), D) == 1
        rows = con.execute("select action_id, measured_through, woke_up from recall_outcomes order by 1").fetchall()
    assert rows == [("j1_1", _day(2), True), ("j2_1", D, False)]


def test_a_measurement_is_sharded_by_its_journeys_and_each_user_falls_in_one_shard() -> None:
    """shards_for counts the range's decided journeys and the delivery log's (an upper bound); Shard's predicate puts
    every user in exactly one of the shards."""
    with duckdb.connect() as con:
        con.execute("""create table recall_actions as
            select 'u' || (i % 300) as user_id, 'j' || i as journey_id, (i % 3) + 1 as step,
                   timestamptz '2026-04-01 12:00:00+00' + to_days(cast(i % 40 as integer)) as journey_started_at
            from range(3000) as t(i)""")  # 1,000 first steps, 25 of every 40 days' in April 1-25
        con.execute("""create table stg_recall_touches as
            select 't' || (i % 200) as action_id, date '2026-04-10' as scheduled_date from range(400) as t(i)""")
        first, last = date(2026, 4, 1), date(2026, 4, 25)
        decided = con.execute("select count(*) from recall_actions where step = 1 and journey_started_at < ?",
                              [date(2026, 4, 26)]).fetchone()[0]
        total = decided + 200  # 625 + the log's 200 distinct journeys
        assert [shards_for(con, first, last, n) for n in (total, total - 1, total // 3, total // 3 - 1)] == [1, 2, 3, 4]
        shards = [Shard(k, 4) for k in range(4)]
        members = con.execute(f"""select user_id, {' + '.join(f'({s.predicate("user_id", "journey_id")})::int' for s in shards)}
                                  from (select distinct user_id from recall_actions)""").fetchall()
        assert len(members) == 300 and all(count == 1 for _, count in members)
        sizes = [con.execute(f"select count(distinct user_id) from recall_actions where {s.predicate('user_id', 'journey_id')}")
                 .fetchone()[0] for s in shards]
        assert min(sizes) > 0 and Shard().predicate("user_id", "journey_id") == "true"
        # A selection (a carried measurement's): every journey of the users it lists, and the journeys it lists.
        con.execute("create table picked as select * from (values ('u1', null), (null, 'j2')) as t(user_id, journey_id)")
        picked = con.execute(f"select distinct journey_id from recall_actions "
                             f"where {Shard(selection='picked').predicate('user_id', 'journey_id')}").fetchall()
        assert {j for (j,) in picked} == {f"j{i}" for i in range(3000) if i % 300 == 1} | {"j2"}
