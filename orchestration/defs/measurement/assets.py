"""Measurement: per-journey outcomes (every journey the pipeline assigned, and the journeys only the delivery log
knows) and per-cohort metrics, with the windows of the selected vertical (its churn threshold and wake-up window)
and the design each journey recorded (holdout shares, global holdout, variant shares; the strategy library's current
one where none was recorded).

One step writes both tables: they read the same journeys, and the outcomes as of the run's last day are the ones
that day's metrics are computed from, so the journeys are read and measured once."""

from collections.abc import Iterator
from datetime import timedelta

import dagster as dg

from orchestration.config import Settings
from orchestration.config.settings import python_step_memory_limit
from orchestration.defs.partitions import SINGLE_RUN, WAREHOUSE_POOL, day_window
from orchestration.defs.resources import Warehouse
from orchestration.defs.tables import table_spec
from orchestration.measurement import outcome_horizon_days
from orchestration.measurement.carried import carried_from, measure_carried
from orchestration.measurement.daily import library_design, measure_days, outcome_windows, write_outcomes
from orchestration.measurement.lift import exact_tests_saved_at
from orchestration.measurement.readers import days_to_measure
from orchestration.recall import load_strategy_library
from orchestration.warehouse import replace_rows
from orchestration.warehouse.connection import lowered_memory_limit
from orchestration.warehouse.engine import engine_for
from orchestration.warehouse.io import record_write

INPUTS = ["recall_actions", "stg_recall_touches", "int_user_daily_activity", "user_risk_tiers", "user_segments"]


def measurement_assets(partitions: dg.DailyPartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.multi_asset(
        specs=[table_spec(table, partitions, INPUTS, "measurement") for table in ("recall_outcomes", "recall_metrics")],
        name="recall_measurement",
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        pool=WAREHOUSE_POOL,
    )
    def recall_measurement(
        context: dg.AssetExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]
    ) -> Iterator[dg.MaterializeResult]:
        # Like the daily dbt models, the metrics re-measure the lookback days that late data changed.
        window = day_window(context, settings)
        as_of = window.last
        design = library_design(load_strategy_library(settings.strategies))
        windows = outcome_windows(settings)
        horizon = outcome_horizon_days(windows["churn_days"])
        written, measured = 0, []  # measured: the journeys each shard wrote as of the last day
        limit = settings.duckdb_memory_limit
        # Like the recall plan, the step's frames live in Python: DuckDB keeps a third of the limit (its cache of the
        # tables each shard scans would otherwise grow to the whole limit beside them).
        # The exact sample-ratio tests of earlier runs: a new process looks them up instead of computing them again.
        with (exact_tests_saved_at(settings.cache_dir / "sample_ratio_tests.parquet"), warehouse.connect() as con,
              lowered_memory_limit(con, python_step_memory_limit(limit), limit)):
            days = days_to_measure(con, window.with_lookback(), window.first)
            record_write(con, "recall_outcomes", as_of)
            first = as_of - timedelta(days=horizon - 1)
            arguments = dict(engine=engine_for(settings, con), log=context.log.info,
                             write=lambda outcomes: measured.append(write_outcomes(con, outcomes, first, as_of)),
                             shard_journeys=settings.measurement_shard_journeys)
            # A daily run carries the rows of the journeys nothing new changed (carried.py); else every journey.
            state = carried_from(con, days, horizon, windows) if settings.engine == "duckdb" else None
            chunks = measure_carried(con, days, state, horizon, windows, design, **arguments) if state else None
            for chunk, metrics in chunks or measure_days(con, days, horizon, windows, design, **arguments):
                written += replace_rows(con, "recall_metrics", metrics, "as_of_date between ? and ?",
                                        [chunk[0], chunk[-1]])
        yield dg.MaterializeResult(asset_key="recall_outcomes", metadata={
            "journeys_measured": sum(measured), "as_of": as_of.isoformat(),
            "carried_from": dg.MetadataValue.text(state.isoformat() if state else "none: every journey measured")})
        metrics = metrics[metrics["as_of_date"] == as_of]
        last = metrics[(metrics["arm"] == "treatment") & (metrics["cohort_level"] == "campaign")]
        mature = last[last["is_mature"]]
        yield dg.MaterializeResult(asset_key="recall_metrics", metadata={
            "cohort_rows": written,
            "mature_treatment_cohorts_last_day": len(mature),
            "srm_alarms_last_day": int(last["srm_alarm"].sum()),
            "last_day": dg.MetadataValue.text(as_of.isoformat()),
            "days_measured": dg.MetadataValue.text(f"{days[0]}..{as_of}"),
        })

    return [recall_measurement]
