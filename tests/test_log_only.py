"""The journeys only the delivery log knows, as of a day, are their known rows folded: the prepared prefixes of
log_only.py give what grouping the rows known by the day's end gives, value for value, on logs with missing ids,
users, channels, coupons and times, ties of schedule and rows scheduled after the day."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from orchestration.measurement.journeys import JourneyLog, _log_rows, journeys_as_of
from orchestration.measurement.log_only import LogOnlyJourneys

DAY0 = datetime(2026, 3, 1)


def _random_log(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)

    def maybe(values: np.ndarray, share: float) -> list[object]:
        return [None if rng.random() < share else v for v in values]

    def times(offset_hours: np.ndarray, share: float) -> list[object]:
        return [None if rng.random() < share else DAY0 + timedelta(hours=float(h)) for h in offset_hours]

    schedule = rng.integers(0, 10 * 24, n) // 6 * 6  # many rows share a schedule
    return pd.DataFrame({
        "action_id": maybe(rng.choice([f"j{k:03d}" for k in range(90)], n), 0.03),
        "user_id": maybe(rng.choice(["u1", "u2", "u3", "u4"], n), 0.1),
        "strategy_id": maybe(rng.choice(["s1", "s2"], n), 0.1),
        "arm": maybe(rng.choice(["treatment", "control"], n), 0.05),
        "lifecycle_stage": maybe(rng.choice(["at_risk", "dormant"], n), 0.1),
        "scheduled_at": times(schedule, 0.03),
        "sent_at": times(schedule + rng.integers(0, 60, n), 0.3),
        "opened_at": times(schedule + rng.integers(0, 90, n), 0.6),
        "clicked_at": times(schedule + rng.integers(0, 120, n), 0.8),
        "cost": [None if rng.random() < 0.1 else round(float(c), 3) for c in rng.random(n) / 7],
        "step": rng.integers(1, 4, n),
        "status": maybe(rng.choice(["delivered", "bounced"], n), 0.2),
        "channel": maybe(rng.choice(["push", "sms", "call"], n), 0.3),
        "coupon_code": maybe(rng.choice(["C5", "C10"], n), 0.7),
        "coupon_value": [None if rng.random() < 0.6 else float(v) for v in rng.choice([5.0, 10.0, 20.0], n)],
        "value_tier": maybe(rng.choice(["high", "low"], n), 0.3),
        "segment": maybe(rng.choice(["a", "b"], n), 0.3),
    })


def _folded(touches: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """The fold by grouping, written out: the rows scheduled by the day's end, each journey's funnel over them, the
    largest coupon value, and the first value of every other column (nulls skipped) in schedule order."""
    rows = _log_rows(touches).sort_values("scheduled_at", kind="stable")
    end = pd.Timestamp(as_of + timedelta(days=1))
    known = rows.loc[rows["scheduled_at"] < end].assign(
        sent=lambda r: r["sent_at"] < end, delivered=lambda r: (r["sent_at"] < end) & r["deliverable"],
        opened=lambda r: r["opened_at"] < end, clicked=lambda r: r["clicked_at"] < end)
    firsts = ["user_id", "strategy_id", "arm", "lifecycle_stage", "channel"]
    folded = known.groupby("action_id", sort=True, dropna=False).agg(
        **{c: (c, "first") for c in firsts}, coupon_value=("coupon_value", "max"),
        value_tier=("value_tier", "first"), segment=("segment", "first"),
        sent=("sent", "any"), delivered=("delivered", "any"), opened=("opened", "any"), clicked=("clicked", "any"),
        cost=("cost", "sum"), coupon_code=("coupon_code", "first"), first_scheduled=("scheduled_at", "first"),
    ).reset_index()
    folded["assignment_date"] = folded.pop("first_scheduled").dt.normalize()
    return folded


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_day_is_the_fold_of_the_rows_known_by_its_end(seed: int) -> None:
    touches = _random_log(seed)
    prepared = LogOnlyJourneys.of(_log_rows(touches).sort_values("scheduled_at", kind="stable"))
    for day in [date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 4), date(2026, 3, 7), date(2026, 3, 20)]:
        expected = _folded(touches, day)
        got = prepared.as_of(pd.Timestamp(day + timedelta(days=1)).value)
        assert_frame_equal(got, expected, check_exact=True)
    assert prepared.as_of(pd.Timestamp(DAY0).value).empty  # before the first row: no journey


def test_a_first_value_is_unknown_until_its_row_is_scheduled() -> None:
    touches = pd.DataFrame({
        "action_id": ["j", "j"], "user_id": ["u", "u"], "strategy_id": ["s", "s"], "arm": ["treatment"] * 2,
        "lifecycle_stage": ["at_risk"] * 2, "scheduled_at": [DAY0, DAY0 + timedelta(days=2)],
        "sent_at": [DAY0, DAY0 + timedelta(days=2)], "opened_at": [None, None], "clicked_at": [None, None],
        "cost": [0.01, 0.05], "channel": [None, "sms"], "coupon_code": [None, "C5"], "coupon_value": [None, 5.0],
    })
    first, later = (journeys_as_of(touches, DAY0.date() + timedelta(days=k)).iloc[0] for k in (0, 2))
    assert first["channel"] is None and first["coupon_code"] is None and first["step_variant"] == "no_coupon"
    assert first["cost"] == pytest.approx(0.01)
    assert later["channel"] == "sms" and later["coupon_code"] == "C5" and later["step_variant"] == "coupon_5"
    assert later["cost"] == pytest.approx(0.06)
    assert first["assignment_date"] == later["assignment_date"] == DAY0.date()  # the first row's day, both days


def test_a_log_without_rows_has_no_journeys() -> None:
    touches = _random_log(4).iloc[:0]
    assert JourneyLog.of(touches).as_of(date(2026, 3, 5)).empty


def test_rows_must_come_in_schedule_order() -> None:
    rows = _log_rows(_random_log(5)).sort_values("scheduled_at", ascending=False)
    with pytest.raises(ValueError, match="schedule order"):
        LogOnlyJourneys.of(rows)
