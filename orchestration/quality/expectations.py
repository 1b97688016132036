"""Great Expectations 1.x over pandas: load a suite from expectations/<name>.json and validate a
DataFrame against it in one ephemeral context (built once per process, analytics off). The reference
for the suites' meaning: the daily run evaluates them in SQL (sql_contract.py), and the tests hold the
two to the same answers."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import pandas as pd

# Must be set before great_expectations is imported: no usage statistics, no network.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx  # noqa: E402
from great_expectations.core.batch_definition import BatchDefinition  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402

from orchestration.quality.suites import (  # noqa: E402
    UNEXPECTED_SAMPLE,
    FailedExpectation,
    ValidationSummary,
    expectation_columns,
    read_suite,
)

_DATASOURCE = "churn_recall_frames"


def load_suite(name: str) -> gx.ExpectationSuite:
    """The suite stored in expectations/<name>.json (a GX 1.x ExpectationSuite JSON document)."""
    document = read_suite(name)
    return gx.ExpectationSuite(
        name=document.get("name", name),
        expectations=document.get("expectations", []),
        meta=document.get("meta"),
        notes=document.get("notes"),
    )


@lru_cache(maxsize=1)
def _context() -> Any:
    context = gx.get_context(mode="ephemeral")
    # Progress bars would flood pipeline logs with one line per metric batch.
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


@lru_cache(maxsize=None)
def _batch_definition(asset_name: str) -> BatchDefinition:
    """A whole-dataframe batch definition per asset; created once per process."""
    context = _context()
    try:
        source = context.data_sources.get(_DATASOURCE)
    except (KeyError, ValueError):
        source = context.data_sources.add_pandas(name=_DATASOURCE)
    asset = source.add_dataframe_asset(name=asset_name)
    return asset.add_batch_definition_whole_dataframe(f"{asset_name}_whole_frame")


@lru_cache(maxsize=None)
def _cached_suite(name: str) -> gx.ExpectationSuite:
    return load_suite(name)


def validate_frame(df: pd.DataFrame, suite_name: str) -> ValidationSummary:
    """Validate `df` against expectations/<suite_name>.json; never raises for failing data."""
    suite = _cached_suite(suite_name)
    batch = _batch_definition(suite_name).get_batch(batch_parameters={"dataframe": df})
    result = batch.validate(
        suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": UNEXPECTED_SAMPLE}
    )
    failures = []
    for item in result.results:
        if item.success:
            continue
        config = item.expectation_config
        details = item.result or {}
        exception = item.exception_info or {}
        error = exception.get("exception_message") if exception.get("raised_exception") else None
        failures.append(
            FailedExpectation(
                expectation_type=config.type,
                columns=expectation_columns(config.kwargs),
                description=config.description or "",
                unexpected_count=details.get("unexpected_count"),
                unexpected_values=list(details.get("partial_unexpected_list") or [])[:UNEXPECTED_SAMPLE],
                error=error,
            )
        )
    return ValidationSummary(
        suite_name=suite_name,
        success=bool(result.success),
        evaluated=int(result.statistics["evaluated_expectations"]),
        failed=int(result.statistics["unsuccessful_expectations"]),
        rows=len(df),
        failures=failures,
    )
