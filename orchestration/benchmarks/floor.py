"""The floor of a partition: what it costs only to copy the rows a day's run writes, with no computation at all.

A daily run lands the day's events, stages them typed, writes the day's labels, risk tiers, churn scores, recall
plan and measurement, and publishes the labels and tiers for BI. Any pipeline that keeps those tables pays at least
this much, whatever its SQL; the benchmark prints it beside the reference query so that the ratio's limit can be read
against what is possible (the reference query computes a few label columns and writes nothing)."""

from __future__ import annotations

import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

from orchestration.ingestion.landing import find_landing_file

# (what is copied, table, the column naming the run's day; None: the run rewrites the whole table)
WRITTEN = (
    ("staged events", "stg_events", "event_date"),
    ("labels", "user_daily_labels", "label_date"),
    ("risk tiers", "user_risk_tiers", "tier_date"),
    ("churn scores", "user_churn_scores", "score_date"),
    ("recall plan", "recall_actions", "action_date"),
    ("outcomes", "recall_outcomes", None),
    ("cohort metrics", "recall_metrics", "as_of_date"),
)
PUBLISHED = ("labels", "risk tiers")  # of WRITTEN, the kinds the BI snapshot also writes as Parquet
SCRATCH = "floor_scratch"


def time_floor(con: duckdb.DuckDBPyConnection, day: date, landing_dir: Path, repeats: int = 2) -> dict[str, float]:
    """Seconds (best of `repeats`) to copy each kind of row the run of `day` writes, from the warehouse's own rows
    of that day into a scratch schema (dropped after) or a Parquet file: what the run writes, at its width and count.
    Without the lookback days a run rewrites too, so it is a lower bound."""
    selects, seconds = written_rows(day, landing_dir), {}
    con.execute(f"create schema if not exists {SCRATCH}")
    try:
        for what, select in selects.items():
            seconds[what] = _best(con, f"create or replace table {SCRATCH}.copy as {select}", repeats)
        with tempfile.TemporaryDirectory() as folder:
            for what in PUBLISHED:
                target = Path(folder, "copy.parquet").as_posix()
                seconds[f"{what} as Parquet"] = _best(con, f"copy ({selects[what]}) to '{target}' (format parquet)",
                                                      repeats)
    finally:
        con.execute(f"drop schema if exists {SCRATCH} cascade")
    return seconds


def written_rows(day: date, landing_dir: Path) -> dict[str, str]:
    """A select of the rows of each kind the run of `day` writes (the landed events read from their file)."""
    events = find_landing_file(landing_dir, day, "events")
    if events is None or events.suffix != ".parquet":
        raise FileNotFoundError(f"no events Parquet landing file for {day} under {landing_dir} (the benchmark's "
                                f"world writes one): the floor copies it")
    selects = {"landed events": f"select * from read_parquet('{events.as_posix()}')"}
    selects.update({what: f"select * from {table}" + (f" where {column} = DATE '{day}'" if column else "")
                    for what, table, column in WRITTEN})
    return selects


def _best(con: duckdb.DuckDBPyConnection, sql: str, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        con.execute(sql)
        best = min(best, time.perf_counter() - started)
    return best
