"""Measurement from the decisions (intent-to-treat): every assigned journey measured whether or not it was sent,
one journey id through the decisions and the delivery log (or the step id a delivery system echoed), journeys only
the log knows, the sample-ratio check with the global holdout, the programme readout, variant contrasts and the
delivery-silence check."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.measurement import journeys_as_of
from orchestration.measurement.journeys import JourneyLog
from orchestration.measurement.lift import compare_arms
from orchestration.measurement.metrics import cohort_metrics
from orchestration.measurement.readers import read_journeys
from orchestration.quality.delivery_silence import delivery_silence

A = date(2026, 3, 2)  # a Monday
TS = pd.Timestamp


def _touches(rows: list[dict]) -> pd.DataFrame:
    base = {"user_id": "u1", "strategy_id": "s", "arm": "treatment", "lifecycle_stage": None, "step": 1,
            "channel": "push", "status": "delivered", "sent_at": pd.NaT, "opened_at": pd.NaT, "clicked_at": pd.NaT,
            "cost": 0.0, "coupon_code": None, "coupon_value": np.nan, "value_tier": None, "segment": None}
    return pd.DataFrame([{**base, **row} for row in rows])


def _decisions(rows: list[dict]) -> pd.DataFrame:
    base = {"strategy_id": "s", "holdout": None, "assignment_date": A, "lifecycle_stage": "dormant_light",
            "value_tier": "medium", "segment": "price_sensitive", "channel": "push", "step_variant": None,
            "first_journey": True}
    return pd.DataFrame([{**base, **row} for row in rows])


def test_every_decided_journey_is_measured_sent_or_not() -> None:
    decisions = _decisions([
        {"action_id": "j_sent", "user_id": "u1", "arm": "treatment"},
        {"action_id": "j_cancelled", "user_id": "u2", "arm": "treatment"},  # every step cancelled: never in the log
        {"action_id": "j_held", "user_id": "u3", "arm": "control", "holdout": "strategy", "channel": None},
    ])
    touches = _touches([
        {"action_id": "j_sent", "scheduled_at": TS(A) + pd.Timedelta(hours=10), "sent_at": TS(A) + pd.Timedelta(hours=10),
         "opened_at": TS(A) + pd.Timedelta(hours=11), "cost": 0.04},
        {"action_id": "j_held", "user_id": "u3", "arm": "control", "step": 0, "channel": None, "status": "holdout",
         "scheduled_at": TS(A) + pd.Timedelta(hours=10)},
        # A journey the decisions do not know (another tool's campaign): measured from the log alone.
        {"action_id": "a_other", "user_id": "u4", "strategy_id": "winback", "scheduled_at": TS(A) + pd.Timedelta(hours=9),
         "sent_at": TS(A) + pd.Timedelta(hours=9), "cost": 0.01, "coupon_value": 10.0, "lifecycle_stage": "churned"},
    ])
    journeys = journeys_as_of(touches, A, decisions).set_index("action_id")
    assert set(journeys.index) == {"j_sent", "j_cancelled", "j_held", "a_other"}
    assert journeys.loc["j_sent", "opened"] and journeys.loc["j_sent", "cost"] == pytest.approx(0.04)
    never = journeys.loc["j_cancelled"]
    assert never["arm"] == "treatment" and not never["sent"] and never["cost"] == 0 and never["source"] == "decisions"
    assert journeys.loc["j_held", "holdout"] == "strategy" and journeys.loc["j_held", "channel"] is None
    other = journeys.loc["a_other"]
    assert other["source"] == "delivery_log" and other["step_variant"] == "coupon_10" and other["holdout"] is None
    # Point in time: nothing assigned after the day measured.
    assert journeys_as_of(touches, A - timedelta(days=1), decisions).empty
    # One order whatever order the decisions come in (the sums over journeys depend on it): the decided journeys by
    # id, then those only the log knows.
    order = ["j_cancelled", "j_held", "j_sent", "a_other"]
    for shuffled in (decisions, decisions.iloc[::-1], decisions.iloc[[1, 2, 0]]):
        assert journeys_as_of(touches, A, shuffled)["action_id"].tolist() == order


def test_a_decided_journey_is_known_day_by_day_from_one_prepared_log() -> None:
    """A ladder over three days, read from one JourneyLog (as a run's measurement reads it): each day knows the
    steps scheduled by its end and what had happened to them by then, never more."""
    decisions = _decisions([{"action_id": "j", "user_id": "u1", "arm": "treatment"}])
    at = lambda days, hours: TS(A) + pd.Timedelta(days=days, hours=hours)  # noqa: E731
    touches = _touches([
        {"action_id": "j", "step": 1, "scheduled_at": at(0, 10), "status": "failed", "cost": 0.01},
        {"action_id": "j", "step": 2, "channel": "sms", "scheduled_at": at(1, 10), "sent_at": at(1, 10), "cost": 0.05,
         "coupon_code": "C10", "coupon_value": 10.0, "opened_at": at(2, 8)},
        # a clock-skewed row: sent before its schedule, so it counts once scheduled (the third day)
        {"action_id": "j", "step": 3, "channel": "call", "scheduled_at": at(2, 10), "sent_at": at(0, 9), "cost": 0.5,
         "coupon_code": "C20", "clicked_at": at(3, 0)},
    ])
    log = JourneyLog.of(touches, decisions)
    days = [log.as_of(A + timedelta(days=k)).set_index("action_id").loc["j"] for k in range(4)]
    assert [d["sent"] for d in days] == [False, True, True, True]  # the first send failed
    assert [d["delivered"] for d in days] == [False, True, True, True]
    assert [d["opened"] for d in days] == [False, False, True, True]
    assert [d["clicked"] for d in days] == [False, False, False, True]
    assert [d["cost"] for d in days] == pytest.approx([0.01, 0.06, 0.56, 0.56])
    assert [d["coupon_code"] for d in days] == [None, "C10", "C10", "C10"]  # the first step handing one out
    assert [d["responded"] for d in days] == [False, False, True, True]


def _warehouse(tmp_path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    start = TS(A, tz="UTC") + pd.Timedelta(hours=10)
    actions = pd.DataFrame([
        # u1: a treated journey whose log echoes the step id; its second step was an A/B variant.
        dict(action_id="j_1_1", journey_id="j_1", step=1, user_id="u1", arm="treatment", holdout=None, channel="push",
             variant="default", status="queued", journey_started_at=start, action_date=A - timedelta(days=1)),
        dict(action_id="j_1_2", journey_id="j_1", step=2, user_id="u1", arm="treatment", holdout=None, channel="sms",
             variant="sms_b", status="queued", journey_started_at=start, action_date=A),
        # u2: a treated journey logged under its journey id; u2 had an earlier journey (not its first).
        dict(action_id="j_0_1", journey_id="j_0", step=1, user_id="u2", arm="control", holdout="global", channel=None,
             variant=None, status="holdout", journey_started_at=start - pd.Timedelta(days=20),
             action_date=A - timedelta(days=21)),
        dict(action_id="j_2_1", journey_id="j_2", step=1, user_id="u2", arm="treatment", holdout=None, channel="push",
             variant="default", status="cancelled", journey_started_at=start, action_date=A - timedelta(days=1)),
        # u4: the uplift model chose the variant of its tested step for the user (not a random draw).
        dict(action_id="j_3_1", journey_id="j_3", step=1, user_id="u4", arm="treatment", holdout=None, channel="push",
             variant="default", status="queued", journey_started_at=start, action_date=A - timedelta(days=1)),
        dict(action_id="j_3_2", journey_id="j_3", step=2, user_id="u4", arm="treatment", holdout=None, channel="sms",
             variant="sms_b", status="queued", journey_started_at=start, action_date=A),
    ]).assign(strategy_id="s", lifecycle_stage="at_risk", value_tier="high", segment="social_driven",
              basis=["rules", "rules", None, "model", "model", "model"],
              # j_1 recorded the design it was assigned under (its tested step's variant had a 30% share); the
              # others are older rows, written before the design was recorded.
              design_holdout_share=[0.1, 0.1, None, None, None, None],
              design_global_holdout_share=[0.05, 0.05, None, None, None, None],
              design_variant_share=[None, 0.3, None, None, None, None])
    touches = pd.DataFrame([
        dict(touch_id="t1", action_id="j_1_1", user_id="u1", step=1, scheduled_at=TS(A) + pd.Timedelta(hours=10)),
        dict(touch_id="t2", action_id="j_2", user_id="u2", step=1, scheduled_at=TS(A) + pd.Timedelta(hours=10)),
        dict(touch_id="t3", action_id="a_9", user_id="u3", step=1, scheduled_at=TS(A) + pd.Timedelta(hours=8)),
    ]).assign(strategy_id="s", arm="treatment", channel="push", status="delivered", cost=0.01, coupon_code=None,
              coupon_value=None, sent_at=lambda f: f["scheduled_at"], opened_at=pd.NaT, clicked_at=pd.NaT)
    # u3's tier and segment of the day before its log-only journey, beside other users' and days'.
    tiers = pd.DataFrame({"user_id": ["u3", "u3", "u1"], "tier_date": [A - timedelta(days=1), A, A - timedelta(days=1)],
                          "lifecycle_stage": ["churned", "at_risk", "at_risk"], "value_tier": ["low", "high", "high"]})
    segments = pd.DataFrame({"user_id": ["u3", "u3", "u1"],
                             "segment_date": [A - timedelta(days=1), A - timedelta(days=2), A - timedelta(days=1)],
                             "segment": ["price_sensitive", "social_driven", "feature_dependent"]})
    activity = pd.DataFrame({"user_id": ["u1"], "activity_date": [A], "events": [3], "key_actions": [1], "orders": [1],
                             "revenue": [20.0]})
    events = pd.DataFrame({"user_id": ["u1"], "event_name": ["order_paid"], "coupon_code": [None], "event_date": [A]})
    for name, frame in (("recall_actions", actions), ("stg_recall_touches", touches), ("user_risk_tiers", tiers),
                        ("user_segments", segments), ("int_user_daily_activity", activity), ("stg_events", events)):
        con.register("frame", frame)
        con.execute(f"create table {name} as select * from frame")
        con.unregister("frame")
    return con


def test_log_rows_join_their_journey_by_journey_or_step_id(tmp_path) -> None:
    con = _warehouse(tmp_path)
    inputs = read_journeys(con, A, A)
    decided = inputs.decisions.set_index("action_id")
    assert set(decided.index) == {"j_1", "j_2", "j_3"}  # j_0 started before the range
    assert decided.loc["j_1", "step_variant"] == "sms_b" and decided.loc["j_1", "first_journey"]
    # A variant the decision chose for its user is in no variant comparison.
    assert decided.loc["j_3", "step_variant"] is None or pd.isna(decided.loc["j_3", "step_variant"])
    assert not decided.loc["j_2", "first_journey"]  # u2's first journey was j_0
    # The design each journey recorded; null where it was not recorded.
    design = ["design_holdout_share", "design_global_holdout_share", "design_variant_share"]
    assert decided.loc["j_1", design].tolist() == pytest.approx([0.1, 0.05, 0.3])
    assert decided.loc["j_2", design].isna().all()
    # The log's step id (j_1_1) and journey id (j_2) both land on their journey; a_9 is known to the log only.
    assert set(inputs.touches["action_id"]) == {"j_1", "j_2", "a_9"}
    alone = inputs.touches.set_index("action_id").loc["a_9"]
    assert (alone["lifecycle_stage"], alone["value_tier"], alone["segment"]) == ("churned", "low", "price_sensitive")
    journeys = journeys_as_of(inputs.touches, A, inputs.decisions).set_index("action_id")
    assert journeys.loc["j_2", "sent"] and journeys.loc["j_1", "sent"] and journeys["source"].to_dict() == {
        "a_9": "delivery_log", "j_1": "decisions", "j_2": "decisions", "j_3": "decisions"}


def _campaign(n: int, holdout_share: float, global_share: float, seed: int = 3) -> pd.DataFrame:
    """One campaign's journeys split as the planner splits them: global holdout, then the strategy's holdout."""
    rng = np.random.default_rng(seed)
    held_global = rng.random(n) < global_share
    held = ~held_global & (rng.random(n) < holdout_share)
    treated = ~held_global & ~held
    woke = rng.random(n) < np.where(treated, 0.3, 0.2)
    return pd.DataFrame({
        "action_id": [f"j{i}" for i in range(n)], "user_id": [f"u{i}" for i in range(n)], "strategy_id": "s",
        "arm": np.where(treated, "treatment", "control"),
        "holdout": np.select([held_global, held], ["global", "strategy"], None), "source": "decisions",
        "first_journey": True, "assignment_date": A, "lifecycle_stage": "at_risk", "woke_up": woke,
        "repurchased_30d": woke, "revenue_30d": woke * 20.0, "second_churned": pd.array([pd.NA] * n, dtype="boolean"),
    })


def test_the_sample_ratio_check_expects_the_global_holdout() -> None:
    outcomes = _campaign(20_000, 0.1, 0.05)
    design = {"design_control_share": {"s": 0.1}}
    campaign = lambda m: m[(m["cohort_level"] == "campaign") & (m["arm"] == "treatment")].iloc[0]  # noqa: E731
    correct = campaign(cohort_metrics(outcomes, A, **design, global_holdout_share=0.05))
    assert not correct["srm_alarm"] and correct["srm_p_value"] > 0.001
    # Ignoring the global holdout's share, the controls look 50% too many: the old defect.
    assert campaign(cohort_metrics(outcomes, A, **design, global_holdout_share=0.0))["srm_alarm"]
    # A deliberately broken assignment (twice the strategy's holdout) is caught with the right design.
    broken = _campaign(20_000, 0.2, 0.05)
    assert campaign(cohort_metrics(broken, A, **design, global_holdout_share=0.05))["srm_alarm"]
    # Journeys only the delivery log knows cannot tell the holdouts apart: control against g + (1 - g) h.
    logged = outcomes.assign(holdout=None, source="delivery_log")
    assert not campaign(cohort_metrics(logged, A, **design, global_holdout_share=0.05))["srm_alarm"]


def test_global_holdout_takes_no_side_in_strategy_cohorts_and_measures_the_programme() -> None:
    outcomes = _campaign(6_000, 0.1, 0.1)
    repeat = outcomes.sample(500, random_state=1).assign(first_journey=False)
    outcomes.loc[repeat.index, "first_journey"] = False
    metrics = cohort_metrics(outcomes, A + timedelta(days=10), {"s": 0.1}, global_holdout_share=0.1)
    row = metrics[(metrics["cohort_level"] == "campaign") & (metrics["arm"] == "treatment")].iloc[0]
    treated, held = outcomes[outcomes["arm"] == "treatment"], outcomes[outcomes["holdout"] == "strategy"]
    assert row["control_users"] == len(held) and row["users"] == len(treated)
    expected = compare_arms(treated["woke_up"].to_numpy(float), held["woke_up"].to_numpy(float))
    assert (row["wake_up_lift"], row["wake_up_lift_ci_low"]) == pytest.approx((expected.lift, expected.ci_low))
    first = outcomes[outcomes["first_journey"]]
    inside = first["holdout"] == "global"
    programme = metrics[(metrics["cohort_level"] == "programme_week") & (metrics["arm"] == "treatment")].iloc[0]
    assert programme["strategy_id"] == "all" and programme["control_basis"] == "global_holdout"
    assert programme["users"] == (~inside).sum() and programme["control_users"] == inside.sum()
    whole = compare_arms(first.loc[~inside, "woke_up"].to_numpy(float), first.loc[inside, "woke_up"].to_numpy(float))
    assert (programme["wake_up_lift"], programme["wake_up_lift_ci_high"]) == pytest.approx((whole.lift, whole.ci_high))
    assert not programme["srm_alarm"]
    pooled = metrics[(metrics["cohort_level"] == "programme_overall") & (metrics["arm"] == "treatment")]
    assert len(pooled) == 1 and pooled["wake_up_mature"].all()
    # Without a global holdout there is no programme readout.
    alone = cohort_metrics(outcomes[outcomes["holdout"] != "global"], A + timedelta(days=10), {"s": 0.1})
    assert not alone["cohort_level"].str.startswith("programme").any()


def test_variant_contrast_is_the_difference_between_the_variants() -> None:
    outcomes = _campaign(4_000, 0.2, 0.0)
    treated = outcomes["arm"] == "treatment"
    rng = np.random.default_rng(5)
    variant = np.where(rng.random(len(outcomes)) < 0.5, "coupon_20pct", "coupon_15pct")
    outcomes["step_variant"] = np.where(treated, variant, None)
    outcomes.loc[treated & (outcomes["step_variant"] == "coupon_20pct"), "woke_up"] |= rng.random(len(outcomes))[
        treated & (outcomes["step_variant"] == "coupon_20pct")] < 0.1
    shares = {("s", "coupon_20pct"): 0.5, ("s", "coupon_15pct"): 0.5}
    metrics = cohort_metrics(outcomes, A + timedelta(days=10), {"s": 0.2}, variant_shares=shares)
    rows = metrics[metrics["cohort_level"] == "variant_contrast"].set_index("arm")
    assert rows.loc["treatment", "cohort_value"] == "coupon_20pct vs coupon_15pct"
    a = outcomes[outcomes["step_variant"] == "coupon_20pct"]["woke_up"].to_numpy(float)
    b = outcomes[outcomes["step_variant"] == "coupon_15pct"]["woke_up"].to_numpy(float)
    expected = compare_arms(a, b)
    assert rows.loc["treatment", "control_basis"] == "reference_variant"
    assert (rows.loc["treatment", "wake_up_lift"], rows.loc["treatment", "wake_up_lift_ci_low"]) == pytest.approx(
        (expected.lift, expected.ci_low))
    assert rows.loc["treatment", "users"] == len(a) and rows.loc["control", "users"] == len(b)
    assert not rows.loc["treatment", "srm_alarm"]
    lopsided = cohort_metrics(outcomes, A + timedelta(days=10), {"s": 0.2},
                              variant_shares={("s", "coupon_20pct"): 0.9, ("s", "coupon_15pct"): 0.1})
    assert lopsided[lopsided["cohort_level"] == "variant_contrast"]["srm_alarm"].all()
    assert (metrics["cohort_level"] == "variant_contrast_overall").any()


def test_delivery_silence_counts_sent_rows_without_a_record(tmp_path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    day = date(2026, 4, 10)
    actions = pd.DataFrame({
        "action_id": ["j1_1", "j2_1", "j3_1", "j4_1", "j5_1", "j6_1"],
        "journey_id": ["j1", "j2", "j3", "j4", "j5", "j6"], "step": 1,
        "status": ["queued", "queued", "queued", "queued", "cancelled", "queued"],
        "action_date": [day - timedelta(days=5), day - timedelta(days=4), day - timedelta(days=3),
                        day - timedelta(days=3), day - timedelta(days=3), day - timedelta(days=1)],
    })
    # j1 answered by touch id, j2 by journey id and step; j3, j4 silent; j5 never sent; j6 still within the grace.
    touches = pd.DataFrame({"touch_id": ["j1_1", "x"], "action_id": ["j1", "j2"], "step": [1, 1]})
    for name, frame in (("recall_actions", actions), ("stg_recall_touches", touches)):
        con.register("frame", frame)
        con.execute(f"create table {name} as select * from frame")
    silence = delivery_silence(con, day, silence_days=2)
    assert (silence.silent_rows, silence.since, silence.latest) == (2, day - timedelta(days=3), day - timedelta(days=3))
    assert silence.checked_rows == 4
    assert delivery_silence(con, day, silence_days=4).silent_rows == 0


def test_an_arm_with_one_outcome_for_everyone_still_carries_its_uncertainty() -> None:
    # Three control journeys, none woke up: without the floor the interval would ignore the control arm.
    treated, control = np.r_[np.ones(20), np.zeros(30)], np.zeros(3)
    est = compare_arms(treated, control)
    plain_se = np.sqrt(treated.var(ddof=1) / 50)
    assert est.se == pytest.approx(np.sqrt(treated.var(ddof=1) / 50 + (1 / 3) * (2 / 3) / 3))
    assert est.se > 2 * plain_se and est.ci_low < 0.4 - 2 * plain_se
    # Amounts: an all-zero arm borrows the variance of both arms pooled.
    revenue = compare_arms(np.r_[np.zeros(10), [50.0, 80.0, 20.0]], np.zeros(4))
    pooled = np.r_[np.zeros(14), [50.0, 80.0, 20.0]].var(ddof=1)
    assert revenue.se == pytest.approx(np.sqrt(np.r_[np.zeros(10), [50.0, 80.0, 20.0]].var(ddof=1) / 13 + pooled / 4))
    # An arm with some spread keeps its own variance: large samples are what Welch gives.
    rng = np.random.default_rng(1)
    t, c = (rng.random(4000) < 0.3).astype(float), (rng.random(900) < 0.2).astype(float)
    assert compare_arms(t, c).se == pytest.approx(np.sqrt(t.var(ddof=1) / 4000 + c.var(ddof=1) / 900), rel=1e-12)
    # The cohort metrics apply the same floor.
    outcomes = _campaign(60, 0.2, 0.0, seed=2)
    outcomes.loc[outcomes["arm"] == "control", "woke_up"] = False
    row = cohort_metrics(outcomes, A + timedelta(days=10), {"s": 0.2})
    row = row[(row["cohort_level"] == "campaign") & (row["arm"] == "treatment")].iloc[0]
    t_arm = outcomes.loc[outcomes["arm"] == "treatment", "woke_up"].to_numpy(float)
    c_arm = outcomes.loc[outcomes["arm"] == "control", "woke_up"].to_numpy(float)
    assert row["wake_up_lift_ci_low"] == pytest.approx(compare_arms(t_arm, c_arm).ci_low)


def test_a_table_from_before_a_new_column_gets_it(tmp_path) -> None:
    from orchestration.warehouse import replace_rows

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create table recall_outcomes (action_id varchar, user_id varchar)")  # an older schema
    con.execute("insert into recall_outcomes values ('old', 'u0')")
    frame = pd.DataFrame({"action_id": ["new"], "user_id": ["u1"], "source": ["decisions"], "first_journey": [True]})
    replace_rows(con, "recall_outcomes", frame, "action_id = ?", ["new"])
    rows = con.execute("select action_id, source, first_journey from recall_outcomes order by 1").fetchall()
    assert rows == [("new", "decisions", True), ("old", None, None)]
