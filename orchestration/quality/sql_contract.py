"""Evaluate a contract suite (expectations/<name>.json) in SQL on the warehouse: what the daily run does.

Each expectation becomes a count of unexpected rows over every row of the relation. Great Expectations
stays the reference for what an expectation means (nulls are ignored except by not_null, float NaN counts
as null, every copy of a duplicate is unexpected, a compound key is skipped only when all its columns are
null); tests/test_quality.py holds both engines to the same answers on the same rows. The run does not
import Great Expectations, which cost about 2.3 s of every run, and SQL checks the whole window where the
pandas validation had to sample it (docs/performance.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from orchestration.quality.suites import (
    UNEXPECTED_SAMPLE,
    FailedExpectation,
    ValidationSummary,
    expectation_columns,
    read_suite,
)

ROWS = "contract_rows"
FLOAT_TYPES = {"DOUBLE", "FLOAT", "REAL"}
# The kwargs each supported type understands; any other (e.g. `mostly`) is refused, never ignored.
KWARGS = {
    "expect_column_values_to_not_be_null": {"column"},
    "expect_column_values_to_be_in_set": {"column", "value_set"},
    "expect_column_values_to_be_between": {"column", "min_value", "max_value", "strict_min", "strict_max"},
    "expect_column_values_to_be_unique": {"column"},
    "expect_compound_columns_to_be_unique": {"column_list"},
}
DUPLICATES = {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}


def validate_relation(con: duckdb.DuckDBPyConnection, relation: str, suite_name: str,
                      params: Sequence[Any] = ()) -> ValidationSummary:
    """Validate the rows of `relation` (a select statement, with `params` for its placeholders) against
    expectations/<suite_name>.json; never raises for failing data, raises ValueError for a suite it cannot
    translate."""
    document = read_suite(suite_name)
    expectations = document.get("expectations", [])
    for expectation in expectations:
        _check_supported(suite_name, expectation)
    described = con.execute(f"select * from ({relation}) limit 0", list(params)).description
    types = {name: str(kind) for name, kind, *_ in described}
    with_rows = f"with {ROWS} as ({relation}) "

    def query(sql: str) -> list[tuple[Any, ...]]:
        return con.execute(with_rows + sql, list(params)).fetchall()

    missing = [next((c for c in expectation_columns(e["kwargs"]) if c not in types), None) for e in expectations]
    # the expectations judged row by row: every one counted in a single pass over the rows
    row_checks = [i for i, e in enumerate(expectations) if e["type"] not in DUPLICATES and missing[i] is None]
    counts = query("select count(*)" + "".join(
        f", count(*) filter (where {_unexpected(expectations[i], types)})" for i in row_checks) + f" from {ROWS}")[0]
    rows, unexpected = int(counts[0]), dict(zip(row_checks, counts[1:]))
    failures = []
    for i, expectation in enumerate(expectations):
        names = expectation_columns(expectation["kwargs"])
        if missing[i] is not None:
            failures.append(_failure(expectation, None, error=f"no column {missing[i]!r} in the rows"))
            continue
        if expectation["type"] in DUPLICATES:
            keys = ", ".join(_quoted(c) for c in names)
            # every copy of a key seen more than once; a key all of whose columns are null is skipped, as GX does
            duplicated = (f"from {ROWS} where not ({' and '.join(f'{_quoted(c)} is null' for c in names)}) "
                          f"group by {keys} having count(*) > 1")
            count = query(f"select coalesce(sum(n), 0) from (select count(*) as n {duplicated})")[0][0]
            sample_sql = f"select {keys} {duplicated} order by {keys} limit {UNEXPECTED_SAMPLE}"
        else:
            count = unexpected[i]
            sample_sql = (f"select distinct {_quoted(names[0])} from {ROWS} where {_unexpected(expectation, types)} "
                          f"order by 1 limit {UNEXPECTED_SAMPLE}")
        if count:
            # the values of a not_null failure are all null: nothing to show
            sample = [] if expectation["type"] == "expect_column_values_to_not_be_null" else query(sample_sql)
            values = [row[0] if len(row) == 1 else dict(zip(names, row)) for row in sample]
            failures.append(_failure(expectation, int(count), values))
    return ValidationSummary(suite_name=document.get("name", suite_name), success=not failures,
                             evaluated=len(expectations), failed=len(failures), rows=rows, failures=failures)


def _check_supported(suite_name: str, expectation: dict[str, Any]) -> None:
    kind, kwargs = expectation.get("type"), expectation.get("kwargs", {})
    if kind not in KWARGS:
        raise ValueError(f"suite {suite_name!r}: expectation {kind!r} has no SQL translation (supported: "
                         f"{sorted(KWARGS)}); add one to orchestration/quality/sql_contract.py with a test against "
                         f"Great Expectations in tests/test_quality.py")
    unknown = sorted(set(kwargs) - KWARGS[kind])
    if unknown:
        raise ValueError(f"suite {suite_name!r}: {kind} with {unknown} is not translated to SQL")
    if kind == "expect_column_values_to_be_between" and kwargs.get("min_value") is None \
            and kwargs.get("max_value") is None:
        raise ValueError(f"suite {suite_name!r}: {kind} on {kwargs['column']!r} needs min_value or max_value")


def _unexpected(expectation: dict[str, Any], types: dict[str, str]) -> str:
    """The predicate of an unexpected row, for the expectations judged row by row."""
    kwargs = expectation["kwargs"]
    column = kwargs["column"]
    value = _quoted(column)
    is_null = f"({value} is null or isnan({value}))" if types[column] in FLOAT_TYPES else f"{value} is null"
    kind = expectation["type"]
    if kind == "expect_column_values_to_not_be_null":
        return is_null
    if kind == "expect_column_values_to_be_in_set":
        members = ", ".join(_literal(v) for v in kwargs["value_set"])
        outside = f"{value} not in ({members})" if members else "true"
        return f"not {is_null} and {outside}"
    bounds = []
    if kwargs.get("min_value") is not None:
        bounds.append(f"{value} {'<=' if kwargs.get('strict_min') else '<'} {_literal(kwargs['min_value'])}")
    if kwargs.get("max_value") is not None:
        bounds.append(f"{value} {'>=' if kwargs.get('strict_max') else '>'} {_literal(kwargs['max_value'])}")
    return f"not {is_null} and ({' or '.join(bounds)})"


def _failure(expectation: dict[str, Any], count: int | None, values: list[Any] | None = None,
             error: str | None = None) -> FailedExpectation:
    return FailedExpectation(expectation_type=expectation["type"], columns=expectation_columns(expectation["kwargs"]),
                             description=expectation.get("description") or "", unexpected_count=count,
                             unexpected_values=values or [], error=error)


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise ValueError(f"no SQL literal for {value!r} in an expectation")
