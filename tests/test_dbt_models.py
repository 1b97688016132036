"""dbt project tests: `dbt build` on tiny hand-made raw tables (quarantine, activity, labels, tiers,
unit tests and data tests), and a full build against day-by-day incremental runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from orchestration.defs.dbt.project import dbt_project, parsed_manifest
from orchestration.ingestion import FEEDS, ensure_raw_tables

pytestmark = pytest.mark.duration(90)  # builds its worlds with dbt: scheduled first
PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"

# the fixtures land text (as a CSV would): feed name -> contract columns
RAW_COLUMNS: dict[str, list[str]] = {
    f"raw_{name}": list(feed.column_names) for name, feed in FEEDS.items()
}
D0 = date(2026, 1, 1)


def day(n: int) -> date:
    """Business day n of the fixtures (day 1 = 2026-01-01)."""
    return D0 + timedelta(days=n - 1)


def ts(n: int, hour: int = 9, minute: int = 0) -> str:
    return f"{day(n).isoformat()} {hour:02d}:{minute:02d}:00"


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    ensure_raw_tables(con)


def land(con: duckdb.DuckDBPyConnection, table: str, landing: date, rows: list[dict[str, Any]]) -> None:
    """Append rows as one landed file of `landing` (missing columns land as null)."""
    columns = RAW_COLUMNS[table]
    source_file = f"landing/{landing.isoformat()}/{table}.csv"
    values = [
        [row.get(c) for c in columns] + [landing, source_file, i]
        for i, row in enumerate(rows, start=1)
    ]
    if values:
        marks = ", ".join("?" for _ in range(len(columns) + 3))
        target = FEEDS[table.removeprefix("raw_")].qualified_table
        con.executemany(f"insert into {target} ({', '.join(columns)}, _landing_date, _source_file, _row_number) "
                        f"values ({marks})", values)


def event(
    event_id: str | None, user_id: str | None, name: str, when: str, received: str | None = None,
    **properties: Any,
) -> dict[str, Any]:
    return {
        "event_id": event_id, "user_id": user_id, "event_name": name, "event_time": when,
        "received_at": received or when, "properties": json.dumps(properties),
    }


def user(user_id: str | None, signup: str, updated: str | None = None, sms: str = "true") -> dict[str, Any]:
    return {
        "user_id": user_id, "signup_at": signup, "nickname": f"nick_{user_id}", "phone": "+100",
        "timezone": "UTC", "push_opt_in": "true", "sms_opt_in": sms, "call_opt_in": "false",
        "updated_at": updated or signup,
    }


def touch(touch_id: str, user_id: str, scheduled: str, channel: str = "push") -> dict[str, Any]:
    return {"touch_id": touch_id, "action_id": f"j_{touch_id}", "user_id": user_id, "strategy_id": "s1",
            "arm": "treatment", "step": "1", "channel": channel, "scheduled_at": scheduled, "sent_at": scheduled,
            "status": "delivered", "cost": "0.01"}


def dbt() -> dbtRunner:
    """dbt on the project parsed once, as a Dagster run invokes it: a fresh parse per invocation (each with other
    vars, which defeats partial parsing) took most of this module's time."""
    return dbtRunner(manifest=parsed_manifest(dbt_project()))


