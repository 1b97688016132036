"""Vertical presets: valid, named like the dbt vars, ecommerce equal to the dbt_project.yml defaults."""

from pathlib import Path

import pytest
import yaml

from orchestration.config.settings import DBT_PROJECT_DIR, Settings
from orchestration.config.verticals import PRESETS_FILE, load_presets, measurement_windows, preset_for, vertical_names

DBT_VARS = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]


def test_four_presets_load_and_every_key_is_a_dbt_var():
    presets = load_presets()
    assert set(presets) == {"ecommerce", "game", "finance", "education"} == set(vertical_names())
    for name in presets:
        assert set(preset_for(name).dbt_vars()) <= set(DBT_VARS), name


def test_ecommerce_preset_equals_the_dbt_project_defaults():
    ecommerce = preset_for("ecommerce").dbt_vars()
    assert {key: DBT_VARS[key] for key in ecommerce} == ecommerce


def test_vertical_thresholds_differ_where_the_issue_says():
    game, finance = preset_for("game").dbt_vars(), preset_for("finance").dbt_vars()
    assert game["stage_dormant_severe_days"] == 14 and game["key_action_events"] == ["login", "iap_purchase"]
    # the seeds' key actions: finance invests and withdraws (and deposits: docs/contracts.md says why)
    assert finance["stage_churned_days"] == 90 and {"invest", "withdraw"} <= set(finance["key_action_events"])
    assert preset_for("education").dbt_vars()["key_action_events"] == ["lesson_complete"]
    assert preset_for("ecommerce").dbt_vars()["key_action_events"] == ["order_paid"]


def test_every_preset_fits_its_thresholds_to_the_rhythm_by_default():
    for name in vertical_names():
        rules = preset_for(name).dbt_vars()
        assert rules["fit_stage_thresholds"] is True, name
        assert rules["rhythm_stage_quantiles"] == sorted(rules["rhythm_stage_quantiles"]), name


def _write_variant(tmp_path: Path, **changes) -> Path:
    raw = yaml.safe_load(PRESETS_FILE.read_text())
    raw["game"].update(changes)
    path = tmp_path / "verticals.yml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"stage_churned_days": 10}, "stage thresholds must increase"),
        ({"stage_dormant_severe_days": 20}, "not one of silence_grade_days"),
        ({"silence_grade_days": [3, 3, 7, 14, 30, 60]}, "strictly increasing"),
        ({"key_action_events": ["teleport"]}, "missing from the event taxonomy"),
        ({"signal_drop_threshold": 1.5}, "signal_drop_threshold"),
        ({"no_such_var": 1}, "no_such_var"),
        ({"measurement": {"wake_up_window_days": 31}}, "measurement.wake_up_window_days"),
        ({"measurement": {"wake_up_days": 3}}, "measurement.wake_up_days"),
        ({"rhythm_stage_quantiles": [0.5, 0.9, 0.75, 0.95, 0.98]}, "rhythm_stage_quantiles must be five increasing"),
        ({"rhythm_stage_quantiles": [0.5, 0.75, 0.9, 0.95, 1.0]}, "rhythm_stage_quantiles must be five increasing"),
        ({"rhythm_user_gap_multiple": 0.5}, "rhythm_user_gap_multiple"),
    ],
)
def test_invalid_preset_names_the_preset_and_the_field(tmp_path, changes, message):
    with pytest.raises(ValueError, match="vertical preset 'game'") as error:
        load_presets(_write_variant(tmp_path, **changes))
    assert message in str(error.value)


def test_vertical_comes_from_the_environment_and_is_validated():
    assert Settings.from_env({}).vertical == "ecommerce"
    assert Settings.from_env({"CHURN_RECALL_VERTICAL": "finance"}).preset == load_presets()["finance"]
    assert Settings.from_env({"CHURN_RECALL_VERTICAL": "game"}).vertical == "game"
    with pytest.raises(SystemExit, match="unknown vertical"):
        Settings.from_env({"CHURN_RECALL_VERTICAL": "bank"})


def test_measurement_windows_come_from_the_preset_and_stay_out_of_dbt():
    assert measurement_windows("ecommerce") == (7, 60)
    assert measurement_windows("game") == (7, 30) and measurement_windows("finance") == (7, 90)
    assert measurement_windows("finance", wake_up_override=3) == (3, 90)
    assert all("measurement" not in preset_for(name).dbt_vars() for name in load_presets())
    with pytest.raises(ValueError, match="wake-up window must be 1..30"):
        measurement_windows("game", wake_up_override=0)
