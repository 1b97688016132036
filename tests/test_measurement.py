"""Measurement: window boundaries and point-in-time outcomes, Welch lift against scipy, interval
coverage by simulation, and cohort metrics."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from orchestration.measurement.daily import outcomes_as_of
from orchestration.measurement.lift import compare_arms
from orchestration.measurement.atoms import atoms_of, coarsened
from orchestration.measurement.metrics import FINER_ATTRIBUTES, METRIC_COLUMNS, cohort_metrics, cohort_metrics_by_day
from orchestration.measurement.outcomes import OUTCOME_COLUMNS, as_objects, measure_outcomes, outcome_horizon_days

A = date(2026, 3, 1)
CHURN = 60  # the ecommerce preset's stage_churned_days


def d(offset: int) -> date:
    return A + timedelta(days=offset)


def _journeys(user_ids: list[str], arm: str = "treatment", day: date = A) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "action_id": [f"a_{u}" for u in user_ids],
            "user_id": user_ids,
            "strategy_id": "winback",
            "arm": arm,
            "assignment_date": day,
            "lifecycle_stage": "dormant_light",
            "sent": arm == "treatment",
            "opened": False,
            "clicked": False,
            "cost": 0.05 if arm == "treatment" else 0.0,
        }
    )


def _activity(rows: list[tuple[str, int, int, int, float]]) -> pd.DataFrame:
    """(user_id, day offset from A, key_actions, orders, revenue); events = 1 + key actions."""
    return pd.DataFrame(
        [
            {"user_id": u, "activity_date": d(o), "events": 1 + k, "key_actions": k, "orders": n, "revenue": r}
            for u, o, k, n, r in rows
        ]
    )


def _by_user(outcomes: pd.DataFrame) -> pd.DataFrame:
    return outcomes.set_index("user_id")


def _measure(journeys: pd.DataFrame, activity: pd.DataFrame, as_of: date, churn_days: int = CHURN, **kwargs) -> pd.DataFrame:
    return measure_outcomes(journeys, activity, as_of, churn_days=churn_days, **kwargs)


# --- outcomes ----------------------------------------------------------------------------------


ACTIVITY = _activity(
    [
        ("on6", 6, 1, 1, 10.0),  # key action on A+6: woke up
        ("on7", 7, 1, 1, 20.0),  # first key action on A+7: not woken up, but repurchased
        ("on29", 29, 1, 1, 30.0),  # order on A+29: counts for 30-day metrics
        ("on30", 30, 1, 1, 40.0),  # order on A+30: outside the 30-day window
        ("before", -1, 1, 1, 50.0),  # before the assignment day: ignored
        ("multi", 0, 1, 1, 5.0),
        ("multi", 3, 0, 0, 0.0),
        ("multi", 12, 2, 2, 7.5),
    ]
)
USERS = ["on6", "on7", "on29", "on30", "before", "multi", "silent"]


def test_window_boundaries_when_mature() -> None:
    out = _by_user(_measure(_journeys(USERS), ACTIVITY, as_of=d(200)))
    assert out.loc["on6", "woke_up"] and not out.loc["on7", "woke_up"]
    assert out.loc["on7", "repurchased_30d"] and out.loc["on29", "repurchased_30d"]
    assert not out.loc["on30", "repurchased_30d"] and out.loc["on30", "revenue_30d"] == 0.0
    assert out.loc["on29", "revenue_30d"] == 30.0
    assert not out.loc["before", "woke_up"] and out.loc["before", "revenue_30d"] == 0.0
    assert out.loc["multi", "revenue_30d"] == 12.5 and out.loc["multi", "woke_up"]
    assert out.loc["on30", "return_date"] is None and out.loc["on7", "return_date"] == d(7)
    assert out.loc["silent", "second_churned"] == False  # noqa: E712  (never returned)
    assert out.loc["on6", "second_churned"] == True  # noqa: E712  (returned on A+6, then silent)
    # measured 201 days after A, but capped at the horizon (A+89+T) past which nothing changes
    assert outcome_horizon_days(CHURN) == 150 and out.loc["multi", "days_observed"] == 150
    assert (out["wake_up_window_days"] == 7).all() and (out["churn_threshold_days"] == CHURN).all()
    assert out[[c for c in out.columns if c.endswith("_mature")]].all().all()


def test_maturity_flags_at_the_boundaries() -> None:
    journeys = _journeys(["on29"])  # returns on A+29 (the last return day), then silent: churns on A+29+T
    for as_of, wake, thirty, churn in [(d(5), False, False, False), (d(6), True, False, False),
                                       (d(28), True, False, False), (d(29), True, True, False),
                                       (d(88), True, True, False), (d(89), True, True, True)]:
        row = _measure(journeys, ACTIVITY, as_of=as_of).iloc[0]
        assert (row["woke_up_mature"], row["repurchased_30d_mature"], row["revenue_30d_mature"],
                row["second_churned_mature"]) == (wake, thirty, thirty, churn), as_of
    assert pd.isna(_measure(journeys, ACTIVITY, as_of=d(88)).iloc[0]["second_churned"])
    assert _measure(journeys, ACTIVITY, as_of=d(89)).iloc[0]["second_churned"] == True  # noqa: E712


def test_point_in_time_ignores_later_activity() -> None:
    at_28 = _by_user(_measure(_journeys(USERS), ACTIVITY, as_of=d(28)))
    assert not at_28.loc["on29", "repurchased_30d"] and at_28.loc["on29", "revenue_30d"] == 0.0
    assert not at_28.loc["on29", "repurchased_30d_mature"]
    at_5 = _by_user(_measure(_journeys(USERS), ACTIVITY, as_of=d(5)))
    assert not at_5.loc["on6", "woke_up"]
    assert at_5.loc["multi", "woke_up"] and at_5.loc["multi", "revenue_30d"] == 5.0
    # Same answer whatever the future holds.
    future = pd.concat([ACTIVITY, _activity([("on6", 1, 1, 1, 99.0)])])
    pd.testing.assert_frame_equal(
        _measure(_journeys(USERS), ACTIVITY, as_of=d(0)),
        _measure(_journeys(USERS), future, as_of=d(0)),
    )


def test_journeys_after_as_of_are_left_out_and_columns() -> None:
    journeys = pd.concat([_journeys(["on6"]), _journeys(["on7"], day=d(3)).assign(action_id="a_later")])
    out = _measure(journeys, ACTIVITY, as_of=d(2))
    assert list(out["action_id"]) == ["a_on6"]
    assert list(out.columns) == OUTCOME_COLUMNS
    # A journey assigned on A+3 measures its own window: on7's key action on A+7 is its day 4.
    later = _by_user(_measure(journeys, ACTIVITY, as_of=d(40)))
    assert later.loc["on7", "woke_up"]


def test_key_action_column_is_configurable() -> None:
    activity = ACTIVITY.assign(lessons=0)
    activity.loc[activity["user_id"] == "on7", "lessons"] = 0
    activity.loc[(activity["user_id"] == "silent") | (activity["user_id"] == "on30"), "lessons"] = 1
    out = _by_user(_measure(_journeys(USERS), activity, as_of=d(90), key_action_column="lessons"))
    assert not out.loc["on6", "woke_up"]  # orders are not lessons
    assert not out.loc["on30", "woke_up"]  # lesson on A+30 is outside 7 days
    assert out.loc["on30", "return_date"] is None  # ... and outside the 30-day return window


def test_users_without_activity_get_false_and_zero() -> None:
    out = _measure(_journeys(["ghost"]), ACTIVITY, as_of=d(10))
    assert not out.loc[0, "woke_up"] and out.loc[0, "revenue_30d"] == 0.0



def test_each_journey_counts_its_own_users_days_from_its_own_assignment() -> None:
    # Two journeys of "multi" 10 days apart, one of "on6", one without a user; ids given as numbers or text.
    journeys = pd.concat([_journeys(["multi", "on6"]), _journeys(["multi"], day=d(10)).assign(action_id="a_multi_2"),
                          _journeys([None]).assign(action_id="a_nobody")], ignore_index=True)
    out = _measure(journeys, ACTIVITY, as_of=d(200)).set_index("action_id")
    assert out.loc["a_multi", "revenue_30d"] == 12.5 and out.loc["a_multi", "woke_up"]  # A+0 and A+12
    assert out.loc["a_multi_2", "revenue_30d"] == 7.5 and out.loc["a_multi_2", "woke_up"]  # A+12 is its day 2
    assert out.loc["a_multi_2", "pre_period_revenue"] == 5.0  # A+0 is in its pre-period
    assert out.loc["a_on6", "revenue_30d"] == 10.0  # nobody else's days
    assert out.loc["a_nobody", "revenue_30d"] == 0.0 and not out.loc["a_nobody", "woke_up"]
    numbered = _measure(_journeys(["7"]), ACTIVITY.assign(user_id=ACTIVITY["user_id"].replace("multi", 7)), d(200))
    assert numbered.loc[0, "revenue_30d"] == 12.5  # an integer id in the activity matches its text

# --- second churn: return R, then at least T days without a key action after a key action L <= R+60 ----

T = 30  # a game-like threshold keeps the hand-made histories short
R = 2  # every user below returns (first key action) on A+2
EVERY_10 = list(range(R, R + 60, 10))  # key actions on R, R+10, .., R+50: gaps of 9 days, far below T


def _key_days(user: str, offsets: list[int]) -> list[tuple[str, int, int, int, float]]:
    return [(user, o, 1, 0, 0.0) for o in offsets]


def _session_days(user: str, offsets: list[int]) -> list[tuple[str, int, int, int, float]]:
    """Days with events but no key action (browsing without an order)."""
    return [(user, o, 0, 0, 0.0) for o in offsets]


CHURN_ACTIVITY = _activity(
    _key_days("last_r60", [*EVERY_10, R + 60, R + 61 + T])  # last key action R+60, none R+61..R+60+T: counts
    + _key_days("last_r61", [*EVERY_10, R + 60, R + 61, R + 62 + T])  # same silence after R+61: too late
    + _key_days("short", [*EVERY_10, R + 60, R + 60 + T])  # none R+61..R+59+T: T-1 days, not enough
    + _key_days("early", [R, R + 1 + T])  # none R+1..R+T right after returning: counts
    + _key_days("open", [*EVERY_10, R + 60])  # none since R+60: churns once T days have passed
    + [("late_key", 30, 1, 0, 0.0)]  # first key action on A+30: no return
    # Sessions every other day but no key action R+1..R+T: the churned stage counts key actions, so this counts.
    + _key_days("browsing", [R, R + 1 + T]) + _session_days("browsing", list(range(R + 1, R + 1 + T, 2)))
)
CHURN_USERS = ["last_r60", "last_r61", "short", "early", "open", "late_key", "browsing"]


def _churn(as_of: int) -> pd.DataFrame:
    return _by_user(_measure(_journeys(CHURN_USERS), CHURN_ACTIVITY, as_of=d(as_of), churn_days=T))


def test_second_churn_boundaries_once_known() -> None:
    out = _churn(R + 60 + T + 40)
    assert (out.loc[[u for u in CHURN_USERS if u != "late_key"], "return_date"] == d(R)).all()
    assert out.loc["late_key", "return_date"] is None
    expected = {"last_r60": True, "last_r61": False, "short": False, "early": True, "open": True, "late_key": False,
                "browsing": True}
    assert out["second_churned"].astype(bool).to_dict() == expected
    assert out["second_churned_mature"].all() and (out["churn_threshold_days"] == T).all()


def test_second_churn_is_marked_immature_until_it_is_known() -> None:
    # The silence is proven on its T-th day, not before.
    assert pd.isna(_churn(R + 60 + T - 1).loc["last_r60", "second_churned"])
    assert _churn(R + 60 + T).loc["last_r60", "second_churned"] == True  # noqa: E712
    assert _churn(R + T).loc["early", "second_churned"] == True  # noqa: E712  (known long before R+60)
    assert _churn(R + T).loc["browsing", "second_churned"] == True  # noqa: E712  (its sessions do not count)
    # A key action after R+60 that ends every gap below T proves there is no second churn.
    at_r61 = _churn(R + 61)
    assert at_r61.loc["last_r61", "second_churned"] == False and at_r61.loc["last_r61", "second_churned_mature"]  # noqa: E712
    assert not at_r61.loc["short", "second_churned_mature"] and not at_r61.loc["open", "second_churned_mature"]
    assert pd.isna(_churn(R + 60 + T - 1).loc["short", "second_churned"])  # T-1 silent days so far
    assert _churn(R + 60 + T).loc["short", "second_churned"] == False  # noqa: E712  (back on day T)
    # Without a return the flag is False once the 30-day return window has closed, NA before.
    assert pd.isna(_churn(28).loc["late_key", "second_churned"]) and not _churn(28).loc["late_key", "second_churned_mature"]
    assert _churn(29).loc["late_key", "second_churned"] == False  # noqa: E712


def test_horizon_covers_the_latest_second_churn() -> None:
    # Return on A+29, last key action on R+60 = A+89, churned on A+89+T: the last day of the horizon.
    activity = _activity([("u", o, 1, 0, 0.0) for o in range(29, 90, 10)])
    horizon = outcome_horizon_days(T)
    assert horizon == 30 + 60 + T and outcome_horizon_days(90) == 180
    assert pd.isna(_measure(_journeys(["u"]), activity, d(horizon - 2), churn_days=T).iloc[0]["second_churned"])
    row = _measure(_journeys(["u"]), activity, d(horizon - 1), churn_days=T).iloc[0]
    assert row["second_churned"] == True and row["days_observed"] == horizon  # noqa: E712


def test_wake_up_window_is_configurable() -> None:
    activity = _activity([("on2", 2, 1, 0, 0.0), ("on3", 3, 1, 0, 0.0)])
    out = _by_user(_measure(_journeys(["on2", "on3"]), activity, as_of=d(10), wake_up_days=3))
    assert out.loc["on2", "woke_up"] and not out.loc["on3", "woke_up"]
    assert (out["wake_up_window_days"] == 3).all() and out.loc["on3", "return_date"] == d(3)
    assert _measure(_journeys(["on2"]), activity, as_of=d(2), wake_up_days=3).iloc[0]["woke_up_mature"]
    early = _measure(_journeys(["on2"]), activity, as_of=d(1), wake_up_days=3)
    assert not early.iloc[0]["woke_up_mature"] and not early.iloc[0]["woke_up"]
    # Cohort metrics take the window from the outcomes they count.
    outcomes = _measure(_journeys(["on2", "on3"]), activity, as_of=d(2), wake_up_days=3)
    metrics = _level(cohort_metrics(outcomes, as_of=d(2)), "campaign")
    assert (metrics["wake_up_window_days"] == 3).all() and metrics["wake_up_mature"].all()
    assert (metrics["wake_up_rate"] == 0.5).all() and (metrics["churn_threshold_days"] == CHURN).all()
    assert not _level(cohort_metrics(outcomes.assign(wake_up_window_days=7), as_of=d(2)), "campaign")["wake_up_mature"].any()


# --- lift --------------------------------------------------------------------------------------


def test_lift_matches_scipy_welch() -> None:
    rng = np.random.default_rng(11)
    treatment, control = rng.gamma(2.0, 30.0, 700), rng.gamma(2.0, 25.0, 300)
    est = compare_arms(treatment, control)
    result = stats.ttest_ind(treatment, control, equal_var=False)
    diff = treatment.mean() - control.mean()
    se = diff / result.statistic
    assert est.lift == pytest.approx(diff, rel=1e-12)
    assert est.se == pytest.approx(se, rel=1e-10)
    assert (est.ci_low, est.ci_high) == pytest.approx((diff - 1.96 * se, diff + 1.96 * se), rel=1e-10)
    assert est.relative_lift == pytest.approx(diff / control.mean())
    assert (est.n_treatment, est.n_control) == (700, 300)


def test_lift_small_samples_and_zero_control() -> None:
    est = compare_arms(np.array([1.0]), np.array([0.0, 0.0, 0.0]))
    assert est.lift == 1.0 and np.isnan(est.se) and np.isnan(est.ci_low) and np.isnan(est.ci_high)
    assert np.isnan(est.relative_lift)  # control mean 0
    empty = compare_arms(np.array([]), np.array([1.0, 2.0]))
    assert empty.n_treatment == 0 and np.isnan(empty.lift)
    with_nan = compare_arms(np.array([1.0, np.nan, 3.0]), np.array([1.0, 1.0]))
    assert with_nan.n_treatment == 2 and with_nan.mean_treatment == 2.0


def test_interval_covers_known_effect_about_95_percent() -> None:
    rng = np.random.default_rng(2026)
    reps, n_t, n_c, p_c, effect = 400, 400, 200, 0.2, 0.05
    treated = rng.random((reps, n_t)) < p_c + effect
    held = rng.random((reps, n_c)) < p_c
    covered = [
        (e.ci_low <= effect <= e.ci_high) for e in (compare_arms(t, c) for t, c in zip(treated, held))
    ]
    assert 0.92 <= np.mean(covered) <= 0.98


# --- cohort metrics ----------------------------------------------------------------------------


def _campaign(seed: int = 5, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.where(rng.random(n) < 0.3, "control", "treatment")
    woke = rng.random(n) < np.where(arm == "treatment", 0.3, 0.2)
    frame = pd.DataFrame(
        {
            "action_id": [f"a{i}" for i in range(n)],
            "user_id": [f"u{i}" for i in range(n)],
            "strategy_id": "winback",
            "arm": arm,
            "assignment_date": A,
            "lifecycle_stage": rng.choice(["dormant_light", "churned"], n),
            "sent": arm == "treatment",
            "opened": (arm == "treatment") & (rng.random(n) < 0.4),
            "clicked": False,
            "cost": np.where(arm == "treatment", 0.1, 0.0),
            "woke_up": woke,
            "repurchased_30d": woke | (rng.random(n) < 0.05),
            "revenue_30d": np.where(woke, rng.gamma(2.0, 20.0, n), 0.0),
            "return_date": np.where(woke, d(1), None),
            "second_churned": pd.array(woke & (rng.random(n) < 0.4), dtype="boolean"),
        }
    )
    return frame


def test_cohort_metrics_rows_rates_and_lift() -> None:
    outcomes = _campaign()
    everything = cohort_metrics(outcomes, as_of=d(60))
    assert list(everything.columns) == METRIC_COLUMNS
    metrics = everything[everything["cohort_level"].isin(["campaign", "lifecycle_stage"])]
    assert len(metrics) == 6  # (dormant_light, churned, all) x (control, treatment)
    assert set(metrics["lifecycle_stage"]) == {"dormant_light", "churned", "all"}
    row = metrics.set_index(["lifecycle_stage", "arm"]).loc[("all", "treatment")]
    t, c = outcomes[outcomes["arm"] == "treatment"], outcomes[outcomes["arm"] == "control"]
    assert row["users"] == len(t) and row["control_users"] == len(c) and row["sends"] == len(t)
    assert row["opens"] == t["opened"].sum() and row["cost"] == pytest.approx(0.1 * len(t))
    assert row["wake_up_rate"] == pytest.approx(t["woke_up"].mean())
    revenue = compare_arms(t["revenue_30d"].to_numpy(), c["revenue_30d"].to_numpy())
    assert (row["revenue_lift"], row["revenue_lift_ci_low"], row["revenue_lift_ci_high"]) == pytest.approx(
        (revenue.lift, revenue.ci_low, revenue.ci_high)
    )
    assert row["revenue_relative_lift"] == pytest.approx(revenue.relative_lift)
    wake = compare_arms(t["woke_up"].to_numpy(float), c["woke_up"].to_numpy(float))
    assert (row["wake_up_lift"], row["wake_up_lift_ci_low"]) == pytest.approx((wake.lift, wake.ci_low))
    churn_rate = t.loc[t["woke_up"], "second_churned"].astype(bool).mean()
    assert row["second_churn_rate"] == pytest.approx(churn_rate) and row["second_churn_users"] == t["woke_up"].sum()
    assert row["second_churn_mature"] and row["wake_up_window_days"] == 7 and pd.isna(row["churn_threshold_days"])
    assert row["incremental_revenue_30d"] == pytest.approx(revenue.lift * len(t))
    assert row["roi_30d"] == pytest.approx((revenue.lift * len(t) - 0.1 * len(t)) / (0.1 * len(t)))
    controls = metrics[metrics["arm"] == "control"]
    assert controls["revenue_lift"].isna().all() and controls["control_users"].isna().all()
    stage = metrics.set_index(["lifecycle_stage", "arm"]).loc[("churned", "treatment")]
    assert stage["users"] == ((outcomes["arm"] == "treatment") & (outcomes["lifecycle_stage"] == "churned")).sum()


def test_cohort_maturity_and_immature_second_churn() -> None:
    outcomes = _campaign().assign(second_churned=pd.array([pd.NA] * 600, dtype="boolean"))
    early = cohort_metrics(outcomes, as_of=d(28))
    assert not early["is_mature"].any() and early["wake_up_mature"].all()
    # Nothing seen to churn yet among returned journeys: 0 so far, and not final.
    assert (early["second_churn_rate"].fillna(0.0) == 0.0).all() and not early["second_churn_mature"].any()
    assert cohort_metrics(outcomes, as_of=d(29))["is_mature"].all()
    # One journey still undecided keeps its cohorts' second churn open.
    partly = _campaign()
    partly.loc[0, "second_churned"] = pd.NA
    metrics = _level(cohort_metrics(partly, as_of=d(200)), "campaign")
    assert not metrics["second_churn_mature"].any() and metrics["is_mature"].all()


def test_cohorts_are_split_by_day_and_strategy() -> None:
    first = _campaign(1)
    second = _campaign(2).assign(assignment_date=d(1), action_id=lambda f: "b" + f["action_id"])
    third = _campaign(3).assign(strategy_id="care", action_id=lambda f: "c" + f["action_id"])
    day_levels = ["campaign", "lifecycle_stage"]

    def by_day(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["cohort_level"].isin(day_levels)].reset_index(drop=True)

    design = {"winback": 0.3, "care": 0.3}  # without it, SRM compares with the pooled share of the frame
    metrics = by_day(cohort_metrics(pd.concat([first, second, third], ignore_index=True), d(40), design))
    assert len(metrics) == 18
    alone = by_day(cohort_metrics(second, d(40), design))
    together = metrics[metrics["assignment_date"] == d(1)].reset_index(drop=True)
    pd.testing.assert_frame_equal(together, alone)


def test_days_measured_in_one_pass_get_the_rows_each_would_get_alone() -> None:
    """A range run measures its days together (cohort_metrics_by_day); each day's rows must not depend on its
    neighbours: here only the later days know value tiers, A/B variants and a global holdout."""
    first, second = _campaign(seed=3, n=300), _campaign(seed=4, n=400)
    second["assignment_date"], second["action_id"] = d(2), "b" + second["action_id"]
    rng = np.random.default_rng(9)
    for frame in (first, second):
        treated = frame["arm"] == "treatment"
        frame["step_variant"] = np.where(treated, rng.choice(["coupon_10", "coupon_20"], len(frame)), None)
        frame["value_tier"] = rng.choice(["high", "low"], len(frame))
        frame["holdout"] = np.where(treated, None, np.where(rng.random(len(frame)) < 0.3, "global", "strategy"))
        frame["first_journey"] = True
    plain = first.drop(columns=["step_variant", "value_tier"]).assign(holdout=lambda f: f["holdout"].where(
        f["holdout"] != "global", "strategy"))
    by_day = {d(1): plain, d(5): pd.concat([first, second], ignore_index=True), d(40): second}
    design = {"design_control_share": {"winback": 0.3}, "global_holdout_share": 0.1}
    together = cohort_metrics_by_day(by_day, **design)
    alone = pd.concat([cohort_metrics(outcomes, day, **design) for day, outcomes in by_day.items()],
                      ignore_index=True)
    pd.testing.assert_frame_equal(together, alone, check_dtype=False)
    assert {"value_tier", "variant_contrast", "programme_week"} <= set(together["cohort_level"])
    assert not set(together.loc[together["as_of_date"] == d(1), "cohort_level"]) & {"value_tier", "programme_week"}


def test_empty_inputs_and_bad_journeys() -> None:
    empty = _measure(_journeys([]), ACTIVITY.iloc[0:0], as_of=d(3))
    assert empty.empty and list(empty.columns) == OUTCOME_COLUMNS
    assert cohort_metrics(empty, as_of=d(3)).empty
    with pytest.raises(ValueError, match="one row per action_id"):
        _measure(pd.concat([_journeys(["x"]), _journeys(["x"])]), ACTIVITY, as_of=d(3))
    with pytest.raises(ValueError, match="without an assignment_date"):
        _measure(_journeys(["x"]).assign(assignment_date=None), ACTIVITY, as_of=d(3))
    with pytest.raises(ValueError, match="wake_up_days must be 1..30"):
        _measure(_journeys(["x"]), ACTIVITY, as_of=d(3), wake_up_days=31)
    with pytest.raises(TypeError, match="churn_days"):
        measure_outcomes(_journeys(["x"]), ACTIVITY, as_of=d(3))  # no silent default threshold


def test_journeys_as_of_only_knows_what_had_happened_by_that_day():
    from orchestration.measurement import journeys_as_of

    ts = pd.Timestamp
    touches = pd.DataFrame({
        "action_id": ["a1", "a1", "a2"], "user_id": ["u1", "u1", "u2"], "strategy_id": ["s", "s", "s"],
        "arm": ["treatment", "treatment", "control"], "lifecycle_stage": ["at_risk"] * 3,
        "scheduled_at": [ts("2026-01-10 10:00"), ts("2026-01-11 10:00"), ts("2026-01-10 10:00")],
        "sent_at": [ts("2026-01-10 10:00"), ts("2026-01-11 10:00"), pd.NaT],
        "opened_at": [pd.NaT, ts("2026-01-12 08:00"), pd.NaT], "clicked_at": [pd.NaT] * 3,
        "cost": [0.01, 0.05, 0.0],
    })
    day1 = journeys_as_of(touches, date(2026, 1, 10)).set_index("action_id")
    assert day1.loc["a1", "cost"] == pytest.approx(0.01) and not day1.loc["a1", "opened"]
    assert day1.loc["a1", "assignment_date"] == date(2026, 1, 10) and not day1.loc["a2", "sent"]
    day3 = journeys_as_of(touches, date(2026, 1, 12)).set_index("action_id")
    assert day3.loc["a1", "cost"] == pytest.approx(0.06) and day3.loc["a1", "opened"]
    assert journeys_as_of(touches, date(2026, 1, 9)).empty


def test_a_days_journeys_are_checked_for_one_row_per_id_once_a_run_unless_their_ids_are_in_doubt():
    """A JourneyLog whose decisions have distinct ids (and every log row one) yields distinct journeys every day: the
    outcomes skip the check (a hash of half a million ids a day at 100,000 users). Otherwise each day is checked."""
    from orchestration.measurement.journeys import JourneyLog
    from orchestration.measurement.readers import JourneyInputs

    ts = pd.Timestamp
    touches = pd.DataFrame({
        "action_id": ["a1", "t9"], "user_id": ["u1", "u9"], "strategy_id": ["s", "s"], "arm": ["treatment"] * 2,
        "lifecycle_stage": ["at_risk"] * 2, "scheduled_at": [ts("2026-01-10 10:00")] * 2, "sent_at": [pd.NaT] * 2,
        "opened_at": [pd.NaT] * 2, "clicked_at": [pd.NaT] * 2, "cost": [0.0, 0.0],
    })
    decisions = _journeys(["u1", "u2"], day=date(2026, 1, 10)).assign(action_id=["a1", "a2"])
    assert JourneyLog.of(touches, decisions).unique_ids
    twice = pd.concat([decisions, decisions.iloc[[1]]], ignore_index=True)
    assert not JourneyLog.of(touches, twice).unique_ids
    assert not JourneyLog.of(touches.assign(action_id=["a1", None]), decisions).unique_ids
    inputs = JourneyInputs(decisions=twice, touches=touches, activity=ACTIVITY, redemptions=None)
    with pytest.raises(ValueError, match="one row per action_id"):
        outcomes_as_of(inputs, date(2026, 1, 11), 150, {"wake_up_days": 7, "churn_days": CHURN})
    assert len(outcomes_as_of(JourneyInputs(decisions=decisions, touches=touches, activity=ACTIVITY, redemptions=None),
                              date(2026, 1, 11), 150, {"wake_up_days": 7, "churn_days": CHURN})) == 3


def test_documented_schemas_match_the_frames():
    from orchestration.warehouse.tables import TABLES

    assert [c.name for c in TABLES["recall_metrics"][1]] == METRIC_COLUMNS
    assert [c.name for c in TABLES["recall_outcomes"][1]] == OUTCOME_COLUMNS


# --- new outcome windows, cohorts, CUPED, SRM ---------------------------------------------------


def test_revenue_90d_pre_period_and_coupon_redemption() -> None:
    activity = _activity([("u1", -31, 1, 1, 100.0), ("u1", -30, 1, 1, 7.0), ("u1", -1, 1, 1, 3.0),
                          ("u1", 29, 1, 1, 10.0), ("u1", 89, 1, 1, 5.0), ("u1", 90, 1, 1, 50.0)])
    journeys = _journeys(["u1", "u2"]).assign(coupon_code=["C1", "C2"])
    redemptions = pd.DataFrame({"user_id": ["u1", "u2"], "coupon_code": ["C1", "C2"], "redeemed_date": [d(29), d(30)]})
    out = _by_user(_measure(journeys, activity, as_of=d(95), redemptions=redemptions))
    assert out.loc["u1", "pre_period_revenue"] == 10.0  # days A-30..A-1 only
    assert out.loc["u1", "revenue_90d"] == 15.0 and out.loc["u1", "revenue_30d"] == 10.0
    assert out.loc["u1", "coupon_redeemed"] == True and out.loc["u2", "coupon_redeemed"] == False  # noqa: E712
    early = _by_user(_measure(journeys, activity, as_of=d(88), redemptions=redemptions))
    assert early.loc["u1", "revenue_90d"] == 10.0 and not early.loc["u1", "revenue_90d_mature"]
    no_log = _measure(journeys.assign(coupon_code=[None, "C2"]), activity, as_of=d(40))
    assert no_log["coupon_redeemed"].isna().all()  # no coupon, or no redemption log: unknown


def test_journeys_carry_funnel_channel_and_variant() -> None:
    from orchestration.measurement import journeys_as_of

    ts = pd.Timestamp
    touches = pd.DataFrame({
        "action_id": ["a1", "a1", "a2"], "user_id": ["u1", "u1", "u2"], "strategy_id": "s",
        "arm": ["treatment", "treatment", "control"], "lifecycle_stage": "at_risk", "step": [1, 2, 0],
        "scheduled_at": [ts("2026-01-10 10:00"), ts("2026-01-11 10:00"), ts("2026-01-10 10:00")],
        "sent_at": [ts("2026-01-10 10:00"), ts("2026-01-11 10:00"), pd.NaT], "status": ["failed", "delivered", "holdout"],
        "opened_at": [pd.NaT, ts("2026-01-11 12:00"), pd.NaT], "clicked_at": pd.NaT, "cost": [0.0, 0.05, 0.0],
        "channel": ["push", "sms", None], "coupon_code": ["C", "C", None], "coupon_value": [10.0, 10.0, None],
        "value_tier": ["high", "high", "low"],
    })
    day1 = journeys_as_of(touches, date(2026, 1, 10)).set_index("action_id")
    assert day1.loc["a1", "sent"] and not day1.loc["a1", "delivered"] and day1.loc["a1", "channel"] == "push"
    day2 = journeys_as_of(touches, date(2026, 1, 11)).set_index("action_id")
    # The channel is the first step's: set before anyone responds, so it can be compared with control.
    assert day2.loc["a1", "delivered"] and day2.loc["a1", "responded"] and day2.loc["a1", "channel"] == "push"
    assert day2.loc["a1", "step_variant"] == "coupon_10" and day2.loc["a2", "step_variant"] is None
    assert day2.loc["a2", "channel"] is None and day2.loc["a2", "value_tier"] == "low"


def _level(metrics: pd.DataFrame, level: str, arm: str = "treatment") -> pd.DataFrame:
    return metrics[(metrics["cohort_level"] == level) & (metrics["arm"] == arm)]


def test_cuped_narrows_the_revenue_interval_and_keeps_the_estimate() -> None:
    rng = np.random.default_rng(3)
    outcomes = _campaign(7, 4000)
    x = rng.gamma(2.0, 20.0, len(outcomes))
    outcomes["pre_period_revenue"] = x
    outcomes["revenue_30d"] = outcomes["revenue_30d"] + 0.8 * x
    row = _level(cohort_metrics(outcomes, as_of=d(60)), "campaign").iloc[0]
    plain = row["revenue_lift_ci_high"] - row["revenue_lift_ci_low"]
    cuped = row["revenue_lift_cuped_ci_high"] - row["revenue_lift_cuped_ci_low"]
    assert cuped < 0.8 * plain and abs(row["revenue_lift_cuped"] - row["revenue_lift"]) < plain / 2


def test_srm_alarm_marks_a_lopsided_cohort() -> None:
    outcomes = _campaign(5, 2000)
    balanced = _level(cohort_metrics(outcomes, d(40), {"winback": 0.3}), "campaign").iloc[0]
    assert balanced["srm_p_value"] > 0.001 and balanced["trustworthy"]
    lopsided = _level(cohort_metrics(outcomes, d(40), {"winback": 0.5}), "campaign").iloc[0]
    assert lopsided["srm_alarm"] and not lopsided["trustworthy"]
    assert not np.isnan(lopsided["wake_up_lift_ci_low"])  # still reported, with its interval


def test_pooled_cohorts_weight_campaign_lifts_and_first_channels_are_compared_with_the_whole_holdout() -> None:
    first = _campaign(1).assign(channel="push", step_variant=lambda f: np.where(f["arm"] == "treatment", "no_coupon", None))
    second = _campaign(2).assign(assignment_date=d(-3), action_id=lambda f: "b" + f["action_id"], channel="sms",
                                 step_variant=lambda f: np.where(f["arm"] == "treatment", "no_coupon", None))
    metrics = cohort_metrics(pd.concat([first, second], ignore_index=True), as_of=d(40))
    campaigns = _level(metrics, "campaign").set_index("assignment_date")
    week = _level(metrics, "week")
    week = week[week["strategy_id"] == "winback"].iloc[0]
    weights = campaigns["users"] / campaigns["users"].sum()
    assert week["campaigns"] == 2 and week["users"] == campaigns["users"].sum()
    assert week["wake_up_lift"] == pytest.approx((weights * campaigns["wake_up_lift"]).sum())
    half = (campaigns["wake_up_lift_ci_high"] - campaigns["wake_up_lift"]) / 1.96
    assert week["wake_up_lift_ci_high"] - week["wake_up_lift"] == pytest.approx(1.96 * np.sqrt((weights**2 * half**2).sum()))
    overall = _level(metrics, "overall")
    assert set(overall["strategy_id"]) == {"winback", "all"} and (overall["assignment_end_date"] == d(0)).all()
    assert (overall["assignment_date"] == d(-3)).all() and (week["assignment_date"] == d(-6))  # Monday
    channel = _level(metrics, "channel").set_index("assignment_date")
    assert set(channel["cohort_value"]) == {"push", "sms"} and (channel["control_basis"] == "whole_campaign").all()
    assert (channel["wake_up_lift"] == campaigns["wake_up_lift"]).all()  # one first channel per campaign here
    variant = _level(metrics, "step_variant").set_index("assignment_date")
    assert (variant["control_users"] == campaigns["control_users"]).all()
    assert (variant["wake_up_lift"] == campaigns["wake_up_lift"]).all()


def test_a_missing_attribute_is_a_cohort_value_of_its_own() -> None:
    """Journeys are summed into atoms by their attributes first: one without a value tier must not join the first
    tier's atom (whose value it would then take)."""
    outcomes = _campaign(3, 200)
    outcomes["value_tier"] = np.where(np.arange(len(outcomes)) % 2 == 0, "high", None)
    tiers = _level(cohort_metrics(outcomes, as_of=d(40)), "value_tier").set_index("cohort_value")
    treated = outcomes["arm"] == "treatment"
    assert tiers.loc["high", "users"] == (treated & outcomes["value_tier"].notna()).sum()
    assert tiers.loc["unknown", "users"] == (treated & outcomes["value_tier"].isna()).sum()