def run_dbt(args: list[str], warehouse: Path, work: Path) -> None:
    """dbt <args> on `warehouse` (joined to the vars of `args`, as a Dagster run passes it)."""
    args = list(args)
    dbt_vars = json.loads(args.pop(args.index("--vars") + 1)) if "--vars" in args else {}
    if "--vars" in args:
        args.remove("--vars")
    result = dbt().invoke([
        *args, "--vars", json.dumps({**dbt_vars, "warehouse_path": str(warehouse)}), "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(work / "target"), "--log-path", str(work / "logs"), "--quiet",
    ])
    assert result.success, f"dbt {' '.join(args)} failed: {result.exception}"


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-write like dbt does: dbt-duckdb keeps its database instance open in this
    process, and DuckDB only shares an open file with a connection of the same configuration."""
    return duckdb.connect(str(warehouse))


def query(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    with connect(warehouse) as con:
        return con.execute(sql).fetchall()


# ---------------------------------------------------------------- hand-made world, one build

def load_hand_made_world(con: duckdb.DuckDBPyConnection) -> None:
    create_raw_tables(con)
    land(con, "raw_users", day(1), [
        user("u1", ts(1, 8), sms="true"),
        user("u2", ts(1, 8)),
        user(None, ts(1, 8)),                                     # missing_user_id
        {**user("u9", ts(1, 8)), "push_opt_in": "maybe"},         # invalid_consent_flag
    ])
    land(con, "raw_users", day(3), [user("u3", ts(3, 8))])
    land(con, "raw_users", day(5), [user("u1", ts(1, 8), updated=ts(5), sms="false")])  # supersedes
    land(con, "raw_events", day(1), [
        event("e1", "u1", "app_open", ts(1, 9)),
        event("e2", "u1", "order_paid", ts(1, 9, 5), amount=150, order_id="o1", coupon_code="C10"),
        event("e2", "u1", "order_paid", ts(1, 9, 5), ts(1, 9, 30), amount=150, order_id="o1"),
        event("e3", "u2", "app_open", ts(1, 10)),
        event("e4", "u2", "share", ts(1, 10, 1)),
        event(None, "u2", "app_open", ts(1, 11)),
        event("b2", None, "app_open", ts(1, 11)),
        event("b3", "u2", "app_open", "yesterday-ish"),
        event("b4", "u2", "teleport", ts(1, 11)),
        {**event("b5", "u2", "app_open", ts(1, 11)), "properties": "{not json"},
        event("b6", "u1", "order_paid", ts(1, 12), amount=-5, order_id="o9"),
        event("b7", "u1", "order_paid", ts(1, 12), amount="lots", order_id="o8"),
        event(" b8 ", "  ", "app_open", ts(1, 12)),               # missing_user_id, quarantined as landed
    ])
    land(con, "raw_events", day(2), [
        event("e5", "u1", "app_open", ts(2)),
        event("e6", "u1", "search", ts(2, 9, 1), feature="search"),
        event("e7", "u1", "add_to_cart", ts(2, 9, 2), feature="cart"),
        # a rejected copy of e6 received before the valid ones: only valid copies rank, so the first valid copy stays
        {**event("e6", "u1", "search", ts(2, 9), feature="search"), "properties": "{not json"},
        event("e6", "u1", "search", ts(2, 9, 1), ts(2, 9, 5), feature="search"),
    ])
    land(con, "raw_events", day(3), [
        event("e3", "u2", "app_open", ts(1, 10), ts(3)),          # duplicate from an earlier day
    ])
    land(con, "raw_events", day(6), [
        event("e8", "u2", "app_open", ts(4, 20), ts(6, 1)),       # late: happened on day 4
    ])
    land(con, "raw_events", day(8), [
        event("e9", "u1", "order_paid", ts(8), amount=100, order_id="o2"),
    ])
    land(con, "raw_recall_touches", day(2), [
        {"touch_id": "t1", "action_id": "a1", "user_id": "u2", "strategy_id": "s1", "arm": "treatment",
         "step": "1", "channel": "push", "scheduled_at": ts(2), "sent_at": ts(2), "status": "delivered",
         "cost": "0.01"},
        {"touch_id": "t2", "action_id": "a2", "user_id": "u3", "strategy_id": "s1", "arm": "control",
         "step": "0", "channel": "", "scheduled_at": ts(2), "status": "holdout", "cost": "0"},
        {"touch_id": "t3", "action_id": "a3", "user_id": "u1", "strategy_id": "s1", "arm": "treatment",
         "step": "1", "channel": "pigeon", "scheduled_at": ts(2), "status": "delivered", "cost": "1"},
        {"touch_id": "t1", "action_id": "a1", "user_id": "u2", "strategy_id": "s1", "arm": "treatment",
         "step": "1", "channel": "push", "scheduled_at": ts(2), "status": "delivered", "cost": "0.01"},
    ])


@pytest.fixture(scope="module")
def hand_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    work = tmp_path_factory.mktemp("dbt_hand")
    warehouse = work / "warehouse.duckdb"
    with connect(warehouse) as con:
        load_hand_made_world(con)
    run_dbt(["build"], warehouse, work)  # seeds, models, unit tests and data tests
    yield warehouse


def test_quarantine_reasons(hand_world: Path) -> None:
    events = dict(query(hand_world, """
        select coalesce(event_id, '<null>') || '@' || _row_number || '@' || _landing_date, reject_reason
        from quarantine_events"""))
    assert events == {
        "e2@3@2026-01-01": "duplicate_event_id",
        "<null>@6@2026-01-01": "missing_event_id",
        "b2@7@2026-01-01": "missing_user_id",
        "b3@8@2026-01-01": "invalid_event_time",
        "b4@9@2026-01-01": "unknown_event_name",
        "b5@10@2026-01-01": "invalid_properties_json",
        "b6@11@2026-01-01": "negative_amount",
        "b7@12@2026-01-01": "non_numeric_amount",
        " b8 @13@2026-01-01": "missing_user_id",
        "e6@4@2026-01-02": "invalid_properties_json",
        "e6@5@2026-01-02": "duplicate_event_id",
        "e3@1@2026-01-03": "duplicate_event_id",
    }
    # a quarantined row keeps its ids as landed (base_events stores them only where they differ from the clean ids)
    landed = query(hand_world, "select event_id, user_id from quarantine_events where _row_number = 13")
    assert landed == [(" b8 ", "  ")]
    users = sorted(query(hand_world, "select coalesce(user_id, '<null>'), reject_reason from quarantine_users"))
    assert users == [("<null>", "missing_user_id"), ("u1", "superseded"), ("u9", "invalid_consent_flag")]
    assert query(hand_world, "select user_id, sms_opt_in from stg_users order by 1") == [
        ("u1", False), ("u2", True), ("u3", True)]
    touches = sorted(query(hand_world, "select touch_id, reject_reason from quarantine_recall_touches"))
    assert touches == [("t1", "duplicate_touch_id"), ("t3", "invalid_channel")]
    assert query(hand_world, "select touch_id, arm, step, channel from stg_recall_touches order by 1") == [
        ("t1", "treatment", 1, "push"), ("t2", "control", 0, None)]


def test_raw_equals_stg_plus_quarantine(hand_world: Path) -> None:
    mismatches = query(hand_world, """
        with raw as (select _landing_date, count(*) n from raw_events group by 1),
        kept as (select _landing_date, count(*) n from (
            select _landing_date from stg_events union all select _landing_date from quarantine_events
        ) group by 1)
        select * from raw full join kept using (_landing_date) where raw.n is distinct from kept.n""")
    assert mismatches == []
    assert query(hand_world, "select count(*) from stg_events")[0][0] == 9


def test_daily_activity(hand_world: Path) -> None:
    rows = {
        (r[0], r[1]): r[2:]
        for r in query(hand_world, """
            select user_id, activity_date, sessions, events, key_actions, orders, revenue,
                   core_feature_events, distinct_features, social_events, coupon_orders
            from int_user_daily_activity""")
    }
    assert rows[("u1", day(1))] == (1, 2, 1, 1, 150.0, 0, 0, 0, 1)
    assert rows[("u1", day(2))] == (1, 3, 0, 0, 0.0, 2, 2, 0, 0)
    assert rows[("u2", day(1))] == (1, 2, 0, 0, 0.0, 0, 0, 1, 0)
    assert rows[("u2", day(4))] == (1, 1, 0, 0, 0.0, 0, 0, 0, 0)  # the late event
    assert sorted(rows) == sorted([
        ("u1", day(1)), ("u1", day(2)), ("u1", day(8)), ("u2", day(1)), ("u2", day(4))])


def test_labels_for_hand_computed_users(hand_world: Path) -> None:
    labels = {
        (r[0], r[1]): r[2:]
        for r in query(hand_world, """
            select user_id, label_date, last_active_date, silent_days, silence_grade,
                   days_since_last_key_action, orders_30d, revenue_30d, days_since_signup
            from user_daily_labels""")
    }
    # spine: u1, u2 from day 1, u3 from day 3, up to the last landing day (8)
    assert len(labels) == 8 + 8 + 6
    assert max(d for _, d in labels) == day(8)
    # silence counts days without a key action (u1's orders on days 1 and 8), from signup for u2 and u3
    assert labels[("u1", day(7))] == (day(2), 6, 1, 6, 1, 150.0, 6)
    assert labels[("u1", day(8))] == (day(8), 0, 0, 0, 2, 250.0, 7)
    assert labels[("u2", day(8))] == (day(4), 7, 2, None, 0, 0.0, 7)   # active, but never ordered
    assert labels[("u3", day(8))] == (None, 5, 1, None, 0, 0.0, 5)   # never active: silent since signup
    activity_silence = dict(((r[0], r[1]), r[2:]) for r in query(hand_world, """
        select user_id, label_date, activity_silent_days, activity_silence_grade from user_daily_labels"""))
    assert activity_silence[("u1", day(7))] == (5, 1)
    assert activity_silence[("u2", day(8))] == (4, 1)
    tiers = dict(
        ((r[0], r[1]), r[2:])
        for r in query(hand_world, """
            select user_id, tier_date, lifecycle_stage, risk_level, value_tier, r_score, f_score, m_score
            from user_risk_tiers""")
    )
    # u1 is the only purchaser: the day's RFM quantiles give a sole purchaser 1s, value tier medium
    assert tiers[("u1", day(8))] == ("new", "none", "medium", 1, 1, 1)
    assert tiers[("u1", day(7))] == ("at_risk", "low", "medium", 1, 1, 1)
    assert tiers[("u3", day(8))] == ("at_risk", "low", "low", 1, 1, 1)
    assert tiers[("u2", day(3))] == ("new", "none", "low", 1, 1, 1)


# ------------------------------------------------- incremental runs equal one full build

# short thresholds so that eight days see every stage, a churn and a comeback
SHORT_RULES = {
    "lookback_days": 1,
    "silence_grade_days": [1, 2, 3, 4, 5, 6],
    "stage_new_user_days": 2,
    "stage_at_risk_days": 1,
    "stage_dormant_light_days": 2,
    "stage_dormant_medium_days": 3,
    "stage_dormant_severe_days": 4,
    "stage_churned_days": 5,
    "reactivation_window_days": 3,
    # the rhythm is measured (two gaps suffice) but not applied (the history is too short): the stages
    # keep the short thresholds above, and daily runs must still equal the full build's fit
    "rhythm_min_gaps": 2,
    "rhythm_min_history_days": 100,
}
INCREMENTAL_DAYS = 8
# the users feed and the delivery log, staged per landing window (tables as queries name them)
USER_MODELS = ["base_users", "stg_users", "quarantine_users", "int_user_versions", "user_contacts"]
USER_TABLES = ["restricted.base_users", "stg_users", "quarantine_users", "int_user_versions",
               "restricted.user_contacts"]
TOUCH_MODELS = ["base_recall_touches", "stg_recall_touches", "quarantine_recall_touches"]
LABEL_MODELS = ["int_user_recency", "int_key_action_gaps", "int_key_action_rhythm", "int_feed_daily_counts",
                "int_signal_availability", "int_user_rolling_activity", "user_daily_labels"]


def generated_world() -> dict[date, dict[str, list[dict[str, Any]]]]:
    """Rows per landing day: five users with different rhythms, one late event per few days."""
    landed: dict[date, dict[str, list[dict[str, Any]]]] = {}

    def put(landing: int, table: str, row: dict[str, Any]) -> None:
        landed.setdefault(day(landing), {}).setdefault(table, []).append(row)

    active_days = {
        "g1": range(1, INCREMENTAL_DAYS + 1),  # every day
        "g2": [1],                          # orders on each active day: churned on day 6, back on day 7
        "g3": [2, 4, 6, 8],             # every other day
        "g4": [],                           # never active
        "g5": [3, 4, 5],
    }
    signup = {"g1": 1, "g2": 1, "g3": 2, "g4": 2, "g5": 3}
    for uid, first in signup.items():
        put(first, "raw_users", user(uid, ts(first, 7)))
    # profile versions landing on later days: each supersedes or ends an earlier row of the same user
    put(4, "raw_users", user("g1", ts(1, 7), ts(4, 8), sms="false"))   # an opt-out supersedes day 1's row
    put(5, "raw_users", user("g3", ts(2, 7), ts(5, 8), sms="false"))
    put(7, "raw_users", user("g3", ts(2, 7), ts(3, 8)))                # an older version, landed late
    put(6, "raw_users", user("g5", ts(3, 7)))                          # a second copy of day 3's row
    put(3, "raw_users", user(" ", ts(3, 7)))                           # no user id: quarantined
    # the delivery log: a copy of a touch landing later, a touch whose user lands two days after it
    put(2, "raw_recall_touches", touch("k1", "g1", ts(2, 10)))
    put(2, "raw_recall_touches", touch("k2", "g6", ts(2, 10)))            # unknown_user until day 4
    put(2, "raw_recall_touches", touch("k3", "g3", ts(2, 10), channel="pigeon"))
    put(3, "raw_recall_touches", touch("k1", "g1", ts(2, 10)))            # duplicate_touch_id
    put(3, "raw_recall_touches", touch("k4", "g3", ts(3, 10)))
    put(4, "raw_users", user("g6", ts(4, 7)))
    n = 0
    for uid, days in active_days.items():
        for d in [*days, *([7, 8] if uid == "g2" else [])]:
            n += 1
            put(d, "raw_events", event(f"x{n}", uid, "app_open", ts(d, 9)))
            if not (uid == "g3" and d >= 4):   # g3 stops using the core feature: 3 bare sessions by day 8
                n += 1
                put(d, "raw_events", event(f"x{n}", uid, "search", ts(d, 9, 5), feature="search"))
            if d % 3 == 0 or uid == "g2":
                n += 1
                put(d, "raw_events", event(f"x{n}", uid, "order_paid", ts(d, 9, 10), amount=120 + d,
                                           order_id=f"o{n}"))
    # late events: happened on day d, landed on day d + 1 (within lookback_days = 1)
    for d in (3, 6):
        n += 1
        put(d + 1, "raw_events", event(f"x{n}", "g5", "order_paid", ts(d, 22), ts(d + 1, 1), amount=300,
                                       order_id=f"o{n}"))
    put(5, "raw_events", event("x1", "g1", "app_open", ts(1, 9), ts(5)))  # a duplicate, later
    # a late bare session (day 7, landed day 8), a device change, and a finance user who takes most out
    put(8, "raw_events", event("s1", "g3", "app_open", ts(7, 23), ts(8, 1)))
    put(4, "raw_events", event("dv1", "g5", "device_change", ts(4, 12), device_id="d2"))
    put(1, "raw_events", event("f1", "g1", "deposit", ts(1, 12), amount=1000, balance=1000))
    put(6, "raw_events", event("f2", "g1", "withdraw", ts(6, 12), amount=800, balance=200))
    # the feed's first social event arrives a day late: every user's social signals become available on
    # day 5 (the lookback day of day 6's run), not only the late event's user's
    put(6, "raw_events", event("so1", "g1", "share", ts(5, 20), ts(6, 1)))
    return landed


def load_days(warehouse: Path, world: dict[date, dict[str, list[dict[str, Any]]]], days: list[date]) -> None:
    with connect(warehouse) as con:
        create_raw_tables(con)
        for landing in days:
            for table, rows in world.get(landing, {}).items():
                land(con, table, landing, rows)


def build_full_and_daily(tmp_path_factory: pytest.TempPathFactory, rules: dict[str, Any]) -> tuple[Path, Path]:
    """The generated world built once over all days and once a landing day at a time, with `rules`."""
    world = generated_world()
    all_days = [day(i) for i in range(1, INCREMENTAL_DAYS + 1)]
    models = ["base_events", "stg_events", "quarantine_events", *USER_MODELS, *TOUCH_MODELS, "int_user_daily_activity",
              "int_user_session_streaks", *LABEL_MODELS, "user_risk_tiers", "daily_lifecycle_counts"]

    full_work = tmp_path_factory.mktemp("dbt_full")
    full = full_work / "warehouse.duckdb"
    load_days(full, world, all_days)
    run_dbt(["seed"], full, full_work)
    run_dbt(["run", "--select", *models, "--vars", json.dumps(rules)], full, full_work)

    daily_work = tmp_path_factory.mktemp("dbt_daily")
    daily = daily_work / "warehouse.duckdb"
    load_days(daily, world, [])
    run_dbt(["seed"], daily, daily_work)
    for landing in all_days:
        load_days(daily, world, [landing])
        window = {"min_date": landing.isoformat(), "max_date": (landing + timedelta(days=1)).isoformat()}
        run_dbt(["run", "--select", *models, "--vars", json.dumps({**rules, **window})],
                daily, daily_work)
    return full, daily


@pytest.fixture(scope="module")
def full_and_daily(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build_full_and_daily(tmp_path_factory, SHORT_RULES)


@pytest.fixture(scope="module")
def full_and_daily_fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same, with the app's rhythm applied from the start: late orders move the fitted at-risk threshold
    of earlier days, which every user without a usual gap of its own takes."""
    return build_full_and_daily(tmp_path_factory, {**SHORT_RULES, "rhythm_min_history_days": 1})


