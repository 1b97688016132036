"""Small DuckDB helpers shared by the Python assets: replace a day's rows of a table by a frame."""

from __future__ import annotations

import duckdb
import pandas as pd


def replace_rows(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, where: str, params: list) -> int:
    """Delete the rows matching `where`, then append `frame` (creating the table from it if needed)."""
    con.register("incoming_frame", frame)
    try:
        con.execute(f"create table if not exists {table} as select * from incoming_frame limit 0")
        con.execute("begin transaction")
        con.execute(f"delete from {table} where {where}", params)
        con.execute(f"insert into {table} by name select * from incoming_frame")
        con.execute("commit")
    finally:
        con.unregister("incoming_frame")
    return len(frame)


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    query = "select count(*) from information_schema.tables where table_name = ?"
    return bool(con.execute(query, [table]).fetchone()[0])
