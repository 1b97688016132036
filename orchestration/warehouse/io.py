"""Writing the Python steps' tables: replace one slice of a documented table by a frame, atomically."""

from __future__ import annotations

import duckdb
import pandas as pd

from orchestration.warehouse.tables import TABLES, create_table_sql


def replace_rows(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, where: str, params: list) -> int:
    """Delete the rows matching `where`, then append `frame`, in one transaction. A table created before a column
    was documented gets the column first (null in its older rows)."""
    con.execute(create_table_sql(table))
    present = {row[0] for row in con.execute(f"describe {table}").fetchall()}
    for column in TABLES[table][1]:
        if column.name not in present:
            con.execute(f"alter table {table} add column {column.name} {column.type}")
    con.register("incoming_frame", frame)
    try:
        con.execute("begin transaction")
        con.execute(f"delete from {table} where {where}", params)
        con.execute(f"insert into {table} by name select * from incoming_frame")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("incoming_frame")
    return len(frame)


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether `table` (`name`, or `schema.name`; main by default) exists."""
    schema, _, name = table.rpartition(".")
    query = "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
    return bool(con.execute(query, [schema or "main", name]).fetchall()[0][0])