def assert_same_rows(full: Path, daily: Path, table: str) -> None:
    # both files are held open by dbt-duckdb in this process, so compare copies in memory; a base model's stamp
    # names the dbt invocation that wrote a row, which differs between the two builds by design
    rows = f"select * exclude (_staged_by) from {table}" if "base_" in table else f"select * from {table}"
    with connect(full) as con:
        full_rows = con.sql(rows).to_arrow_table()
    with connect(daily) as con:
        daily_rows = con.sql(rows).to_arrow_table()
    with duckdb.connect() as con:
        con.register("full_rows", full_rows)
        con.register("daily_rows", daily_rows)
        only_full = con.execute("select * from full_rows except all select * from daily_rows").fetchall()
        only_daily = con.execute("select * from daily_rows except all select * from full_rows").fetchall()
        count = con.execute("select count(*) from full_rows").fetchall()[0][0]
    assert only_full == [] and only_daily == []
    assert count > 0


@pytest.mark.parametrize(
    "table", [*USER_TABLES, *TOUCH_MODELS, "int_user_daily_activity", "int_user_session_streaks", *LABEL_MODELS,
              "user_risk_tiers", "daily_lifecycle_counts"]
)
def test_daily_runs_equal_full_build(full_and_daily: tuple[Path, Path], table: str) -> None:
    assert_same_rows(*full_and_daily, table)


