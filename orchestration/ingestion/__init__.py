"""Loading landing files into the warehouse's raw tables."""

from orchestration.ingestion.landing import FEEDS, LoadResult, find_landing_file, load_landing_day, raw_table

__all__ = ["FEEDS", "LoadResult", "find_landing_file", "load_landing_day", "raw_table"]
