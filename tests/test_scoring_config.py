"""Configuration of the churn probability: the preset fields (horizon, at-risk volume, risk-level bands), the
operator's volume override, and the one schema the Python scores asset and dbt's empty stand-in share."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from orchestration.config.settings import DBT_PROJECT_DIR, Settings
from orchestration.config.verticals import PRESETS_FILE, load_presets, preset_for
from orchestration.warehouse.tables import TABLES


def test_presets_carry_the_horizon_and_the_at_risk_volume():
    assert preset_for("ecommerce").churn_horizon_days == 30 and preset_for("game").churn_horizon_days == 14
    assert all(0 < preset_for(v).at_risk_max_share <= 0.15 for v in ("ecommerce", "game", "finance", "education"))
    assert preset_for("finance").dbt_vars()["risk_level_probabilities"] == [0.5, 0.7, 0.85]


def test_the_operator_sets_the_at_risk_volume(tmp_path):
    assert Settings.from_env({}).dbt_rule_vars()["at_risk_max_share"] == preset_for("ecommerce").at_risk_max_share
    settings = Settings.from_env({"CHURN_RECALL_AT_RISK_MAX_SHARE": "0.05", "CHURN_RECALL_VERTICAL": "game"})
    assert settings.dbt_rule_vars()["at_risk_max_share"] == 0.05
    assert settings.dbt_rule_vars()["stage_churned_days"] == preset_for("game").stage_churned_days
    with pytest.raises(SystemExit, match="at_risk_max_share"):
        Settings.from_env({"CHURN_RECALL_AT_RISK_MAX_SHARE": "1.5"})


@pytest.mark.parametrize(("changes", "message"), [
    ({"risk_level_probabilities": [0.7, 0.5, 0.85]}, "risk_level_probabilities must be three increasing"),
    ({"risk_level_probabilities": [0.5, 0.7]}, "risk_level_probabilities"),
    ({"churn_horizon_days": 3}, "churn_horizon_days"),
    ({"at_risk_max_share": 0}, "at_risk_max_share"),
])
def test_invalid_scoring_fields_are_named(tmp_path: Path, changes, message):
    raw = yaml.safe_load(PRESETS_FILE.read_text())
    raw["finance"].update(changes)
    path = tmp_path / "verticals.yml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ValueError, match="vertical preset 'finance'") as error:
        load_presets(path)
    assert message in str(error.value)


def test_dbt_creates_the_scores_table_with_the_documented_columns():
    macro = (DBT_PROJECT_DIR / "macros" / "churn_scores_source.sql").read_text()
    body = macro[macro.index("user_churn_scores ("):macro.index(")", macro.index("user_churn_scores ("))]
    declared = re.findall(r"^\s*(\w+) (\w+),?$", body, flags=re.M)
    _, columns = TABLES["user_churn_scores"]
    assert declared == [(c.name, c.type.lower()) for c in columns]
    sources = yaml.safe_load((DBT_PROJECT_DIR / "models" / "marts" / "_scoring_sources.yml").read_text())
    documented = [c["name"] for c in sources["sources"][0]["tables"][0]["columns"]]
    assert documented == [c.name for c in columns]