# The tables a long window appends in day order (macros/window_bounds.sql, in_day_order), by day column.
DAY_ORDERED = {"int_user_daily_activity": "activity_date", "int_user_session_streaks": "activity_date",
               "int_user_recency": "label_date", "int_user_rolling_activity": "label_date",
               "user_daily_labels": "label_date", "user_risk_tiers": "tier_date"}


@pytest.mark.parametrize("table", DAY_ORDERED)
def test_a_long_window_appends_its_rows_in_day_order(full_and_daily: tuple[Path, Path], table: str) -> None:
    """A full build (or a backfill) leaves the rows of the label tables in day order, so that a later read or delete
    of one day skips the other days' row groups by their smallest and largest day."""
    column = DAY_ORDERED[table]
    with connect(full_and_daily[0]) as con:
        days, backwards = con.execute(
            f"select count(distinct {column}), count(*) filter (where {column} < previous) from "
            f"(select {column}, lag({column}) over (order by rowid) as previous from {table})").fetchone()
    assert days == INCREMENTAL_DAYS and backwards == 0


@pytest.mark.parametrize("table", ["int_key_action_rhythm", "user_daily_labels", "user_risk_tiers"])
def test_daily_runs_equal_full_build_with_the_fitted_rhythm(full_and_daily_fitted: tuple[Path, Path],
                                                            table: str) -> None:
    assert_same_rows(*full_and_daily_fitted, table)


