"""Benchmark of the landing-to-staging layer: the seconds (wall and CPU) one landing day takes to load
into the raw tables and to stage (dbt's staging, quarantine and user-version models), after the days
before it were loaded and staged, and the events contract on the day: in SQL, as the run validates it,
against Great Expectations over the day in pandas (its import timed apart)."""

from __future__ import annotations

import json
import resource
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

STAGING_SELECTION = ["path:models/staging", "path:models/quarantine", "int_user_versions", "user_contacts"]


class _Clock:
    """Wall and CPU seconds (this process and its DuckDB threads) of each timed step."""

    def __init__(self) -> None:
        self.figures: dict[str, tuple[float, float]] = {}

    def time(self, label: str, action: Callable[[], Any]) -> Any:
        wall, cpu = time.perf_counter(), _cpu()
        result = action()
        self.figures[label] = (time.perf_counter() - wall, _cpu() - cpu)
        print(f"  {label:<46} {self.figures[label][0]:7.2f} s wall {self.figures[label][1]:7.2f} s CPU", flush=True)
        return result


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _dbt(project_dir: Path, work: Path, warehouse: Path, manifest: Any, args: list[str],
         window: tuple[date, date]) -> None:
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    dbt_vars = {"warehouse_path": str(warehouse), "min_date": window[0].isoformat(), "max_date": window[1].isoformat()}
    result = dbtRunner(manifest=manifest.deepcopy()).invoke([
        *args, "--vars", json.dumps(dbt_vars), "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
        "--target-path", str(work), "--log-path", str(work), "--quiet"])
    DuckDBConnectionManager.close_all_connections()
    if not result.success:
        raise RuntimeError(f"dbt {args[0]} failed: {result.exception}")


def run_staging_benchmark(n_users: int, n_days: int, home: Path | None = None,
                          landing: Path | None = None) -> dict[str, float]:
    """Simulate n_users over n_days (or read an existing `landing` folder), load and stage every day but
    the last, then time the last day's ingestion, staging and events contract."""
    import duckdb
    from dbt.cli.main import dbtRunner

    from orchestration.config import DBT_PROJECT_DIR
    from orchestration.ingestion import load_landing_range
    from orchestration.quality.events_contract import validate_events
    from orchestration.simulator import SimulationConfig, simulate, write_world

    home = Path(home or tempfile.mkdtemp(prefix="churn-recall-staging-bench-"))
    warehouse, work = home / "warehouse.duckdb", home / "dbt"
    start = date(2026, 1, 1)
    if landing is None:
        landing = home / "landing"
        write_world(simulate(SimulationConfig(n_users=n_users, n_days=n_days, start_date=start)), landing, home / "truth")
    days = [start + timedelta(days=i) for i in range(n_days)]
    history, day = days[:-1], days[-1]
    manifest = dbtRunner().invoke(["parse", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
                                   str(DBT_PROJECT_DIR), "--target-path", str(work), "--quiet"]).result
    manifest.selectors = {}  # dbt 1.11's Manifest.deepcopy cannot copy them; every call here selects explicitly
    print(f"staging benchmark: {n_users:,} users, landing day {day} after {len(history)} staged days, in {home}")
    with duckdb.connect(str(warehouse)) as con:
        load_landing_range(con, history, landing)
    _dbt(DBT_PROJECT_DIR, work, warehouse, manifest, ["seed"], (start, day))
    _dbt(DBT_PROJECT_DIR, work, warehouse, manifest, ["run", "--select", *STAGING_SELECTION], (start, day))

    clock = _Clock()
    with duckdb.connect(str(warehouse)) as con:
        clock.time("ingestion (three feeds, one transaction)", lambda: load_landing_range(con, [day], landing))
        events = con.execute("select count(*) from raw_events where _landing_date = ?", [day]).fetchall()[0][0]
    clock.time("staging (dbt run: staging, quarantine, versions)",
               lambda: _dbt(DBT_PROJECT_DIR, work, warehouse, manifest,
                            ["run", "--select", *STAGING_SELECTION], (day, day + timedelta(days=1))))
    with duckdb.connect(str(warehouse)) as con:
        clock.time("events contract, whole day in SQL", lambda: validate_events(con, day, day))
        validate_frame = clock.time("Great Expectations' import and set-up", _great_expectations)
        clock.time("the same day in Great Expectations (pandas)", lambda: validate_frame(con.execute(
            "select * exclude (properties) from stg_events where _landing_date = ?", [day]).df(), "stg_events"))
    ingest, stage = clock.figures["ingestion (three feeds, one transaction)"], clock.figures[
        "staging (dbt run: staging, quarantine, versions)"]
    print(f"staging benchmark: {events:,} events landed on {day}; ingestion + staging "
          f"{ingest[0] + stage[0]:.2f} s wall, {ingest[1] + stage[1]:.2f} s CPU")
    return {"events": float(events), "ingestion_seconds": ingest[0], "staging_seconds": stage[0],
            "ingestion_cpu_seconds": ingest[1], "staging_cpu_seconds": stage[1],
            "contract_sql_seconds": clock.figures["events contract, whole day in SQL"][0],
            "contract_gx_seconds": clock.figures["the same day in Great Expectations (pandas)"][0]}


def _great_expectations() -> Callable[..., Any]:
    """Great Expectations' validation after its import and first validation (its set-up), for the comparison."""
    import pandas as pd

    from orchestration.quality.expectations import validate_frame

    validate_frame(pd.DataFrame({"event_id": ["e"], "user_id": ["u"], "event_name": ["app_open"],
                                 "category": ["session"], "event_time": [pd.Timestamp("2026-01-01")],
                                 "amount": [None]}), "stg_events")
    return validate_frame
