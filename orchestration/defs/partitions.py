"""The one daily partition set (the business day), its backfill policy, and the window of days a run
processes, read from the run's context in one place."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import dagster as dg
import duckdb

from orchestration.config import Settings
from orchestration.ingestion.late_data import earliest_landed_day, lookback_days
from orchestration.warehouse.chunks import plan_chunks, user_day_budget, users_by_day

# A backfill of a range is one run: dbt processes the whole window at once and the Python assets
# walk its days in order, which gives the same tables as running the days one by one.
SINGLE_RUN = dg.BackfillPolicy.single_run()

# DuckDB has one writer: every asset that writes the warehouse takes a slot in this pool.
WAREHOUSE_POOL = "duckdb_warehouse"

# The run's partitions, as Dagster tags them: a range (backfills, the command line) or one day (the schedule).
RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")
PARTITION_TAG = "dagster/partition"


def tagged_partitions(tags: dict[str, str]) -> tuple[str, str] | None:
    """The first and last partition keys of a run, from its tags; None for a run without partitions."""
    first, last = (tags.get(RANGE_TAGS[0]), tags.get(RANGE_TAGS[1])) if RANGE_TAGS[0] in tags else (
        tags.get(PARTITION_TAG), tags.get(PARTITION_TAG))
    return (first, last) if first and last else None


def daily_partitions(start_date: date) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(start_date=start_date.isoformat())


@dataclass(frozen=True)
class DayWindow:
    """The business days a run processes, [first, last], with the late-data lookback before them
    (never before the first partition)."""

    first: date
    last: date
    lookback_days: int
    first_partition: date

    @property
    def days(self) -> list[date]:
        return _days(self.first, self.last)

    @property
    def end(self) -> date:
        """The exclusive end of the window (the day after `last`)."""
        return self.last + timedelta(days=1)

    @property
    def lookback_start(self) -> date:
        return max(self.first - timedelta(days=self.lookback_days), self.first_partition)

    def with_lookback(self) -> list[date]:
        """The days plus the lookback days before them, oldest first."""
        return _days(self.lookback_start, self.last)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def day_window(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext, settings: Settings) -> DayWindow:
    """The partition window of the running step as business days, with the settings' lookback."""
    window = context.partition_time_window
    return DayWindow(
        first=window.start.date(),
        last=window.end.date() - timedelta(days=1),
        lookback_days=settings.lookback_days,
        first_partition=settings.start_date,
    )


def late_data_window(window: DayWindow, con: duckdb.DuckDBPyConnection, settings: Settings,
                     first: date | None = None) -> DayWindow:
    """`window` (from `first`, when a run resumes earlier days) with only the lookback its landed rows need: back to
    the earliest day they are dated, at most the configured lookback (orchestration/ingestion/late_data.py). The
    daily dbt models and every step after them that recomputes earlier days use it, so they recompute the same days."""
    from orchestration.defs.dbt.project import dbt_project_var

    first = first or window.first
    timezone = settings.dbt_rule_vars().get("business_timezone") or dbt_project_var("business_timezone")
    lookback = lookback_days(first, earliest_landed_day(con, first, window.end), settings.lookback_days, timezone)
    return replace(window, first=first, lookback_days=lookback)


# The daily dbt models' materializations carry the earlier day a run resumed from (landing days a failed run left
# unstaged, orphaned events whose user landed, vanished users): the later steps that recompute earlier days read it.
RESUMED_FROM = "resumed_from"
LABELS = dg.AssetKey("user_daily_labels")


def resumed_from(context: dg.AssetExecutionContext) -> date | None:
    """The earlier day this run's daily dbt models staged and labelled again from (None: the run's own window), as
    they recorded it: the churn scores, the risk tiers and the BI snapshot recompute the same days."""
    event = context.instance.get_latest_materialization_event(LABELS)
    if event is None or event.run_id != context.run_id or event.asset_materialization is None:
        return None
    value = event.asset_materialization.metadata.get(RESUMED_FROM)
    return date.fromisoformat(value.value) if value is not None else None


def recomputed_window(context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection,
                      settings: Settings) -> DayWindow:
    """The days this run's daily dbt models recomputed: its window from the day it resumed from, with the lookback
    its landed rows need (late_data_window)."""
    return late_data_window(day_window(context, settings), con, settings, first=resumed_from(context))


def dbt_chunks(window: DayWindow, con: duckdb.DuckDBPyConnection, settings: Settings,
               first: date | None = None) -> list[DayWindow]:
    """`window` (from `first`) as the consecutive late-data windows that dbt runs one after the other, each within
    the user-days the memory limit holds (or `dbt_chunk_user_days`): one window for a day or a short range. Each
    chunk takes the lookback its own landed rows need, as the same days run one by one would."""
    first = first or window.first
    budget = settings.dbt_chunk_user_days or user_day_budget(settings.duckdb_memory_limit)
    # A day is never cut: the daily run skips counting the users (0.2-0.3 s at 1M users).
    new_users = users_by_day(con, window.end) if first < window.last else {}
    days = plan_chunks(first, window.last, new_users, budget, settings.lookback_days)
    return [late_data_window(replace(window, first=chunk_first, last=chunk_last), con, settings)
            for chunk_first, chunk_last in days]
