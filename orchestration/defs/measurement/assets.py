"""Measurement assets: per-journey outcomes (every journey the pipeline assigned, and the journeys only the
delivery log knows) and per-cohort metrics, with the windows of the selected vertical (its churn threshold and
wake-up window) and the design of the strategy library (holdout shares, global holdout, variant shares)."""

from datetime import timedelta

import dagster as dg
import pandas as pd

from orchestration.config import Settings
from orchestration.defs.partitions import day_window
from orchestration.defs.resources import Warehouse
from orchestration.defs.tables import table_asset
from orchestration.measurement import cohort_metrics, journeys_as_of, measure_outcomes, outcome_horizon_days
from orchestration.measurement.readers import read_journeys
from orchestration.warehouse.engine import engine_for
from orchestration.recall import StrategyLibrary, load_strategy_library
from orchestration.warehouse import replace_rows, table_exists

INPUTS = ["recall_actions", "stg_recall_touches", "int_user_daily_activity", "user_risk_tiers", "user_segments"]


def _design(library: StrategyLibrary) -> dict[str, object]:
    """cohort_metrics' design arguments: each strategy's holdout share, the global holdout share, and the share of
    every A/B variant (keyed by strategy and variant id)."""
    variants = {(s.id, v.id): v.share for s in library.strategies for step in s.steps for v in step.variants}
    return {"design_control_share": {s.id: s.holdout_share for s in library.strategies},
            "global_holdout_share": library.global_holdout_share, "variant_shares": variants}


def _windows(settings: Settings) -> dict[str, int]:
    """measure_outcomes' window arguments for the configured vertical (and wake-up override)."""
    wake_up_days, churn_days = settings.measurement_windows
    return {"wake_up_days": wake_up_days, "churn_days": churn_days}


def measurement_assets(partitions: dg.DailyPartitionsDefinition) -> list[dg.AssetsDefinition]:
    @table_asset("recall_outcomes", partitions, group_name="measurement", deps=INPUTS)
    def recall_outcomes(
        context: dg.AssetExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]
    ) -> dg.MaterializeResult:
        as_of = day_window(context, settings).last
        windows = _windows(settings)
        # Journeys older than the horizon have every window closed: they were final at an earlier run.
        first = as_of - timedelta(days=outcome_horizon_days(windows["churn_days"]) - 1)
        with warehouse.connect() as con:
            inputs = read_journeys(con, first, as_of, engine_for(settings, con))
            outcomes = measure_outcomes(journeys_as_of(inputs.touches, as_of, inputs.decisions), inputs.activity, as_of,
                                        redemptions=inputs.redemptions, **windows)
            if table_exists(con, "recall_outcomes"):
                # Never move a journey back in time: re-running an older day leaves later measurements.
                later = con.execute(
                    "select action_id from recall_outcomes where assignment_date between ? and ? and measured_through > ?",
                    [first, as_of, as_of],
                ).df()["action_id"]
                outcomes = outcomes[~outcomes["action_id"].isin(later)]
            con.register("measured", outcomes[["action_id"]])
            try:
                replace_rows(con, "recall_outcomes", outcomes, "action_id in (select action_id from measured)", [])
            finally:
                con.unregister("measured")
        return dg.MaterializeResult(metadata={"journeys_measured": len(outcomes), "as_of": as_of.isoformat()})

    @table_asset("recall_metrics", partitions, group_name="measurement", deps=INPUTS)
    def recall_metrics(
        context: dg.AssetExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]
    ) -> dg.MaterializeResult:
        # Like the daily dbt models, re-measure the lookback days: late events change their figures.
        days = day_window(context, settings).with_lookback()
        written = 0
        design = _design(load_strategy_library(settings.strategies))
        windows = _windows(settings)
        horizon = outcome_horizon_days(windows["churn_days"])
        with warehouse.connect() as con:
            inputs = read_journeys(con, days[0] - timedelta(days=horizon - 1), days[-1], engine_for(settings, con))
            for day in days:
                journeys = journeys_as_of(inputs.touches, day, inputs.decisions)
                visible = journeys[journeys["assignment_date"] >= day - timedelta(days=horizon - 1)]
                activity = inputs.activity[inputs.activity["activity_date"] <= pd.Timestamp(day)]
                outcomes = measure_outcomes(visible, activity, day, redemptions=inputs.redemptions, **windows)
                metrics = cohort_metrics(outcomes, day, **design)
                written += replace_rows(con, "recall_metrics", metrics, "as_of_date = ?", [day])
        last = metrics[(metrics["arm"] == "treatment") & (metrics["cohort_level"] == "campaign")] if written else metrics
        mature = last[last["is_mature"]] if written else last
        return dg.MaterializeResult(metadata={
            "cohort_rows": written,
            "mature_treatment_cohorts_last_day": len(mature),
            "srm_alarms_last_day": int(last["srm_alarm"].sum()) if written else 0,
            "last_day": dg.MetadataValue.text(days[-1].isoformat()),
        })

    return [recall_outcomes, recall_metrics]
