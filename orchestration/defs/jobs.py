"""The daily job over every asset but the next day's models, the schedule that runs yesterday's partition each
morning, and the model_refits job that a sensor starts after each successful daily run (the weekly refits off the
daily run's path: orchestration/defs/refits)."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.refits.assets import NEXT_DAY_MODELS

DAILY_JOB = "daily_pipeline"
REFIT_JOB = "model_refits"
# the tags a run of a partition range carries (a single-run backfill, the command line's runs), else a partition's
RANGE_END_TAG, PARTITION_TAG = "dagster/asset_partition_range_end", "dagster/partition"


def last_partition(tags: dict[str, str]) -> str | None:
    """The last partition a run processed, from its tags (None for an unpartitioned run)."""
    return tags.get(RANGE_END_TAG) or tags.get(PARTITION_TAG)


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
        last = last_partition(context.dagster_run.tags)
        if last is None:
            return dg.SkipReason(f"run {context.dagster_run.run_id} has no partition")
        return dg.RunRequest(run_key=context.dagster_run.run_id, partition_key=last)

    return dg.Definitions(jobs=[daily_pipeline, model_refits], schedules=[schedule], sensors=[refit_after_daily_run])
