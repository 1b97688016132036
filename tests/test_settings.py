"""Configuration comes from the environment with embedded defaults and clear errors."""

from datetime import date

import pytest

from orchestration.config.settings import REPO_ROOT, Settings


def test_defaults_live_under_the_repository_data_folder():
    settings = Settings.from_env({})
    assert settings.warehouse == REPO_ROOT / "data" / "warehouse.duckdb"
    assert settings.landing == REPO_ROOT / "data" / "landing"
    assert settings.start_date == date(2026, 1, 1)


def test_home_moves_every_path_and_explicit_values_win(tmp_path):
    settings = Settings.from_env({"CHURN_RECALL_HOME": str(tmp_path), "CHURN_RECALL_WAREHOUSE": str(tmp_path / "w.duckdb")})
    assert settings.landing == tmp_path / "landing" and settings.warehouse == tmp_path / "w.duckdb"


def test_bad_values_are_named():
    with pytest.raises(SystemExit, match="start_date"):
        Settings.from_env({"CHURN_RECALL_START_DATE": "yesterday"})
    with pytest.raises(SystemExit, match="strategy library not found"):
        Settings.from_env({"CHURN_RECALL_STRATEGIES": "/nowhere.yml"})


def test_landing_days_are_sorted_and_ignore_other_folders(tmp_path):
    for name in ("2026-01-02", "2026-01-01", "notes"):
        (tmp_path / "landing" / name).mkdir(parents=True)
    assert Settings.from_env({"CHURN_RECALL_HOME": str(tmp_path)}).landing_days() == [date(2026, 1, 1), date(2026, 1, 2)]


def test_wake_up_window_override_is_optional_and_validated():
    assert Settings.from_env({}).wake_up_days is None
    assert Settings.from_env({"CHURN_RECALL_WAKE_UP_DAYS": ""}).wake_up_days is None
    assert Settings.from_env({"CHURN_RECALL_WAKE_UP_DAYS": "3"}).wake_up_days == 3
    with pytest.raises(SystemExit, match="wake_up_days"):
        Settings.from_env({"CHURN_RECALL_WAKE_UP_DAYS": "31"})


def test_settings_are_resolved_once_into_a_frozen_object(tmp_path):
    from pydantic import ValidationError

    settings = Settings.under(tmp_path, vertical="game")
    assert settings.warehouse == tmp_path.resolve() / "warehouse.duckdb" and settings.preset.stage_churned_days == 30
    with pytest.raises(ValidationError):
        settings.vertical = "finance"


def test_duckdb_memory_limit_is_a_size():
    assert Settings.from_env({}).duckdb_memory_limit == "3GB"
    assert Settings.from_env({"CHURN_RECALL_DUCKDB_MEMORY_LIMIT": "512MB"}).duckdb_memory_limit == "512MB"
    with pytest.raises(SystemExit, match="duckdb_memory_limit"):
        Settings.from_env({"CHURN_RECALL_DUCKDB_MEMORY_LIMIT": "lots"})


def test_the_measurements_shard_size_is_a_count_of_journeys():
    assert Settings.from_env({}).measurement_shard_journeys is None  # the measurement's own default
    assert Settings.from_env({"CHURN_RECALL_MEASUREMENT_SHARD_JOURNEYS": "200000"}).measurement_shard_journeys == 200_000
    for bad in ("10", "many"):
        with pytest.raises(SystemExit, match="measurement_shard_journeys"):
            Settings.from_env({"CHURN_RECALL_MEASUREMENT_SHARD_JOURNEYS": bad})


def test_a_python_step_leaves_duckdb_a_third_of_its_limit_within_bounds():
    from orchestration.config.settings import python_step_memory_limit

    assert python_step_memory_limit("3GB") == "1000MB"
    assert python_step_memory_limit("6 GiB") == "2147MB"
    assert python_step_memory_limit("600MB") == "256MB"  # a third would be too little to work in
    assert python_step_memory_limit("100MB") == "100MB"  # never above the limit itself


def test_input_bounds_default_to_the_dbt_vars_and_come_from_the_environment():
    import yaml

    from orchestration.config.input_bounds import InputBounds
    from orchestration.config.settings import DBT_PROJECT_DIR

    dbt_vars = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    defaults = InputBounds().dbt_vars()
    assert {name: dbt_vars[name] for name in defaults} == defaults
    settings = Settings.from_env({"CHURN_RECALL_MAX_AMOUNT": "5000", "CHURN_RECALL_ID_MAX_LENGTH": "16"})
    assert settings.input_bounds.max_amount == 5000 and settings.input_bounds.id_max_length == 16
    rule_vars = settings.dbt_rule_vars()
    assert rule_vars["max_amount"] == 5000 and rule_vars["key_action_events"] == ["order_paid"]


@pytest.mark.parametrize("name, value", [
    ("MAX_CLOCK_SKEW_MINUTES", "-1"), ("MAX_AMOUNT", "0"), ("ID_MAX_LENGTH", "many"),
    ("ID_PATTERN", "[a-z"), ("ID_PATTERN", "[a-z]*"), ("ID_PATTERN", "x' or '1"),
])
def test_bad_input_bounds_are_named(name, value):
    with pytest.raises(SystemExit, match=name.lower()):
        Settings.from_env({f"CHURN_RECALL_{name}": value})


def test_recall_go_live_and_delivery_silence_are_optional_and_validated():
    default = Settings.from_env({})
    assert default.recall_from is None and default.recall_live(date(2020, 1, 1)) and default.delivery_silence_days == 2
    live = Settings.from_env({"CHURN_RECALL_RECALL_FROM": "2026-03-01", "CHURN_RECALL_DELIVERY_SILENCE_DAYS": "4"})
    assert not live.recall_live(date(2026, 2, 28)) and live.recall_live(date(2026, 3, 1)) and live.delivery_silence_days == 4
    with pytest.raises(SystemExit, match="recall_from"):
        Settings.from_env({"CHURN_RECALL_RECALL_FROM": "soon"})
    with pytest.raises(SystemExit, match="delivery_silence_days"):
        Settings.from_env({"CHURN_RECALL_DELIVERY_SILENCE_DAYS": "0"})


def test_recall_policy_and_pause_come_from_the_environment(tmp_path) -> None:
    from datetime import date

    settings = Settings.from_env({"CHURN_RECALL_HOME": str(tmp_path), "CHURN_RECALL_POLICY": "risk",
                                  "CHURN_RECALL_RECALL_FROM": "2026-03-01", "CHURN_RECALL_RECALL_UNTIL": "2026-03-10"})
    assert settings.recall_policy == "risk"
    assert [settings.recall_live(date(2026, 3, d)) for d in (1, 10, 11)] == [True, True, False]
    assert Settings.from_env({"CHURN_RECALL_HOME": str(tmp_path)}).recall_policy == "uplift"
    with pytest.raises(SystemExit, match="recall_policy"):
        Settings.from_env({"CHURN_RECALL_POLICY": "random"})
