"""Measurement: per-journey outcomes (every journey the pipeline assigned, and the journeys only the delivery log
knows) and per-cohort metrics, with the windows of the selected vertical (its churn threshold and wake-up window)
and the design each journey recorded (holdout shares, global holdout, variant shares; the strategy library's current
one where none was recorded).

One step writes both tables: they read the same journeys, and the outcomes as of the run's last day are the ones
that day's metrics are computed from, so the journeys are read and measured once."""

from collections.abc import Iterator
from datetime import date, timedelta

import dagster as dg
import pandas as pd

from orchestration.config import Settings
from orchestration.defs.partitions import SINGLE_RUN, WAREHOUSE_POOL, day_window
from orchestration.defs.resources import Warehouse
from orchestration.defs.tables import table_spec
from orchestration.measurement import cohort_metrics_by_day, journeys_as_of, measure_outcomes, outcome_horizon_days
from orchestration.measurement.readers import JourneyInputs, days_to_measure, read_journeys
from orchestration.recall import StrategyLibrary, load_strategy_library
from orchestration.warehouse import replace_rows, table_exists
from orchestration.warehouse.engine import engine_for

# Days whose metrics are computed together hold about this many journey outcomes in all: pandas' cost is mostly per
# call, so a range run's days are measured in a few passes, and the pass's memory stays bounded (~0.4 GiB).
CHUNK_OUTCOMES = 50_000
INPUTS = ["recall_actions", "stg_recall_touches", "int_user_daily_activity", "user_risk_tiers", "user_segments"]


def _design(library: StrategyLibrary) -> dict[str, object]:
    """cohort_metrics' design arguments: each strategy's holdout share, the global holdout share, and the share of
    every A/B variant (keyed by strategy and variant id), as the library has them now: the sample-ratio check's
    stand-in for journeys that did not record the design they were assigned under."""
    variants = {(s.id, v.id): v.share for s in library.strategies for step in s.steps for v in step.variants}
    return {"design_control_share": {s.id: s.holdout_share for s in library.strategies},
            "global_holdout_share": library.global_holdout_share, "variant_shares": variants}


def _windows(settings: Settings) -> dict[str, int]:
    """measure_outcomes' window arguments for the configured vertical (and wake-up override)."""
    wake_up_days, churn_days = settings.measurement_windows
    return {"wake_up_days": wake_up_days, "churn_days": churn_days}


def _outcomes_as_of(inputs: JourneyInputs, day: date, horizon: int, windows: dict[str, int]) -> pd.DataFrame:
    """The outcomes, known at the end of `day`, of the journeys assigned in the `horizon` days up to it (older
    journeys have every window closed: they were final at an earlier run)."""
    journeys = journeys_as_of(inputs.touches, day, inputs.decisions)
    visible = journeys[journeys["assignment_date"] >= day - timedelta(days=horizon - 1)]
    activity = inputs.activity[inputs.activity["activity_date"] <= pd.Timestamp(day)]
    return measure_outcomes(visible, activity, day, redemptions=inputs.redemptions, **windows)


def _metrics_by_chunk(inputs: JourneyInputs, days: list[date], horizon: int, windows: dict[str, int],
                      design: dict[str, object]) -> Iterator[tuple[list[date], pd.DataFrame, pd.DataFrame]]:
    """The metrics of `days`, a chunk of days at a time: each chunk's days, metrics and outcomes as of its last day."""
    chunk: dict[date, pd.DataFrame] = {}
    for day in days:
        chunk[day] = outcomes = _outcomes_as_of(inputs, day, horizon, windows)
        if sum(map(len, chunk.values())) >= CHUNK_OUTCOMES or day == days[-1]:
            yield list(chunk), cohort_metrics_by_day(chunk, **design), outcomes
            chunk = {}


def _write_outcomes(con, outcomes: pd.DataFrame, first: date, as_of: date) -> int:
    """Replace the measured journeys' rows; never move a journey back in time (re-running an older day leaves
    the later measurements)."""
    if table_exists(con, "recall_outcomes"):
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
    return len(outcomes)


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
        design = _design(load_strategy_library(settings.strategies))
        windows = _windows(settings)
        horizon = outcome_horizon_days(windows["churn_days"])
        written = 0
        with warehouse.connect() as con:
            days = days_to_measure(con, window.with_lookback(), window.first)
            inputs = read_journeys(con, days[0] - timedelta(days=horizon - 1), as_of, engine_for(settings, con))
            for chunk, metrics, outcomes in _metrics_by_chunk(inputs, days, horizon, windows, design):
                written += replace_rows(con, "recall_metrics", metrics, "as_of_date between ? and ?",
                                        [chunk[0], chunk[-1]])
            journeys_measured = _write_outcomes(con, outcomes, as_of - timedelta(days=horizon - 1), as_of)
        yield dg.MaterializeResult(asset_key="recall_outcomes", metadata={
            "journeys_measured": journeys_measured, "as_of": as_of.isoformat()})
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
