"""Connections to the warehouse: created on demand, with the configured DuckDB memory limit; reading a query as a frame."""

from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.warehouse import connect
from orchestration.warehouse.connection import lowered_memory_limit
from orchestration.warehouse.io import read_frame, replace_rows


def test_connection_creates_the_file_and_applies_the_memory_limit(tmp_path):
    path = tmp_path / "nested" / "warehouse.duckdb"
    with connect(path, memory_limit="512MB") as con:
        limit = con.execute("select current_setting('memory_limit')").fetchall()[0][0]
    assert path.is_file() and limit == "488.2 MiB"  # 512 MB in MiB


def test_a_lowered_memory_limit_evicts_cached_blocks_and_is_restored_even_after_an_error(tmp_path):
    """The whole database, every cursor of it, works under the lowered limit; its cache shrinks at once."""
    def limit(con):
        return con.execute("select current_setting('memory_limit')").fetchall()[0][0]

    def cached_mib(con):
        return con.execute("select sum(memory_usage_bytes) / 2^20 from duckdb_memory()").fetchall()[0][0]

    with connect(tmp_path / "warehouse.duckdb", memory_limit="1GB") as con:
        con.execute("create table facts as select range as id, random() as value from range(20000000)")
        con.execute("select sum(value) from facts").fetchall()
        assert cached_mib(con) > 100
        with pytest.raises(ZeroDivisionError), lowered_memory_limit(con, "64MB", "1GB"):
            with con.cursor() as other:
                assert limit(other) == "61.0 MiB"
            assert cached_mib(con) <= 64
            1 / 0
        assert limit(con) == "953.6 MiB"


def test_per_day_writes_are_not_checkpointed_every_16_mb(tmp_path):
    """A backfill's per-day writes wait for 256 MB of log before a checkpoint (connection.WAL_AUTOCHECKPOINT), not
    DuckDB's 16 MB: twelve writes of about 1.6 MB each leave their log in place."""
    path = tmp_path / "warehouse.duckdb"
    with connect(path) as con:
        assert con.execute("select current_setting('wal_autocheckpoint')").fetchall()[0][0] == "244.1 MiB"
        con.execute("create table facts (id bigint, value double, label varchar)")
        for day in range(12):
            con.execute("insert into facts select range, range * 1.5, 'label ' || range from range(?, ?)",
                        [day * 50_000, (day + 1) * 50_000])
        log = path.with_name(path.name + ".wal")
        assert log.is_file() and log.stat().st_size > 16 * 2**20


def test_read_frame_types_a_result_as_duckdb_does() -> None:
    """The Arrow read gives the frame `.df()` gives, typed the same: text with and without nulls, text all null,
    integers and booleans with and without nulls, decimals, dates, times, an empty result and nested types."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute("""
        create table mixed as select * from (values
            ('a', null::varchar, 1::int, null::int, 2::bigint, date '2026-01-02', timestamptz '2026-01-02 03:04:05+00',
             true, null::boolean, 1.5::double, 3::tinyint, 1.25::decimal(10, 2), null::date, [1, 2]),
            (null, null, 2, 5, null, null, null, false, true, null, null, null, null, null)
        ) as rows(text, text_null, whole, whole_null, big, day, moment, flag, flag_null, amount, small, price, no_day, items)
    """)
    for sql, params in (("select * exclude (items) from mixed where whole >= ?", [0]),
                        ("select * exclude (items) from mixed where whole < $low", {"low": 0}),
                        ("select * from mixed", None)):
        pd.testing.assert_frame_equal(read_frame(con, sql, params), con.execute(sql, params).df())


def test_replace_rows_lands_a_frame_as_duckdb_reads_it_and_one_arrow_cannot_convert() -> None:
    """The frame goes to DuckDB as Arrow: NaN and missing text land as null, dates as dates, and only the slice
    `where` names is replaced. A column Arrow cannot convert (mixed Python objects) still lands, through DuckDB's
    own pandas scan, with the values it would have read."""
    con = duckdb.connect()
    day, other = date(2026, 4, 9), date(2026, 4, 8)
    frame = pd.DataFrame({
        "user_id": pd.array(["u1", "u2"], dtype="string"), "score_date": pd.to_datetime([day, day]),
        "churn_probability": [0.25, np.nan], "horizon_days": [30, 30],
        "model_version": pd.array(["v1", None], dtype="string"), "scored_by": ["model", "rules"],
        "score_reason": ["fitted", None],
    })
    replace_rows(con, "user_churn_scores", frame.assign(score_date=pd.to_datetime([other, other])), "true", [])
    assert replace_rows(con, "user_churn_scores", frame, "score_date = ?", [day]) == 2
    replace_rows(con, "user_churn_scores", frame, "score_date = ?", [day])  # replaced, not appended
    rows = con.execute("select user_id, score_date, churn_probability, model_version, score_reason "
                       "from user_churn_scores where score_date = ? order by user_id", [day]).fetchall()
    assert rows == [("u1", day, 0.25, "v1", "fitted"), ("u2", day, None, None, None)]
    assert con.execute("select count(*) from user_churn_scores where score_date = ?", [other]).fetchall() == [(2,)]

    mixed = frame.assign(score_reason=pd.Series([7, "text"], dtype=object))  # Arrow refuses int next to str
    replace_rows(con, "user_churn_scores", mixed, "score_date = ?", [day])
    reasons = con.execute("select score_reason from user_churn_scores where score_date = ? order by user_id",
                          [day]).fetchall()
    assert reasons == [("7",), ("text",)]