def test_the_campaign_and_pooled_cohorts_count_each_journey_once_whatever_its_finer_attributes() -> None:
    """Those levels are expanded from the atoms summed over the finer attributes (metrics.COARSE_LEVELS): the same
    journeys with other tiers, segments, stages and channels give them the same rows."""
    outcomes = _campaign(6, 400)
    rng = np.random.default_rng(6)
    n, treated = len(outcomes), outcomes["arm"] == "treatment"
    varied = outcomes.assign(value_tier=rng.choice(["high", "low", None], n), segment=rng.choice(["loyal", "bargain"], n),
                             channel=np.where(treated, rng.choice(["push", "sms"], n), None))
    plain, fine = (cohort_metrics(frame, as_of=d(40)) for frame in (outcomes.assign(lifecycle_stage="churned"), varied))
    for level in ("campaign", "week", "overall", "overall_wake_up"):
        a, b = _level(plain, level).reset_index(drop=True), _level(fine, level).reset_index(drop=True)
        assert len(a) == len(b) > 0
        for column in ("users", "control_users", "wake_up_rate", "revenue_per_user_30d", "wake_up_lift",
                       "revenue_lift_ci_low", "srm_p_value", "cost"):
            np.testing.assert_allclose(b[column].to_numpy(float), a[column].to_numpy(float), rtol=1e-12)
    assert _level(fine, "value_tier")["cohort_value"].nunique() == 3  # the finer levels still see them
    atoms = atoms_of({d(40): varied})
    coarse = coarsened(atoms, FINER_ATTRIBUTES)
    assert len(coarse.frame) < len(atoms.frame) and coarse.frame[FINER_ATTRIBUTES].isna().all().all()
    np.testing.assert_allclose(coarse.totals.sum(axis=0), atoms.totals.sum(axis=0), rtol=1e-12)


