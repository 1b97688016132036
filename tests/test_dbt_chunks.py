"""A long range runs dbt in chunks of bounded user-days: how the range is cut, how a node's results over the
chunks are reported once, and a chunked range building the same tables as one dbt run."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import duckdb
import pandas as pd
import pytest

from orchestration.config import Settings
from orchestration.config.settings import memory_bytes
from orchestration.defs.dbt import invocation
from orchestration.defs.dbt.invocation import NodeRuns
from orchestration.runner import run_days
from orchestration.simulator import SimulationConfig, simulate, write_world
from orchestration.warehouse.chunks import checked_ends, plan_chunks, user_day_budget, users_by_day

pytestmark = pytest.mark.duration(60)  # builds its worlds through the pipeline: scheduled first
START = date(2026, 1, 1)
WORLD = SimulationConfig(n_users=300, n_days=10, start_date=START, seed=3, late_event_share=0.1)
TABLES = ["stg_events", "quarantine_events", "stg_users", "int_user_daily_activity", "int_user_recency",
          "int_user_rolling_activity", "user_daily_labels", "user_churn_scores", "user_risk_tiers"]
D = [START + timedelta(days=i) for i in range(6)]


def test_a_range_is_cut_where_its_user_days_would_pass_the_budget():
    new_users = {D[0]: 100, D[2]: 100}  # 100 users on days 0-1, 200 from day 2
    # The first chunk: day 0 with one lookback day (200), day 1 (100), day 2 (200) = 500; day 3 would make 700.
    assert plan_chunks(D[0], D[5], new_users, budget=600, lookback_days=1) == [(D[0], D[2]), (D[3], D[4]), (D[5], D[5])]
    # Users landed before the range count from its first day.
    assert plan_chunks(D[2], D[3], new_users, budget=400, lookback_days=0) == [(D[2], D[3])]
    assert plan_chunks(D[2], D[3], new_users, budget=399, lookback_days=0) == [(D[2], D[2]), (D[3], D[3])]


def test_a_day_over_the_budget_is_a_chunk_of_its_own_and_no_users_is_one_chunk():
    assert plan_chunks(D[0], D[2], {D[0]: 1000}, budget=10, lookback_days=3) == [(D[0], D[0]), (D[1], D[1]),
                                                                                  (D[2], D[2])]
    assert plan_chunks(D[0], D[5], {}, budget=1, lookback_days=3) == [(D[0], D[5])]
    with pytest.raises(ValueError, match="empty range"):
        plan_chunks(D[1], D[0], {}, budget=1, lookback_days=0)


def _checked_days(chunks: list[tuple[date, date, int]]) -> list[date]:
    """The days the chunks' data tests check with their lookback, each as often as a chunk checks it."""
    days = []
    for (first, end, lookback), checked_end in zip(chunks, checked_ends(chunks)):
        day = first - timedelta(days=lookback)
        while day < (checked_end or end):
            days.append(day)
            day += timedelta(days=1)
    return days


def test_each_day_of_a_range_is_checked_by_one_chunk_the_last_that_rewrites_it():
    later = [D[5] + timedelta(days=i) for i in range(1, 4)]
    # Two chunks of three days, two lookback days each: the first checks up to the second's lookback.
    two = [(D[0], D[3], 2), (D[3], D[5] + timedelta(days=1), 2)]
    assert checked_ends(two) == [D[1], None]
    # One-day chunks under a three-day lookback: the last chunk rewrites from D[1], so the first checks only its
    # lookback days before that and the second nothing.
    short = [(D[2], D[3], 3), (D[3], D[4], 0), (D[4], D[5], 3)]
    assert checked_ends(short) == [D[1], D[1], None]
    # No late rows in the next chunk: each checks its whole window.
    assert checked_ends([(D[0], D[2], 1), (D[2], D[4], 0)]) == [D[2], None]
    assert checked_ends([(D[0], D[2], 1)]) == [None]
    for chunks in (two, short, [(D[1], D[3], 1), (D[3], D[4], 2), (D[4], later[0], 0), (later[0], later[2], 3)]):
        days = _checked_days(chunks)
        first = min(start - timedelta(days=lookback) for start, _, lookback in chunks)
        expected = [first + timedelta(days=i) for i in range((chunks[-1][1] - first).days)]
        assert sorted(days) == expected, chunks  # every day of the range and its lookback, once


