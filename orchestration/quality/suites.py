"""The contract suites (expectations/<name>.json, Great Expectations 1.x documents) read as plain JSON,
and the summary a validation returns, whichever engine validated: nothing here imports Great Expectations."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXPECTATIONS_DIR = Path(__file__).resolve().parents[2] / "expectations"
UNEXPECTED_SAMPLE = 5


@dataclass(frozen=True)
class FailedExpectation:
    """One expectation that did not hold, with what it was about and a sample of offending values."""

    expectation_type: str
    columns: list[str]
    description: str
    unexpected_count: int | None
    unexpected_values: list[Any] = field(default_factory=list)
    error: str | None = None

    def __str__(self) -> str:
        where = ", ".join(self.columns)
        count = "" if self.unexpected_count is None else f": {self.unexpected_count} unexpected"
        sample = f" e.g. {self.unexpected_values}" if self.unexpected_values else ""
        error = f" (error: {self.error})" if self.error else ""
        return f"{self.expectation_type}({where}) - {self.description}{count}{sample}{error}"


@dataclass(frozen=True)
class ValidationSummary:
    """Outcome of validating one set of rows against one suite."""

    suite_name: str
    success: bool
    evaluated: int
    failed: int
    rows: int
    failures: list[FailedExpectation]

    def failed_types(self) -> set[tuple[str, tuple[str, ...]]]:
        """(expectation type, columns) of every failure, for quick assertions and metadata."""
        return {(f.expectation_type, tuple(f.columns)) for f in self.failures}


def suite_path(name: str) -> Path:
    return EXPECTATIONS_DIR / f"{name}.json"


def read_suite(name: str) -> dict[str, Any]:
    """The JSON document of expectations/<name>.json."""
    path = suite_path(name)
    if not path.is_file():
        raise FileNotFoundError(f"no expectation suite {name!r} at {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def expectation_columns(kwargs: dict[str, Any]) -> list[str]:
    """The columns an expectation is about, from its kwargs."""
    if "column" in kwargs:
        return [kwargs["column"]]
    return list(kwargs.get("column_list") or [c for c in (kwargs.get("column_A"), kwargs.get("column_B")) if c])
