"""Run dbt in this process on the parsed manifest, once or once per chunk of a long range, and report each
node once as a Dagster event: a materialization per model or seed (with the rows it holds for the window), an
asset check result per data test. dagster-dbt chooses what to select when the run materializes a subset."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt.asset_utils import (
    get_asset_check_key_for_test,
    get_manifest_and_translator_from_dbt_assets,
    get_subset_selection_for_context,
)
from dagster_dbt.core.resource import DBT_INDIRECT_SELECTION_ENV

from orchestration.defs.dbt.project import parsed_manifest
from orchestration.defs.resources import Warehouse

MATERIALIZED = ("model", "seed", "snapshot")
LOG_FILE_MAX_BYTES = 2 * 1024 * 1024
OUT_OF_MEMORY = "Out of Memory Error"  # how DuckDB names the error, in dbt's message for the node


def run_dbt(
    context: dg.AssetExecutionContext,
    invocations: Sequence[Sequence[str]],
    work_dir: Path,
    warehouse: Warehouse,
    window: tuple[Any, Any] | None = None,
    after_each: Callable[[int], None] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Invoke `dbt <args>` for the selected assets and checks of the running step, once per argument list in
    order (the chunks of a long range; `after_each` is called with a chunk's index once it succeeded), and report
    each node once over all of them (`metadata` added to every materialization); raise, naming every failed node and
    its error, when a model or an error-severity test failed (no later chunk runs)."""
    manifest, translator, project = get_manifest_and_translator_from_dbt_assets([context.assets_def])
    tags = context.op.tags
    selection, indirect = get_subset_selection_for_context(
        context=context, manifest=manifest, select=tags.get("dagster_dbt/select"),
        exclude=tags.get("dagster_dbt/exclude"), selector=None, dagster_dbt_translator=translator,
        current_dbt_indirect_selection_env=os.getenv(DBT_INDIRECT_SELECTION_ENV),
    )
    work_dir.mkdir(parents=True, exist_ok=True)
    # buildable: a test runs with the step that builds (or is downstream of) every model it reads,
    # so each test runs in exactly one of the two dbt steps of a run.
    options = [
        *selection, "--indirect-selection", indirect or "buildable",
        "--project-dir", str(project.project_dir), "--profiles-dir", str(project.profiles_dir),
        "--target-path", str(work_dir), "--log-path", str(work_dir), "--no-write-json",
        # Nothing on the console (failures come back in the exception below, once); warnings and errors in a
        # bounded log file (dbt rolls it over at the size given and keeps a few old ones). Each node's line and
        # seconds are Dagster metadata instead (`dbt_seconds`): at INFO the file took about a seventh of dbt's CPU.
        "--log-level", "none", "--log-level-file", "warn", "--log-file-max-bytes", str(LOG_FILE_MAX_BYTES),
    ]
    nodes: dict[str, NodeRuns] = {}
    failures: list[str] = []
    for number, args in enumerate(invocations, start=1):
        chunk = f" (chunk {number} of {len(invocations)})" if len(invocations) > 1 else ""
        started = time.perf_counter()
        results, problem = _invoke([*args, *options], project, chunk)
        for node_result in results:
            runs = nodes.setdefault(node_result.node.unique_id, NodeRuns(node_result.node))
            runs.add(node_result)
            if runs.failed_now:
                failures.append(f"{node_result.node.name}{chunk}: {node_result.message}")
        if problem and not failures:
            failures.append(f"dbt{chunk}: {problem}")
        if failures:
            break
        if chunk:
            context.log.info(f"dbt{chunk} done in {time.perf_counter() - started:.1f} s")
        if after_each:
            after_each(number - 1)
    with warehouse.connect() as con:
        yield from _events(context, nodes.values(), con, window, manifest, translator, project, metadata or {})
    if failures:
        detail = "\n".join(failures)
        raise RuntimeError(f"dbt {invocations[0][0]} failed:\n{detail}{memory_hint(detail)}")


def _invoke(command: list[str], project: Any, chunk: str) -> tuple[list[Any], str | None]:
    """dbt's node results of one invocation in this process (on the parsed manifest), and dbt's exception when the
    invocation did not succeed; raise when dbt did not run at all."""
    from dbt.cli.main import dbtRunner

    try:
        result = dbtRunner(manifest=parsed_manifest(project)).invoke(command)
    finally:
        _release_warehouse()
    if result.result is None or not hasattr(result.result, "results"):
        raise RuntimeError(f"dbt {command[0]}{chunk} did not run: {result.exception}")
    return list(result.result.results), None if result.success else str(result.exception)


# A test's outcome over several chunks is its worst; a model's is success only when every chunk built it.
TEST_SEVERITY = ("skipped", "pass", "warn", "fail", "error")


@dataclass
class NodeRuns:
    """One dbt node's results over the chunks of a run so far."""

    node: Any
    statuses: list[str] = field(default_factory=list)
    seconds: float = 0.0
    failing_rows: list[int] = field(default_factory=list)

    def add(self, node_result: Any) -> None:
        self.statuses.append(str(node_result.status))
        self.seconds += float(node_result.execution_time or 0.0)
        self.failing_rows.append(int(node_result.failures or 0))

    @property
    def warn_only(self) -> bool:
        return str(self.node.config.severity).lower() == "warn"

    @property
    def status(self) -> str:
        if self.node.resource_type in MATERIALIZED:
            return "success" if all(s == "success" for s in self.statuses) else next(
                s for s in self.statuses if s != "success")
        return max(self.statuses, key=lambda s: TEST_SEVERITY.index(s) if s in TEST_SEVERITY else len(TEST_SEVERITY))

    @property
    def failed_now(self) -> bool:
        """Whether the latest chunk failed this node: a model not built, or an error-severity test failing."""
        latest = self.statuses[-1]
        if self.node.resource_type in MATERIALIZED:
            return latest not in ("success", "skipped")
        return self.node.resource_type == "test" and (latest == "error" or (latest == "fail" and not self.warn_only))