def test_the_fitted_world_moves_its_threshold_within_the_week(full_and_daily_fitted: tuple[Path, Path]) -> None:
    """Else the test above would not cover the lookback of a changed fit."""
    full, _ = full_and_daily_fitted
    fitted = query(full, "select distinct stage_at_risk_days from int_key_action_rhythm "
                         "where thresholds_source = 'fitted'")
    assert len(fitted) > 1


def raw_warehouse(path: Path, landings: list[tuple[str, date, list[dict[str, Any]]]]) -> None:
    """A warehouse at `path` with the raw tables, these (table, landing day, rows) landed and the seed loaded."""
    with connect(path) as con:
        create_raw_tables(con)
        for table, landing, rows in landings:
            land(con, table, landing, rows)
    run_dbt(["seed"], path, path.parent)


def test_a_landing_day_loaded_again_restages_its_old_users_too(tmp_path: Path) -> None:
    """A users file replaced by one without some of its rows: the users it named before are staged again from the
    rows they have left (or leave every table, and their touches are quarantined as unknown_user), as a full build
    over the new raw rows would have them."""
    first = [user("a", ts(1, 7)), user("b", ts(1, 7))]
    second = [user("a", ts(1, 7), ts(2, 8), sms="false"), user("c", ts(2, 7)), user("b", ts(1, 7), ts(2, 9))]
    replaced = [user("d", ts(2, 7)), user("b", ts(1, 7), ts(2, 9))]
    work, warehouse = tmp_path, tmp_path / "warehouse.duckdb"
    touches = [touch("t_a", "a", ts(3, 10)), touch("t_c", "c", ts(3, 11))]
    raw_warehouse(warehouse, [("raw_users", day(1), first), ("raw_users", day(2), second),
                              ("raw_recall_touches", day(3), touches)])

    def stage(landing: date) -> None:
        window = {"min_date": landing.isoformat(), "max_date": (landing + timedelta(days=1)).isoformat()}
        run_dbt(["run", "--select", *USER_MODELS, *TOUCH_MODELS, "--vars", json.dumps(window)], warehouse, work)

    for n in (1, 2, 3):
        stage(day(n))
    assert {r[0] for r in query(warehouse, "select user_id from stg_users")} == {"a", "b", "c"}
    assert {r[0] for r in query(warehouse, "select touch_id from stg_recall_touches")} == {"t_a", "t_c"}
    with connect(warehouse) as con:  # as ingestion loads a day again: its rows replaced by the new file's
        con.execute("delete from restricted.raw_users where _landing_date = ?", [day(2)])
        land(con, "raw_users", day(2), replaced)
    stage(day(2))

    full = tmp_path / "full" / "warehouse.duckdb"
    full.parent.mkdir()
    raw_warehouse(full, [("raw_users", day(1), first), ("raw_users", day(2), replaced),
                         ("raw_recall_touches", day(3), touches)])
    run_dbt(["run", "--select", *USER_MODELS, *TOUCH_MODELS], full, full.parent)
    for table in [*USER_TABLES, *TOUCH_MODELS]:
        assert_same_rows(full, warehouse, table)
    assert query(warehouse, "select touch_id, reject_reason from quarantine_recall_touches") == [("t_c", "unknown_user")]
    # a's opt-out is gone with the old file: its day-1 row is the latest again, and c left every table
    assert query(warehouse, "select user_id, sms_opt_in from stg_users order by 1") == [
        ("a", True), ("b", True), ("d", True)]
    assert query(warehouse, "select count(*) from int_user_versions where user_id = 'c'") == [(0,)]