def test_the_budget_follows_duckdbs_memory_units():
    assert memory_bytes("3GB") == 3 * 1000**3 and memory_bytes("2.5 GiB") == int(2.5 * 1024**3)
    assert user_day_budget("6GB") == 2 * user_day_budget("3GB")
    with pytest.raises(ValueError, match="not a memory limit"):
        memory_bytes("3 gigs")


def test_users_count_once_on_the_first_day_they_landed():
    con = duckdb.connect()
    con.execute("create schema restricted")
    assert users_by_day(con, D[5]) == {}
    con.execute("""create table restricted.raw_users as select * from (values
        ('a', date '2026-01-01'), (' a', date '2026-01-02'), ('b', date '2026-01-02'), ('c', date '2026-01-05'))
        as t(user_id, _landing_date)""")
    assert users_by_day(con, D[4]) == {D[0]: 1, D[1]: 1}  # 'c' landed on the end day, outside


def _result(status: str, failures: int = 0, seconds: float = 1.0) -> SimpleNamespace:
    return SimpleNamespace(status=status, failures=failures, execution_time=seconds)


def _node(resource_type: str, severity: str = "error") -> SimpleNamespace:
    return SimpleNamespace(resource_type=resource_type, config=SimpleNamespace(severity=severity))


def test_a_node_over_chunks_reports_its_worst_outcome_and_summed_seconds():
    model = NodeRuns(_node("model"))
    for status in ("success", "success"):
        model.add(_result(status))
    assert model.status == "success" and model.seconds == 2.0 and not model.failed_now
    model.add(_result("error"))
    assert model.status == "error" and model.failed_now

    check = NodeRuns(_node("test", severity="warn"))
    for status, rows in (("pass", 0), ("warn", 3), ("skipped", 0), ("pass", 0)):
        check.add(_result(status, rows))
    assert check.status == "warn" and check.failing_rows == [0, 3, 0, 0] and not check.failed_now
    check.add(_result("fail", 2))
    assert check.status == "fail" and not check.failed_now  # warn severity never stops the run

    blocking = NodeRuns(_node("test"))
    blocking.add(_result("pass"))
    blocking.add(_result("fail", 1))
    assert blocking.status == "fail" and blocking.failed_now


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("chunk_world")
    write_world(simulate(WORLD), root / "landing", root / "truth")
    return root


def _build(home: Path, world: Path, **settings) -> tuple[dg.ExecuteInProcessResult, list[str]]:
    """The world's first two days, then the rest as one range with `settings`: the range stages incrementally, as
    a backfill on a warehouse in use does (a first build stages every landed row at once)."""
    paths = {"landing": world / "landing", "truth": world / "truth"}
    assert run_days(Settings.under(home, **paths), START, D[1], up_to=["user_risk_tiers"]).success
    return _build_range(Settings.under(home, **paths, **settings), D[2], WORLD.end_date)


def _build_range(settings: Settings, first: date, last: date) -> tuple[dg.ExecuteInProcessResult, list[str]]:
    """One run of first..last up to the risk tiers, and its log lines."""
    instance = dg.DagsterInstance.ephemeral()
    result = run_days(settings, first, last, instance=instance, up_to=["user_risk_tiers"])
    assert result.success
    return result, [entry.user_message for entry in instance.all_logs(result.run_id)]


