"""The benchmark's late / early line says what the two days hold: labelled users, landed events, cohort rows."""

from __future__ import annotations

from datetime import date

import duckdb

from orchestration.benchmarks.pipeline import DaySize, day_size, growth


def test_a_day_size_counts_the_days_labelled_users_landed_events_and_cohort_rows() -> None:
    con = duckdb.connect()
    con.execute("create table user_daily_labels as select * from (values ('u1', date '2026-01-02'), "
                "('u2', date '2026-01-02'), ('u1', date '2026-01-01')) as t(user_id, label_date)")
    con.execute("create table raw_events as select * from (values (date '2026-01-02'), (date '2026-01-03')) "
                "as t(_landing_date)")
    assert day_size(con, date(2026, 1, 2)) == DaySize(users=2, events=1, cohorts=0)  # no metrics table yet
    con.execute("create table recall_metrics as select date '2026-01-02' as as_of_date from range(3)")
    assert day_size(con, date(2026, 1, 2)) == DaySize(users=2, events=1, cohorts=3)


def test_growth_compares_the_late_day_with_the_early_one() -> None:
    assert growth(DaySize(3, 2, 10), DaySize(2, 2, 0)) == (
        "the late day has 1.50x the labelled users, 1.00x the landed events and n/a the cohort rows measured")