def test_a_users_table_of_the_previous_release_is_restaged_in_place(tmp_path: Path) -> None:
    """base_users written before the stamp column (rebuilt whole on every run then) gets it on the next run, which
    stages that day's users on top of the old rows as a full build would."""
    first = [user("a", ts(1, 7)), user("b", ts(1, 7))]
    second = [user("a", ts(1, 7), ts(2, 8), sms="false"), user("c", ts(2, 7))]
    warehouse, full = tmp_path / "warehouse.duckdb", tmp_path / "full" / "warehouse.duckdb"
    full.parent.mkdir()
    for target, days in ((warehouse, [first]), (full, [first, second])):
        raw_warehouse(target, [("raw_users", day(n), rows) for n, rows in enumerate(days, start=1)])
        run_dbt(["run", "--select", *USER_MODELS], target, target.parent)
    with connect(warehouse) as con:
        con.execute("alter table restricted.base_users drop column _staged_by")
        land(con, "raw_users", day(2), second)
    window = {"min_date": day(2).isoformat(), "max_date": day(3).isoformat()}
    run_dbt(["run", "--select", *USER_MODELS, "--vars", json.dumps(window)], warehouse, tmp_path)
    for table in USER_TABLES:
        assert_same_rows(full, warehouse, table)
    reasons = "select reject_reason from restricted.base_users where user_id = 'a' order by updated_at"
    assert query(warehouse, reasons) == [("superseded",), (None,)]


def test_the_daily_runs_restage_the_delivery_log_when_a_touchs_user_lands(full_and_daily: tuple[Path, Path]) -> None:
    """Else the equality above would not cover the touches' restaging: k2 landed before its user and is accepted
    once the user lands, k1's later copy is a duplicate."""
    _, daily = full_and_daily
    assert query(daily, "select touch_id from stg_recall_touches order by 1") == [("k1",), ("k2",), ("k4",)]
    assert sorted(query(daily, "select touch_id, reject_reason from quarantine_recall_touches")) == [
        ("k1", "duplicate_touch_id"), ("k3", "invalid_channel")]


def test_incremental_world_covers_the_rules(full_and_daily: tuple[Path, Path]) -> None:
    full, _ = full_and_daily
    stages = {r[0] for r in query(full, "select distinct lifecycle_stage from user_risk_tiers")}
    assert {"new", "active", "at_risk", "dormant_light", "churned", "reactivated"} <= stages
    assert query(full, """
        select tier_date, lifecycle_stage from user_risk_tiers
        where user_id = 'g2' and tier_date >= '2026-01-06' order by 1""") == [
        (day(6), "churned"), (day(7), "reactivated"), (day(8), "reactivated")]
    moves = dict(query(full, "select report_date, (newly_churned_users, returned_from_churn_users) "
                             "from daily_lifecycle_counts"))
    assert moves[day(6)][0] >= 1 and moves[day(7)][1] >= 1  # g2's churn and comeback are counted
    streaks = query(full, "select activity_date, no_core_session_streak from int_user_session_streaks "
                          "where user_id = 'g3' order by 1")
    assert streaks == [(day(2), 0), (day(4), 1), (day(6), 2), (day(7), 3), (day(8), 4)]
    fired = dict(query(full, "select tier_date, signals_fired from user_risk_tiers where user_id = 'g3'"))
    assert "no_core_sessions" in fired[day(7)] and "no_core_sessions" not in fired[day(6)]
    assert query(full, "select tier_date, special_tier from user_risk_tiers where user_id = 'g1' "
                       "and special_tier is not null order by 1") == [
        (day(6), "partial_churn"), (day(7), "partial_churn"), (day(8), "partial_churn")]
    assert "device_change" in query(full, "select signals_fired from user_daily_labels "
                                          "where user_id = 'g5' and label_date = '2026-01-04'")[0][0]
    # the late first social event switches social_zero on from day 5, for every user
    unavailable = dict(query(full, "select distinct label_date, signals_unavailable from user_daily_labels"))
    assert "social_zero" in unavailable[day(4)] and "social_zero" not in unavailable[day(5)]


# ---------------------------------------------------------------- the consolidated data tests

