"""Vertical presets: valid, named like the dbt vars, ecommerce equal to the dbt_project.yml defaults."""

from pathlib import Path

import pytest
import yaml

from orchestration.settings import DBT_PROJECT_DIR, Settings
from orchestration.verticals import PRESETS_FILE, dbt_vars_for, load_presets, measurement_windows, vertical_from_env

DBT_VARS = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]


def test_four_presets_load_and_every_key_is_a_dbt_var():
    presets = load_presets()
    assert set(presets) == {"ecommerce", "game", "finance", "education"}
    for name in presets:
        assert set(dbt_vars_for(name)) <= set(DBT_VARS), name


def test_ecommerce_preset_equals_the_dbt_project_defaults():
    ecommerce = dbt_vars_for("ecommerce")
    assert {key: DBT_VARS[key] for key in ecommerce} == ecommerce


def test_vertical_thresholds_differ_where_the_issue_says():
    game, finance = dbt_vars_for("game"), dbt_vars_for("finance")
    assert game["stage_dormant_severe_days"] == 14 and game["key_action_events"] == ["login", "iap_purchase"]
    assert finance["stage_churned_days"] == 90 and finance["key_action_events"] == ["deposit", "invest"]
    assert dbt_vars_for("education")["key_action_events"] == ["lesson_complete"]


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
    ],
)
def test_invalid_preset_names_the_preset_and_the_field(tmp_path, changes, message):
    with pytest.raises(ValueError, match="vertical preset 'game'") as error:
        load_presets(_write_variant(tmp_path, **changes))
    assert message in str(error.value)


def test_vertical_comes_from_the_environment_and_is_validated():
    assert vertical_from_env({}) == "ecommerce"
    assert vertical_from_env({"CHURN_RECALL_VERTICAL": "finance"}) == "finance"
    with pytest.raises(ValueError, match="unknown vertical 'bank'"):
        vertical_from_env({"CHURN_RECALL_VERTICAL": "bank"})
    assert Settings.from_env({"CHURN_RECALL_VERTICAL": "game"}).vertical == "game"
    with pytest.raises(SystemExit, match="unknown vertical"):
        Settings.from_env({"CHURN_RECALL_VERTICAL": "bank"})


def test_measurement_windows_come_from_the_preset_and_stay_out_of_dbt():
    assert measurement_windows("ecommerce") == (7, 60)
    assert measurement_windows("game") == (7, 30) and measurement_windows("finance") == (7, 90)
    assert measurement_windows("finance", wake_up_override=3) == (3, 90)
    assert all("measurement" not in dbt_vars_for(name) for name in load_presets())
    with pytest.raises(ValueError, match="wake-up window must be 1..30"):
        measurement_windows("game", wake_up_override=0)
