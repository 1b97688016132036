"""The window of days a run processes, and the late-data lookback."""

from datetime import date

from orchestration.defs.partitions import DayWindow


def test_window_days_are_inclusive_and_end_is_the_day_after():
    window = DayWindow(date(2026, 1, 3), date(2026, 1, 5), lookback_days=3, first_partition=date(2026, 1, 1))
    assert window.days == [date(2026, 1, 3), date(2026, 1, 4), date(2026, 1, 5)]
    assert window.end == date(2026, 1, 6)


def test_lookback_prepends_days_but_never_before_the_first_partition():
    first = date(2026, 1, 1)
    assert DayWindow(date(2026, 1, 10), date(2026, 1, 10), 3, first).with_lookback() == [
        date(2026, 1, d) for d in (7, 8, 9, 10)]
    assert DayWindow(date(2026, 1, 2), date(2026, 1, 2), 3, first).with_lookback() == [date(2026, 1, 1), date(2026, 1, 2)]
    assert DayWindow(date(2026, 1, 10), date(2026, 1, 10), 0, first).with_lookback() == [date(2026, 1, 10)]
    assert DayWindow(date(2025, 6, 10), date(2025, 6, 10), 3, date(2025, 6, 8)).lookback_start == date(2025, 6, 8)