def test_table_checks_catch_duplicates_nulls_unknown_values_and_orphans(tmp_path_factory, hand_world: Path) -> None:
    """row_rules (primary key, not null, accepted values), values_in_reference and accounts_for_every_raw_row each
    fail on the fault they exist for, inside the processing window, name the rule and the row, and ignore older rows:
    the lookback days of the models that rewrite them, the window's days only for the landing-day models."""
    work = tmp_path_factory.mktemp("dbt_faults")
    warehouse = work / "warehouse.duckdb"
    with connect(hand_world) as con:
        con.execute("checkpoint")  # everything in the file, none in the write-ahead log
    warehouse.write_bytes(hand_world.read_bytes())
    with connect(warehouse) as con:
        con.execute("insert into user_risk_tiers select * from user_risk_tiers where tier_date = ? and user_id = 'u2'",
                    [day(8)])
        con.execute("update user_risk_tiers set lifecycle_stage = 'zombie' where tier_date = ? and user_id = 'u2'", [day(7)])
        con.execute("update user_risk_tiers set value_tier = null where tier_date = ? and user_id = 'u3'", [day(7)])
        con.execute("update stg_events set event_name = 'teleport' where event_id = 'e9'")
        # a quarantined row counted twice on a landing day of the window (raw = staged + quarantined breaks)
        con.execute("insert into quarantine_events select * replace (cast(? as date) as _landing_date) "
                    "from quarantine_events where event_id = 'b2'", [day(8)])
        # the same faults on a day before the window are not this run's to check, nor a lookback day of a
        # landing-day model (stg_events rewrites the window's landing days only; e8 landed on day 6)
        con.execute("update user_risk_tiers set lifecycle_stage = 'zombie' where tier_date = ?", [day(1)])
        con.execute("insert into stg_events select * from stg_events where event_id = 'e8'")
    window = json.dumps({"min_date": day(7).isoformat(), "max_date": day(9).isoformat(), "lookback_days": 1})
    result = dbt().invoke([
        "test", "--select", "user_risk_tiers", "stg_events", "--exclude", "test_type:unit", "--vars",
        json.dumps({**json.loads(window), "warehouse_path": str(warehouse)}),
        "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(work / "target"), "--log-path", str(work / "logs"), "--quiet",
    ])
    failed = {r.node.name.split("_stg_")[0]: int(r.failures or 0)
              for r in result.result.results if str(r.status) == "fail"}
    assert failed == {"row_rules_user_risk_tiers": 3, "values_in_reference": 1, "accounts_for_every_raw_row": 1}
    compiled = next(r.node.compiled_code for r in result.result.results if r.node.name == "row_rules_user_risk_tiers")
    with connect(warehouse) as con:
        broken = sorted(con.execute(compiled).fetchall())
    assert [(rule, detail) for rule, detail, _ in broken] == [
        ("accepted_values", "lifecycle_stage=zombie"), ("not_null", "value_tier"), ("primary_key", f"u2 | {day(8)}")]


def test_staging_models_document_exactly_their_columns(hand_world: Path) -> None:
    """Every column of the landing-to-staging models is in its YAML, and the YAML names no other."""
    import yaml

    documented: dict[str, list[str]] = {}
    for folder in ("staging", "quarantine", "restricted", "intermediate/users"):
        for path in (PROJECT_DIR / "models" / folder).rglob("*.yml"):
            for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
                documented[model["name"]] = [c["name"] for c in model.get("columns", [])]
    built = {}
    for schema, table, column in query(hand_world, """
            select table_schema, table_name, column_name from information_schema.columns
            order by table_schema, table_name, ordinal_position"""):
        if table in documented:
            built.setdefault(table, []).append(column)
    assert set(documented) == set(built)  # every one is a table
    assert {t: sorted(c) for t, c in built.items()} == {t: sorted(documented[t]) for t in built}


def test_input_bounds_are_dbt_vars(tmp_path_factory, hand_world: Path) -> None:
    """Tighter bounds passed as vars move rows into quarantine: an amount above max_amount, an event
    received more than max_event_age_days after it happened."""
    work = tmp_path_factory.mktemp("dbt_bounds")
    warehouse = work / "warehouse.duckdb"
    with connect(hand_world) as con:
        con.execute("checkpoint")
    warehouse.write_bytes(hand_world.read_bytes())
    bounds = {"max_amount": 120, "max_event_age_days": 1, "min_date": day(1).isoformat(), "max_date": day(7).isoformat()}
    run_dbt(["run", "--select", "base_events", "stg_events", "quarantine_events", "--vars", json.dumps(bounds)],
            warehouse, work)
    reasons = dict(query(warehouse, "select event_id, reject_reason from quarantine_events where event_id in ('e2', 'e8')"))
    assert reasons == {"e2": "implausible_amount",   # 150 > 120 (its copy too)
                       "e8": "event_too_old"}        # happened on day 4 at 20:00, received on day 6
    assert query(warehouse, "select count(*) from stg_events where event_id in ('e2', 'e8')") == [(0,)]


def test_a_simulated_feed_loses_no_good_row(tmp_path_factory) -> None:
    """On the simulator's landing files (late events, duplicates, its four kinds of invalid rows), every
    valid event is accepted and exactly the injected duplicates and invalid rows are quarantined."""
    from orchestration.ingestion import load_landing_range
    from orchestration.simulator import SimulationConfig, simulate, write_world

    work = tmp_path_factory.mktemp("dbt_simulated")
    config = SimulationConfig(n_users=1500, n_days=6, seed=2, late_event_share=0.1, duplicate_share=0.01,
                              invalid_share=0.01)
    world = simulate(config)
    write_world(world, work / "landing", work / "truth")
    warehouse = work / "warehouse.duckdb"
    with connect(warehouse) as con:
        load_landing_range(con, [config.start_date + timedelta(days=i) for i in range(config.n_days)], work / "landing")
    run_dbt(["seed"], warehouse, work)
    run_dbt(["run", "--select", "path:models/staging", "path:models/quarantine"], warehouse, work)
    stats = world.stats
    assert query(warehouse, "select count(*) from stg_events") == [(stats["valid_events"],)]
    reasons = dict(query(warehouse, "select reject_reason, count(*) from quarantine_events group by 1"))
    assert reasons == {
        "duplicate_event_id": stats["duplicate_events"],
        "missing_user_id": stats["invalid_missing_user_id"],
        "unknown_event_name": stats["invalid_unknown_event_name"],
        "negative_amount": stats["invalid_negative_amount"],
        "invalid_event_time": stats["invalid_missing_event_time"],
    }
    assert query(warehouse, "select count(*) from quarantine_users where reject_reason <> 'superseded'") == [(0,)]


