"""The engine interface the Python steps read the dbt layer's days through: the DuckDB engine's slices
(days, columns, users), its guards, the setting that picks the engine, and the frames the steps get.
The Spark engine is checked against this one in tests/test_spark.py (slow, needs Java)."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from orchestration.config import Settings
from orchestration.warehouse.engine import DuckDBEngine, engine_for, read_day
from orchestration.warehouse.io import as_frame


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create table int_user_daily_activity (user_id varchar, activity_date date, events integer, "
                "first_event_at timestamp)")
    con.execute("""insert into int_user_daily_activity values
        ('u1', '2026-01-01', 3, '2026-01-01 08:00'), ('u1', '2026-01-02', 1, '2026-01-02 09:00'),
        ('u2', '2026-01-02', 5, '2026-01-02 10:00'), ('u3', '2026-01-04', 2, '2026-01-04 11:00')""")
    yield con
    con.close()


def test_a_day_is_the_rows_of_that_day_only(con):
    rows = read_day(DuckDBEngine(con), "int_user_daily_activity", date(2026, 1, 2)).to_pylist()
    assert sorted((r["user_id"], r["events"]) for r in rows) == [("u1", 1), ("u2", 5)]
    assert rows[0]["first_event_at"].tzinfo is None  # naive UTC, as the dbt tables hold them


def test_a_range_is_inclusive_and_selects_columns_and_users(con):
    rows = DuckDBEngine(con).read_days("int_user_daily_activity", date(2026, 1, 1), date(2026, 1, 4),
                                       ["user_id", "activity_date"], user_ids=["u1", "u3"])
    assert rows.column_names == ["user_id", "activity_date"]
    assert sorted(rows.to_pylist(), key=lambda r: (r["user_id"], r["activity_date"])) == [
        {"user_id": "u1", "activity_date": date(2026, 1, 1)}, {"user_id": "u1", "activity_date": date(2026, 1, 2)},
        {"user_id": "u3", "activity_date": date(2026, 1, 4)}]
    assert DuckDBEngine(con).read_days("int_user_daily_activity", date(2026, 1, 1), date(2026, 1, 4),
                                       user_ids=[]).num_rows == 0



def test_rows_can_be_kept_by_the_values_of_columns(con):
    rows = DuckDBEngine(con).read_days("int_user_daily_activity", date(2026, 1, 1), date(2026, 1, 4), ["events"],
                                       user_ids=["u1", "u2"], equals={"activity_date": "2026-01-02", "user_id": "u2"})
    assert rows.to_pylist() == [{"events": 5}]
    with pytest.raises(ValueError, match="not a column name"):
        DuckDBEngine(con).read_days("int_user_daily_activity", date(2026, 1, 1), date(2026, 1, 4),
                                    equals={"1 = 1 or user_id": "u1"})


def test_rows_can_be_kept_where_some_column_is_not_zero(con):
    con.execute("alter table int_user_daily_activity add column orders integer")
    con.execute("update int_user_daily_activity set orders = case user_id when 'u2' then 1 when 'u3' then null else 0 end")
    engine = DuckDBEngine(con)
    rows = engine.read_days("int_user_daily_activity", date(2026, 1, 1), date(2026, 1, 4), ["user_id"],
                            nonzero=["orders"])
    assert rows.to_pylist() == [{"user_id": "u2"}]  # zero and null are both "nothing"
    either = engine.read_days("int_user_daily_activity", date(2026, 1, 1), date(2026, 1, 4), ["user_id"],
                              nonzero=["orders", "events"])
    assert either.num_rows == 4
    with pytest.raises(ValueError, match="not a column name"):
        engine.read_days("int_user_daily_activity", date(2026, 1, 1), date(2026, 1, 4), nonzero=["1 = 1 or events"])


def test_unknown_tables_and_odd_column_names_are_refused(con):
    with pytest.raises(ValueError, match="no day column known for table 'recall_actions'"):
        read_day(DuckDBEngine(con), "recall_actions", date(2026, 1, 1))
    with pytest.raises(ValueError, match="not a column name"):
        read_day(DuckDBEngine(con), "int_user_daily_activity", date(2026, 1, 1), ["events; drop table x"])


def test_frames_have_the_dtypes_duckdb_gives_the_steps(con):
    through_engine = as_frame(read_day(DuckDBEngine(con), "int_user_daily_activity", date(2026, 1, 2)))
    direct = con.execute("select * from int_user_daily_activity where activity_date = '2026-01-02'").df()
    assert through_engine.dtypes.to_dict() == direct.dtypes.to_dict()
    assert through_engine.sort_values("user_id").reset_index(drop=True).equals(direct.sort_values("user_id").reset_index(drop=True))
    assert through_engine["first_event_at"].max() == datetime(2026, 1, 2, 10)


def test_the_engine_is_a_setting_duckdb_by_default(con, tmp_path):
    assert Settings.from_env({}).engine == "duckdb"
    assert isinstance(engine_for(Settings.under(tmp_path), con), DuckDBEngine)
    assert Settings.from_env({"CHURN_RECALL_ENGINE": " Spark "}).engine == "spark"
    with pytest.raises(SystemExit, match="engine"):
        Settings.from_env({"CHURN_RECALL_ENGINE": "bigquery"})
