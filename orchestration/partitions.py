"""The one daily partition set shared by every partitioned asset, and its backfill policy."""

from __future__ import annotations

from datetime import date, timedelta

from dagster import BackfillPolicy, DailyPartitionsDefinition, TimeWindow

from orchestration.settings import Settings

daily_partitions = DailyPartitionsDefinition(start_date=Settings.from_env().start_date.isoformat())

# A backfill of a range is one run: dbt processes the whole window at once and the Python assets
# walk its days in order, which gives the same tables as running the days one by one.
single_run = BackfillPolicy.single_run()

# DuckDB has one writer: every asset that writes the warehouse takes a slot in this pool.
WAREHOUSE_POOL = "duckdb_warehouse"


def window_days(window: TimeWindow) -> list[date]:
    """Business days in a partition window [start, end), oldest first."""
    first, end = window.start.date(), window.end.date()
    return [first + timedelta(days=offset) for offset in range((end - first).days)]


def with_lookback(days: list[date], lookback_days: int) -> list[date]:
    """The days plus the `lookback_days` before them, never before the first partition."""
    first_partition = date.fromisoformat(daily_partitions.start.strftime("%Y-%m-%d"))
    start = max(days[0] - timedelta(days=lookback_days), first_partition)
    return [start + timedelta(days=offset) for offset in range((days[-1] - start).days + 1)]