def test_an_upgraded_recency_table_rebuilds_its_state_once(full_and_daily: tuple[Path, Path], tmp_path: Path) -> None:
    """A table written before key_action_days existed carries no count of key-action days: the next daily
    run must start from the history instead of carrying nulls (which would restart the count)."""
    full, _ = full_and_daily
    world = generated_world()
    models = ["base_events", "stg_events", "quarantine_events", "base_users", "stg_users", "quarantine_users",
              "int_user_daily_activity", "int_user_session_streaks", "int_user_recency"]
    warehouse = tmp_path / "warehouse.duckdb"
    load_days(warehouse, world, [day(i) for i in range(1, INCREMENTAL_DAYS)])
    run_dbt(["seed"], warehouse, tmp_path)
    run_dbt(["run", "--select", *models, "--vars", json.dumps(SHORT_RULES)], warehouse, tmp_path)
    with connect(warehouse) as con:   # the table as the previous version wrote it
        con.execute("alter table int_user_recency drop column key_action_days")
        con.execute("alter table int_user_recency drop column first_key_action_date")
    last = day(INCREMENTAL_DAYS)
    load_days(warehouse, world, [last])
    window = {"min_date": last.isoformat(), "max_date": (last + timedelta(days=1)).isoformat()}
    run_dbt(["run", "--select", *models, "--vars", json.dumps({**SHORT_RULES, **window})], warehouse, tmp_path)
    columns = "user_id, key_action_days, first_key_action_date, usual_key_action_gap_days, silent_days"
    sql = f"select {columns} from int_user_recency where label_date = '{last.isoformat()}' order by user_id"
    with connect(warehouse) as con:
        upgraded = con.execute(sql).fetchall()
    with connect(full) as con:
        expected = con.execute(sql).fetchall()
    assert upgraded == expected and any(row[1] > 1 for row in expected)


def run_day(models: list[str], n: int, warehouse: Path, work: Path) -> None:
    """dbt run of `models` for the window of day n with a lookback of one day, as a daily run passes it."""
    window = {"min_date": day(n).isoformat(), "max_date": day(n + 1).isoformat(), "lookback_days": 1}
    run_dbt(["run", "--select", *models, "--vars", json.dumps(window)], warehouse, work)


def test_a_lookback_day_is_recomputed_only_for_the_users_with_late_events(tmp_path: Path) -> None:
    """Day 2 lands a late session of u1 dated day 1: u1's day-1 rows are recomputed (the late session counted),
    u2's are left as the last run wrote them (here, deliberately wrong, to show they are not rewritten)."""
    models = ["base_events", "stg_events", "quarantine_events", "int_user_daily_activity", "int_user_session_streaks"]
    warehouse = tmp_path / "warehouse.duckdb"
    with connect(warehouse) as con:
        create_raw_tables(con)
        land(con, "raw_users", day(1), [user("u1", ts(1, 8)), user("u2", ts(1, 8))])
        land(con, "raw_events", day(1), [event("e1", "u1", "app_open", ts(1, 9)),
                                          event("e2", "u2", "app_open", ts(1, 9))])
    run_dbt(["seed"], warehouse, tmp_path)

    run_day(models, 1, warehouse, tmp_path)
    with connect(warehouse) as con:
        for table in ("int_user_daily_activity", "int_user_session_streaks"):
            con.execute(f"update {table} set sessions = 99 where user_id = 'u2'")
        land(con, "raw_events", day(2), [event("e3", "u1", "app_open", ts(1, 20), ts(2, 0, 30)),
                                          event("e4", "u1", "app_open", ts(2, 9)),
                                          event("e5", "u2", "app_open", ts(2, 9))])
    run_day(models, 2, warehouse, tmp_path)
    for table in ("int_user_daily_activity", "int_user_session_streaks"):
        assert query(warehouse, f"select user_id, activity_date, sessions from {table} order by 1, 2") == [
            ("u1", day(1), 2), ("u1", day(2), 1), ("u2", day(1), 99), ("u2", day(2), 1)], table


def test_a_lookback_day_of_the_rolling_measures_is_recomputed_only_for_relabelled_users(tmp_path: Path) -> None:
    """Day 2 lands a late session of u1 dated day 1 and a profile update of u3: their day-1 rolling measures are
    recomputed; u2's are left as the last run wrote them (deliberately wrong here, to show they are not rewritten).
    Day 2 is measured for everyone, from the daily activity."""
    models = ["base_events", "stg_events", "quarantine_events", "base_users", "stg_users", "int_user_daily_activity",
              "int_user_session_streaks", "int_user_recency", "int_user_rolling_activity"]
    warehouse = tmp_path / "warehouse.duckdb"
    with connect(warehouse) as con:
        create_raw_tables(con)
        land(con, "raw_users", day(1), [user(u, ts(1, 8)) for u in ("u1", "u2", "u3")])
        land(con, "raw_events", day(1), [event(f"e1{u}", u, "app_open", ts(1, 9)) for u in ("u1", "u2", "u3")])
    run_dbt(["seed"], warehouse, tmp_path)

    run_day(models, 1, warehouse, tmp_path)
    with connect(warehouse) as con:
        con.execute("update int_user_rolling_activity set logins_7d = 99")
        land(con, "raw_users", day(2), [user("u3", ts(1, 8), updated=ts(2, 8), sms="false")])
        land(con, "raw_events", day(2), [event("late", "u1", "app_open", ts(1, 20), ts(2, 0, 30)),
                                          *(event(f"e2{u}", u, "app_open", ts(2, 9)) for u in ("u1", "u2", "u3"))])
    run_day(models, 2, warehouse, tmp_path)
    assert query(warehouse, "select user_id, label_date, logins_7d from int_user_rolling_activity order by 1, 2") == [
        ("u1", day(1), 2), ("u1", day(2), 3), ("u2", day(1), 99), ("u2", day(2), 2), ("u3", day(1), 1),
        ("u3", day(2), 2)]
