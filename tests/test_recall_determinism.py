"""A day planned again plans the same: the plan does not depend on the order its inputs' rows come in (the
warehouse returns rows in no fixed order), and the responses it reads are those that had landed by the planning
day, not a late event or the next morning's delivery log that landed after it (nor, for the recommendation, a core
feature used that landed after it)."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from orchestration.config.verticals import DEFAULT_VERTICAL
from orchestration.recall import ACTION_COLUMNS, DayInputs, finalize, holdout_assignments, outbox, plan_day, propose
from orchestration.recall.assignment import assign_arm, in_global_holdout
from orchestration.recall.actions import RECOMMENDATION_DAYS
from orchestration.recall.cadence import history_days
from orchestration.recall.readers import OutboxHistory, read_day_inputs, read_top_features
from orchestration.uplift.planning import decider
from tests.recall_fixtures import library as small_library
from tests.recall_fixtures import tier_rows, user_rows
from tests.uplift_fixtures import TIGHT_BUDGETS, budget_world, spread_scorer, uplift_library

DAY = date(2026, 4, 1)


def _shuffled(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def _plan_two_days(policy: str, lib, scorer, shuffle: int | None) -> pd.DataFrame:
    """Day 1 from nothing, day 2 with day 1 as history (continuing ladders, caps) and some responses; every
    input's rows shuffled when `shuffle` is a seed."""
    tiers, profiles = budget_world()
    order = (lambda f, k: _shuffled(f, shuffle + k)) if shuffle is not None else (lambda f, k: f)
    first = DayInputs(day=DAY, tiers=order(tiers, 1), users=order(profiles, 2), vertical="ecommerce")
    decide = decider(policy, DAY, "ecommerce", lib, first.users, scorer)
    day1 = finalize(propose(first, lib, decide=decide), first, lib)
    started = day1.loc[day1["step"] == 1, ["user_id", "journey_started_at"]].iloc[::4]
    responses = started.assign(responded_at=pd.to_datetime(started["journey_started_at"], utc=True) + pd.Timedelta(hours=2))
    next_day = DAY + timedelta(days=1)
    second = DayInputs(day=next_day, tiers=order(tiers, 3), users=order(profiles, 4),
                       history=order(day1.loc[day1["status"] != "skipped"], 5),
                       responses=order(responses[["user_id", "responded_at"]], 6), vertical="ecommerce")
    decide = decider(policy, next_day, "ecommerce", lib, second.users, scorer)
    day2 = finalize(propose(second, lib, decide=decide), second, lib)
    return pd.concat([day1, day2], ignore_index=True)


@pytest.mark.parametrize("policy, modelled", [
    ("uplift", ("coupon_ab/1=big", "coupon_ab/1=small", "pack", "care")),
    ("uplift", ("care",)),
    ("risk", ()),
    ("rules", ()),
])
def test_a_plan_does_not_depend_on_the_order_of_its_input_rows(policy, modelled) -> None:
    # Budgets that bind, exploration, unreachable users: every tie-break of the budget fill and the choice is used.
    lib = uplift_library(**TIGHT_BUDGETS, **{"decision: {exploration_share: 0.0}": "decision: {exploration_share: 0.2}"})
    scorer = spread_scorer(modelled) if modelled else None
    plan = _plan_two_days(policy, lib, scorer, shuffle=None)
    assert (plan["step"] == 2).sum() > 50 and (plan["reason"] == "responded").sum() > 50
    assert plan["reason"].isin(["over_capacity", "over_budget"]).sum() > 100
    for seed in (11, 29):
        again = _plan_two_days(policy, lib, scorer, shuffle=seed)
        pd.testing.assert_frame_equal(again, plan)
        pd.testing.assert_frame_equal(outbox(again), outbox(plan))
        pd.testing.assert_frame_equal(holdout_assignments(again), holdout_assignments(plan))


