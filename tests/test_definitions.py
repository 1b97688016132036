"""The code location loads, its asset graph is one connected chain from raw inputs to metrics, the
wiring stays in orchestration/defs, and loading it changes nothing in the process."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterEvent, DagsterEventType, DagsterInstance, DefaultSensorStatus
from dagster import SkipReason, build_run_status_sensor_context

from orchestration.config import Settings
from orchestration.defs import build_definitions
from orchestration.runner import subset_up_to

ORCHESTRATION = Path(__file__).resolve().parents[1] / "orchestration"
# The wiring, and the entry points that run a job.
WIRING = {"defs", "definitions.py", "runner.py"}
EXPECTED = [
    "raw_events", "raw_users", "raw_recall_touches", "stg_events", "quarantine_events", "stg_users",
    "stg_recall_touches", "int_user_daily_activity", "user_daily_labels", "churn_model", "user_churn_scores",
    "user_risk_tiers", "recall_actions", "recall_outbox", "recall_outcomes", "recall_metrics",
    "churn_health_daily", "churn_health_stages", "churn_health_monthly", "bi_snapshot",
]


@pytest.fixture(scope="module")
def defs(tmp_path_factory):
    return build_definitions(Settings.under(tmp_path_factory.mktemp("defs")))


def test_definitions_load_with_every_expected_asset(defs):
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert set(EXPECTED) <= keys


def test_lineage_is_one_component_from_raw_to_metrics(defs):
    graph = defs.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    neighbours = {key: set() for key in keys}
    for key in keys:
        for parent in graph.get(key).parent_keys:
            if parent in keys:
                neighbours[key].add(parent)
                neighbours[parent].add(key)
    seen, todo = set(), [AssetKey("raw_events")]
    while todo:
        key = todo.pop()
        if key not in seen:
            seen.add(key)
            todo.extend(neighbours[key] - seen)
    assert seen == keys, f"islands: {sorted(k.to_user_string() for k in keys - seen)}"
    assert AssetKey("recall_metrics") in graph.get(AssetKey("int_user_daily_activity")).child_keys


def test_daily_assets_share_one_partition_set_and_only_whole_history_views_are_unpartitioned(defs):
    graph = defs.resolve_asset_graph()
    nodes = [graph.get(key) for key in graph.get_all_asset_keys() if graph.get(key).is_materializable]
    partitioned = {node.partitions_def for node in nodes if node.partitions_def is not None}
    assert len(partitioned) == 1
    unpartitioned = {node.key.to_user_string() for node in nodes if node.partitions_def is None}
    # The reporting marts and the BI snapshot (which hold every day so far); everything else, the staged users
    # feed and delivery log and the taxonomy loaded with them too, is per day.
    assert unpartitioned == {"churn_health_daily", "churn_health_stages", "churn_health_monthly", "bi_snapshot"}
    assert graph.get(AssetKey("int_user_versions")).partitions_def is not None
    assert graph.get(AssetKey("stg_events")).group_name == "staging"
    assert graph.get(AssetKey("quarantine_events")).group_name == "quarantine"
    assert graph.get(AssetKey("user_risk_tiers")).group_name == "marts"
    assert graph.get(AssetKey("raw_events")).group_name == "raw"
    assert graph.get(AssetKey("churn_health_daily")).group_name == "reporting"
    assert graph.get(AssetKey("bi_snapshot")).group_name == "bi"


def test_reporting_marts_run_after_the_python_steps_they_read_and_feed_the_bi_snapshot(defs):
    graph = defs.resolve_asset_graph()
    parents = {key.to_user_string() for key in graph.get(AssetKey("churn_health_daily")).parent_keys}
    assert {"daily_lifecycle_counts", "recall_actions", "recall_outcomes"} <= parents
    # the day counts it reads are built per day with the tiers, not over the whole history on each run
    tiers_set = graph.assets_def_for_key(AssetKey("user_risk_tiers"))
    assert AssetKey("daily_lifecycle_counts") in tiers_set.keys and tiers_set.partitions_def is not None
    bi_parents = {key.to_user_string() for key in graph.get(AssetKey("bi_snapshot")).parent_keys}
    assert {"churn_health_daily", "churn_health_stages", "churn_health_monthly", "user_risk_tiers",
            "user_daily_labels", "user_segments", "recall_actions", "recall_outcomes", "recall_metrics"} == bi_parents
    # The daily dbt set does not hold the reporting marts (that would be a cycle through the Python steps).
    daily = defs.resolve_assets_def(AssetKey("user_risk_tiers"))
    assert AssetKey("churn_health_daily") not in daily.keys


def test_churn_scores_sit_between_the_labels_and_the_tiers_in_their_own_steps(defs):
    graph = defs.resolve_asset_graph()
    assert AssetKey("user_daily_labels") in graph.get(AssetKey("churn_model")).parent_keys
    assert AssetKey("churn_model") in graph.get(AssetKey("user_churn_scores")).parent_keys
    assert AssetKey("user_churn_scores") in graph.get(AssetKey("user_risk_tiers")).parent_keys
    assert graph.get(AssetKey("user_churn_scores")).group_name == "scoring"
    # user_risk_tiers is the dbt set downstream of the scores, so the daily dbt set has no cycle to break
    tiers_set = graph.assets_def_for_key(AssetKey("user_risk_tiers"))
    labels_set = graph.assets_def_for_key(AssetKey("user_daily_labels"))
    assert tiers_set is not labels_set and AssetKey("user_daily_labels") not in tiers_set.keys
    plan = [node.name for node in defs.resolve_job_def("daily_pipeline").graph.node_defs]
    assert {"dbt_daily_models", "dbt_scored_models", "churn_model", "user_churn_scores"} <= set(plan)


def test_partitions_start_on_the_configured_day(tmp_path):
    defs = build_definitions(Settings.under(tmp_path, start_date="2025-06-01"))
    node = defs.resolve_asset_graph().get(AssetKey("user_risk_tiers"))
    assert node.partitions_def.get_first_partition_key() == "2025-06-01"


def test_outbox_contract_blocks_and_schedule_targets_the_daily_job(defs):
    graph = defs.resolve_asset_graph()
    checks = {key.name: graph.get_check_spec(key) for key in graph.asset_check_keys}
    assert checks["recall_outbox_contract"].blocking and not checks["stg_events_contract"].blocking
    assert checks["recall_guardrails_audit"].blocking
    assert "row_rules_stg_events" in checks  # dbt tests are checks too
    schedule = defs.resolve_schedule_def("daily_pipeline_schedule")
    assert schedule.job_name == "daily_pipeline" and schedule.cron_schedule == "0 6 * * *"


def test_the_next_days_models_are_fitted_by_their_own_job_after_each_daily_run(defs):
    daily = {key.to_user_string() for key in defs.resolve_job_def("daily_pipeline").asset_layer.executable_asset_keys}
    refits = {key.to_user_string() for key in defs.resolve_job_def("model_refits").asset_layer.executable_asset_keys}
    assert refits == {"next_day_models"} and "next_day_models" not in daily and {"churn_model", "uplift_model"} <= daily
    sensor = defs.resolve_sensor_def("refit_after_daily_run")
    assert sensor.job_name == "model_refits" and sensor.default_status == DefaultSensorStatus.RUNNING
    with DagsterInstance.ephemeral() as instance:
        for tags, expected in (({"dagster/asset_partition_range_start": "2026-03-01",
                                 "dagster/asset_partition_range_end": "2026-03-08"}, "2026-03-08"),
                               ({"dagster/partition": "2026-03-09"}, "2026-03-09"), ({}, None)):
            run = instance.create_run_for_job(defs.resolve_job_def("daily_pipeline"), tags=tags)
            context = build_run_status_sensor_context(
                sensor_name="refit_after_daily_run", dagster_instance=instance, dagster_run=run,
                dagster_event=DagsterEvent(DagsterEventType.RUN_SUCCESS.value, "daily_pipeline"),
                repository_def=defs.get_repository_def())
            request = sensor(context)
            if expected is None:
                assert isinstance(request, SkipReason)
            else:  # the next day's models of the run's last day, requested once per run
                assert request.partition_key == expected and request.run_key == run.run_id


def test_only_the_wiring_imports_dagster():
    offenders = []
    for path in ORCHESTRATION.rglob("*.py"):
        relative = path.relative_to(ORCHESTRATION)
        if relative.parts[0] in WIRING:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(name.split(".")[0] in ("dagster", "dagster_dbt") for name in names):
                offenders.append(str(relative))
    assert offenders == [], f"Dagster imported outside orchestration/defs: {offenders}"


def test_importing_the_code_location_starts_nothing_and_leaves_the_environment_alone():
    # Dagster's own import runs `file` once (platform.architecture): import it before watching.
    probe = (
        "import os, subprocess, json, dagster, dagster_dbt\n"
        "before = dict(os.environ)\n"
        "started = []\n"
        "real = subprocess.Popen.__init__\n"
        "subprocess.Popen.__init__ = lambda self, *a, **k: started.append(a) or real(self, *a, **k)\n"
        "import orchestration.definitions\n"
        "print(json.dumps({'changed': sorted(k for k in set(before) | set(os.environ) "
        "if before.get(k) != os.environ.get(k)), 'started': len(started)}))\n"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("CHURN_RECALL_")}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                          cwd=ORCHESTRATION.parent, check=True)
    assert done.stdout.strip().splitlines()[-1] == '{"changed": [], "started": 0}'


def test_manifest_is_stale_after_a_model_changes(tmp_path):
    from types import SimpleNamespace

    from orchestration.defs.dbt.project import manifest_is_stale

    (tmp_path / "models").mkdir()
    (tmp_path / "dbt_project.yml").write_text("name: x\n")
    model = tmp_path / "models" / "m.sql"
    model.write_text("select 1")
    project = SimpleNamespace(project_dir=tmp_path, manifest_path=tmp_path / "target" / "manifest.json")
    assert manifest_is_stale(project)  # no manifest yet
    project.manifest_path.parent.mkdir()
    project.manifest_path.write_text("{}")
    os.utime(model, (1, 1))
    os.utime(tmp_path / "dbt_project.yml", (1, 1))
    assert not manifest_is_stale(project)
    os.utime(model, None)  # edited after the manifest was built
    os.utime(project.manifest_path, (2, 2))
    assert manifest_is_stale(project)


def test_a_parse_moves_a_complete_manifest_into_place(tmp_path, monkeypatch):
    """Test workers or a run beside a code server may parse at once: each parses in a private folder and moves the
    finished manifest.json into the target folder in one step, so no reader sees one half written."""
    import json
    import shutil

    from dagster_dbt import DbtProject

    from orchestration.config import DBT_PROJECT_DIR
    from orchestration.defs.dbt import project as project_module

    copy = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    (copy / "target").mkdir()
    (copy / "target" / "manifest.json").write_text("{\"left\": \"by another parse\"}")
    moves = []
    real_replace = os.replace
    monkeypatch.setattr(project_module.os, "replace", lambda src, dst: (moves.append((src, dst)), real_replace(src, dst)))
    project_module._parse(DbtProject(project_dir=copy, profiles_dir=copy))
    target = copy / "target"
    into_target = [(Path(src).parent.parent, Path(dst)) for src, dst in moves if Path(dst).parent == target]
    assert into_target == [(target, target / "manifest.json"), (target, target / project_module.PARSE_STATE)]
    assert "nodes" in json.loads((target / "manifest.json").read_text())
    assert not list(target.glob(".parse-*"))  # the private folder is gone


def test_the_next_parse_starts_from_the_last_ones_state_and_sees_an_edited_model(tmp_path):
    """dbt's partial-parse state moves into the target folder with the manifest, and the next process's parse starts
    from it (a run in a process of its own then parses only what changed): a model edited since is parsed again."""
    import shutil

    from dagster_dbt import DbtProject

    from orchestration.config import DBT_PROJECT_DIR
    from orchestration.defs.dbt import project as project_module

    copy = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    project = DbtProject(project_dir=copy, profiles_dir=copy)
    project_module._parse(project)
    state = copy / "target" / project_module.PARSE_STATE
    assert state.exists()
    model = next(copy.rglob("daily_lifecycle_counts.sql"))
    model.write_text(model.read_text() + "\n-- edited after the first parse\n")
    copied = []
    real_copy = shutil.copyfile
    try:
        project_module.shutil.copyfile = lambda src, dst: (copied.append(Path(src)), real_copy(src, dst))[1]
        manifest = project_module._parse(project)
    finally:
        project_module.shutil.copyfile = real_copy
    assert copied == [state]
    [node] = [n for n in manifest.nodes.values() if n.name == "daily_lifecycle_counts"]
    assert node.raw_code.rstrip().endswith("-- edited after the first parse")


def test_a_subset_run_selects_what_the_checks_of_its_assets_read(defs):
    """A run up to the labels (the early-warning evaluation's) runs the blocking checks of what it builds: dbt
    leaves a test out unless every model it reads is selected (stg_users' accounting test reads quarantine_users)."""
    graph = defs.resolve_asset_graph()
    selected = set(subset_up_to(defs, ["user_daily_labels"]))
    assert {AssetKey("quarantine_users"), AssetKey("quarantine_events")} <= selected
    for assets in graph.assets_defs:
        for check in assets.check_specs:
            if check.asset_key in selected:
                assert {dep.asset_key for dep in check.additional_deps} <= selected, check.name
    assert AssetKey("user_daily_labels") in selected and AssetKey("recall_actions") not in selected
