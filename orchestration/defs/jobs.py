"""The daily job over every asset and the schedule that runs yesterday's partition each morning."""

from __future__ import annotations

import dagster as dg

DAILY_JOB = "daily_pipeline"


def job_definitions(partitions: dg.DailyPartitionsDefinition) -> dg.Definitions:
    daily_pipeline = dg.define_asset_job(
        DAILY_JOB,
        selection=dg.AssetSelection.all(),
        partitions_def=partitions,
        description="Landing files to recall metrics for one business day (or a range, as one run).",
    )
    # Partition keys end at yesterday (the last complete business day); run it at 06:00 UTC.
    schedule = dg.build_schedule_from_partitioned_job(daily_pipeline, hour_of_day=6, minute_of_hour=0)
    return dg.Definitions(jobs=[daily_pipeline], schedules=[schedule])
