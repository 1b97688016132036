"""DuckDB helpers shared by the Python assets: replace a slice of a documented table by a frame."""

import duckdb
import pandas as pd
from dagster import TableColumn, TableSchema

from orchestration.tables import TABLES, create_table_sql


def replace_rows(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, where: str, params: list) -> int:
    """Delete the rows matching `where`, then append `frame`, in one transaction."""
    con.execute(create_table_sql(table))
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
    query = "select count(*) from information_schema.tables where table_name = ?"
    return bool(con.execute(query, [table]).fetchall()[0][0])


def table_metadata(table: str) -> dict:
    """Asset definition metadata: the table's documented columns, shown in the Dagster UI."""
    _, columns = TABLES[table]
    return {"dagster/column_schema": TableSchema(columns=[TableColumn(c.name, c.type, c.description) for c in columns])}


def table_description(table: str) -> str:
    return TABLES[table][0]