def _tables(home: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return {table: con.execute(f"select * from {table}").df().pipe(
            lambda frame: frame.sort_values(list(frame.columns)).reset_index(drop=True)) for table in TABLES}


def test_a_chunked_range_builds_the_same_tables_as_one_dbt_run(tmp_path, world):
    whole, whole_logs = _build(tmp_path / "whole", world)
    chunked, chunked_logs = _build(tmp_path / "chunked", world, dbt_chunk_user_days=1200)
    assert not any("(chunk " in line for line in whole_logs)
    assert any("(chunk 3 of" in line for line in chunked_logs)  # at 300 users, 1,200 user-days are a few days
    with duckdb.connect(str(tmp_path / "chunked" / "warehouse.duckdb"), read_only=True) as con:
        later_users = con.execute("select count(*) from restricted.raw_users where _landing_date > ?",
                                  [D[4]]).fetchone()[0]
    assert later_users > 0  # users rows of later chunks: loaded before the first chunk ran, staged in their own
    one, other = _tables(tmp_path / "whole"), _tables(tmp_path / "chunked")
    for table in TABLES:
        assert len(one[table]) > 0, table
        pd.testing.assert_frame_equal(one[table], other[table], obj=table)

    def reported(result: dg.ExecuteInProcessResult) -> Counter:
        events = [*result.get_asset_materialization_events(), *result.get_asset_check_evaluations()]
        return Counter(getattr(event, "asset_check_key", None) or event.asset_key for event in events)

    # Each asset and check is reported as often as one dbt run reports it: once per partition, not once per chunk.
    assert reported(chunked) == reported(whole)
    runs = {event.materialization.metadata.get("dbt_runs", dg.IntMetadataValue(1)).value
            for event in chunked.get_asset_materialization_events() if "dbt_seconds" in event.materialization.metadata}
    assert len(runs) == 1 and runs.pop() >= 3  # every dbt model says over how many dbt runs its seconds are summed
    assert not any("dbt_runs" in event.materialization.metadata for event in whole.get_asset_materialization_events())

    def failing(result: dg.ExecuteInProcessResult) -> dict:
        return {event.asset_check_key: event.metadata["failing_rows"].value
                for event in result.get_asset_check_evaluations() if "failing_rows" in event.metadata}

    # The chunks check disjoint days: a warning's failing rows add up to one run's, none counted twice.
    assert failing(chunked) == failing(whole) and any(failing(whole).values())


def test_a_failed_chunk_leaves_the_chunks_before_it_staged_and_the_next_run_resumes_after_them(tmp_path, world,
                                                                                              monkeypatch):
    paths = {"landing": world / "landing", "truth": world / "truth"}
    assert run_days(Settings.under(tmp_path, **paths), START, D[1], up_to=["user_risk_tiers"]).success
    chunked = Settings.under(tmp_path, **paths, dbt_chunk_user_days=1200)
    real, calls = invocation._invoke, []

    def second_chunk_dies(command, project, chunk):
        calls.append(chunk)
        return ([], "dbt died") if "chunk 2 of" in chunk else real(command, project, chunk)

    monkeypatch.setattr(invocation, "_invoke", second_chunk_dies)
    assert not run_days(chunked, D[2], WORLD.end_date, up_to=["user_risk_tiers"], raise_on_error=False).success
    assert [chunk.split(" of")[0] for chunk in calls] == [" (chunk 1", " (chunk 2"]  # no chunk after the failed one
    with duckdb.connect(str(chunked.warehouse), read_only=True) as con:
        staged = dict(con.execute("select landing_date, staged_at is not null from raw_landing_log "
                                  "where feed = 'events' and landing_date >= ? order by 1", [D[2]]).fetchall())
    first_unstaged = min(day for day, done in staged.items() if not done)
    assert staged[D[2]] and all(done == (day < first_unstaged) for day, done in staged.items())
    monkeypatch.setattr(invocation, "_invoke", real)
    result, logs = _build_range(chunked, WORLD.end_date, WORLD.end_date)
    assert any(f"dbt resumes from {first_unstaged}" in line for line in logs)
