"""Where the Python steps read the dbt layer's days from: one interface, two engines. DuckDB (the
warehouse file, the default) or Apache Spark (settings.engine = "spark": the tables dbt built with
its `spark` target, read through the active SparkSession). Either returns Arrow; `warehouse.io.as_frame` turns
it into the pandas frame the steps have always received from DuckDB. The tables the Python steps write
(recall_actions, segments, ...) stay in the DuckDB warehouse either way."""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping, Sequence
from datetime import date
from functools import reduce
from typing import TYPE_CHECKING, Protocol

import duckdb
import pyarrow as pa

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from orchestration.config import Settings

# The business-day column of each dbt table the Python steps read by day.
DAY_COLUMNS: dict[str, str] = {
    "user_risk_tiers": "tier_date",
    "user_daily_labels": "label_date",
    "int_user_daily_activity": "activity_date",
    "stg_events": "event_date",
}
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class Engine(Protocol):
    """Reads the rows of a dbt table for a range of business days."""

    def read_days(self, table: str, first: date, last: date, columns: Sequence[str] | None = None,
                  user_ids: Sequence[str] | None = None, equals: Mapping[str, str] | None = None,
                  nonzero: Sequence[str] | None = None) -> pa.Table:
        """Rows whose day (DAY_COLUMNS) is in [first, last], only `columns` (all by default), only the
        users of `user_ids` when given, only rows whose columns hold the values of `equals` and, with `nonzero`,
        only rows where one of those columns is neither zero nor null (filtered where the rows are, not after the
        transfer). Instants are naive UTC timestamps on every engine."""
        ...


def read_day(engine: Engine, table: str, day: date, columns: Sequence[str] | None = None) -> pa.Table:
    """One business day's slice of `table`."""
    return engine.read_days(table, day, day, columns)


def _checked(table: str, columns: Sequence[str] | None, equals: Mapping[str, str] | None = None,
             nonzero: Sequence[str] | None = None) -> tuple[str, list[str] | None]:
    if table not in DAY_COLUMNS:
        raise ValueError(f"no day column known for table {table!r}: add it to engine.DAY_COLUMNS")
    for name in [*(columns or []), *(equals or {}), *(nonzero or [])]:
        if not _NAME.match(name):
            raise ValueError(f"not a column name: {name!r}")
    return DAY_COLUMNS[table], list(columns) if columns else None


class DuckDBEngine:
    """The warehouse's own DuckDB connection (the dbt `dev` target's tables)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def read_days(self, table: str, first: date, last: date, columns: Sequence[str] | None = None,
                  user_ids: Sequence[str] | None = None, equals: Mapping[str, str] | None = None,
                  nonzero: Sequence[str] | None = None) -> pa.Table:
        day_column, selected = _checked(table, columns, equals, nonzero)
        sql = f"select {', '.join(selected) if selected else '*'} from {table} where {day_column} between ? and ?"
        sql += "".join(f" and {column} = ?" for column in equals or {})
        if nonzero:
            sql += f" and ({' or '.join(f'{column} <> 0' for column in nonzero)})"
        params = [first, last, *(equals or {}).values()]
        if user_ids is None:
            return self.con.sql(sql, params=params).to_arrow_table()
        self.con.register("engine_users", pa.table({"user_id": pa.array(list(user_ids), pa.string())}))
        try:
            return self.con.sql(f"{sql} and user_id in (select user_id from engine_users)",
                                params=params).to_arrow_table()
        finally:
            self.con.unregister("engine_users")


class SparkEngine:
    """Tables of a Spark catalog (schema `main` of the dbt `spark` target) through a SparkSession."""

    def __init__(self, session: SparkSession, schema: str = "main") -> None:
        self.session = session
        self.schema = schema

    def read_days(self, table: str, first: date, last: date, columns: Sequence[str] | None = None,
                  user_ids: Sequence[str] | None = None, equals: Mapping[str, str] | None = None,
                  nonzero: Sequence[str] | None = None) -> pa.Table:
        from pyspark.sql import functions as F

        day_column, selected = _checked(table, columns, equals, nonzero)
        frame = self.session.table(f"{self.schema}.{table}").where(F.col(day_column).between(first, last))
        for column, value in (equals or {}).items():
            frame = frame.where(F.col(column) == value)
        if nonzero:
            frame = frame.where(reduce(operator.or_, [F.col(column) != 0 for column in nonzero]))
        if user_ids is not None:
            users = self.session.createDataFrame([(u,) for u in dict.fromkeys(user_ids)], "user_id string")
            frame = frame.join(F.broadcast(users), "user_id", "left_semi")
        if selected:
            frame = frame.select(*selected)
        return _naive_utc(frame.toArrow())


def _naive_utc(table: pa.Table) -> pa.Table:
    """Spark hands instants out zoned; DuckDB's dbt tables hold naive UTC ones (Arrow keeps instants
    as UTC epoch values, so dropping the zone leaves the UTC wall time)."""
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            table = table.set_column(i, field.name, table.column(i).cast(pa.timestamp(field.type.unit)))
    return table


def engine_for(settings: Settings, con: duckdb.DuckDBPyConnection) -> Engine:
    """The configured engine: DuckDB on the warehouse connection, or Spark on the active session
    (spark-submit, Spark Connect or a local session: SparkSession.builder.getOrCreate())."""
    if settings.engine == "duckdb":
        return DuckDBEngine(con)
    from orchestration.warehouse.spark import spark_available

    missing = spark_available()
    if missing:
        raise RuntimeError(f"settings.engine is 'spark' but {missing}")
    from pyspark.sql import SparkSession

    return SparkEngine(SparkSession.builder.getOrCreate())
