"""A user whose only users row a landing day loaded again has dropped: their accepted events and labels, on the days
before that run's window and on the later days it could not reach, are staged again (from the earliest day the user
holds), so that daily runs agree with one run over the same raw rows."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from orchestration.config import Settings
from orchestration.ingestion.staging_state import (
    StagedAgain, days_of_vanished_users, leave_unstaged, mark_staged, staged_again,
)
from orchestration.runner import run_days
from orchestration.simulator import SimulationConfig, simulate, write_world

pytestmark = pytest.mark.duration(60)  # builds its worlds through the pipeline: scheduled first
START = date(2026, 1, 1)
DAY = [START + timedelta(days=i) for i in range(6)]
UP_TO = ["user_daily_labels"]  # the daily dbt models and what they read: the events and users feeds


def _world_with_a_user_to_drop(root: Path) -> str:
    """A 300-user world of three days; the user it returns has one users row, on the first day, and events on
    every day."""
    write_world(simulate(SimulationConfig(n_users=300, n_days=3, start_date=START, seed=5)),
                root / "landing", root / "truth")
    users = [set(pq.read_table(root / "landing" / day.isoformat() / "users.parquet")["user_id"].to_pylist())
             for day in DAY[:3]]
    events = [set(pq.read_table(root / "landing" / day.isoformat() / "events.parquet")["user_id"].to_pylist())
              for day in DAY[:3]]
    return sorted((users[0] - users[1] - users[2]) & events[0] & events[1] & events[2])[0]


def _drop_from_users_file(landing: Path, day: date, user: str) -> None:
    path = landing / day.isoformat() / "users.parquet"
    users = pq.read_table(path)
    pq.write_table(users.filter(pc.not_equal(users["user_id"], user)), path)


def _reject_in_users_file(landing: Path, day: date, user: str) -> None:
    """The user's row of that day's users file without its signup: quarantined (invalid_signup_at), the user known."""
    path = landing / day.isoformat() / "users.parquet"
    users = pq.read_table(path)
    signup = pc.if_else(pc.equal(users["user_id"], user), pa.scalar(None, users["signup_at"].type), users["signup_at"])
    pq.write_table(users.set_column(users.schema.get_field_index("signup_at"), "signup_at", signup), path)


def _rows(settings: Settings, query: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return sorted(con.execute(query).fetchall(), key=repr)


def test_a_user_dropped_from_an_earlier_users_day_leaves_every_day_a_full_build_lacks_them(tmp_path: Path) -> None:
    world = tmp_path / "world"
    gone = _world_with_a_user_to_drop(world)
    paths = {"landing": world / "landing", "truth": world / "truth"}
    daily, at_once = Settings.under(tmp_path / "daily", **paths), Settings.under(tmp_path / "once", **paths)
    for day in DAY[:2]:
        assert run_days(daily, day, day, up_to=UP_TO, log_level="ERROR").success
    _drop_from_users_file(world / "landing", DAY[0], gone)
    assert run_days(daily, DAY[0], DAY[0], up_to=UP_TO, log_level="ERROR").success  # the day loaded again
    accepted = f"select distinct _landing_date from stg_events where user_id = '{gone}'"
    assert _rows(daily, accepted) == [(DAY[1],)]  # that run's window could not reach the next day's events
    assert run_days(daily, DAY[2], DAY[2], up_to=UP_TO, log_level="ERROR").success
    assert run_days(at_once, DAY[0], DAY[2], up_to=UP_TO, log_level="ERROR").success
    assert _rows(daily, accepted) == []
    quarantined = f"select distinct _landing_date from quarantine_events where reject_reason = 'unknown_user' " \
                  f"and user_id = '{gone}'"
    assert _rows(daily, quarantined) == [(day,) for day in DAY[:3]]
    assert _rows(daily, f"select count(*) from user_daily_labels where user_id = '{gone}'") == [(0,)]
    for table in ("stg_users", "stg_events", "quarantine_events", "int_user_daily_activity", "user_daily_labels",
                  "int_feed_daily_counts"):
        assert _rows(daily, f"select * from {table}") == _rows(at_once, f"select * from {table}"), table


def test_a_user_whose_only_row_was_rejected_and_is_dropped_leaves_the_later_days_too(tmp_path: Path) -> None:
    """Never labelled, such a user is found only by the run that drops their row: that run leaves the later landing
    days with their events unstaged, and the next run stages them again."""
    world = tmp_path / "world"
    gone = _world_with_a_user_to_drop(world)
    _reject_in_users_file(world / "landing", DAY[0], gone)
    paths = {"landing": world / "landing", "truth": world / "truth"}
    daily, at_once = Settings.under(tmp_path / "daily", **paths), Settings.under(tmp_path / "once", **paths)
    for day in DAY[:2]:
        assert run_days(daily, day, day, up_to=UP_TO, log_level="ERROR").success
    accepted = f"select distinct _landing_date from stg_events where user_id = '{gone}'"
    assert _rows(daily, accepted) == [(DAY[0],), (DAY[1],)]  # known, though rejected: the events are accepted
    _drop_from_users_file(world / "landing", DAY[0], gone)
    assert run_days(daily, DAY[0], DAY[0], up_to=UP_TO, log_level="ERROR").success
    assert _rows(daily, accepted) == [(DAY[1],)]
    assert run_days(daily, DAY[2], DAY[2], up_to=UP_TO, log_level="ERROR").success
    assert run_days(at_once, DAY[0], DAY[2], up_to=UP_TO, log_level="ERROR").success
    assert _rows(daily, accepted) == []
    for table in ("stg_events", "quarantine_events", "quarantine_users", "int_user_daily_activity",
                  "user_daily_labels"):
        assert _rows(daily, f"select * from {table}") == _rows(at_once, f"select * from {table}"), table


def _staged_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema restricted")
    con.execute("create table raw_landing_log (landing_date date, status varchar, staged_at timestamp)")
    con.execute("create table restricted.raw_users (user_id varchar, _landing_date date)")
    con.execute("create table restricted.base_users (clean_user_id varchar, _landing_date date)")
    con.execute("create table int_user_recency (user_id varchar, label_date date, signup_date date)")
    con.execute("create table stg_events (user_id varchar, _landing_date date, event_date date)")
    con.execute("insert into raw_landing_log values ('2026-01-01', 'no_file', null), ('2026-01-02', 'loaded', now()), "
                "('2026-01-03', 'loaded', now()), ('2026-01-04', 'loaded', now()), ('2026-01-05', 'loaded', now())")
    con.execute("insert into restricted.raw_users values (' u1 ', '2026-01-02'), (null, '2026-01-02')")
    con.execute("insert into restricted.base_users values ('u1', '2026-01-02'), (null, '2026-01-02')")
    con.execute("insert into int_user_recency values ('u1', '2026-01-04', '2026-01-01')")
    con.execute("insert into stg_events values ('u1', '2026-01-02', '2026-01-02')")


def test_the_window_starts_at_the_earliest_day_of_users_with_no_users_row_left() -> None:
    def earliest(first: date) -> date | None:
        return days_of_vanished_users(con, first, first + timedelta(days=1))[0]

    with duckdb.connect() as con:
        _staged_warehouse(con)
        assert earliest(DAY[4]) is None  # u1 has a row (trimmed), null ids match nothing
        # staged from a row of a landing day loaded again without it: from that day or its earliest accepted event
        con.execute("insert into restricted.base_users values ('u2', '2026-01-05')")
        assert earliest(DAY[5]) == DAY[4]
        con.execute("insert into stg_events values ('u2', '2026-01-04', '2026-01-04'), "
                    "('u2', '2026-01-05', '2026-01-05')")
        assert earliest(DAY[5]) == DAY[3]
        assert earliest(DAY[3]) is None  # not before the window
        con.execute("insert into stg_events values ('u2', '2026-01-05', '2026-01-03')")  # a late event: from its day
        assert earliest(DAY[5]) == DAY[2]
        # labelled on the last label day before the window: from its signup (not u4, labelled on the window's day)
        con.execute("insert into int_user_recency values ('u3', '2026-01-04', '2026-01-02'), "
                    "('u4', '2026-01-05', '2026-01-01')")
        assert earliest(DAY[4]) == DAY[1]
        # a signup before the first landing day: from that day, as a full build labels
        con.execute("update int_user_recency set signup_date = '2025-12-01' where user_id = 'u3'")
        assert earliest(DAY[4]) == DAY[1]


def test_the_later_days_of_users_with_no_users_row_left_are_left_for_the_next_run() -> None:
    """A run cannot reach the landing days after its own: it records the day to stage again from as not staged, and
    the next run resumes from it (first_unstaged_day), whether or not the user was ever labelled."""
    with duckdb.connect() as con:
        _staged_warehouse(con)
        con.execute("insert into restricted.base_users values ('u2', '2026-01-02')")  # never labelled
        con.execute("insert into stg_events values ('u2', '2026-01-02', '2026-01-02'), "
                    "('u2', '2026-01-04', '2026-01-04'), ('u2', '2026-01-05', '2026-01-03'), "
                    "('u1', '2026-01-05', '2026-01-05')")
        again = staged_again(con, DAY[1], DAY[2])  # the run of the day loaded again, behind later days
        assert again.vanished is None and again.next_run_from == DAY[2]  # the late event's day
        mark_staged(con, DAY[1], DAY[2])
        leave_unstaged(con, again.next_run_from)
        assert con.execute("select landing_date from raw_landing_log where staged_at is null "
                           "and status = 'loaded'").fetchall() == [(DAY[2],)]
        assert staged_again(con, DAY[5], DAY[5] + timedelta(days=1)).unstaged == DAY[2]  # the next run resumes
        leave_unstaged(con, date(2025, 12, 1))  # a day without a load: the first loaded day after it
        assert con.execute("select min(landing_date) from raw_landing_log where staged_at is null "
                           "and status = 'loaded'").fetchall() == [(DAY[1],)]


def test_the_window_starts_at_the_earliest_of_the_days_to_stage_again() -> None:
    assert StagedAgain(unstaged=DAY[2], orphans=DAY[1], vanished=DAY[0]).first == DAY[0]
    assert StagedAgain(unstaged=None, orphans=DAY[1], vanished=DAY[2]).first == DAY[1]
    assert StagedAgain(unstaged=None, orphans=None, vanished=DAY[2]).first == DAY[2]
