"""Partition windows and the late-data lookback."""

from datetime import date, datetime, timezone

from dagster import TimeWindow

from orchestration.partitions import window_days, with_lookback


def test_window_days_are_half_open():
    window = TimeWindow(datetime(2026, 1, 3, tzinfo=timezone.utc), datetime(2026, 1, 6, tzinfo=timezone.utc))
    assert window_days(window) == [date(2026, 1, 3), date(2026, 1, 4), date(2026, 1, 5)]


def test_lookback_prepends_days_but_never_before_the_first_partition():
    assert with_lookback([date(2026, 1, 10)], 3) == [date(2026, 1, d) for d in (7, 8, 9, 10)]
    assert with_lookback([date(2026, 1, 2)], 3) == [date(2026, 1, 1), date(2026, 1, 2)]
    assert with_lookback([date(2026, 1, 10)], 0) == [date(2026, 1, 10)]
