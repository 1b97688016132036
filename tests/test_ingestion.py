"""Landing files of every format load into raw tables; re-loading a day replaces it."""

from datetime import date

import duckdb
import pandas as pd
import pytest

from orchestration.ingestion import load_landing_day

DAY = date(2026, 1, 5)


def _events(n: int) -> pd.DataFrame:
    return pd.DataFrame({
        "event_id": [f"e{i}" for i in range(n)],
        "user_id": ["u1"] * n,
        "event_name": ["app_open"] * n,
        "event_time": pd.to_datetime(["2026-01-05 08:00:00"] * n),
        "received_at": pd.to_datetime(["2026-01-05 08:00:01"] * n),
        "properties": ['{"amount": 1}'] * n,
        "extra": [1] * n,
    })


@pytest.mark.parametrize("suffix", ["parquet", "csv", "jsonl"])
def test_each_format_loads_as_varchar_with_lineage(tmp_path, suffix):
    folder = tmp_path / DAY.isoformat()
    folder.mkdir()
    frame = _events(3)
    path = folder / f"events.{suffix}"
    if suffix == "parquet":
        frame.to_parquet(path)
    elif suffix == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.astype(str).to_json(path, orient="records", lines=True)
    con = duckdb.connect()
    result = load_landing_day(con, "events", DAY, tmp_path)
    assert result.rows == 3 and result.missing_columns == []
    rows = con.execute("select event_id, event_time, _landing_date, _source_file, _row_number from raw_events order by _row_number").fetchall()
    assert [r[0] for r in rows] == ["e0", "e1", "e2"]
    assert rows[0][1].startswith("2026-01-05 08:00:00")
    assert rows[0][2] == DAY and rows[0][3] == f"{DAY}/events.{suffix}" and [r[4] for r in rows] == [1, 2, 3]
    types = {name: kind for name, kind in con.execute("select column_name, data_type from information_schema.columns where table_name = 'raw_events'").fetchall()}
    assert types["event_time"] == "VARCHAR" and "extra" not in types


def test_reload_replaces_the_day_and_missing_columns_are_null(tmp_path):
    folder = tmp_path / DAY.isoformat()
    folder.mkdir()
    _events(5).drop(columns=["properties"]).to_parquet(folder / "events.parquet")
    con = duckdb.connect()
    first = load_landing_day(con, "events", DAY, tmp_path)
    again = load_landing_day(con, "events", DAY, tmp_path)
    assert first.rows == again.rows == 5 and again.missing_columns == ["properties"]
    assert con.execute("select count(*), count(properties) from raw_events").fetchall()[0] == (5, 0)


def test_day_without_file_is_empty_not_an_error(tmp_path):
    con = duckdb.connect()
    result = load_landing_day(con, "users", DAY, tmp_path)
    assert result.rows == 0 and result.source_file is None
    assert con.execute("select count(*) from raw_users").fetchall()[0][0] == 0


def test_unknown_feed_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown feed 'orders'"):
        load_landing_day(duckdb.connect(), "orders", DAY, tmp_path)
