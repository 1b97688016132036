"""The benchmark's floor copies exactly the rows a day's run writes: the day's landed events, the day's rows of each
daily table, the whole outcomes table, and publishes the day's labels and tiers; it leaves nothing behind."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.benchmarks.floor import SCRATCH, WRITTEN, time_floor, written_rows

DAY = date(2026, 1, 8)


def _warehouse(landing: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    (landing / DAY.isoformat()).mkdir(parents=True)
    con.execute(f"copy (select range as event_id from range(5)) to '{landing / DAY.isoformat() / 'events.parquet'}'")
    for _, table, column in WRITTEN:  # two rows of the day, one of the day before
        day_column = column or "as_of_date"
        con.execute(f"create table {table} as select * from (values (1, date '{DAY}'), (2, date '{DAY}'), "
                    f"(3, date '2026-01-07')) as t(user_id, {day_column})")
    return con


def test_the_floor_copies_the_rows_of_the_day_and_the_whole_outcomes_table(tmp_path: Path) -> None:
    con = _warehouse(tmp_path)
    counts = {what: con.execute(f"select count(*) from ({select})").fetchone()[0]
              for what, select in written_rows(DAY, tmp_path).items()}
    assert counts == {"landed events": 5, "staged events": 2, "labels": 2, "risk tiers": 2, "churn scores": 2,
                      "recall plan": 2, "outcomes": 3, "cohort metrics": 2}


def test_the_floor_times_every_copy_and_drops_its_scratch(tmp_path: Path) -> None:
    con = _warehouse(tmp_path)
    seconds = time_floor(con, DAY, tmp_path, repeats=1)
    assert set(seconds) == set(written_rows(DAY, tmp_path)) | {"labels as Parquet", "risk tiers as Parquet"}
    assert all(value >= 0 for value in seconds.values())
    assert not con.execute("select count(*) from information_schema.schemata where schema_name = ?",
                           [SCRATCH]).fetchone()[0]


def test_the_floor_says_when_the_days_landing_file_is_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no events Parquet landing file for 2026-01-08"):
        written_rows(DAY, tmp_path)
