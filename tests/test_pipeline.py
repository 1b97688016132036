"""End to end through Dagster on a small simulated world: the output tables' contents, idempotent
re-runs, and a backfill equal to the same days run one by one."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from orchestration.config import DEFAULT_STRATEGIES, Settings
from orchestration.measurement import daily, outcome_horizon_days
from orchestration.measurement.readers import shards_for
from orchestration.quality.recall_audit import audit_outbox
from orchestration.recall import load_strategy_library
from orchestration.runner import run_days
from orchestration.simulator import SimulationConfig, simulate, write_world

pytestmark = pytest.mark.duration(370)  # builds its world through the pipeline: scheduled first
START = date(2026, 1, 1)
WORLD = SimulationConfig(n_users=4000, n_days=70, start_date=START, seed=11, campaign_every_days=10)
LAST = WORLD.end_date
SPLIT = LAST - timedelta(days=1)  # the last two days are also run one by one
# Loaded, not computed: equal to the bit, and the largest tables, compared in DuckDB (pandas took 8 s a snapshot).
LOADED = ["raw_events", "stg_events"]
TABLES = [
    "quarantine_events", "stg_users", "int_user_versions", "stg_recall_touches",
    "int_user_daily_activity", "int_user_recency", "int_user_rolling_activity", "user_daily_labels", "churn_model",
    "user_churn_scores", "user_risk_tiers",
    "recall_actions", "recall_outbox", "recall_outcomes", "recall_metrics",
]


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("world")
    write_world(simulate(WORLD), root / "landing", root / "truth")
    return root


def _run(home: Path, landing: Path, first: date, last: date):
    settings = Settings.under(home, landing=landing / "landing", truth=landing / "truth")
    result = run_days(settings, first, last)
    assert result.success
    return result


def _loaded_rows_differing(a: Path, b: Path) -> dict[str, int]:
    """Per loaded table, the rows one warehouse has that the other has not (as multisets, both ways). Equal tables
    are told in one pass by their row count and the sum of their rows' hashes; the rows are only set against each
    other when those differ."""
    differing = {}
    with duckdb.connect() as con:
        con.execute("set enable_progress_bar = false")
        for name, home in (("a", a), ("b", b)):
            con.execute(f"attach '{home / 'warehouse.duckdb'}' as {name} (read_only)")
        for table in LOADED:
            summary = [con.execute(f"select count(*), sum(hash(r)) from {db}.{table} as r").fetchone() for db in "ab"]
            differing[table] = 0 if summary[0] == summary[1] else con.execute(f"""
                select (select count(*) from (from a.{table} except all from b.{table}))
                     + (select count(*) from (from b.{table} except all from a.{table}))""").fetchone()[0]
    return differing


def _snapshot(home: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return {
            table: con.execute(f"select * from {table}").df().sort_values(
                list(con.execute(f"select * from {table} limit 0").df().columns)
            ).reset_index(drop=True)
            for table in TABLES
        }


@pytest.fixture(scope="module")
def history(tmp_path_factory, landing) -> Path:
    """Every day before SPLIT, materialized as one run (a backfill)."""
    home = tmp_path_factory.mktemp("history")
    _run(home, landing, START, SPLIT - timedelta(days=1))
    return home


@pytest.fixture(scope="module")
def backfill_run(tmp_path_factory, history, landing) -> tuple[Path, dg.ExecuteInProcessResult]:
    """The history, then SPLIT..LAST backfilled as one run (the history's own copy runs them day by day)."""
    home = tmp_path_factory.mktemp("backfill")
    shutil.copy(history / "warehouse.duckdb", home / "warehouse.duckdb")
    shutil.copytree(history / "outbox", home / "outbox")
    return home, _run(home, landing, SPLIT, LAST)


@pytest.fixture(scope="module")
def backfilled(backfill_run) -> Path:
    return backfill_run[0]


def test_the_contracts_pass_on_every_row_they_guard(backfill_run):
    home, result = backfill_run
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    events, outbox = checks["stg_events_contract"], checks["recall_outbox_contract"]
    assert events.passed and outbox.passed
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        accepted = con.execute("select count(*) from stg_events where _landing_date between ? and ?",
                               [SPLIT, LAST]).fetchall()[0][0]
        queued = con.execute("select count(*) from recall_actions where status = 'queued' and action_date "
                             "between ? and ?", [SPLIT, LAST]).fetchall()[0][0]
    assert events.metadata["rows_validated"].value == accepted > 0  # the whole window, not a sample
    assert outbox.metadata["rows_validated"].value == queued > 0


def test_every_dbt_node_reports_its_seconds_to_dagster(backfill_run):
    """dbt's log file keeps warnings and errors only: each model's and test's seconds are Dagster metadata."""
    _, result = backfill_run
    labels = result.asset_materializations_for_node("dbt_daily_models")
    assert labels and all(m.metadata["dbt_seconds"].value >= 0 for m in labels)
    dbt_checks = [e for e in result.get_asset_check_evaluations() if e.check_name.startswith("row_rules")]
    assert dbt_checks and all(e.metadata["dbt_seconds"].value >= 0 for e in dbt_checks)


def test_outputs_have_the_expected_contents(backfilled, landing):
    with duckdb.connect(str(backfilled / "warehouse.duckdb"), read_only=True) as con:
        q = lambda sql, *p: con.execute(sql, list(p)).fetchall()  # noqa: E731
        # Nothing lost or double counted between raw and staging.
        assert q("""select count(*) from (
            select _landing_date, count(*) as n from raw_events group by 1) as r
            left join (select _landing_date, count(*) as n from stg_events group by 1) as s using (_landing_date)
            left join (select _landing_date, count(*) as n from quarantine_events group by 1) as x using (_landing_date)
            where r.n <> coalesce(s.n, 0) + coalesce(x.n, 0)""") == [(0,)]
        reasons = {r for (r,) in q("select distinct reject_reason from quarantine_events")}
        assert "duplicate_event_id" in reasons and len(reasons) >= 3
        # Every user signed up by the last day has a tier that day; churned users exist by then.
        signed_up = q("select count(*) from stg_users where signup_date <= ?", LAST)[0][0]
        stages = dict(q("select lifecycle_stage, count(*) from user_risk_tiers where tier_date = ? group by 1", LAST))
        assert sum(stages.values()) == signed_up and {"active", "at_risk", "dormant_light"} <= set(stages)
        # The outbox never holds a control user, a user without consent, or a user twice a day.
        assert q("select count(*) from recall_outbox o join recall_actions a using (action_id) where a.arm <> 'treatment'") == [(0,)]
        assert q("""select count(*) from recall_outbox o join int_user_versions v on v.user_id = o.user_id
                    and v.valid_from <= o.action_date and (v.valid_to is null or v.valid_to > o.action_date)
                    where (o.channel = 'push' and not v.push_opt_in) or (o.channel = 'sms' and not v.sms_opt_in)""") == [(0,)]
        assert q("select count(*) from (select user_id, action_date from recall_actions group by 1, 2 having count(*) > 1)") == [(0,)]
        audit = audit_outbox(con, START, LAST, load_strategy_library(DEFAULT_STRATEGIES))
        assert audit["outbox_rows"] > 0 and {k: n for k, n in audit.items() if k != "outbox_rows" and n} == {}
        arms = dict(q("select arm, count(*) from recall_actions group by 1"))
        assert arms["control"] > 0 and arms["treatment"] > arms["control"]
        assert (backfilled / "outbox" / f"{LAST}.parquet").is_file() and (backfilled / "outbox" / f"{LAST}.csv").is_file()
        # Campaign metrics: the first campaign is mature by the last day, the last one is not.
        cohorts = q("""select assignment_date, bool_and(is_mature) from recall_metrics
                       where as_of_date = ? and cohort_level = 'campaign' group by 1 order by 1""", LAST)
        assert cohorts[0][1] and not cohorts[-1][1]
        # A cohort of one campaign with two users in each arm has an interval (pooled and sliced cohorts have
        # one per stratum: a channel or a week whose campaigns each hold one user has none).
        assert q("""select count(*) from recall_metrics where arm = 'treatment' and is_mature
                    and cohort_level in ('campaign', 'lifecycle_stage', 'value_tier', 'segment')
                    and control_users >= 2 and users >= 2 and revenue_lift_ci_low is null""") == [(0,)]
    truth = pd.read_parquet(landing / "truth" / "journeys.parquet")
    with duckdb.connect(str(backfilled / "warehouse.duckdb"), read_only=True) as con:
        measured = con.execute("select action_id, arm, woke_up from recall_outcomes where woke_up_mature").df()
    merged = measured.merge(truth, on=["action_id", "arm"])
    expected = merged["y1_woke_up_7d"].where(merged["arm"] == "treatment", merged["y0_woke_up_7d"])
    assert len(merged) > 100 and (merged["woke_up"].astype(bool) == expected.astype(bool)).all()


def test_the_churn_model_takes_over_the_tiers_once_history_allows(backfilled):
    with duckdb.connect(str(backfilled / "warehouse.duckdb"), read_only=True) as con:
        q = lambda sql, *p: con.execute(sql, list(p)).fetchall()  # noqa: E731
        models = dict(q("select model_date, status from churn_model"))
        assert len(models) == WORLD.n_days  # a row per day: the model in force, or why the rules stand in
        assert models[START] == "cold_start" and models[LAST] == "model"
        assert q("select count(*) from churn_model where status = 'cold_start' and reason not like 'cold start:%'") == [(0,)]
        # the tiers use exactly the day's scores: the probability when the model scores, the rules otherwise
        assert q("""select count(*) from user_risk_tiers t left join user_churn_scores s
                    on s.user_id = t.user_id and s.score_date = t.tier_date
                    where t.scored_by <> coalesce(s.scored_by, 'rules')
                       or (t.scored_by = 'model' and t.risk_score <> round(100 * s.churn_probability, 1))
                       or (t.scored_by = 'rules' and t.risk_score <> t.rules_risk_score)""") == [(0,)]
        # the model's at_risk list stays within the volume the preset allows
        shares = q("""select tier_date, avg(case when lifecycle_stage = 'at_risk' then 1.0 else 0 end)
                      from user_risk_tiers where scored_by = 'model' group by 1""")
        assert shares and max(share for _, share in shares) <= 0.05


def test_measured_lift_agrees_with_the_simulators_true_effect(backfilled, landing):
    truth = pd.read_parquet(landing / "truth" / "campaign_effects.parquet")
    truth["assignment_date"] = pd.to_datetime(truth["assignment_date"])
    with duckdb.connect(str(backfilled / "warehouse.duckdb"), read_only=True) as con:
        measured = con.execute("""select * from recall_metrics where as_of_date = ? and arm = 'treatment'
            and cohort_level = 'campaign' and is_mature and users >= 30 and control_users >= 10""", [LAST]).df()
    measured["assignment_date"] = pd.to_datetime(measured["assignment_date"])
    both = measured.merge(truth, on=["assignment_date", "strategy_id"], validate="one_to_one")
    inside = [
        (both[f"{metric}_lift_ci_low"] <= both[true]) & (both[true] <= both[f"{metric}_lift_ci_high"])
        for metric, true in (("wake_up", "true_ate_woke_up_7d"), ("repurchase", "true_ate_repurchased_30d"),
                             ("revenue", "true_ate_revenue_30d"))
    ]
    coverage = pd.concat(inside).mean()
    assert len(both) >= 3 and coverage >= 0.8, f"true effects inside the 95% intervals: {coverage:.0%} of {3 * len(both)}"


def test_measuring_a_shard_of_users_at_a_time_equals_measuring_them_at_once(backfilled, monkeypatch):
    """The measurement of a range by shards of users (its memory bound) writes the same outcomes and computes the
    same metrics as one pass over every journey, and its chunks take every day once, in order."""
    settings = Settings.under(backfilled)
    windows = daily.outcome_windows(settings)
    horizon = outcome_horizon_days(windows["churn_days"])
    design = daily.library_design(load_strategy_library(DEFAULT_STRATEGIES))
    days = [LAST - timedelta(days=k) for k in reversed(range(daily.SHARDED_BLOCK_DAYS + 3))]  # two blocks

    logged: list[str] = []

    def measure() -> tuple[pd.DataFrame, list[list[date]], pd.DataFrame]:
        outcomes, chunks, metrics = [], [], []
        with duckdb.connect(str(settings.warehouse), read_only=True) as con:
            for chunk, rows in daily.measure_days(con, days, horizon, windows, design, write=outcomes.append,
                                                  log=logged.append):
                chunks.append(chunk)
                metrics.append(rows)
        keys = ["as_of_date", "cohort_level", "cohort_value", "assignment_date", "strategy_id", "arm"]
        return (pd.concat(outcomes).sort_values("action_id").reset_index(drop=True), chunks,
                pd.concat(metrics).sort_values(keys).reset_index(drop=True))

    monkeypatch.setattr(daily, "CHUNK_OUTCOMES", 10**9)
    outcomes, chunks, metrics = measure()
    assert chunks == [days] and len(outcomes) > 1000 and logged == []
    monkeypatch.setattr(daily, "SHARD_JOURNEYS", len(outcomes) // 4)
    monkeypatch.setattr(daily, "CHUNK_OUTCOMES", 2 * len(outcomes))
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert shards_for(con, days[0] - timedelta(days=horizon - 1), LAST, daily.SHARD_JOURNEYS) >= 4
    sharded_outcomes, sharded_chunks, sharded_metrics = measure()
    # Every day once, in order, in chunks of about two days' journeys; a block of SHARDED_BLOCK_DAYS starts a chunk.
    assert [day for chunk in sharded_chunks for day in chunk] == days
    starts = [chunk[0] for chunk in sharded_chunks]
    assert 4 <= len(sharded_chunks) < len(days) and days[daily.SHARDED_BLOCK_DAYS] in starts
    assert len(logged) == 2 and all("shard(s) of users" in line for line in logged)
    # Sums over rows read in another order: equal to 1e-9, not to the bit.
    pd.testing.assert_frame_equal(sharded_outcomes, outcomes, rtol=1e-9, atol=1e-9)
    pd.testing.assert_frame_equal(sharded_metrics, metrics, check_exact=False, rtol=1e-9, atol=1e-9)


def test_rematerializing_a_partition_leaves_every_table_identical(backfilled, landing, tmp_path):
    before = _snapshot(backfilled)
    for name in ("warehouse.duckdb", "warehouse.duckdb.wal"):  # closed after a run: a log would be replayed
        if (backfilled / name).exists():
            shutil.copy(backfilled / name, tmp_path / name)
    _run(backfilled, landing, LAST - timedelta(days=1), LAST - timedelta(days=1))
    assert _loaded_rows_differing(tmp_path, backfilled) == {table: 0 for table in LOADED}
    after = _snapshot(backfilled)
    for table in TABLES:
        pd.testing.assert_frame_equal(before[table], after[table], obj=table)


def test_backfill_equals_the_same_days_run_one_by_one(backfilled, history, landing):
    # From the same history, SPLIT..LAST as one range run (backfilled) and as daily runs (history).
    day = SPLIT
    while day <= LAST:
        _run(history, landing, day, day)
        day += timedelta(days=1)
    assert _loaded_rows_differing(history, backfilled) == {table: 0 for table in LOADED}
    one_by_one, backfill = _snapshot(history), _snapshot(backfilled)
    for table in TABLES:
        if table in ("recall_actions", "recall_outbox"):
            continue  # decisions see what had landed by their day; a range run also sees later landings
        # So do the measurements of those decisions: compare what the delivery log alone decides.
        a, b = (_log_only(snapshot, table) for snapshot in (backfill, one_by_one))
        pd.testing.assert_frame_equal(a, b, obj=table)


def _log_only(snapshot: dict[str, pd.DataFrame], table: str) -> pd.DataFrame:
    """The rows of a table that do not depend on the pipeline's own decisions."""
    frame = snapshot[table]
    own = set(snapshot["recall_actions"]["strategy_id"].dropna())
    if table == "recall_outcomes":
        frame = frame[frame["source"] == "delivery_log"]
    elif table == "recall_metrics":
        frame = frame[~frame["strategy_id"].isin(own | {"all"})]
    return frame.reset_index(drop=True)


def test_no_personal_data_in_the_main_schema(backfilled):
    """Nicknames, phones and rendered messages live only in the restricted schema."""
    with duckdb.connect(str(backfilled / "warehouse.duckdb"), read_only=True) as con:
        q = lambda sql, *p: con.execute(sql, list(p)).fetchall()  # noqa: E731
        assert q("select count(*) from restricted.recall_messages")[0][0] > 0
        assert q("select count(nickname), count(phone) from restricted.user_contacts")[0][0] > 0
        columns = q("""select table_name, column_name, data_type from information_schema.columns
                       where table_schema = 'main'""")
        con.register("personal", con.execute("""
            select distinct value from restricted.raw_users, unnest([nickname, phone]) as t(value)
            where value is not null and length(value) >= 4""").df())
        assert not {c for _, c, _ in columns} & {"nickname", "phone", "message"}
        for table, column, kind in columns:
            if kind != "VARCHAR":
                continue
            exact = q(f'select count(*) from main."{table}" where "{column}" in (select value from personal)')[0][0]
            assert exact == 0, f"personal data in main.{table}.{column}"
        for table in ("recall_actions", "recall_outbox"):
            for _, column, kind in [c for c in columns if c[0] == table and c[2] == "VARCHAR"]:
                # A rendered message names its user as a word: split the text into words and look them up
                # (a join on words, not one regular expression of every nickname run over every row).
                found = q(f"""select count(*) from (
                                  select unnest(regexp_split_to_array("{column}", '[^A-Za-z0-9_+]+')) as word
                                  from {table}) where word in (select value from personal)""")[0][0]
                assert found == 0, f"a nickname inside {table}.{column}"
    outbox = pd.read_parquet(backfilled / "outbox" / f"{LAST}.parquet")
    assert "message" in outbox.columns and outbox["message"].notna().all()  # delivery still gets its text
