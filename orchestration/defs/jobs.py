"""The daily job over every asset but the next day's models, the schedule that runs yesterday's partition each
morning, and the model_refits job that a sensor starts after each successful daily run (the weekly refits off the
daily run's path: orchestration/defs/refits)."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.partitions import tagged_partitions
from orchestration.defs.refits.assets import NEXT_DAY_MODELS

DAILY_JOB = "daily_pipeline"
REFIT_JOB = "model_refits"


def job_definitions(partitions: dg.DailyPartitionsDefinition) -> dg.Definitions:
    refits = dg.AssetSelection.assets(NEXT_DAY_MODELS)
    daily_pipeline = dg.define_asset_job(
        DAILY_JOB,
        selection=dg.AssetSelection.all() - refits,
        partitions_def=partitions,
        description="Landing files to recall metrics for one business day (or a range, as one run).",
    )
    model_refits = dg.define_asset_job(
        REFIT_JOB,
        selection=refits,
        partitions_def=partitions,
        description="After a day's run: the churn and uplift models the next day's run uses, when a refit is due.",
    )
    # Partition keys end at yesterday (the last complete business day); run it at 06:00 UTC.
    schedule = dg.build_schedule_from_partitioned_job(daily_pipeline, hour_of_day=6, minute_of_hour=0)

    @dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, monitored_jobs=[daily_pipeline],
                          request_job=model_refits, default_status=dg.DefaultSensorStatus.RUNNING,
                          description="Fits the next day's models after each successful daily run, in a run of "
                                      "their own, so that the next daily run does not wait for a weekly refit.")
    def refit_after_daily_run(context: dg.RunStatusSensorContext) -> dg.RunRequest | dg.SkipReason:
        partitions = tagged_partitions(context.dagster_run.tags)
        if partitions is None:
            return dg.SkipReason(f"run {context.dagster_run.run_id} has no partition")
        return dg.RunRequest(run_key=context.dagster_run.run_id, partition_key=partitions[1])

    return dg.Definitions(jobs=[daily_pipeline, model_refits], schedules=[schedule], sensors=[refit_after_daily_run])
