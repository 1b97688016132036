"""The dbt project, parsed once per process and again only when its files change.

Runs reuse the parsed manifest in-process instead of starting a dbt process that re-parses the
project (the window and rules arrive as vars, which defeats dbt's partial parsing): this is what
keeps the fixed cost of a daily run low.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from dagster_dbt import DbtProject

from orchestration.config import DBT_PROJECT_DIR
from orchestration.defs.dbt.behavior import name_behavior_flags_cheaply
from orchestration.defs.dbt.templates import cache_compiled_templates

SOURCE_FOLDERS = ("models", "macros", "seeds", "tests")
PARSE_STATE = "partial_parse.msgpack"  # dbt's partial-parsing state, beside manifest.json
COMPILED_TEMPLATES = "jinja_bytecode"  # dbt's compiled Jinja, beside them (templates.py)
_lock = threading.Lock()
_parsed: dict[Path, tuple[float, Any]] = {}


@lru_cache(maxsize=1)
def dbt_project() -> DbtProject:
    """The project, with a manifest.json that matches its files (parsed here when missing or stale)."""
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    parsed_manifest(project)
    return project


def dbt_project_var(name: str) -> Any:
    """A var as dbt_project.yml sets it (for the vars a run does not pass, e.g. business_timezone)."""
    import yaml

    from orchestration.config.verticals import YAML_LOADER  # a run asks several times: 7 ms a read without libyaml

    text = (DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=YAML_LOADER)["vars"][name]


def newest_source_mtime(project_dir: Path) -> float:
    """The latest modification time of a file dbt parses (models, macros, seeds, tests, project file)."""
    sources = (path for folder in SOURCE_FOLDERS for path in (project_dir / folder).rglob("*"))
    newest = max((path.stat().st_mtime for path in sources if path.is_file()), default=0.0)
    return max(newest, (project_dir / "dbt_project.yml").stat().st_mtime)


def manifest_is_stale(project: DbtProject) -> bool:
    """True when manifest.json is missing or older than a file of the dbt project (e.g. after a pull)."""
    if not project.manifest_path.exists():
        return True
    return newest_source_mtime(Path(project.project_dir)) > project.manifest_path.stat().st_mtime


def parsed_manifest(project: DbtProject) -> Any:
    """A private copy of the project's parsed dbt Manifest (dbt marks nodes while it compiles them, so
    every invocation gets its own copy). Parses in-process, writing manifest.json, when needed. Every dbt
    invocation asks for one first, so this is where dbt's compiled templates start being kept and its adapter's
    behavior flags stop inspecting the stack (behavior.py)."""
    project_dir = Path(project.project_dir)
    cache_compiled_templates(project_dir / project.target_path / COMPILED_TEMPLATES)
    name_behavior_flags_cheaply()
    with _lock:
        newest = newest_source_mtime(project_dir)
        cached = _parsed.get(project_dir)
        if cached is None or cached[0] < newest or manifest_is_stale(project):
            _parsed[project_dir] = (newest, _parse(project))
        return _parsed[project_dir][1].deepcopy()


def _parse(project: DbtProject) -> Any:
    """Parse in a private folder, then move manifest.json into the target folder in one step: several
    processes (test workers, a run beside a code server) may parse at once, and one of them reading a
    manifest.json that another is still writing failed to decode it. dbt's partial-parse state travels the
    same way, so that the next process parses only what changed since (every run in a process of its own:
    1.2 s instead of 4.4 s); dbt parses everything again when the files, vars, profile or dbt differ."""
    from dbt.cli.main import dbtRunner

    target = Path(project.project_dir) / project.target_path
    target.mkdir(parents=True, exist_ok=True)
    private = Path(tempfile.mkdtemp(prefix=".parse-", dir=target))
    try:
        if (target / PARSE_STATE).exists():
            shutil.copyfile(target / PARSE_STATE, private / PARSE_STATE)
        result = dbtRunner().invoke([
            "parse", "--project-dir", str(project.project_dir), "--profiles-dir", str(project.profiles_dir),
            "--target-path", str(private), "--log-path", str(private), "--quiet",
        ])
        if not result.success:
            raise RuntimeError(f"dbt could not parse {project.project_dir}: {result.exception}")
        os.replace(private / "manifest.json", target / "manifest.json")
        if (private / PARSE_STATE).exists():
            os.replace(private / PARSE_STATE, target / PARSE_STATE)
    finally:
        shutil.rmtree(private, ignore_errors=True)
    manifest = result.result
    # dbt 1.11's Manifest.deepcopy cannot copy selectors (it parses them as plain dicts). Runs always
    # pass an explicit --select, which overrides the default selector of selectors.yml, so drop them.
    manifest.selectors = {}
    return manifest
