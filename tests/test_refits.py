"""The model_refits job: after a day's run, the next day's churn model is fitted in a run of its own, and that
day's run uses it instead of refitting (orchestration/defs/refits)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
from dagster import materialize

from orchestration.config import Settings
from orchestration.defs.partitions import daily_partitions
from orchestration.defs.refits.assets import refit_assets
from orchestration.defs.resources import resources
from orchestration.defs.scoring.assets import scoring_assets
from orchestration.scoring.registry import has_model, registry_root
from tests.scoring_fixtures import START, load_labels, synthetic_labels

# a Monday with 35 matured days behind it (30-day horizon, 3 lookback days and one more): its model is accepted
MONDAY = START + timedelta(days=70)


def test_the_refit_run_fits_the_next_days_model_and_that_days_run_reuses_it(tmp_path: Path) -> None:
    settings = Settings.under(tmp_path, start_date=START.isoformat())
    labels = synthetic_labels()
    with duckdb.connect(str(settings.warehouse)) as con:
        load_labels(con, labels[labels["label_date"] < MONDAY])  # the warehouse after Sunday's run
    partitions = daily_partitions(START)
    [next_day_models] = refit_assets(partitions)
    churn_model, _ = scoring_assets(partitions)
    sunday = (MONDAY - timedelta(days=1)).isoformat()

    refits = materialize([next_day_models], partition_key=sunday, resources=resources(settings))
    metadata = refits.asset_materializations_for_node("next_day_models")[0].metadata
    version = metadata["churn_model"].value
    assert refits.success and metadata["churn_refitted"].value and metadata["for_day"].value == MONDAY.isoformat()
    assert version.startswith("ecommerce-" + MONDAY.strftime("%Y%m%d")) and has_model(registry_root(tmp_path), version)
    # a second refit run of the same day finds the model: nothing to fit
    again = materialize([next_day_models], partition_key=sunday, resources=resources(settings))
    assert not again.asset_materializations_for_node("next_day_models")[0].metadata["churn_refitted"].value

    with duckdb.connect(str(settings.warehouse)) as con:  # Monday's run labels Monday
        load_labels(con, labels[labels["label_date"] <= MONDAY])
    monday = materialize([churn_model], partition_key=MONDAY.isoformat(), resources=resources(settings))
    scored = monday.asset_materializations_for_node("churn_model")[0].metadata
    assert scored["refits"].value == 0 and scored["model_version"].value == version
