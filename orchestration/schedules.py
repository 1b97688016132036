"""The daily job over every asset and the schedule that runs yesterday's partition each morning."""

from __future__ import annotations

from dagster import AssetSelection, build_schedule_from_partitioned_job, define_asset_job

from orchestration.partitions import daily_partitions

daily_pipeline = define_asset_job(
    "daily_pipeline",
    selection=AssetSelection.all(),
    partitions_def=daily_partitions,
    description="Landing files to recall metrics for one business day (or a range, as one run).",
)

# Partition keys end at yesterday (the last complete business day); run it at 06:00 UTC.
daily_schedule = build_schedule_from_partitioned_job(daily_pipeline, hour_of_day=6, minute_of_hour=0)
