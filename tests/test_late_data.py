"""The daily dbt models' lookback: back to the earliest day that late rows landed in the window are dated."""

from datetime import date

import duckdb
import pytest

from orchestration.ingestion.late_data import earliest_landed_day, lookback_days

FIRST, END = date(2026, 3, 10), date(2026, 3, 11)


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute("create table raw_events (event_id varchar, event_time varchar, event_time_ts timestamp, "
                "_landing_date date)")
    con.execute("create schema restricted")
    con.execute("create table restricted.raw_users (user_id varchar, signup_at varchar, signup_at_ts timestamp, "
                "_landing_date date)")
    yield con
    con.close()


def land_event(con, event_id, time_ts=None, time_text=None, landed=FIRST):
    con.execute("insert into raw_events values (?, ?, ?, ?)", [event_id, time_text, time_ts, landed])


def land_user(con, user_id, signup_ts, landed):
    con.execute("insert into restricted.raw_users values (?, null, ?, ?)", [user_id, signup_ts, landed])


def test_the_lookback_reaches_back_to_the_earliest_late_row_and_no_further_than_configured():
    assert lookback_days(FIRST, None, 3) == 0  # nothing landed: nothing earlier changed
    assert lookback_days(FIRST, FIRST, 3) == 0
    assert lookback_days(FIRST, date(2026, 3, 8), 3) == 2
    assert lookback_days(FIRST, date(2026, 2, 1), 3) == 3
    assert lookback_days(FIRST, date(2026, 3, 11), 3) == 0  # a row dated after the window's first day
    # A UTC day may be the day before in a business time zone west of UTC.
    assert lookback_days(FIRST, FIRST, 3, "America/New_York") == 1
    assert lookback_days(FIRST, date(2026, 3, 8), 3, "America/New_York") == 3


def test_events_on_time_need_no_lookback_and_a_late_one_reaches_its_own_day(con):
    land_event(con, "e1", time_ts="2026-03-10 08:00:00")
    land_event(con, "old", time_ts="2026-03-01 08:00:00", landed=date(2026, 3, 1))  # landed before the window
    assert earliest_landed_day(con, FIRST, END) == FIRST
    land_event(con, "late", time_ts="2026-03-08 23:00:00")
    assert earliest_landed_day(con, FIRST, END) == date(2026, 3, 8)


def test_event_times_are_read_as_staging_reads_them(con):
    con.execute("set TimeZone = 'Asia/Tokyo'")  # whatever the session's zone, naive text is UTC
    land_event(con, "naive", time_text="2026-03-09 20:00:00")
    # Text with an offset is a UTC instant: 23:30 at UTC-5 on the 8th is the 9th in UTC.
    land_event(con, "offset", time_text="2026-03-08T23:30:00-05:00")
    land_event(con, "garbage", time_text="last tuesday")  # quarantined by staging: it changes no day
    assert earliest_landed_day(con, FIRST, END) == date(2026, 3, 9)
    land_event(con, "late", time_text="2026-03-08 23:30:00")
    assert earliest_landed_day(con, FIRST, END) == date(2026, 3, 8)


def test_only_new_users_or_changed_signups_reach_back(con):
    land_user(con, "u1", "2026-01-05 10:00:00", date(2026, 1, 5))
    land_user(con, "u1", "2026-01-05 10:00:00", FIRST)  # a profile update: the same signup
    assert earliest_landed_day(con, FIRST, END) is None
    land_user(con, "u2", "2026-03-07 09:00:00", FIRST)  # a user first delivered three days after signing up
    assert earliest_landed_day(con, FIRST, END) == date(2026, 3, 7)
    land_user(con, "u1", "2026-03-06 10:00:00", FIRST)  # a corrected signup
    assert earliest_landed_day(con, FIRST, END) == date(2026, 3, 6)


def test_without_raw_tables_nothing_landed():
    with duckdb.connect() as empty:
        assert earliest_landed_day(empty, FIRST, END) is None


def test_the_steps_after_the_daily_models_recompute_the_days_late_rows_are_dated(con, tmp_path):
    from orchestration.config import Settings
    from orchestration.defs.partitions import DayWindow, late_data_window

    settings = Settings.under(tmp_path, lookback_days=3, start_date="2026-03-01")
    window = DayWindow(first=FIRST, last=FIRST, lookback_days=3, first_partition=settings.start_date)
    land_event(con, "on time", time_ts="2026-03-10 08:00:00")
    assert late_data_window(window, con, settings).with_lookback() == [FIRST]  # scores, tiers, BI: the day only
    land_event(con, "late", time_ts="2026-03-09 08:00:00")
    assert late_data_window(window, con, settings).with_lookback() == [date(2026, 3, 9), FIRST]
    land_event(con, "very late", time_ts="2026-02-01 08:00:00")  # at most the configured lookback
    assert late_data_window(window, con, settings).with_lookback()[0] == date(2026, 3, 7)
    # A run that resumes days a failed run loaded starts there, with the lookback its own rows need.
    resumed = late_data_window(window, con, settings, first=date(2026, 3, 9))
    assert (resumed.first, resumed.last, resumed.lookback_days) == (date(2026, 3, 9), FIRST, 3)
