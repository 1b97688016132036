"""The preflight of a run: every setting, the vertical preset and the strategy library validated, and
every output folder checked writable, before the run writes anything. Problems are collected and
reported together, each naming the setting (or the file and line) to fix."""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.config import Settings


class PreflightError(ValueError):
    """The run cannot start; one line per problem. Nothing was written."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("the run did not start (nothing was written):\n" + "\n".join(f"  - {p}" for p in problems))


def preflight(settings: Settings) -> None:
    """Raise PreflightError listing every problem found; return quietly when the run can start."""
    from orchestration.recall import StrategyLibraryError, load_strategy_library

    problems: list[str] = []
    try:
        load_strategy_library(settings.strategies)
    except StrategyLibraryError as exc:
        problems.extend(f"strategy library (CHURN_RECALL_STRATEGIES): {p}" for p in exc.problems)
    try:
        settings.preset.dbt_vars()
        settings.measurement_windows
    except (ValueError, OSError) as exc:
        problems.append(f"vertical preset {settings.vertical!r} (CHURN_RECALL_VERTICAL): {exc}")
    folders = {
        "CHURN_RECALL_HOME": settings.home, "CHURN_RECALL_OUTBOX": settings.outbox,
        "CHURN_RECALL_WAREHOUSE (its folder)": settings.warehouse.parent,
        "BI snapshot folder ($CHURN_RECALL_HOME/bi)": settings.bi_dir,
        "report folder ($CHURN_RECALL_HOME/reports)": settings.reports_dir,
    }
    for name, folder in folders.items():
        problem = _not_writable(folder)
        if problem:
            problems.append(f"{name}: {problem}")
    if settings.warehouse.exists() and not settings.warehouse.is_file():
        problems.append(f"CHURN_RECALL_WAREHOUSE: {settings.warehouse} is not a file")
    if settings.landing.exists() and not settings.landing.is_dir():
        problems.append(f"CHURN_RECALL_LANDING: {settings.landing} is not a folder")
    if problems:
        raise PreflightError(problems)


def _not_writable(folder: Path) -> str | None:
    """Why `folder` cannot be created or written to, or None when it can (nothing is created here)."""
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            return f"{folder}: no existing parent folder"
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, so {folder} cannot be a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    return None
