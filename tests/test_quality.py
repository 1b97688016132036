"""Data contracts: the GX suites in expectations/ pass good rows and name the expectation bad rows break
(consent, holdout, one action per user and day, taxonomy), evaluated in SQL as the run does and by Great
Expectations, the reference for what each expectation means: both engines give the same answers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import duckdb

from orchestration.quality import expectations as gx_engine
from orchestration.quality.events_contract import validate_events
from orchestration.quality.expectations import load_suite
from orchestration.quality.outbox_contract import validate_outbox
from orchestration.quality.sql_contract import KWARGS, validate_relation
from orchestration.quality.suites import EXPECTATIONS_DIR, ValidationSummary, read_suite
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


def _in_sql(frame: pd.DataFrame, suite: str) -> ValidationSummary:
    with duckdb.connect() as con:
        con.register("frame", frame)
        return validate_relation(con, "select * from frame", suite)


ENGINES = {"sql": _in_sql, "gx": gx_engine.validate_frame}


@pytest.fixture(params=sorted(ENGINES))
def validate_frame(request):
    """Each test below runs on both engines: the SQL one the run uses and Great Expectations."""
    return ENGINES[request.param]


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


def test_good_outbox_passes(validate_frame) -> None:
    summary = validate_frame(_outbox_frame(), "recall_outbox")
    assert summary.success and summary.failed == 0 and summary.evaluated == 11 and summary.rows == 20


def test_non_consented_user_fails_consent_expectation(validate_frame) -> None:
    frame = _outbox_frame()
    frame.loc[3, "has_consent"] = False
    summary = validate_frame(frame, "recall_outbox")
    assert not summary.success and summary.failed == 1
    assert _failed(summary, IN_SET, "has_consent")
    failure = summary.failures[0]
    assert failure.unexpected_count == 1 and failure.unexpected_values == [False]
    assert "consented" in failure.description


def test_control_arm_user_fails_arm_expectation(validate_frame) -> None:
    frame = _outbox_frame()
    frame.loc[[1, 2], "arm"] = "control"
    summary = validate_frame(frame, "recall_outbox")
    assert summary.failed_types() == {(IN_SET, ("arm",))}
    assert summary.failures[0].unexpected_count == 2


def test_duplicate_user_per_day_fails_compound_uniqueness(validate_frame) -> None:
    frame = _outbox_frame()
    frame = pd.concat([frame, frame.iloc[[5]].assign(channel="sms")], ignore_index=True)
    summary = validate_frame(frame, "recall_outbox")
    assert summary.failed_types() == {("expect_compound_columns_to_be_unique", ("user_id", "action_date"))}
    # The same user on another day is fine.
    frame.loc[len(frame) - 1, "action_date"] = date(2026, 2, 2)
    assert validate_frame(frame, "recall_outbox").success


def test_missing_consent_status_and_unknown_channel_fail(validate_frame) -> None:
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
    summary = _outbox_contract(actions, users)
    assert summary.rows > 1000 and summary.success
    # Had the planner ignored consent, the contract would catch it.
    careless = _outbox_contract(actions.assign(status="queued", arm="treatment"), users)
    assert _failed(careless, IN_SET, "has_consent")


def test_in_app_messages_need_a_known_user_not_an_opt_in() -> None:
    library = load_strategy_library(Path(__file__).parents[1] / "orchestration" / "recall" / "strategies.yml")
    tiers, users = random_world(300, seed=2)
    tiers = tiers.assign(lifecycle_stage="active", signals_fired="core_feature_drop")
    users = users.assign(push_opt_in=False, sms_opt_in=False, call_opt_in=False)
    actions = plan_day(DayInputs(day=DAY, tiers=tiers, users=users), library)
    queued = actions[actions["status"] == "queued"]
    assert len(queued) > 100 and set(queued["channel"]) == {"in_app"}
    assert _outbox_contract(actions, users).success
    # Had the planner messaged users unknown on the day, the contract would catch it.
    assert _failed(_outbox_contract(actions, users.iloc[:0]), IN_SET, "has_consent")


def _outbox_contract(actions: pd.DataFrame, users: pd.DataFrame) -> ValidationSummary:
    """The check's own SQL, run on a warehouse holding the plan and the users' consent since before DAY."""
    with duckdb.connect() as con:
        con.register("planned", actions)
        con.register("profiles", users)
        con.execute("create table recall_actions as select * from planned")
        con.execute("create table int_user_versions as select *, date '2026-01-01' as valid_from, "
                    "cast(null as date) as valid_to from profiles")
        return validate_outbox(con, DAY, DAY)


def test_good_events_pass(validate_frame) -> None:
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
def test_bad_events_fail_the_right_expectation(column: str, value: object, expectation: str, row: int,
                                                validate_frame) -> None:
    frame = _events_frame().astype({column: object})
    frame.loc[row, column] = value
    summary = validate_frame(frame, "stg_events")
    assert summary.failed_types() == {(expectation, (column,))}
    assert summary.failures[0].unexpected_count >= 1


def test_event_suite_matches_the_taxonomy_seed() -> None:
    seed = pd.read_csv(Path(__file__).parents[1] / "dbt_project" / "seeds" / "event_taxonomy.csv")
    sets = {e.column: set(e.value_set) for e in load_suite("stg_events").expectations if hasattr(e, "value_set")}
    assert sets["event_name"] == set(seed["event_name"])
    assert sets["category"] >= set(seed["category"])


def test_the_events_contract_reads_every_accepted_event_of_the_window() -> None:
    con = duckdb.connect()
    con.execute("""create table stg_events as
        select 'e' || (i % 10000) as event_id, 'u1' as user_id, 'app_open' as event_name, 'session' as category,
               timestamp '2026-02-01 08:00:00' as event_time, cast(null as double) as amount, '{}' as properties,
               date '2026-02-01' + cast(i % 3 as integer) as _landing_date
        from range(20000) as t(i)""")
    one_day = validate_events(con, date(2026, 2, 1), date(2026, 2, 1))
    assert one_day.success and one_day.rows == 6667  # ids repeat on other days only
    window = validate_events(con, date(2026, 2, 1), date(2026, 2, 3))
    assert window.rows == 20_000 and window.failed_types() == {("expect_column_values_to_be_unique", ("event_id",))}
    assert window.failures[0].unexpected_count == 20_000  # every copy of the 10,000 ids landed twice


def test_both_engines_agree_on_rows_that_break_every_expectation() -> None:
    """Random rows with nulls, NaN, duplicates, values outside the sets and the bounds, in both suites: the SQL
    engine fails the same expectations with the same counts and names only values Great Expectations found."""
    rng = np.random.default_rng(7)
    n = 3_000
    events = _events_frame(n).astype({"event_id": object, "user_id": object, "event_name": object, "category": object})
    events.loc[rng.choice(n, 40), "event_id"] = [f"e{i:06d}" for i in rng.choice(n, 40)]
    events.loc[rng.choice(n, 30), "user_id"] = None
    events.loc[rng.choice(n, 25), "event_name"] = rng.choice(["teleport", "warp"], 25)
    events.loc[rng.choice(n, 20), "category"] = None  # ignored by the set check, as GX does
    events.loc[rng.choice(n, 35), "amount"] = rng.choice([-1.0, -0.01, 0.0, np.nan], 35)
    outbox = _outbox_frame(400).astype({"has_consent": object, "arm": object})
    outbox.loc[rng.choice(400, 12), "has_consent"] = rng.choice([False, None], 12)
    outbox.loc[rng.choice(400, 9), "arm"] = "control"
    outbox.loc[rng.choice(400, 15), "user_id"] = [f"u{i:07d}" for i in rng.choice(400, 15)]
    for frame, suite in ((events, "stg_events"), (outbox, "recall_outbox")):
        sql, gx = _in_sql(frame, suite), gx_engine.validate_frame(frame, suite)
        assert (sql.success, sql.evaluated, sql.failed, sql.rows) == (gx.success, gx.evaluated, gx.failed, gx.rows)
        assert sql.failed >= 3
        for mine, theirs in zip(sql.failures, gx.failures, strict=True):
            assert (mine.expectation_type, mine.columns, mine.unexpected_count) == (
                theirs.expectation_type, theirs.columns, theirs.unexpected_count)
            found = {str(v) for v in theirs.unexpected_values}
            if found and mine.unexpected_values and not isinstance(mine.unexpected_values[0], dict):
                assert {str(v) for v in mine.unexpected_values} & found


def test_every_suite_translates_to_sql_and_the_rest_is_refused(monkeypatch) -> None:
    con = duckdb.connect()
    con.execute("create table t as select 1 as x")
    for path in EXPECTATIONS_DIR.glob("*.json"):
        assert {e["type"] for e in read_suite(path.stem)["expectations"]} <= set(KWARGS)
    with pytest.raises(FileNotFoundError, match="no expectation suite 'nope'"):
        validate_relation(con, "select * from t", "nope")
    odd = {
        "expect_column_values_to_match_regex": {"column": "x", "regex": "1"},  # a type with no translation
        "expect_column_values_to_not_be_null": {"column": "x", "mostly": 0.9},  # a kwarg it would ignore
        "expect_column_values_to_be_between": {"column": "x"},  # no bound at all
    }
    for kind, kwargs in odd.items():
        document = {"name": "odd", "expectations": [{"type": kind, "kwargs": kwargs}]}
        monkeypatch.setattr("orchestration.quality.sql_contract.read_suite", lambda name, d=document: d)
        with pytest.raises(ValueError, match="suite 'odd'"):
            validate_relation(con, "select * from t", "odd")


def test_a_missing_column_fails_its_expectation_with_a_reason() -> None:
    summary = _in_sql(_events_frame().drop(columns="category"), "stg_events")
    assert summary.failed_types() == {(IN_SET, ("category",))}
    assert summary.failures[0].unexpected_count is None and "no column 'category'" in summary.failures[0].error


def test_both_engines_agree_on_nan_bounds_and_partly_null_keys(monkeypatch) -> None:
    """Float NaN counts as null, strict and inclusive bounds, numeric sets, and compound keys skipped only when all
    their columns are null: Great Expectations and the SQL give the same counts on a suite written for them."""
    document = {"name": "edge_cases", "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x"}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "x", "min_value": 0, "max_value": 1}},
        {"type": "expect_column_values_to_be_between",
         "kwargs": {"column": "x", "min_value": 0, "max_value": 1, "strict_min": True, "strict_max": True}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "k", "value_set": [1, 2]}},
        {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["a", "b"]}},
    ]}
    for module in ("orchestration.quality.sql_contract", "orchestration.quality.expectations"):
        monkeypatch.setattr(f"{module}.read_suite", lambda name: document)
    frame = pd.DataFrame({
        "x": [0.0, 1.0, 0.5, np.nan, 2.0, -1.0, np.nan, 0.25],
        "k": [1, 2, 3, 1, 2, 4, 1, 2],
        "a": ["p", "p", None, None, None, None, "q", "q"],
        "b": ["s", "s", "t", "t", None, None, None, "r"],
    })
    sql, gx = _in_sql(frame, "edge_cases"), gx_engine.validate_frame(frame, "edge_cases")
    counts = [(f.expectation_type, f.unexpected_count) for f in sql.failures]
    assert counts == [(f.expectation_type, f.unexpected_count) for f in gx.failures]
    assert counts == [("expect_column_values_to_not_be_null", 2), ("expect_column_values_to_be_between", 2),
                      ("expect_column_values_to_be_between", 4), ("expect_column_values_to_be_in_set", 2),
                      ("expect_compound_columns_to_be_unique", 4)]
    # A warehouse column can hold a real NaN (a frame's NaN arrives as null): the same counts from a table.
    with duckdb.connect() as con:
        con.register("frame", frame)
        con.execute("create table rows as select * replace (coalesce(x, 'nan'::double) as x) from frame")
        con.execute("update rows set x = null where k = 4")  # and a real null
        from_table = validate_relation(con, "select * from rows", "edge_cases")
        read_back = gx_engine.validate_frame(con.execute("select * from rows").df(), "edge_cases")
    assert [f.unexpected_count for f in from_table.failures] == [f.unexpected_count for f in read_back.failures]
    assert [f.unexpected_count for f in from_table.failures][:3] == [3, 1, 3]  # NaN and null alike, never out of bounds
