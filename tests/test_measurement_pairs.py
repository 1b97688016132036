"""The measurement's array kernels against plain definitions: the (journey, activity day) pairs that outcomes are
summed over (found for one set of journeys, or once for a run and shared by its as-of days), and second churn's
independence from the order its active days come in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from orchestration.measurement.daily import outcomes_as_of, outcomes_by_day
from orchestration.measurement.outcomes import measure_outcomes, outcome_horizon_days
from orchestration.measurement.readers import JourneyInputs
from orchestration.measurement.pairs import ActivityPairs, user_days as _user_days
from orchestration.measurement.second_churn import second_churn


def _pairs_by_definition(users: pd.Series, day: np.ndarray, activity_users: pd.Series, activity_day: np.ndarray,
                         usable: np.ndarray, low: int, high: int) -> set[tuple[int, int, int]]:
    """Every journey with a user, joined to every usable activity row of that user, kept when low <= offset < high."""
    journeys = pd.DataFrame({"journey": np.arange(len(users)), "user_id": users, "day": day}).dropna(subset=["user_id"])
    rows = pd.DataFrame({"row": np.arange(len(activity_users)), "user_id": activity_users, "activity_day": activity_day})
    joined = journeys.merge(rows.loc[usable], on="user_id")
    joined["offset"] = joined["activity_day"] - joined["day"]
    joined = joined.loc[(joined["offset"] >= low) & (joined["offset"] < high)]
    return set(zip(joined["journey"], joined["row"], joined["offset"]))


def _in_date_order(journey: np.ndarray, row: np.ndarray, activity_day: np.ndarray) -> None:
    """Each journey's rows by day, then position: its float sums add its days in the same order on every run,
    whatever order the warehouse returned the activity in."""
    for j in set(journey.tolist()):
        days, rows = activity_day[row[journey == j]], row[journey == j]
        assert ((np.diff(days) > 0) | ((np.diff(days) == 0) & (np.diff(rows) > 0))).all()


@pytest.mark.parametrize("seed", range(40))
def test_each_activity_row_meets_exactly_the_journeys_its_window_reaches(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_journeys, n_rows = int(rng.integers(0, 40)), int(rng.integers(0, 200))
    users = pd.Series(rng.choice([f"u{i}" for i in range(8)] + [None], n_journeys), dtype=object)  # None: no user
    day = rng.integers(100, 160, n_journeys)
    activity_users = pd.Series(rng.choice([f"u{i}" for i in range(10)], n_rows))  # u8, u9: users with no journey
    activity_day = rng.integers(50, 260, n_rows)
    usable = rng.random(n_rows) < 0.9
    low, high = int(rng.integers(-30, 1)), int(rng.integers(1, 120))

    journey, row, offset = _user_days(users, day, activity_users, activity_day, usable, low, high)

    found = list(zip(journey.tolist(), row.tolist(), offset.tolist()))
    assert len(found) == len(set(found))  # no pair twice
    assert set(found) == _pairs_by_definition(users, day, activity_users, activity_day, usable, low, high)
    _in_date_order(journey, row, activity_day)


@pytest.mark.parametrize("seed", range(30))
def test_a_runs_shared_pairs_give_each_day_exactly_the_pairs_of_its_own_journeys(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n_run, n_rows = int(rng.integers(1, 40)), int(rng.integers(0, 200))
    run_users = pd.Series(rng.choice([f"u{i}" for i in range(8)] + [None], n_run), dtype=object)
    run_days = rng.integers(100, 160, n_run)
    activity_users = pd.Series(rng.choice([f"u{i}" for i in range(10)], n_rows))
    activity_day = rng.integers(50, 260, n_rows)
    low, high = int(rng.integers(-30, 1)), int(rng.integers(1, 120))
    shared = ActivityPairs.of(run_users, run_days, activity_users, activity_day, low, high)

    day = rng.choice(np.arange(n_run), int(rng.integers(0, n_run + 1)))  # a day's journeys: some of the run's, repeated
    users, days, through = run_users.iloc[day].reset_index(drop=True), run_days[day], int(rng.integers(90, 270))
    journey, row, offset = shared.select(users, days, through)

    found = list(zip(journey.tolist(), row.tolist(), offset.tolist()))
    assert len(found) == len(set(found))
    assert set(found) == _pairs_by_definition(users, days, activity_users, activity_day, activity_day <= through, low, high)
    _in_date_order(journey, row, activity_day)


def test_shared_pairs_do_not_serve_journeys_they_were_not_found_for() -> None:
    shared = ActivityPairs.of(pd.Series(["a", "b"]), np.array([10, 12]), pd.Series(["a", "b"]), np.array([11, 12]), 0, 5)
    assert shared.select(pd.Series(["a"]), np.array([11]), 20) is None  # another day
    assert shared.select(pd.Series(["c"]), np.array([10]), 20) is None  # another user
    journey, row, offset = shared.select(pd.Series([None, "b"], dtype=object), np.array([10, 12]), 20)
    assert journey.tolist() == [1] and row.tolist() == [1] and offset.tolist() == [0]


def test_outcomes_refuse_pairs_of_another_window() -> None:
    journeys = pd.DataFrame({"action_id": ["j"], "user_id": ["a"], "strategy_id": ["s"], "arm": ["treatment"],
                             "assignment_date": [pd.Timestamp("2026-01-10")], "lifecycle_stage": ["at_risk"]})
    activity = pd.DataFrame({"user_id": ["a"], "activity_date": [pd.Timestamp("2026-01-11")], "events": [1],
                             "key_actions": [1], "orders": [1], "revenue": [5.0]})
    day = np.array([pd.Timestamp("2026-01-10").to_datetime64().astype("datetime64[D]").astype(np.int64)])
    act = activity["activity_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    wrong = ActivityPairs.of(journeys["user_id"], day, activity["user_id"], act, -30, 10)
    with pytest.raises(ValueError, match="pairs of offsets"):
        measure_outcomes(journeys, activity, pd.Timestamp("2026-01-20").date(), churn_days=30, pairs=wrong)


def test_second_churn_does_not_depend_on_the_order_of_the_key_action_days() -> None:
    rng = np.random.default_rng(7)
    days = pd.DataFrame({"journey": rng.integers(0, 30, 180), "offset": rng.integers(0, 150, 180)})
    days = days.drop_duplicates().reset_index(drop=True)
    observed = rng.integers(0, 150, 30)

    ordered = second_churn(days.sort_values(["journey", "offset"]), observed, churn_days=20)
    shuffled = second_churn(days.sample(frac=1.0, random_state=3), observed, churn_days=20)

    np.testing.assert_array_equal(ordered[0], shuffled[0])
    assert ordered[1].tolist() == shuffled[1].tolist()
    np.testing.assert_array_equal(ordered[2], shuffled[2])
    assert pd.Series(ordered[1]).notna().any() and pd.Series(ordered[1]).fillna(False).any()  # some churned again


def test_outcomes_do_not_depend_on_the_order_the_activity_was_read_in() -> None:
    rng = np.random.default_rng(11)
    start = pd.Timestamp("2026-01-01")
    journeys = pd.DataFrame({"action_id": [f"j{i}" for i in range(40)], "user_id": [f"u{i % 15}" for i in range(40)],
                             "strategy_id": "s", "arm": "treatment", "lifecycle_stage": "at_risk",
                             "assignment_date": start + pd.to_timedelta(rng.integers(30, 60, 40), unit="D")})
    activity = pd.DataFrame({"user_id": [f"u{i}" for i in rng.integers(0, 15, 3000)],
                             "activity_date": start + pd.to_timedelta(rng.integers(0, 120, 3000), unit="D")})
    activity = activity.drop_duplicates().reset_index(drop=True)  # one row per user and day, as the warehouse has
    activity["events"], activity["key_actions"] = 1, rng.integers(0, 2, len(activity))
    activity["orders"] = rng.integers(0, 2, len(activity))
    activity["revenue"] = rng.random(len(activity)) * 100 * activity["orders"]  # many decimals: sums depend on order

    as_of = (start + pd.Timedelta(days=110)).date()
    read = measure_outcomes(journeys, activity, as_of, churn_days=30)
    reread = measure_outcomes(journeys, activity.sample(frac=1.0, random_state=5).reset_index(drop=True), as_of,
                              churn_days=30)

    pd.testing.assert_frame_equal(read, reread, check_exact=True)
    assert read["revenue_90d"].gt(0).sum() > 10


def test_a_range_measured_with_shared_pairs_equals_each_day_measured_alone() -> None:
    """Nine as-of days (two pairings: a week, then two days) against each day paired on its own, decided journeys
    and journeys only the delivery log knows alike."""
    rng = np.random.default_rng(3)
    start = pd.Timestamp("2026-03-01")

    def days(n: int, low: int, high: int) -> pd.Series:
        return pd.Series(start + pd.to_timedelta(rng.integers(low, high, n), unit="D"))

    decisions = pd.DataFrame({"action_id": [f"d{i}" for i in range(60)], "user_id": [f"u{i % 25}" for i in range(60)],
                              "strategy_id": "s", "arm": rng.choice(["treatment", "control"], 60), "holdout": None,
                              "assignment_date": days(60, 0, 40).dt.date, "lifecycle_stage": "at_risk",
                              "value_tier": None, "segment": None, "channel": None, "step_variant": None,
                              "first_journey": False, "design_holdout_share": np.nan,
                              "design_global_holdout_share": np.nan, "design_variant_share": np.nan})
    sent = days(30, 0, 40) + pd.Timedelta(hours=9)
    touches = pd.DataFrame({"action_id": [f"t{i % 20}" for i in range(30)], "user_id": [f"u{i % 20}" for i in range(30)],
                            "strategy_id": "legacy", "arm": "treatment", "lifecycle_stage": "dormant",
                            "scheduled_at": sent, "sent_at": sent, "opened_at": pd.NaT, "clicked_at": pd.NaT,
                            "cost": 0.1})
    activity = pd.DataFrame({"user_id": [f"u{i}" for i in rng.integers(0, 30, 2500)],
                             "activity_date": days(2500, -40, 45)}).drop_duplicates().reset_index(drop=True)
    activity["events"], activity["key_actions"] = 1, rng.integers(0, 2, len(activity))
    activity["orders"] = rng.integers(0, 2, len(activity))
    activity["revenue"] = rng.random(len(activity)) * 80 * activity["orders"]
    redemptions = pd.DataFrame({"user_id": pd.Series(dtype=object), "coupon_code": pd.Series(dtype=object),
                                "redeemed_date": pd.Series(dtype="datetime64[us]")})
    inputs = JourneyInputs(decisions, touches, activity, redemptions)
    windows = {"wake_up_days": 7, "churn_days": 30}
    horizon = outcome_horizon_days(30)
    measured = [(start + pd.Timedelta(days=31 + k)).date() for k in range(9)]

    shared = dict(outcomes_by_day(inputs, measured, horizon, windows))

    assert list(shared) == measured
    for day in measured:
        alone = outcomes_as_of(inputs, day, horizon, windows)
        pd.testing.assert_frame_equal(shared[day], alone, check_exact=True)
    assert shared[measured[-1]]["action_id"].str.startswith("t").any() and shared[measured[-1]]["revenue_30d"].gt(0).any()