def test_small_cohorts_are_reported_and_flagged() -> None:
    row = _level(cohort_metrics(_campaign(4, 60), as_of=d(40)), "campaign").iloc[0]
    assert row["small_cohort"] and np.isfinite(row["wake_up_lift_ci_low"]) and np.isfinite(row["wake_up_p_value"])


def test_attribute_text_becomes_one_python_object_per_distinct_value_and_none_where_missing():
    """The cohort metrics hash these columns again every day: equal values must be the same object (and no value lost)."""
    text = pd.Series(["high", None, "low", "high", "low"], dtype="str").iloc[::-1]
    objects = as_objects(text)
    assert objects.dtype == object and objects.index.equals(text.index)
    assert objects.tolist() == ["low", "high", "low", None, "high"]
    assert objects.iloc[0] is objects.iloc[2] and objects.iloc[1] is objects.iloc[4]
    assert as_objects(pd.Series([None, None], dtype=object)).tolist() == [None, None]
    journeys = _journeys(["u1", "u2", "u3"]).assign(value_tier=pd.Series(["high", "high", None], dtype="str"))
    tiers = _measure(journeys, _activity([("u1", 1, 1, 0, 0.0)]), d(3))["value_tier"]
    assert tiers.tolist() == ["high", "high", None] and tiers.iloc[0] is tiers.iloc[1]
