"""The window of days a run processes, and the late-data lookback."""

from datetime import date

import dagster as dg

from orchestration.defs.partitions import LABELS, RESUMED_FROM, DayWindow, resumed_from


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


def _resumed_from_in_runs(resumed: str | None) -> list[date | None]:
    """What a step after the labels reads as the day its run resumed from: in the run whose labels recorded
    `resumed`, then in a later run that materializes the step alone."""
    @dg.asset(key=LABELS)
    def labels() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={RESUMED_FROM: resumed} if resumed else {})

    seen: list[date | None] = []

    @dg.asset(deps=[labels])
    def scores(context: dg.AssetExecutionContext) -> None:
        seen.append(resumed_from(context))

    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize([labels, scores], instance=instance).success
    assert dg.materialize([labels, scores], instance=instance, selection=[scores]).success
    return seen


def test_the_steps_after_the_labels_read_the_day_their_own_run_resumed_from():
    assert _resumed_from_in_runs("2026-01-02") == [date(2026, 1, 2), None]  # another run's day is not this run's
    assert _resumed_from_in_runs(None) == [None, None]
