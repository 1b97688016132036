"""The rows the events contract (expectations/stg_events.json) validates: every accepted event landed in
the window, as a relation on the warehouse (the contract runs in SQL, so no sample is needed)."""

from __future__ import annotations

from datetime import date

import duckdb

from orchestration.quality.sql_contract import validate_relation
from orchestration.quality.suites import ValidationSummary

EVENTS_IN_WINDOW = "select * from stg_events where _landing_date >= ? and _landing_date <= ?"


def validate_events(con: duckdb.DuckDBPyConnection, first: date, last: date) -> ValidationSummary:
    """The events contract on the accepted events landed first..last (inclusive)."""
    return validate_relation(con, EVENTS_IN_WINDOW, "stg_events", [first, last])