def test_the_export_is_in_action_id_order() -> None:
    plan = _plan_two_days("rules", uplift_library(), None, shuffle=None)
    for frame in (outbox(_shuffled(plan, 3)), holdout_assignments(_shuffled(plan, 4))):
        assert len(frame) > 10 and frame["action_id"].is_monotonic_increasing


# --- responses as landed by the planning day --------------------------------------------------------------------

def _treated_vip(lib, send_day: date) -> str:
    ids = pd.Series([f"v{i:03d}" for i in range(100)])
    vip = lib.get("vip")
    treated = (assign_arm(ids, "vip", vip.holdout_share, lib.salt, send_day.isoformat()) == "treatment").to_numpy()
    return ids[treated & ~in_global_holdout(ids, lib.global_holdout_share, lib.salt)].iloc[0]


def _warehouse(path, lib, user: str) -> duckdb.DuckDBPyConnection:
    """A warehouse where `user` started the vip ladder (push on DAY + 1, SMS due on DAY + 2), as the day before's
    run planned it, with the tiers, profile and contact details the planner reads."""
    tiers = tier_rows([{"user_id": user, "lifecycle_stage": "dormant_light", "value_tier": "high",
                        "is_high_value_dormant": True}])
    profile = user_rows([user])
    day0 = plan_day(DayInputs(day=DAY, tiers=tiers, users=profile), lib)
    assert day0.loc[day0["step"] == 1, "status"].tolist() == ["queued"]
    con = duckdb.connect(str(path))
    con.execute("set TimeZone = 'UTC'")
    con.register("planned", day0[ACTION_COLUMNS])
    con.execute("create table recall_actions as select * from planned")
    for day in (DAY + timedelta(days=1), DAY + timedelta(days=2)):
        con.register("tiers", tiers.assign(tier_date=day))
        con.execute("create table if not exists user_risk_tiers as select * from tiers where false")
        con.execute("insert into user_risk_tiers select * from tiers")
    con.execute("create table int_user_versions as select user_id, timezone, push_opt_in, sms_opt_in, call_opt_in, "
                "date '2026-01-01' as valid_from, null::date as valid_to, timestamp '2026-01-01' as updated_at from profile")
    con.execute("create schema restricted")
    con.execute("create table restricted.user_contacts as select user_id, nickname, timestamp '2026-01-01' as updated_at "
                "from profile")
    con.execute("create table stg_events (user_id varchar, event_time timestamptz, event_date date, category varchar, "
                "is_key_action boolean, feature varchar, _landing_date date)")
    con.execute("create table stg_recall_touches (user_id varchar, action_id varchar, opened_at timestamptz, "
                "clicked_at timestamptz, _landing_date date)")
    return con


def test_responses_count_as_of_their_landing_day(tmp_path) -> None:
    lib = small_library()
    send_day = DAY + timedelta(days=1)
    user = _treated_vip(lib, send_day)
    con = _warehouse(tmp_path / "w.duckdb", lib, user)
    journey = con.execute("select journey_id from recall_actions where step = 1").fetchall()[0][0]
    noon = pd.Timestamp(send_day, tz="UTC") + pd.Timedelta(hours=12)

    def sms_status() -> list:
        inputs, state = read_day_inputs(con, send_day, lib, DEFAULT_VERTICAL)
        plan = finalize(propose(inputs, lib, state), inputs, lib)
        return plan.loc[plan["step"] == 2, ["status", "reason"]].iloc[0].tolist()

    # The push was opened, and the app opened, on the send day; both were known only the next morning (the
    # delivery log's export, a late event): the run of the send day did not know them, and neither does its re-run.
    con.execute("insert into stg_recall_touches values (?, ?, ?, null, ?)", [user, journey, noon, send_day + timedelta(days=1)])
    con.execute("insert into stg_events values (?, ?, ?, 'session', false, null, ?)",
                [user, noon, send_day, send_day + timedelta(days=1)])
    assert sms_status() == ["queued", None]
    # What had landed by the day counts: the SMS is not sent to a user who came back.
    con.execute("insert into stg_events values (?, ?, ?, 'session', false, null, ?)", [user, noon, send_day, send_day])
    assert sms_status() == ["cancelled", "responded"]
    con.execute("delete from stg_events")
    con.execute("insert into stg_recall_touches values (?, ?, ?, null, ?)", [user, journey, noon, send_day])
    assert sms_status() == ["cancelled", "responded"]
    con.close()


