"""A daily run's measurement carried from the run before (carried.py): which users it measures again, one rule each,
and when it must measure every journey instead. That the carried rows and metrics equal a full measurement is
asserted on the closed loop's daily runs (test_closed_loop_pipeline.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import duckdb
import pytest

from orchestration.measurement import carried
from orchestration.measurement.daily import PAIRED_DAYS
from orchestration.warehouse.io import WRITES_TABLE
from orchestration.warehouse.tables import create_table_sql

D = date(2026, 4, 20)  # the run's day
S = D - timedelta(days=1)  # the day the last run measured
H = 150  # the outcome horizon
WINDOWS = {"wake_up_days": 7, "churn_days": 30}
# What an outcome row takes from its journey's step-1 row, the same in both tables unless a test changes it.
ATTRIBUTES = """strategy_id varchar default 'winback', arm varchar default 'treatment', holdout varchar,
    lifecycle_stage varchar default 'dormant', value_tier varchar default 'high', segment varchar default 'loyal',
    channel varchar default 'push', design_holdout_share double default 0.1,
    design_global_holdout_share double default 0.05"""


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)


@pytest.fixture
def con():
    """A warehouse measured through S, empty but for its tables."""
    with duckdb.connect() as con:
        con.execute("create table recall_metrics (as_of_date date)")
        con.execute("insert into recall_metrics values (?)", [S])
        con.execute(f"""create table recall_outcomes (action_id varchar, user_id varchar, assignment_date date,
            source varchar, measured_through date, wake_up_window_days integer, churn_threshold_days integer,
            return_date date, second_churned_mature boolean, {ATTRIBUTES})""")
        con.execute(f"""create table recall_actions (action_id varchar, journey_id varchar, user_id varchar,
            step integer, action_date date, journey_started_at timestamptz, {ATTRIBUTES})""")
        con.execute("""create table stg_events (user_id varchar, event_date date, _landing_date date,
            is_key_action boolean, amount double, coupon_code varchar)""")
        con.execute("""create table stg_recall_touches (action_id varchar, user_id varchar, _landing_date date,
            scheduled_date date, scheduled_at timestamptz, sent_at timestamptz, opened_at timestamptz,
            clicked_at timestamptz)""")
        con.execute("create table int_user_daily_activity (user_id varchar, activity_date date, key_actions integer)")
        con.execute(create_table_sql(WRITES_TABLE))
        yield con


def _journey(con, user: str, assigned: date, returned: date | None = None, settled: bool = False) -> None:
    """A decided journey measured as of S: its recall_actions step-1 row and its outcome row."""
    journey = f"j_{user}"
    _plan(con, journey, user, 1, assigned - timedelta(days=1), assigned)
    con.execute("""insert into recall_outcomes (action_id, user_id, assignment_date, source, measured_through,
        wake_up_window_days, churn_threshold_days, return_date, second_churned_mature)
        values (?, ?, ?, 'decisions', ?, 7, 30, ?, ?)""",
                [journey, user, assigned, min(S, assigned + timedelta(days=H - 1)), returned, settled])


def _plan(con, journey: str | None, user: str, step: int, day: date, started: date | None) -> None:
    """A row of the recall plan written on `day`: a step of `journey` (null: a user skipped)."""
    con.execute("""insert into recall_actions (action_id, journey_id, user_id, step, action_date, journey_started_at)
        values (?, ?, ?, ?, ?, ?)""",
                [f"{journey}_{step}" if journey else None, journey, user, step, day, _at(started) if started else None])


def _event(con, user: str, day: date, landed: date | None = None, key: bool = False, amount: float | None = None,
           coupon: str | None = None) -> None:
    con.execute("insert into stg_events values (?, ?, ?, ?, ?, ?)", [user, day, landed or day, key, amount, coupon])


def _touch(con, user: str, scheduled: date, landed: date, opened: date | None = None,
           action: str | None = None) -> None:
    """A delivery-log row of step `action` (by default a journey only the log knows, a_<user>)."""
    con.execute("insert into stg_recall_touches values (?, ?, ?, ?, ?, ?, ?, null)",
                [action or f"a_{user}", user, landed, scheduled, _at(scheduled), _at(scheduled),
                 _at(opened) if opened else None])


def _remeasured(con, days: list[date] | None = None) -> set[str]:
    """The users (all their journeys) and the single journeys a run of `days` carrying from S measures again."""
    carried.remeasured_journeys(con, S, days or [D], H, WINDOWS)
    return {user or journey for user, journey in con.execute(f"select * from {carried.REMEASURED}").fetchall()}


def test_activity_the_outcomes_count_dated_after_the_last_measured_day(con) -> None:
    _event(con, "keyed", D, key=True)
    _event(con, "buyer", D, amount=20.0)
    _event(con, "coupon", D, coupon="SAVE10")
    _event(con, "browser", D)  # counts for no outcome
    _event(con, "seen_before", S, key=True)  # in the rows measured as of S
    _event(con, "tomorrow", D + timedelta(days=1), key=True)  # after the run's last day
    assert _remeasured(con) == {"keyed", "buyer", "coupon"}


def test_late_events_landed_since_the_last_measured_day(con) -> None:
    _event(con, "late", S - timedelta(days=1), landed=D, key=True)
    _event(con, "late_buyer", S - timedelta(days=5), landed=D, amount=5.0)
    _event(con, "late_browser", S - timedelta(days=1), landed=D)
    _event(con, "landed_before", S - timedelta(days=1), landed=S, key=True)
    assert _remeasured(con) == {"late", "late_buyer"}


def test_delivery_log_rows_known_after_the_last_measured_day(con) -> None:
    _touch(con, "opened", S - timedelta(days=3), landed=S - timedelta(days=3), opened=D)
    _touch(con, "late_log", S - timedelta(days=2), landed=D)
    _touch(con, "sent_today", D, landed=D)
    _touch(con, "known_before", S - timedelta(days=2), landed=S, opened=S)
    _touch(con, "scheduled_later", D + timedelta(days=1), landed=D)
    _plan(con, "j_decided", "decided", 1, S - timedelta(days=4), S - timedelta(days=3))  # a step: its journey
    _touch(con, "decided", S - timedelta(days=3), landed=S - timedelta(days=3), opened=D, action="j_decided_1")
    assert _remeasured(con) == {"a_opened", "a_late_log", "a_sent_today", "j_decided"}


def test_journeys_starting_after_the_last_measured_day_and_the_runs_later_steps(con) -> None:
    _plan(con, "j_new", "new", 1, S, D)
    _plan(con, "j_next", "next_step", 2, D, S - timedelta(days=1))
    _plan(con, "j_tomorrow", "tomorrow", 1, D, D + timedelta(days=1))
    _plan(con, None, "skipped", 1, D, None)
    _plan(con, "j_old", "old", 2, S, S - timedelta(days=2))
    assert _remeasured(con) == {"j_new", "j_next"}


def test_windows_closing_after_the_last_measured_day_and_journeys_leaving_the_horizon(con) -> None:
    for name, k in (("wake", 7), ("return", 30), ("ltv", 90)):  # a window of k days closes on A + k - 1
        _journey(con, f"{name}_closes", D - timedelta(days=k - 1))
        _journey(con, f"{name}_closed", S - timedelta(days=k - 1))
    _journey(con, "leaving", D - timedelta(days=H))
    _journey(con, "young", S - timedelta(days=2))
    assert _remeasured(con) == {"j_wake_closes", "j_return_closes", "j_ltv_closes", "j_leaving"}
    # A run of two days: the windows closing on either.
    assert "j_young" in _remeasured(con, [D, D + timedelta(days=4)])


def test_a_returned_journeys_silence_reaching_the_churn_threshold(con) -> None:
    assigned = S - timedelta(days=40)
    _journey(con, "settling", assigned, returned=assigned + timedelta(days=3))
    _journey(con, "settled", assigned, returned=assigned + timedelta(days=3), settled=True)
    _journey(con, "silent_longer", assigned, returned=assigned + timedelta(days=3))
    for user, day in (("settling", D - timedelta(days=30)), ("settled", D - timedelta(days=30)),
                      ("silent_longer", S - timedelta(days=30))):
        con.execute("insert into int_user_daily_activity values (?, ?, 1)", [user, day])
    assert _remeasured(con) == {"j_settling"}


def test_the_count_bounds_the_journeys_measured_again(con) -> None:
    _journey(con, "keyed", S - timedelta(days=10))
    _plan(con, "j_keyed_2", "keyed", 1, S - timedelta(days=4), S - timedelta(days=3))
    _journey(con, "quiet", S - timedelta(days=10))
    _journey(con, "closing", D - timedelta(days=6))  # one journey of a user with another one carried
    _plan(con, "j_closing_2", "closing", 1, S - timedelta(days=4), S - timedelta(days=3))
    _event(con, "keyed", D, key=True)
    assert carried.remeasured_journeys(con, S, [D], H, WINDOWS) == 3


def _measured_as_of_s(con) -> None:
    for user, assigned in (("a", S - timedelta(days=10)), ("b", S - timedelta(days=200))):
        _journey(con, user, assigned)
        _written(con, "recall_actions", assigned - timedelta(days=1), _at(assigned - timedelta(days=1), 22))
    _written(con, "recall_outcomes", S, _at(S, 23))


def _written(con, table: str, day: date, at: datetime) -> None:
    con.execute(f"insert into {WRITES_TABLE} values (?, ?, ?)", [table, day, at])


def test_a_daily_run_carries_from_the_last_measured_day(con) -> None:
    _measured_as_of_s(con)
    assert carried.carried_from(con, [D], H, WINDOWS) == S
    assert carried.carried_from(con, [S, D], H, WINDOWS) == S  # the last measured day measured again


def test_a_run_reopening_days_before_the_last_measured_one_carries_from_it_too(con) -> None:
    _measured_as_of_s(con)
    assert carried.carried_from(con, [S - timedelta(days=1), S, D], H, WINDOWS) == S


def test_a_run_reopening_earlier_days_measures_again_what_changed_since_its_first_day(con) -> None:
    """The rows measured as of S stand for the run's earlier days too only where nothing changed from its first day
    on: activity, windows closing, journeys starting and second churns settling on S count as well."""
    first = S - timedelta(days=1)
    _event(con, "keyed_on_s", S, key=True)
    _journey(con, "wake_closed_on_s", S - timedelta(days=6))
    _plan(con, "j_started_on_s", "started_on_s", 1, first, S)
    assigned = S - timedelta(days=40)
    _journey(con, "settled_on_s", assigned, returned=assigned + timedelta(days=3), settled=True)
    con.execute("insert into int_user_daily_activity values ('settled_on_s', ?, 1)", [S - timedelta(days=30)])
    expected = {"keyed_on_s", "j_wake_closed_on_s", "j_started_on_s", "j_settled_on_s"}
    assert _remeasured(con, [first, S, D]) == expected
    assert _remeasured(con, [D]) == set()  # a next day's run: all of it was in the rows measured as of S


@pytest.mark.parametrize("days", [
    [S],  # the last measured day again
    [D + timedelta(days=1)],  # a day after a day never measured
    [S + timedelta(days=k) for k in range(1, PAIRED_DAYS + 2)],  # a range
], ids=["again", "gap", "range"])
def test_runs_that_are_not_a_next_day_measure_in_full(con, days) -> None:
    _measured_as_of_s(con)
    assert carried.carried_from(con, days, H, WINDOWS) is None


@pytest.mark.parametrize("change", [
    "update recall_outcomes set measured_through = measured_through - 1 where user_id = 'a'",  # a failed run's rows
    "update recall_outcomes set wake_up_window_days = 3",  # other windows
    "update recall_outcomes set churn_threshold_days = 14",
    "delete from recall_outcomes where user_id = 'a'",  # a decided journey without a row
    "update recall_actions set journey_id = 'j_a2' where user_id = 'a'",  # the day planned again, not measured
    # ... its journeys kept, other attributes: the user relabelled, the strategy library edited
    "update recall_actions set value_tier = 'low' where user_id = 'a'",
    "update recall_actions set lifecycle_stage = null where user_id = 'a'",
    "update recall_actions set arm = 'control', holdout = 'strategy' where user_id = 'a'",
    "update recall_actions set design_holdout_share = 0.2 where user_id = 'a'",
], ids=["stale_row", "wake_up_window", "churn_threshold", "missing_row", "planned_again", "relabelled",
        "stage_unknown", "other_arm", "other_design"])
def test_rows_that_are_not_a_complete_measurement_as_of_that_day_are_measured_in_full(con, change) -> None:
    _measured_as_of_s(con)
    con.execute(change)
    assert carried.carried_from(con, [D], H, WINDOWS) is None


def test_a_day_of_the_horizon_planned_again_since_the_last_measured_day_was_measured_is_measured_in_full(con) -> None:
    """A plan replaced in place may keep its journeys and step-1 rows and change later steps (their A/B variants)."""
    _measured_as_of_s(con)
    _written(con, "recall_actions", D, _at(D, 22))  # the run's own day, planned after S was measured: carried
    assert carried.carried_from(con, [D], H, WINDOWS) == S
    _written(con, "recall_actions", S - timedelta(days=3), _at(D, 1))
    assert carried.carried_from(con, [D], H, WINDOWS) is None


def test_without_a_record_of_when_the_last_measured_day_was_measured_the_run_measures_in_full(con) -> None:
    _measured_as_of_s(con)
    con.execute(f"delete from {WRITES_TABLE} where table_name = 'recall_outcomes'")
    assert carried.carried_from(con, [D], H, WINDOWS) is None
    con.execute(f"drop table {WRITES_TABLE}")  # a warehouse from before the record
    assert carried.carried_from(con, [D], H, WINDOWS) is None


def test_a_warehouse_never_measured_is_measured_in_full(con) -> None:
    con.execute("delete from recall_metrics")
    assert carried.carried_from(con, [D], H, WINDOWS) is None
    con.execute("drop table recall_outcomes")
    assert carried.carried_from(con, [D], H, WINDOWS) is None
