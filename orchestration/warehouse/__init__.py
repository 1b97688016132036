"""The warehouse's Python-written tables: their documented schemas and how a step replaces its slice."""

from orchestration.warehouse.connection import connect
from orchestration.warehouse.io import replace_rows, table_exists
from orchestration.warehouse.tables import TABLES, Column, create_table_sql

__all__ = ["TABLES", "Column", "connect", "create_table_sql", "replace_rows", "table_exists"]
