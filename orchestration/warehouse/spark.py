"""Apache Spark as the warehouse engine (the optional `spark` extra): a session configured the way the
dbt project expects (UTC), and the raw feeds copied from the DuckDB warehouse, where Python ingestion
lands them, into Spark tables of the same schema and name, so that the dbt project (target `spark`)
reads the same rows. pyspark is imported here only: the default install does not need it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from orchestration.ingestion.contract import FEEDS

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MISSING = "Spark needs the `spark` extra (pip install -e '.[spark]': pyspark, dbt-spark) and Java 17+"


def spark_available() -> str | None:
    """None when pyspark and a Java runtime are present, else what is missing."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return f"pyspark is not installed: {MISSING}"
    if shutil.which("java") is None:
        return f"no `java` on PATH: {MISSING}"
    return None


def local_session(warehouse_dir: Path, cores: int = 2) -> SparkSession:
    """A local SparkSession whose tables live under `warehouse_dir` (the in-memory catalog of this
    process): what dbt-spark's `session` method then finds and uses."""
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("churn-recall")
        .config("spark.sql.warehouse.dir", str(warehouse_dir))
        .config("spark.sql.session.timeZone", "UTC")     # the project's timestamps are UTC
        .config("spark.sql.shuffle.partitions", str(2 * cores))  # small data: few tasks
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )


def copy_raw_feeds(con: duckdb.DuckDBPyConnection, spark: SparkSession) -> dict[str, int]:
    """Replace every raw feed table in Spark (`main.raw_events`, `restricted.raw_users`, ...) by the
    DuckDB warehouse's rows, through Arrow; returns the rows copied per table."""
    copied: dict[str, int] = {}
    for feed in FEEDS.values():
        rows = con.sql(f"select * from {feed.qualified_table}").to_arrow_table()
        spark.sql(f"create database if not exists {feed.schema}")
        spark.createDataFrame(rows).write.mode("overwrite").format("parquet").saveAsTable(feed.qualified_table)
        copied[feed.qualified_table] = rows.num_rows
    return copied