def test_the_recommendation_is_the_most_used_core_feature_landed_by_the_day(tmp_path) -> None:
    lib = small_library()
    con = _warehouse(tmp_path / "w.duckdb", lib, "u1")
    day = DAY + timedelta(days=1)
    rows = [  # (user, days before the day, feature, landed days after the event)
        *[("u1", 1, "wishlist", 0)] * 2, ("u1", 2, "search", 0), ("u1", 3, "search", 0),  # a tie: first by name
        ("u1", RECOMMENDATION_DAYS, "wishlist", 0),  # outside the window
        *[("u2", 0, "search", 0)] * 3, *[("u2", 0, "wishlist", 1)] * 4,  # wishlist landed after the day
        ("u3", 0, None, 0),  # no core feature
        *[("u4", RECOMMENDATION_DAYS - 1, "reviews", 0)] * 2, ("u4", 0, "search", 0),  # the window's first day counts
    ]
    for user, ago, feature, late in rows:
        event_day = day - timedelta(days=ago)
        con.execute("insert into stg_events values (?, ?, ?, 'core', false, ?, ?)",
                    [user, pd.Timestamp(event_day, tz="UTC"), event_day, feature, event_day + timedelta(days=late)])
    candidates = pd.DataFrame({"user_id": ["u1", "u2", "u3", "u4", "u1"], "status": None})  # several rows a user
    top = read_top_features(con, day, candidates)
    assert dict(zip(top["user_id"], top["feature"])) == {"u1": "search", "u2": "search", "u4": "reviews"}
    # Only a candidate without a status yet may get a message: a skipped or held-out one needs no recommendation.
    decided = candidates.assign(status=["skipped", None, None, "holdout", None])
    assert sorted(read_top_features(con, day, decided)["user_id"]) == ["u1", "u2"]
    con.close()


def test_a_range_reads_each_days_outbox_history_from_the_day_before(tmp_path) -> None:
    # OutboxHistory: after a range's first day it reads only the day just planned, and every day's history is the
    # one a read of every day gives (rows, order, types), as the window slides past its oldest days.
    lib = small_library()
    con = _warehouse(tmp_path / "w.duckdb", lib, "u1")
    planned = con.execute("select * from recall_actions").df()
    carried = OutboxHistory(con, lib)
    reads: list[int] = []
    read_rows = carried._rows_between
    carried._rows_between = lambda first, end: reads.append((end - first).days) or read_rows(first, end)
    days = [DAY + timedelta(days=k) for k in range(1, history_days(lib) + 4)]
    days.remove(days[5])  # a day not planned: the next one is read whole
    for n, day in enumerate(days):
        history = carried.of(day)
        pd.testing.assert_frame_equal(history, OutboxHistory(con, lib).of(day))
        assert history["action_date"].min() >= pd.Timestamp(day - timedelta(days=history_days(lib)))
        # The day's plan, written before the next day is read: its rows under new ids, one skipped (not history).
        rows = pd.concat([planned.assign(action_id=planned["action_id"] + f"-{n}"),
                          planned.assign(action_id=planned["action_id"] + f"-{n}s", status="skipped")])
        rows = rows.assign(action_date=day)
        con.register("rows", rows)
        con.execute("insert into recall_actions select * from rows")
    assert history["action_date"].min() > pd.Timestamp(DAY)  # the first days have left the window
    assert reads == [history_days(lib), 1, 1, 1, 1, history_days(lib), *[1] * (len(days) - 6)]
    con.close()
