"""Loading landing files into the warehouse's raw tables."""

from orchestration.ingestion.contract import FEEDS, RESTRICTED_SCHEMA, feed_spec, raw_table
from orchestration.ingestion.landing import (
    LOG_TABLE, LoadResult, ensure_raw_tables, find_landing_file, load_landing_day, load_landing_range,
)

__all__ = [
    "FEEDS", "LOG_TABLE", "RESTRICTED_SCHEMA", "LoadResult", "ensure_raw_tables", "feed_spec", "find_landing_file",
    "load_landing_day", "load_landing_range", "raw_table",
]
