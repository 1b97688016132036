"""Connections to the warehouse: created on demand, with the configured DuckDB memory limit; reading a query as a frame."""

import duckdb
import pandas as pd

from orchestration.warehouse import connect
from orchestration.warehouse.io import read_frame


def test_connection_creates_the_file_and_applies_the_memory_limit(tmp_path):
    path = tmp_path / "nested" / "warehouse.duckdb"
    with connect(path, memory_limit="512MB") as con:
        limit = con.execute("select current_setting('memory_limit')").fetchall()[0][0]
    assert path.is_file() and limit == "488.2 MiB"  # 512 MB in MiB


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