def _events(context: dg.AssetExecutionContext, nodes: Iterable[NodeRuns], con: Any, window: tuple[Any, Any] | None,
            manifest: Any, translator: Any, project: Any,
            metadata: Mapping[str, Any]) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """A materialization per model or seed built in every chunk (with its rows of the window), an asset check
    result per selected data test that ran."""
    selected_checks = context.selected_asset_check_keys
    for runs in nodes:
        node, status = runs.node, runs.status
        seconds = {"dbt_seconds": dg.MetadataValue.float(round(runs.seconds, 3))}  # dbt's own, as the UI shows them
        if len(runs.statuses) > 1:  # a long range: the dbt runs (chunks) the seconds are summed over
            seconds["dbt_runs"] = len(runs.statuses)
        if node.resource_type in MATERIALIZED and status == "success":
            key = translator.get_asset_spec(manifest, node.unique_id, project).key
            yield dg.MaterializeResult(asset_key=key,
                                       metadata={**_window_metadata(con, node, window), **seconds, **metadata})
        elif node.resource_type == "test" and status != "skipped":
            check = get_asset_check_key_for_test(manifest, translator, node.unique_id, project)
            if check is None or check not in selected_checks:
                continue
            check_metadata = {"status": status, "failing_rows": sum(runs.failing_rows), **seconds}
            if len(runs.statuses) > 1:  # chunks check disjoint days (chunks.checked_ends): their counts add up
                check_metadata["failing_rows_by_chunk"] = dg.MetadataValue.json(runs.failing_rows)
            yield dg.AssetCheckResult(
                asset_key=check.asset_key, check_name=check.name, passed=status == "pass",
                severity=dg.AssetCheckSeverity.WARN if runs.warn_only else dg.AssetCheckSeverity.ERROR,
                metadata=check_metadata,
            )


def memory_hint(detail: str) -> str:
    """What to do when DuckDB ran out of the run's memory (its own message only suggests SQL settings)."""
    if OUT_OF_MEMORY not in detail:
        return ""
    return ("\nDuckDB ran out of the run's memory limit (the setting CHURN_RECALL_DUCKDB_MEMORY_LIMIT). A long range "
            "runs dbt in chunks of the user-days that limit should hold: raise the limit, or set smaller chunks "
            "(CHURN_RECALL_DBT_CHUNK_USER_DAYS; docs/performance.md, \"A long range at 1M users\").")


def _release_warehouse() -> None:
    """dbt-duckdb keeps its connection to the warehouse open in the process after a run; close it so
    that the file is free once the run's own connection closes. (dbt-duckdb only drops its reference
    in close_all_connections and leaves the closing to the garbage collector, which costs a full
    collection of this process's large heap: close the environment explicitly.)"""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()


def _window_metadata(con: Any, node: Any, window: tuple[Any, Any] | None) -> Mapping[str, Any]:
    """Rows of the window in the model's day column (config meta `window_column`), the counts by a
    column on the window's last day (meta `count_by`), the last day's values of a one-row-per-day
    model (meta `last_day_columns`) and its warning (meta `warning_column`: a non-empty value becomes
    the `warning` entry): cheap, never a whole-table count."""
    meta = node.config.meta or {}
    column = meta.get("window_column")
    if window is None or not column:
        return {}
    table = f"{node.schema}.{node.alias or node.name}"  # base_users lives in the restricted schema
    first, end = window
    rows = con.execute(f"select count(*) from {table} where {column} >= ? and {column} < ?", [first, end]).fetchall()
    metadata: dict[str, Any] = {"rows_in_window": dg.MetadataValue.int(int(rows[0][0]))}
    if meta.get("count_by"):
        by = meta["count_by"]
        counts = con.execute(
            f"select {by}, count(*) from {table} where {column} = cast(? as date) - 1 group by 1 order by 1", [end]
        ).fetchall()
        metadata[f"{by}_on_last_day"] = dg.MetadataValue.json({str(k): int(v) for k, v in counts})
    columns = list(meta.get("last_day_columns") or [])
    warning = meta.get("warning_column")
    if columns or warning:
        selected = [*columns, *([warning] if warning else [])]
        last_day = con.execute(
            f"select {', '.join(selected)} from {table} where {column} = cast(? as date) - 1", [end]
        ).fetchall()
        if last_day:
            values = dict(zip(selected, last_day[0]))
            if columns:
                metadata["last_day"] = dg.MetadataValue.json({c: _plain(values[c]) for c in columns})
            if warning and values[warning]:
                metadata["warning"] = dg.MetadataValue.text(f"{warning}: {values[warning]}")
    return metadata


def _plain(value: Any) -> Any:
    """A JSON-ready value (numbers, text, booleans and nulls as they are; anything else as text)."""
    return value if value is None or isinstance(value, (bool, int, float, str)) else str(value)
