"""Which loaded landing days the daily dbt models have staged, so a run resumes what a failed run left.

Ingestion and dbt are separate steps: when a run loads raw days and then fails before its dbt step
succeeds, those days are loaded but not staged. `raw_landing_log.staged_at` stays null for them
until a dbt step covering them succeeds; the next run's dbt step starts its window at the earliest
such day (and says so), so the raw layer and the models agree again whatever day that run is for.
"""

from __future__ import annotations

from datetime import date

import duckdb

from orchestration.ingestion.landing import LOG_TABLE
from orchestration.warehouse.io import table_exists


def first_unstaged_day(con: duckdb.DuckDBPyConnection, before: date) -> date | None:
    """The earliest landing day before `before` whose load no successful dbt step has staged yet."""
    if not table_exists(con, LOG_TABLE):
        return None
    return con.execute(
        f"select min(landing_date) from {LOG_TABLE} where status = 'loaded' and staged_at is null and landing_date < ?",
        [before]).fetchall()[0][0]


def mark_staged(con: duckdb.DuckDBPyConnection, first: date, end: date) -> None:
    """Record that the landing days [first, end) are staged as loaded."""
    if table_exists(con, LOG_TABLE):
        con.execute(f"update {LOG_TABLE} set staged_at = current_timestamp "
                    "where landing_date >= ? and landing_date < ? and staged_at is null", [first, end])
