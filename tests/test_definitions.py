"""The code location loads, and its asset graph is one connected chain from raw inputs to metrics."""

from dagster import AssetKey

from orchestration.definitions import defs

EXPECTED = [
    "raw_events", "raw_users", "raw_recall_touches", "stg_events", "quarantine_events", "stg_users",
    "stg_recall_touches", "int_user_daily_activity", "user_daily_labels", "user_risk_tiers",
    "recall_actions", "recall_outbox", "recall_outcomes", "recall_metrics",
]


def _graph():
    return defs.resolve_asset_graph()


def test_definitions_load_with_every_expected_asset():
    keys = {key.to_user_string() for key in _graph().get_all_asset_keys()}
    assert set(EXPECTED) <= keys


def test_lineage_is_one_component_from_raw_to_metrics():
    graph = _graph()
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


def test_every_asset_shares_the_daily_partitions_and_groups_follow_layers():
    graph = _graph()
    partitions = {graph.get(key).partitions_def for key in graph.get_all_asset_keys() if graph.get(key).is_materializable}
    assert len(partitions) == 1 and next(iter(partitions)) is not None
    assert graph.get(AssetKey("stg_events")).group_name == "staging"
    assert graph.get(AssetKey("user_risk_tiers")).group_name == "marts"
    assert graph.get(AssetKey("raw_events")).group_name == "raw"


def test_outbox_contract_blocks_and_schedule_targets_the_daily_job():
    graph = _graph()
    checks = {key.name: graph.get_check_spec(key) for key in graph.asset_check_keys}
    assert checks["recall_outbox_contract"].blocking and not checks["stg_events_contract"].blocking
    assert checks["recall_guardrails_audit"].blocking
    assert any(name.startswith("not_null_stg_events") for name in checks)  # dbt tests are checks too
    schedule = defs.resolve_schedule_def("daily_pipeline_schedule")
    assert schedule.job_name == "daily_pipeline" and schedule.cron_schedule == "0 6 * * *"


def test_manifest_is_stale_after_a_model_changes(tmp_path):
    import os
    from types import SimpleNamespace

    from orchestration.assets.dbt import _manifest_is_stale

    (tmp_path / "models").mkdir()
    (tmp_path / "dbt_project.yml").write_text("name: x\n")
    model = tmp_path / "models" / "m.sql"
    model.write_text("select 1")
    project = SimpleNamespace(project_dir=tmp_path, manifest_path=tmp_path / "target" / "manifest.json")
    assert _manifest_is_stale(project)  # no manifest yet
    project.manifest_path.parent.mkdir()
    project.manifest_path.write_text("{}")
    os.utime(model, (1, 1))
    os.utime(tmp_path / "dbt_project.yml", (1, 1))
    assert not _manifest_is_stale(project)
    os.utime(model, None)  # edited after the manifest was built
    os.utime(project.manifest_path, (2, 2))
    assert _manifest_is_stale(project)
