"""Recall policy: hash holdouts and variants, matching, the 48-hour cadence, cool-down and every
guardrail at its boundary, with hand-made users."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from orchestration.recall import ACTION_COLUMNS, OUTBOX_COLUMNS, DayInputs, holdout_assignments, outbox, plan_day
from orchestration.recall import actions as actions_module
from orchestration.recall.actions import HOLDOUT_COLUMNS
from orchestration.recall.assignment import assign_arm, assign_variant, hash_key, in_global_holdout, stable_hash
from orchestration.recall.guardrails import ChannelLimits, FrequencyCap, QuietHours, cap_blocked, fill_channel_limits, shift_out_of_quiet_hours
from tests.recall_fixtures import DAY, library, random_world, run_days, tier_rows, user_rows

DEFAULT_LIBRARY = Path(__file__).resolve().parents[1] / "orchestration" / "recall" / "strategies.yml"
SEND_DAY = (DAY + timedelta(days=1)).isoformat()  # journeys planned on DAY start (and draw their arm) the day after
# SipHash-2-4 (pandas hash_array) of "u0000001" under key blake2b("churn-recall|winback")[:8].hex().
GOLDEN_HASH = 4490590855125743764
UTC = "UTC"


# --- assignment --------------------------------------------------------------------------------


def _user_ids(n: int) -> pd.Series:
    return pd.Series([f"u{i:07d}" for i in range(n)])


def test_arm_share_and_determinism() -> None:
    users = _user_ids(100_000)
    arms = assign_arm(users, "winback", 0.15, "churn-recall")
    assert abs((arms == "control").mean() - 0.15) < 0.01
    assert arms.equals(assign_arm(users.sample(frac=1, random_state=1), "winback", 0.15, "churn-recall").sort_index())
    # Another strategy or salt reshuffles who is held out.
    other = assign_arm(users, "care", 0.15, "churn-recall")
    overlap = ((arms == "control") & (other == "control")).mean()
    assert overlap == pytest.approx(0.15 * 0.15, abs=0.005)
    assert set(assign_arm(users.head(1000), "x", 0.0, "s")) == {"treatment"}


def test_every_journey_draws_its_arm_afresh() -> None:
    users = _user_ids(100_000)
    first = assign_arm(users, "winback", 0.2, "churn-recall", "2026-02-02")
    assert first.equals(assign_arm(users, "winback", 0.2, "churn-recall", "2026-02-02"))
    later = assign_arm(users, "winback", 0.2, "churn-recall", "2026-02-20")
    # A user held out once is held out again only by chance: the draws are independent.
    both = ((first == "control") & (later == "control")).mean()
    assert both == pytest.approx(0.2 * 0.2, abs=0.004) and abs((later == "control").mean() - 0.2) < 0.01
    # The planner draws per journey (keyed on the send day): users matched on two days get independent arms.
    lib = library()
    tiers, users_frame = random_world(3000)
    one = plan_day(DayInputs(day=DAY, tiers=tiers, users=users_frame), lib).set_index("user_id")["arm"]
    two = plan_day(DayInputs(day=DAY + timedelta(days=20), tiers=tiers, users=users_frame), lib).set_index("user_id")["arm"]
    held = (one == "control") & one.notna()
    assert 0 < (two[held] == "control").mean() < 0.5 and (two[held] == "treatment").any()


def test_arm_is_independent_of_dtype_and_process() -> None:
    users = _user_ids(2000)
    arms = assign_arm(users, "winback", 0.2, "salt")
    assert arms.equals(assign_arm(users.astype(object), "winback", 0.2, "salt"))
    assert arms.equals(assign_arm(users.astype("category"), "winback", 0.2, "salt"))
    # Golden value: SipHash of this id must never change, or every journey would switch arms.
    assert hash_key("churn-recall", "winback") == "cd5803fdaf3bb1d8"
    assert int(stable_hash(pd.Series(["u0000001"]), hash_key("churn-recall", "winback"))[0]) == GOLDEN_HASH
    code = (
        "import pandas as pd; from orchestration.recall.assignment import assign_arm;"
        "print(''.join('c' if a == 'control' else 't' for a in "
        "assign_arm(pd.Series([f'u{i:07d}' for i in range(2000)]), 'winback', 0.2, 'salt')))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(DEFAULT_LIBRARY.parents[2])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.strip() == "".join("c" if a == "control" else "t" for a in arms)




def test_global_holdout_and_variants_are_stable_and_sized() -> None:
    users = _user_ids(100_000)
    held = in_global_holdout(users, 0.05, "salt")
    assert abs(held.mean() - 0.05) < 0.003
    assert (held == in_global_holdout(users.sample(frac=1, random_state=2).sort_index(), 0.05, "salt")).all()
    variants = assign_variant(users, "s", 1, ["a", "b", "c"], [0.5, 0.3, 0.2], "salt")
    shares = pd.Series(variants).value_counts(normalize=True)
    assert shares["a"] == pytest.approx(0.5, abs=0.01) and shares["c"] == pytest.approx(0.2, abs=0.01)
    assert (variants == assign_variant(users, "s", 1, ["a", "b", "c"], [0.5, 0.3, 0.2], "salt")).all()


# --- planning a day ----------------------------------------------------------------------------


def _plan(tiers: pd.DataFrame, users: pd.DataFrame, lib=None, day: date = DAY, **inputs) -> pd.DataFrame:
    return plan_day(DayInputs(day=day, tiers=tiers, users=users, **inputs), lib or library())


def test_matching_precedence_columns_and_arms() -> None:
    tiers, users = random_world(4000)
    actions = _plan(tiers, users)
    assert list(actions.columns) == ACTION_COLUMNS and actions["action_id"].is_unique
    merged = actions.merge(tiers[["user_id", "is_high_value_dormant"]], on="user_id")
    dormant = merged["lifecycle_stage"].isin(["dormant_light", "dormant_medium"])
    assert (merged.loc[dormant & merged["is_high_value_dormant"], "strategy_id"] == "vip").all()
    assert (merged.loc[dormant & ~merged["is_high_value_dormant"], "strategy_id"] == "winback").all()
    assert (merged.loc[merged["lifecycle_stage"] == "at_risk", "strategy_id"] == "care").all()
    assert not set(actions["user_id"]) & set(tiers.loc[tiers["lifecycle_stage"].isin(["active", "churned"]), "user_id"])
    assert actions["user_id"].is_unique
    control = actions["arm"] == "control"
    assert (actions.loc[control, "status"] == "holdout").all() and actions.loc[control, "channel"].isna().all()
    assert 0.1 < control[actions["strategy_id"] == "winback"].mean() < 0.3
    queued = outbox(actions)
    assert list(queued.columns) == OUTBOX_COLUMNS and (queued["arm"] == "treatment").all()
    # Sends go out the next day at 10:00 UTC unless that is inside the user's quiet hours.
    first = queued[queued["timezone"] == "UTC"]
    assert (first["scheduled_at"] == pd.Timestamp("2026-02-02 10:00", tz=UTC)).all()
    assert queued["message"].notna().all() and queued["message"].str.startswith("nick").all()
    # The delivery system learns what kind of benefit a step offers (a coupon to redeem, or a pack).
    kinds = {name: b.kind for name, b in library().benefits.items()}
    assert (queued["benefit_kind"] == queued["benefit"].map(kinds)).where(queued["benefit"].notna(), True).all()
    assert queued.loc[queued["benefit"].isna(), "benefit_kind"].isna().all() and queued["benefit_kind"].notna().any()
    # The holdout export: one row per control journey, under its journey id, with what its coupon would have been.
    held = holdout_assignments(actions)
    assert list(held.columns) == HOLDOUT_COLUMNS and set(held["journey_id"]) == set(actions.loc[control, "journey_id"])


def test_low_value_users_not_worth_the_contact_are_skipped(monkeypatch) -> None:
    tiers = tier_rows([
        {"user_id": "cheap", "value_tier": "low", "lifecycle_stage": "dormant_medium", "revenue_90d": 0.3},
        {"user_id": "worth", "value_tier": "low", "lifecycle_stage": "dormant_medium", "revenue_90d": 300.0},
        {"user_id": "medium", "value_tier": "medium", "lifecycle_stage": "dormant_medium", "revenue_90d": 0.3},
    ])
    personalised: list[str] = []
    real_personalise = actions_module.personalise

    def personalise(candidates: pd.DataFrame, *args: object) -> pd.DataFrame:
        personalised.extend(candidates["user_id"])
        return real_personalise(candidates, *args)

    monkeypatch.setattr(actions_module, "personalise", personalise)
    actions = _plan(tiers, user_rows(["cheap", "worth", "medium"])).set_index("user_id")
    # winback costs 0.05 (SMS) + 0.3 x $5 coupon; cheap expects 0.1 x 0.3 / 3 = 0.01.
    assert (actions.at["cheap", "status"], actions.at["cheap", "reason"]) == ("skipped", "low_expected_value")
    assert pd.isna(actions.at["cheap", "journey_id"])
    assert actions.at["worth", "status"] in ("queued", "holdout") and actions.at["medium", "status"] in ("queued", "holdout")
    # A skipped row gets no message: it is neither personalised nor guarded, and carries nothing they add.
    assert sorted(personalised) == ["medium", "worth"]
    added = ["variant", "channel", "template", "benefit", "benefit_kind", "coupon_code", "coupon_value", "message",
             "scheduled_at", "timezone"]
    assert actions.loc["cheap", added].isna().all() and actions.at["cheap", "cost"] == 0.0


def test_active_dates_and_verticals_gate_strategies() -> None:
    tiers = tier_rows([{"user_id": "u1", "lifecycle_stage": "at_risk"}])
    users = user_rows(["u1"])
    lib = library(**{"    priority: 5\n": "    priority: 5\n    active_from: 2026-02-03\n"})
    assert _plan(tiers, users, lib).empty  # sends on Feb 2: not active yet
    assert len(_plan(tiers, users, lib, day=date(2026, 2, 2))) == 1
    lib = library(**{"    priority: 5\n": "    priority: 5\n    verticals: [game]\n"})
    assert _plan(tiers, users, lib).empty
    assert len(plan_day(DayInputs(day=DAY, tiers=tiers, users=users, vertical="game"), lib)) == 1


def test_idempotent_and_order_independent() -> None:
    tiers, users = random_world(3000)
    first = _plan(tiers, users)
    pd.testing.assert_frame_equal(first, _plan(tiers, users))
    pd.testing.assert_frame_equal(first, _plan(tiers.sample(frac=1, random_state=3), users.sample(frac=1, random_state=4)))


def test_missing_nickname_cancels_the_step_with_the_variable() -> None:
    tiers = tier_rows([{"user_id": "anon", "lifecycle_stage": "at_risk"}])
    row = _plan(tiers, user_rows(["anon"], nickname=None)).iloc[0]
    assert (row["status"], row["reason"], row["message"]) == ("cancelled", "missing_variable:nickname", None)


def test_consent_is_per_channel() -> None:
    tiers = tier_rows([{"user_id": "u1", "lifecycle_stage": "at_risk"}, {"user_id": "u2", "lifecycle_stage": "at_risk"}])
    users = user_rows(["u1", "u2"], push_opt_in=[False, True], sms_opt_in=[True, False])
    actions = _plan(tiers, users).set_index("user_id")
    assert (actions.at["u1", "status"], actions.at["u1", "reason"]) == ("cancelled", "no_consent")
    assert actions.at["u2", "status"] == "queued"
    unknown = _plan(tiers, users.iloc[1:]).set_index("user_id")
    assert unknown.at["u1", "reason"] == "no_consent"  # a user missing from the users table has no consent


# --- the 48-hour cadence ------------------------------------------------------------------------

VIP = {"lifecycle_stage": "dormant_light", "is_high_value_dormant": True, "value_tier": "high"}


def _vip_treatment_users(n: int) -> list[str]:
    ids = pd.Series([f"v{i:04d}" for i in range(200)])
    arms = assign_arm(ids, "vip", 0.1, "churn-recall", SEND_DAY)
    return ids[arms == "treatment"].head(n).tolist()


def test_ladder_push_sms_call_then_cool_down() -> None:
    (user,) = _vip_treatment_users(1)
    history = run_days(library(), tier_rows([{"user_id": user, **VIP}]), user_rows([user]), DAY, 20)
    steps = history[history["journey_id"].notna()]
    first = steps[steps["journey_id"] == steps["journey_id"].iloc[0]]
    assert first["channel"].tolist() == ["push", "sms", "call"]
    assert first["status"].tolist() == ["queued"] * 3
    start = pd.Timestamp("2026-02-02 10:00", tz=UTC)
    assert first["scheduled_at"].tolist() == [start, start + pd.Timedelta(hours=24), start + pd.Timedelta(hours=48)]
    assert first["coupon_code"].nunique() == 1 and first["message"].str.contains(first["coupon_code"].iloc[1]).iloc[1]
    # Ends on Feb 3 (call planned), cool-down 14 days: a new journey is planned on Feb 18, not before.
    starts = steps.loc[steps["step"] == 1, "action_date"].tolist()
    assert starts == [DAY, date(2026, 2, 18)]


def test_response_one_minute_before_the_sms_stops_the_journey() -> None:
    early, late = _vip_treatment_users(2)
    sms_due = pd.Timestamp("2026-02-03 10:00", tz=UTC)
    responses = pd.DataFrame({"user_id": [early, late], "responded_at": [sms_due - pd.Timedelta(minutes=1), sms_due + pd.Timedelta(minutes=1)]})
    history = run_days(library(), tier_rows([{"user_id": u, **VIP} for u in (early, late)]), user_rows([early, late]),
                       DAY, 3, responses=responses, known_late=True)
    by_user = {u: rows.sort_values("step") for u, rows in history.groupby("user_id")}
    assert by_user[early][["channel", "status", "reason"]].values.tolist() == [
        ["push", "queued", None], ["sms", "cancelled", "responded"]]
    # One minute after the SMS was due: the SMS went out, the call is cancelled.
    assert by_user[late][["status", "reason"]].values.tolist() == [["queued", None], ["queued", None], ["cancelled", "responded"]]
    # A response before the journey started is not a response to it.
    before = pd.DataFrame({"user_id": [early], "responded_at": [pd.Timestamp("2026-02-02 09:59", tz=UTC)]})
    again = run_days(library(), tier_rows([{"user_id": early, **VIP}]), user_rows([early]), DAY, 3, responses=before, known_late=True)
    assert again["status"].tolist() == ["queued"] * 3


def test_a_user_in_a_journey_gets_no_second_one() -> None:
    (user,) = _vip_treatment_users(1)
    def tiers(day: date) -> pd.DataFrame:  # VIP first, then matched by another strategy mid-journey
        return tier_rows([{"user_id": user, **VIP}] if day == DAY else [{"user_id": user, "lifecycle_stage": "at_risk"}])
    history = run_days(library(), tiers, user_rows([user]), DAY, 5)
    assert history["journey_id"].nunique() == 1 and history["strategy_id"].unique().tolist() == ["vip"]


def test_control_journeys_are_never_sent_and_occupy_the_user() -> None:
    ids = pd.Series([f"v{i:04d}" for i in range(200)])
    control = ids[assign_arm(ids, "vip", 0.1, "churn-recall", SEND_DAY) == "control"].head(3).tolist()
    history = run_days(library(), tier_rows([{"user_id": u, **VIP} for u in control]), user_rows(control), DAY, 10)
    assert (history["status"] == "holdout").all() and (history["reason"] == "strategy_holdout").all()
    assert outbox(history).empty and len(history) == 3
    lib = library(**{"global_holdout_share: 0.0": "global_holdout_share: 0.5"})
    tiers, users = random_world(2000)
    actions = _plan(tiers, users, lib)
    held = in_global_holdout(actions["user_id"], 0.5, "churn-recall")
    journeys = actions["journey_id"].notna().to_numpy()
    assert (actions.loc[held & journeys, "holdout"] == "global").all()
    assert not outbox(actions)["user_id"].isin(actions.loc[held, "user_id"]).any()


def test_every_step_of_a_journey_records_the_design_it_was_assigned_under() -> None:
    # The operator changes the holdout shares after day 1: journeys started on day 1 keep recording day 1's shares on
    # their later steps (treatment, control, cancelled); journeys started on day 2 record day 2's.
    before = library(**{"global_holdout_share: 0.0": "global_holdout_share: 0.02"})
    after = library(**{"global_holdout_share: 0.0": "global_holdout_share: 0.1", "holdout_share: 0.1": "holdout_share: 0.4"})
    tiers, users = random_world(3000)
    newcomers, their_users = (frame.assign(user_id="n" + frame["user_id"]) for frame in random_world(3000, seed=8))
    day1 = _plan(tiers, users, before)
    day2 = _plan(pd.concat([tiers, newcomers]), pd.concat([users, their_users]), after, DAY + timedelta(days=1), history=day1)
    plan = pd.concat([day1, day2], ignore_index=True)
    journeys = plan[plan["journey_id"].notna()]
    started = journeys.groupby("journey_id")["action_date"].transform("min")
    for lib, rows in ((before, journeys[started == DAY]), (after, journeys[started > DAY])):
        assert len(rows) > 500 and {"queued", "holdout", "cancelled"} <= set(rows["status"])
        holdout = rows["strategy_id"].map({s.id: s.holdout_share for s in lib.strategies})
        assert (rows["design_holdout_share"] == holdout).all() and (rows["design_global_holdout_share"] == lib.global_holdout_share).all()
    later = journeys[(started == DAY) & (journeys["step"] > 1)]
    assert len(later) > 50 and set(later["status"]) >= {"queued", "cancelled"} and (later["strategy_id"] == "vip").all()
    assert (later["design_holdout_share"] == 0.1).all() and (later["design_global_holdout_share"] == 0.02).all()
    assert plan.loc[plan["status"] == "skipped", ["design_holdout_share", "design_global_holdout_share"]].isna().all().all()
    # No step of this library is A/B tested: no variant share to record.
    assert plan["design_variant_share"].isna().all()


# --- guardrails at their boundaries --------------------------------------------------------------


def test_quiet_hours_boundaries_in_the_users_timezone() -> None:
    quiet = QuietHours(start="21:00", end="09:00")
    local = ["2026-02-02 20:59", "2026-02-02 21:00", "2026-02-03 08:59", "2026-02-03 09:00", "2026-02-02 23:30"]
    due = pd.Series([pd.Timestamp(t, tz="Asia/Shanghai").tz_convert(UTC) for t in local])
    shifted = shift_out_of_quiet_hours(due, pd.Series(["Asia/Shanghai"] * 5), quiet).dt.tz_convert("Asia/Shanghai")
    assert [t.strftime("%m-%d %H:%M") for t in shifted] == ["02-02 20:59", "02-03 09:00", "02-03 09:00", "02-03 09:00", "02-03 09:00"]
    daytime = QuietHours(start="12:00", end="14:00")
    noon = shift_out_of_quiet_hours(pd.Series([pd.Timestamp("2026-02-02 12:30", tz=UTC)]), pd.Series([UTC]), daytime)
    assert noon.iloc[0] == pd.Timestamp("2026-02-02 14:00", tz=UTC)
    # Across a DST change the local wall-clock end time is kept.
    ny = shift_out_of_quiet_hours(pd.Series([pd.Timestamp("2026-03-08 02:00", tz=UTC)]), pd.Series(["America/New_York"]), quiet)
    assert ny.iloc[0].tz_convert("America/New_York").strftime("%m-%d %H:%M") == "03-08 09:00"


def test_planned_steps_land_outside_quiet_hours() -> None:
    tiers = tier_rows([{"user_id": "la", "lifecycle_stage": "at_risk"}])  # 10:00 UTC is 02:00 in Los Angeles
    row = _plan(tiers, user_rows(["la"], timezone="America/Los_Angeles")).iloc[0]
    assert row["due_at"] == pd.Timestamp("2026-02-02 10:00", tz=UTC)
    assert row["scheduled_at"] == pd.Timestamp("2026-02-02 09:00", tz="America/Los_Angeles")


def _contacts(user: str, channel: str, *times: str) -> pd.DataFrame:
    return pd.DataFrame({"user_id": user, "channel": channel, "scheduled_at": [pd.Timestamp(t, tz=UTC) for t in times]})


def test_frequency_cap_exactly_at_the_cap() -> None:
    caps = [FrequencyCap(channel="any", max_contacts=3, window_days=7), FrequencyCap(channel="sms", max_contacts=1, window_days=7)]
    now = "2026-02-10 10:00"
    candidate = _contacts("u", "push", now)
    two = _contacts("u", "push", "2026-02-08 10:00", "2026-02-09 10:00")
    three = _contacts("u", "push", "2026-02-04 10:00", "2026-02-08 10:00", "2026-02-09 10:00")
    assert not cap_blocked(candidate, two, caps)[0]  # becomes the 3rd contact in 7 days: allowed
    assert cap_blocked(candidate, three, caps)[0]  # would be the 4th
    week_old = _contacts("u", "push", "2026-02-03 10:00", "2026-02-08 10:00", "2026-02-09 10:00")
    assert not cap_blocked(candidate, week_old, caps)[0]  # exactly 7 x 24 h ago is outside the window
    assert cap_blocked(_contacts("u", "sms", now), _contacts("u", "sms", "2026-02-03 10:01"), caps)[0]
    assert not cap_blocked(_contacts("u", "sms", now), _contacts("u", "push", "2026-02-09 10:00"), caps)[0]
    assert not cap_blocked(_contacts("v", "push", now), three, caps)[0]  # other users' contacts do not count


def _reasons(series: pd.Series) -> list:
    return [value if isinstance(value, str) else None for value in series]


def test_capacity_and_budget_serve_priority_then_value() -> None:
    limits = {"push": ChannelLimits(cost=1.0, daily_budget=3.0), "sms": ChannelLimits(cost=0.1), "call": ChannelLimits(cost=1.0, daily_capacity=2)}
    calls = pd.DataFrame({"user_id": ["a", "b", "c", "d"], "channel": "call", "cost": 1.0,
                          "priority": [20, 10, 20, 10], "expected_value": [9.0, 1.0, 5.0, 2.0]})
    assert _reasons(fill_channel_limits(calls, limits)) == ["over_capacity", None, "over_capacity", None]
    pushes = pd.DataFrame({"user_id": list("abcd"), "channel": "push", "cost": 1.0, "priority": 10, "expected_value": [4.0, 3.0, 2.0, 1.0]})
    assert _reasons(fill_channel_limits(pushes, limits)) == [None, None, None, "over_budget"]  # exactly the budget fits


def test_call_capacity_in_a_plan() -> None:
    users = _vip_treatment_users(5)
    tiers = tier_rows([{"user_id": u, **VIP, "revenue_90d": 100.0 * (i + 1)} for i, u in enumerate(users)])
    history = run_days(library(), tiers, user_rows(users), DAY, 3)
    calls = history[history["step"] == 3].set_index("user_id")
    assert (calls["status"] == "queued").sum() == 2  # daily_capacity: 2
    served = calls.index[calls["status"] == "queued"].tolist()
    assert set(served) == set(users[-2:])  # the two most valuable
    assert set(calls.loc[calls["status"] != "queued", "reason"]) == {"over_capacity"}


def test_assign_arm_is_fast_on_a_million() -> None:
    users = _user_ids(1_000_000)
    started = time.perf_counter()
    assign_arm(users, "winback", 0.1, "churn-recall")
    assert time.perf_counter() - started < 3


# --- signals, the value check and the in-app channel ------------------------------------------------


def _default_library():
    from orchestration.recall import load_strategy_library

    return load_strategy_library(DEFAULT_LIBRARY)


def test_signals_choose_their_response_and_one_strong_signal_is_enough() -> None:
    from orchestration.recall.actions import match_strategies

    lib = _default_library()
    rows = [("quiet", ""), ("core", "core_feature_drop"), ("login", "login_drop"), ("social", "social_zero"),
            ("device", "login_drop,device_change"), ("pay_no_value", "payment_interruption"),
            ("pay_value", "payment_interruption"), ("other_only", "spend_drop")]
    tiers = tier_rows([{"user_id": u, "lifecycle_stage": "active", "risk_level": "none", "signals_fired": fired,
                        "value_depth": u == "pay_value", "value_duration": False, "value_decision": False}
                       for u, fired in rows])
    chosen = dict(zip(tiers["user_id"], match_strategies(tiers, lib, DAY, "ecommerce")))
    assert chosen["core"] == "core_feature_drop_nudge" and chosen["login"] == "login_anomaly_care"
    assert chosen["social"] == "social_silence_invite" and chosen["device"] == "security_check_device_change"
    assert chosen["pay_value"] == "payment_interruption_offer"
    # The changed benefit goes only to users passing a value check; without a listed signal nothing matches.
    assert pd.isna(chosen["pay_no_value"]) and pd.isna(chosen["quiet"]) and pd.isna(chosen["other_only"])
    # Tiers without signals_fired (older warehouses) simply match no signal strategy.
    assert match_strategies(tiers.drop(columns="signals_fired"), lib, DAY, "ecommerce").isna().all()


def test_value_check_gates_costly_offers_and_explains_itself() -> None:
    from orchestration.recall.eligibility import value_check

    tiers = tier_rows([{"user_id": "none"}, {"user_id": "depth", "value_depth": True},
                       {"user_id": "two", "value_depth": True, "value_decision": True}]).assign(
        value_depth=lambda f: f["value_depth"].fillna(False).astype(bool),
        value_duration=False, value_decision=lambda f: f["value_decision"].fillna(False).astype(bool))
    checked = value_check(tiers, 2)
    assert checked["value_checks_passed"].tolist() == [0, 1, 2]
    assert checked["value_eligible"].tolist() == [False, False, True]
    assert checked["value_check_reason"].tolist() == ["value_check:0/3(none)", "value_check:1/3(depth)",
                                                      "value_check:2/3(depth,decision)"]
    # The score column stands in when the three flags are absent.
    assert value_check(pd.DataFrame({"value_check_score": [3, None]}), 3)["value_eligible"].tolist() == [True, False]
    # In the default library a medium-value dormant user without any passed check gets no coupon.
    lib = _default_library()
    dormant = tier_rows([{"user_id": u, "lifecycle_stage": "dormant_medium", "value_depth": u == "b",
                          "value_duration": False, "value_decision": False} for u in ("a", "b")])
    actions = _plan(dormant, user_rows(["a", "b"]), lib).set_index("user_id")
    assert "a" not in actions.index and actions.at["b", "strategy_id"] == "dormant_medium_coupon"


def test_in_app_message_needs_no_opt_in_but_obeys_holdouts_and_caps() -> None:
    lib = _default_library().model_copy(update={"global_holdout_share": 0.0})
    ids = pd.Series([f"s{i:03d}" for i in range(60)])
    tiers = tier_rows([{"user_id": u, "lifecycle_stage": "active", "signals_fired": "core_feature_drop"} for u in ids])
    users = user_rows(ids.tolist(), push_opt_in=False, sms_opt_in=False, call_opt_in=False)
    actions = _plan(tiers, users, lib)
    treated = actions[actions["arm"] == "treatment"]
    assert (treated["channel"] == "in_app").all() and (treated["status"] == "queued").all()
    assert treated["message"].str.contains("waiting for you").all()
    control = actions[actions["arm"] == "control"]
    assert len(control) > 0 and control["channel"].isna().all() and not outbox(actions)["user_id"].isin(control["user_id"]).any()
    # A user unknown to the users table may not be messaged, in the app or elsewhere.
    unknown = _plan(tiers.head(5), users.iloc[:0].reindex(columns=users.columns), lib)
    assert set(unknown.loc[unknown["arm"] == "treatment", "reason"]) == {"no_consent"}
    # The in-app cap (1 in 3 days) blocks a second in-app contact two days later, not four.
    sent = outbox(actions).head(1)[["user_id", "channel", "scheduled_at"]]
    for days, expected in ((2, True), (4, False)):
        probe = sent.assign(scheduled_at=sent["scheduled_at"] + pd.Timedelta(days=days))
        assert cap_blocked(probe, sent, lib.guardrails.frequency_caps)[0] == expected


def test_busy_users_are_found_whatever_the_id_column_holds():
    from orchestration.recall.cadence import is_busy

    busy = pd.Series(["u2", "u4"], dtype="str").unique()
    for dtype in ("str", object):
        ids = pd.Series(["u1", "u2", None, "u4", "u5"], dtype=dtype)
        assert is_busy(ids, busy).tolist() == [False, True, False, True, False]
    assert is_busy(pd.Series(["u1"], dtype="str"), np.array([], dtype=object)).tolist() == [False]


def test_journeys_of_a_strategy_no_longer_in_the_library_are_not_open_and_occupy_no_span():
    """A strategy removed from the library ends its journeys: a treatment journey has no next rung, a control one no
    span to occupy; the library's own strategies keep their ladder and span."""
    from orchestration.recall.cadence import journey_state

    lib = library()
    started = pd.Timestamp(DAY - timedelta(days=1), tz=UTC) + pd.Timedelta(hours=10)
    rows = [("j1", "vip", "treatment"), ("j2", "gone", "treatment"), ("j3", "vip", "control"),
            ("j4", "gone", "control"), ("j5", None, "treatment")]
    history = pd.DataFrame({
        "journey_id": [j for j, _, _ in rows], "user_id": [f"u_{j}" for j, _, _ in rows],
        "strategy_id": pd.Series([s for _, s, _ in rows], dtype="str"), "arm": [a for _, _, a in rows],
        "step": [1] * len(rows), "action_date": [DAY - timedelta(days=2)] * len(rows),
        "journey_started_at": [started] * len(rows), "status": ["queued"] * len(rows), "reason": [None] * len(rows),
    })
    state = journey_state(history, lib, DAY).set_index("journey_id")
    assert state["open"].to_dict() == {"j1": True, "j2": False, "j3": True, "j4": False, "j5": False}
    # the vip ladder spans 48 hours from its start, the day before DAY; a removed strategy's control ends before it
    assert state.loc["j3", "end_day"] == pd.Timestamp(DAY)
    assert state.loc["j4", "end_day"] < pd.Timestamp(DAY - timedelta(days=1))
