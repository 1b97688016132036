"""The weekly refits off the daily run's path: after a day's run succeeds, the model_refits job (started by a
sensor, orchestration/defs/jobs.py) fits the churn and uplift models the next day's run will use. That run then
finds them in the registries, so its partition no longer pays a refit (about 26 s of uplift at 100,000 users).
When no refit run happened (a range, a test, a missed sensor), the daily assets fit the missing model as before.
Both ways read the same rows, so they fit the same model (orchestration/scoring/cadence.py: unsettled_days)."""

from datetime import timedelta

import dagster as dg

from orchestration.config import Settings
from orchestration.defs.partitions import SINGLE_RUN, WAREHOUSE_POOL, day_window
from orchestration.defs.resources import Warehouse
from orchestration.recall import load_strategy_library
from orchestration.scoring import ScoringContext, model_in_force
from orchestration.uplift.planning import uplift_model_of_day

NEXT_DAY_MODELS = "next_day_models"


def refit_assets(partitions: dg.DailyPartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(name=NEXT_DAY_MODELS, group_name="scoring", partitions_def=partitions, backfill_policy=SINGLE_RUN,
              pool=WAREHOUSE_POOL, kinds={"python", "scikitlearn"},
              deps=["user_daily_labels", "recall_actions", "recall_outcomes"],
              description="The churn and uplift models of the day after the partition, fitted into their registries "
                          "($CHURN_RECALL_HOME/models) in a run of their own after the partition's daily run, when "
                          "their weekly cadence is due: the next daily run uses them instead of refitting.")
    def next_day_models(context: dg.AssetExecutionContext, warehouse: Warehouse,
                        settings: dg.ResourceParam[Settings]) -> dg.MaterializeResult:
        day = day_window(context, settings).last + timedelta(days=1)
        with warehouse.connect() as con:
            churn = model_in_force(con, day, ScoringContext.of(settings))
            uplift = uplift_model_of_day(con, settings, load_strategy_library(settings.strategies), day)
        if churn.refitted:
            context.log.info(f"churn model refit for {day}: {churn.version or churn.reason}")
        return dg.MaterializeResult(metadata={
            "for_day": dg.MetadataValue.text(day.isoformat()),
            "churn_model": dg.MetadataValue.text(churn.version or churn.reason),
            "churn_refitted": dg.MetadataValue.bool(churn.refitted),
            "uplift_model": dg.MetadataValue.text(uplift.version if uplift else "none: rules, not live or no journeys"),
            "uplift_trained_through": dg.MetadataValue.text(uplift.card["trained_through"] if uplift else ""),
        })

    return [next_day_models]
