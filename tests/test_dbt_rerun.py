"""A day run again after later days landed computes what it computed the first time: its activity, labels and
tiers count only what had landed by its end (the planner reads those tiers, so a re-run plans the same). A later
day's run still brings a late event into the days of its lookback."""

from __future__ import annotations

import json
from datetime import timedelta

import duckdb

from tests.test_dbt_models import INCREMENTAL_DAYS, LABEL_MODELS, SHORT_RULES, connect, day, generated_world, load_days, run_dbt

MODELS = ["base_events", "stg_events", "quarantine_events", "base_users", "stg_users", "quarantine_users",
          "int_user_daily_activity", "int_user_session_streaks", *LABEL_MODELS, "user_risk_tiers"]
# (table, day column): what a run of day 7 writes for day 7 (and day 6, its lookback day).
WRITTEN = [("int_user_daily_activity", "activity_date"), ("int_user_session_streaks", "activity_date"),
           ("user_daily_labels", "label_date"), ("user_risk_tiers", "tier_date")]


def _run_days(warehouse, work, first: int, last: int) -> None:
    window = {"min_date": day(first).isoformat(), "max_date": (day(last) + timedelta(days=1)).isoformat()}
    run_dbt(["run", "--select", *MODELS, "--vars", json.dumps({**SHORT_RULES, **window})], warehouse, work)


def _rows(warehouse, table: str, column: str, first: int, last: int) -> list[tuple]:
    with connect(warehouse) as con:
        rows = con.sql(f"select * from {table} where {column} between ? and ?", params=[day(first), day(last)]).to_arrow_table()
    with duckdb.connect() as con:
        con.register("rows", rows)
        return sorted(con.execute("select * from rows").fetchall(), key=repr)


def test_a_day_run_again_counts_only_what_had_landed_by_its_end(tmp_path) -> None:
    world = generated_world()
    warehouse = tmp_path / "warehouse.duckdb"
    load_days(warehouse, world, [])
    run_dbt(["seed"], warehouse, tmp_path)
    load_days(warehouse, world, [day(n) for n in range(1, 7)])
    _run_days(warehouse, tmp_path, 1, 6)  # the history as one backfill
    load_days(warehouse, world, [day(7)])
    _run_days(warehouse, tmp_path, 7, 7)
    first_run = {table: _rows(warehouse, table, column, 6, 7) for table, column in WRITTEN}
    # Day 8 lands g3's late session of day 7: day 8's lookback counts it on day 7.
    assert INCREMENTAL_DAYS >= 8
    load_days(warehouse, world, [day(8)])
    _run_days(warehouse, tmp_path, 8, 8)
    late = "select count(*) from int_user_daily_activity where user_id = 'g3' and activity_date = ?"
    with connect(warehouse) as con:
        assert con.execute(late, [day(7)]).fetchall()[0][0] == 1
    assert _rows(warehouse, "int_user_session_streaks", "activity_date", 6, 7) != first_run["int_user_session_streaks"]
    # Day 7 again: what its first run computed, not what day 8 taught.
    _run_days(warehouse, tmp_path, 7, 7)
    for table, column in WRITTEN:
        assert _rows(warehouse, table, column, 6, 7) == first_run[table], table
