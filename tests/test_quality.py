"""Data contracts: the GX suites in expectations/ pass good frames and name the expectation a
bad frame breaks (consent, holdout, one action per user and day, taxonomy)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import duckdb

from orchestration.quality.expectations import EXPECTATIONS_DIR, load_suite, validate_frame
from orchestration.quality.outbox_contract import outbox_contract_frame
from orchestration.recall.actions import DayInputs, plan_day
from orchestration.recall.library import load_strategy_library
from tests.recall_fixtures import random_world

DAY = date(2026, 2, 1)
IN_SET = "expect_column_values_to_be_in_set"


def _outbox_frame(n: int = 20) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": [f"u{i:07d}" for i in range(n)],
            "action_date": DAY,
            "arm": "treatment",
            "channel": ["push", "sms", "call", "push"] * (n // 4),
            "has_consent": True,
            "status": "queued",
        }
    )


def _events_frame(n: int = 40) -> pd.DataFrame:
    names = ["app_open", "order_paid", "login", "deposit", "lesson_complete"]
    cats = ["session", "commerce", "session", "finance", "core_feature"]
    return pd.DataFrame(
        {
            "event_id": [f"e{i:06d}" for i in range(n)],
            "user_id": [f"u{i % 7:07d}" for i in range(n)],
            "event_name": [names[i % 5] for i in range(n)],
            "event_time": pd.Timestamp("2026-02-01", tz="UTC") + pd.to_timedelta(np.arange(n), unit="min"),
            "amount": [25.0 if i % 5 in (1, 3) else np.nan for i in range(n)],
            "category": [cats[i % 5] for i in range(n)],
        }
    )


def _failed(summary, expectation_type: str, *columns: str) -> bool:
    return (expectation_type, columns) in summary.failed_types()


def test_suites_are_gx_documents() -> None:
    assert {p.stem for p in EXPECTATIONS_DIR.glob("*.json")} >= {"stg_events", "recall_outbox"}
    outbox_suite = load_suite("recall_outbox")
    assert outbox_suite.name == "recall_outbox" and outbox_suite.meta["blocking"] is True
    types = {e.expectation_type for e in outbox_suite.expectations}
    assert "expect_compound_columns_to_be_unique" in types
    assert all(e.description for e in load_suite("stg_events").expectations)
    with pytest.raises(FileNotFoundError, match="no expectation suite 'nope'"):
        load_suite("nope")


def test_good_outbox_passes() -> None:
    summary = validate_frame(_outbox_frame(), "recall_outbox")
    assert summary.success and summary.failed == 0 and summary.evaluated == 11 and summary.rows == 20


def test_non_consented_user_fails_consent_expectation() -> None:
    frame = _outbox_frame()
    frame.loc[3, "has_consent"] = False
    summary = validate_frame(frame, "recall_outbox")
    assert not summary.success and summary.failed == 1
    assert _failed(summary, IN_SET, "has_consent")
    failure = summary.failures[0]
    assert failure.unexpected_count == 1 and failure.unexpected_values == [False]
    assert "consented" in failure.description


def test_control_arm_user_fails_arm_expectation() -> None:
    frame = _outbox_frame()
    frame.loc[[1, 2], "arm"] = "control"
    summary = validate_frame(frame, "recall_outbox")
    assert summary.failed_types() == {(IN_SET, ("arm",))}
    assert summary.failures[0].unexpected_count == 2


def test_duplicate_user_per_day_fails_compound_uniqueness() -> None:
    frame = _outbox_frame()
    frame = pd.concat([frame, frame.iloc[[5]].assign(channel="sms")], ignore_index=True)
    summary = validate_frame(frame, "recall_outbox")
    assert summary.failed_types() == {("expect_compound_columns_to_be_unique", ("user_id", "action_date"))}
    # The same user on another day is fine.
    frame.loc[len(frame) - 1, "action_date"] = date(2026, 2, 2)
    assert validate_frame(frame, "recall_outbox").success


def test_missing_consent_status_and_unknown_channel_fail() -> None:
    frame = _outbox_frame().astype({"has_consent": object})
    frame.loc[0, "has_consent"] = None
    frame.loc[1, "status"] = "holdout"
    frame.loc[2, "channel"] = "fax"
    summary = validate_frame(frame, "recall_outbox")
    assert summary.failed_types() == {
        ("expect_column_values_to_not_be_null", ("has_consent",)),
        (IN_SET, ("status",)),
        (IN_SET, ("channel",)),
    }


def test_planned_outbox_satisfies_its_contract() -> None:
    tiers, users = random_world(6000, seed=1)
    library = load_strategy_library(Path(__file__).parents[1] / "orchestration" / "recall" / "strategies.yml")
    actions = plan_day(DayInputs(day=DAY, tiers=tiers, users=users), library)
    frame = _contract_frame_in_sql(actions, users)
    assert len(frame) > 1000
    assert validate_frame(frame, "recall_outbox").success
    # Had the planner ignored consent, the contract would catch it.
    careless = _contract_frame_in_sql(actions.assign(status="queued", arm="treatment"), users)
    summary = validate_frame(careless, "recall_outbox")
    assert _failed(summary, IN_SET, "has_consent")


def test_in_app_messages_need_a_known_user_not_an_opt_in() -> None:
    library = load_strategy_library(Path(__file__).parents[1] / "orchestration" / "recall" / "strategies.yml")
    tiers, users = random_world(300, seed=2)
    tiers = tiers.assign(lifecycle_stage="active", signals_fired="core_feature_drop")
    users = users.assign(push_opt_in=False, sms_opt_in=False, call_opt_in=False)
    actions = plan_day(DayInputs(day=DAY, tiers=tiers, users=users), library)
    queued = actions[actions["status"] == "queued"]
    assert len(queued) > 100 and set(queued["channel"]) == {"in_app"}
    assert validate_frame(_contract_frame_in_sql(actions, users), "recall_outbox").success
    # Had the planner messaged users unknown on the day, the contract would catch it.
    strangers = _contract_frame_in_sql(actions, users.iloc[:0])
    assert _failed(validate_frame(strangers, "recall_outbox"), IN_SET, "has_consent")


def _contract_frame_in_sql(actions: pd.DataFrame, users: pd.DataFrame) -> pd.DataFrame:
    """The check's own builder, run on a warehouse holding the plan and the users' consent since before DAY."""
    with duckdb.connect() as con:
        con.register("planned", actions)
        con.register("profiles", users)
        con.execute("create table recall_actions as select * from planned")
        con.execute("create table int_user_versions as select *, date '2026-01-01' as valid_from, "
                    "cast(null as date) as valid_to from profiles")
        return outbox_contract_frame(con, DAY, DAY)


def test_good_events_pass() -> None:
    summary = validate_frame(_events_frame(), "stg_events")
    assert summary.success and summary.evaluated == 7


@pytest.mark.parametrize(
    ("column", "value", "expectation", "row"),
    [
        ("event_name", "teleport", IN_SET, 3),
        ("category", "misc", IN_SET, 3),
        ("amount", -5.0, "expect_column_values_to_be_between", 1),
        ("event_id", "e000000", "expect_column_values_to_be_unique", 4),
        ("user_id", None, "expect_column_values_to_not_be_null", 2),
    ],
)
def test_bad_events_fail_the_right_expectation(column: str, value: object, expectation: str, row: int) -> None:
    frame = _events_frame().astype({column: object})
    frame.loc[row, column] = value
    summary = validate_frame(frame, "stg_events")
    assert summary.failed_types() == {(expectation, (column,))}
    assert summary.failures[0].unexpected_count >= 1


@pytest.mark.slow
def test_one_million_events_validate_in_seconds() -> None:
    import time

    frame = pd.concat([_events_frame(40)] * 25_000, ignore_index=True)
    frame["event_id"] = [f"e{i:09d}" for i in range(len(frame))]
    validate_frame(frame.head(100), "stg_events")  # build the context outside the timing
    started = time.perf_counter()
    summary = validate_frame(frame, "stg_events")
    elapsed = time.perf_counter() - started
    assert summary.success and summary.rows == 1_000_000
    assert elapsed < 30  # ~2.3 s measured on the 2-core dev box


def test_event_suite_matches_the_taxonomy_seed() -> None:
    seed = pd.read_csv(Path(__file__).parents[1] / "dbt_project" / "seeds" / "event_taxonomy.csv")
    sets = {e.column: set(e.value_set) for e in load_suite("stg_events").expectations if hasattr(e, "value_set")}
    assert sets["event_name"] == set(seed["event_name"])
    assert sets["category"] >= set(seed["category"])


def test_events_contract_validates_a_bounded_sample_that_keeps_duplicates_together() -> None:
    from orchestration.quality.events_contract import events_contract_sample

    con = duckdb.connect()
    con.execute("""create table stg_events as
        select 'e' || (i % 10000) as event_id, 'u1' as user_id, 'app_open' as event_name, 'session' as category,
               timestamp '2026-02-01 08:00:00' as event_time, cast(null as double) as amount, '{}' as properties,
               date '2026-02-01' + cast(i % 3 as integer) as _landing_date
        from range(20000) as t(i)""")
    small = events_contract_sample(con, date(2026, 2, 1), date(2026, 2, 1), max_rows=100_000)
    assert small.rows_in_window == len(small.frame) == con.execute(
        "select count(*) from stg_events where _landing_date = '2026-02-01'").fetchall()[0][0]
    sample = events_contract_sample(con, date(2026, 2, 1), date(2026, 2, 3), max_rows=2_000)
    assert sample.rows_in_window == 20_000 and 1_400 <= len(sample.frame) <= 2_600
    assert (sample.frame["event_id"].value_counts() == 2).all()  # every drawn id with both its copies
    summary = validate_frame(sample.frame, "stg_events")
    assert _failed(summary, "expect_column_values_to_be_unique", "event_id")
    assert not _failed(summary, IN_SET, "event_name")
