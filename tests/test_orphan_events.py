"""Events that land before their user: quarantined as unknown_user until the user's first users row lands, then
accepted by the run that lands it (its dbt step stages again from the events' landing day), so that daily runs agree
with one run over the same landing days."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from orchestration.config import Settings
from orchestration.ingestion.staging_state import StagedAgain, first_day_of_orphans_now_known
from orchestration.runner import run_days
from orchestration.simulator import SimulationConfig, simulate, write_world

pytestmark = pytest.mark.duration(60)  # builds its worlds through the pipeline: scheduled first
START = date(2026, 1, 1)
DAY = [START + timedelta(days=i) for i in range(3)]
UP_TO = ["user_daily_labels"]  # the daily dbt models and what they read: the events and users feeds


def _late_user_world(root: Path) -> str:
    """A 300-user world whose user with events on the first two days and one users row lands on the third day."""
    write_world(simulate(SimulationConfig(n_users=300, n_days=len(DAY), start_date=START, seed=5)),
                root / "landing", root / "truth")
    landing = [root / "landing" / day.isoformat() for day in DAY]
    users = [pq.read_table(day / "users.parquet") for day in landing]
    events = [set(pq.read_table(day / "events.parquet")["user_id"].to_pylist()) for day in landing[:2]]
    once = [u for u in users[0]["user_id"].to_pylist() if all(u not in t["user_id"].to_pylist() for t in users[1:])]
    late = sorted(set(once) & events[0] & events[1])[0]
    moved = users[0].filter(pc.equal(users[0]["user_id"], late))
    pq.write_table(users[0].filter(pc.not_equal(users[0]["user_id"], late)), landing[0] / "users.parquet")
    pq.write_table(pa.concat_tables([users[-1], moved.cast(users[-1].schema)]), landing[-1] / "users.parquet")
    return late


def _rows(settings: Settings, query: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return sorted(con.execute(query).fetchall(), key=repr)


def test_events_landed_before_their_user_are_accepted_when_the_user_lands(tmp_path: Path) -> None:
    late = _late_user_world(tmp_path / "world")
    daily = Settings.under(tmp_path / "daily", landing=tmp_path / "world" / "landing", truth=tmp_path / "world" / "truth")
    at_once = Settings.under(tmp_path / "once", landing=tmp_path / "world" / "landing", truth=tmp_path / "world" / "truth")
    for day in DAY[:2]:
        assert run_days(daily, day, day, up_to=UP_TO, log_level="ERROR").success
    orphans = f"select count(*) from quarantine_events where reject_reason = 'unknown_user' and user_id = '{late}'"
    assert _rows(daily, orphans)[0][0] > 0  # quarantined while the user is unknown
    assert run_days(daily, DAY[2], DAY[2], up_to=UP_TO, log_level="ERROR").success
    assert run_days(at_once, DAY[0], DAY[2], up_to=UP_TO, log_level="ERROR").success
    assert _rows(daily, orphans) == [(0,)]
    landed = f"select distinct _landing_date from stg_events where user_id = '{late}'"
    assert {DAY[0], DAY[1]} <= {day for (day,) in _rows(daily, landed)}  # accepted on their own landing days
    for table in ("stg_events", "quarantine_events", "int_user_daily_activity", "user_daily_labels"):
        assert _rows(daily, f"select * from {table}") == _rows(at_once, f"select * from {table}"), table


def test_the_steps_after_the_labels_recompute_the_days_a_run_resumed_from(tmp_path: Path) -> None:
    """A user landing more days after its events than the lookback reaches: the run that lands it labels the
    events' days again, and the churn scores, the risk tiers and the BI snapshot follow it to those days (they took
    only the run's window and its lookback, and left the user without scores or tiers there)."""
    late = _late_user_world(tmp_path / "world")  # no lookback: the days before the user's are the run's alone
    paths = {"landing": tmp_path / "world" / "landing", "truth": tmp_path / "world" / "truth", "lookback_days": 0}
    daily, at_once = Settings.under(tmp_path / "daily", **paths), Settings.under(tmp_path / "once", **paths)
    for day in DAY:
        assert run_days(daily, day, day, up_to=["bi_snapshot"], log_level="ERROR").success
    assert run_days(at_once, DAY[0], DAY[-1], up_to=["bi_snapshot"], log_level="ERROR").success
    for table in ("user_daily_labels", "user_churn_scores", "user_risk_tiers"):
        assert _rows(daily, f"select * from {table}") == _rows(at_once, f"select * from {table}"), table
    tiers = f"select tier_date from user_risk_tiers where user_id = '{late}'"
    assert [day for (day,) in _rows(daily, tiers)] == DAY  # the days before the lookback included
    for table in ("daily_labels", "risk_tiers"):  # what BI tools read
        published = [_bi_rows(settings, f"select * from {table}") for settings in (daily, at_once)]
        assert published[0] == published[1], table
    assert len(_bi_rows(daily, f"select * from risk_tiers where user_id = '{late}'")) == len(DAY)


def _bi_rows(settings: Settings, query: str) -> list[tuple]:
    with duckdb.connect(str(settings.bi_dir / "bi.duckdb"), read_only=True) as con:
        return sorted(con.execute(query).fetchall(), key=repr)


def test_the_window_starts_at_the_earliest_orphan_whose_user_landed_in_it() -> None:
    with duckdb.connect() as con:
        con.execute("create schema restricted")
        con.execute("create table restricted.raw_users (user_id varchar, _landing_date date)")
        con.execute("create table quarantine_events (user_id varchar, reject_reason varchar, _landing_date date)")
        con.execute("insert into quarantine_events values (' u1 ', 'unknown_user', '2026-01-02'), "
                    "('u2', 'unknown_user', '2026-01-01'), ('u1', 'negative_amount', '2026-01-01')")
        assert first_day_of_orphans_now_known(con, DAY[2], DAY[2] + timedelta(days=1)) is None
        con.execute("insert into restricted.raw_users values ('u2', '2026-01-04'), ('u1 ', '2026-01-03')")
        assert first_day_of_orphans_now_known(con, DAY[2], DAY[2] + timedelta(days=1)) == DAY[1]  # u1, trimmed
        assert first_day_of_orphans_now_known(con, DAY[2], DAY[2] + timedelta(days=2)) == DAY[0]  # u2 too


def test_the_window_starts_at_the_earlier_of_a_failed_runs_days_and_the_orphans() -> None:
    assert StagedAgain(unstaged=DAY[1], orphans=DAY[0]).first == DAY[0]
    assert StagedAgain(unstaged=DAY[0], orphans=DAY[1]).first == DAY[0]
    assert StagedAgain(unstaged=None, orphans=DAY[1]).first == DAY[1]
    assert StagedAgain(unstaged=None, orphans=None).first is None
