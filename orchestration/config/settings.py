"""Runtime settings: read once from the environment (all optional, validated) into one frozen object
that the Dagster wiring, dbt and the command line share."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from orchestration.config.input_bounds import InputBounds
from orchestration.config.verticals import DEFAULT_VERTICAL, VerticalPreset, measurement_windows, preset_for, validate_vertical

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
DEFAULT_STRATEGIES = REPO_ROOT / "orchestration" / "recall" / "strategies.yml"
DEFAULT_START_DATE = "2026-01-01"
# The units of a DuckDB memory limit, as DuckDB reads them (GB is 1000³, GiB 1024³).
MEMORY_UNITS = {"KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4,
                "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, "TiB": 1024**4}
MEMORY_LIMIT = rf"^(\d+(?:\.\d+)?)\s*({'|'.join(MEMORY_UNITS)})$"


def memory_bytes(limit: str) -> int:
    """Bytes of a DuckDB memory limit such as '3GB' or '2.5 GiB'."""
    match = re.fullmatch(MEMORY_LIMIT, limit.strip())
    if not match:
        raise ValueError(f"not a memory limit: {limit!r} (a number and one of {', '.join(MEMORY_UNITS)})")
    return int(float(match.group(1)) * MEMORY_UNITS[match.group(2)])


def python_step_memory_limit(limit: str) -> str:
    """DuckDB's share of `limit` while a Python step holds its day's frames beside it: a third, at least 256 MB
    (never more than `limit`). DuckDB keeps the table blocks it read cached up to its limit, so in a long range's
    recall plan the cache grew 0.06 GiB a day under 3GB, beside the plan's own frames, to a 7.2 GiB peak at 1M
    users; under 1GB its memory stayed flat and each day's reads were faster (docs/performance.md)."""
    total = memory_bytes(limit)
    return f"{min(total, max(total // 3, 256 * 1000**2)) // 1000**2}MB"


class Settings(BaseModel):
    """Where the warehouse, landing files and exports live, the first partition, the late-data
    lookback, the vertical preset and the measurement's wake-up override; every field has a default.

    lookback_days: a daily run also recomputes this many earlier days, so events that arrive up
    to that many days late are folded into the days they belong to.
    vertical: the preset of `orchestration/config/verticals.yml` whose rules the run applies.
    wake_up_days: replaces the preset's measurement wake-up window (None: the preset's).
    duckdb_memory_limit: DuckDB's memory limit for the warehouse (dbt and the Python steps; the recall plan
    leaves DuckDB a third of it, python_step_memory_limit); past it, large operators spill to `<warehouse>.tmp/`
    instead of failing.
    dbt_chunk_user_days: the user-days (users landed × days) one dbt run processes at most: a longer range runs
    as several dbt runs in order (None: what the memory limit holds, orchestration/warehouse/chunks.py).
    measurement_shard_journeys: the journeys the measurement holds at a time: past them it measures a shard of
    users at a time (None: 500,000, measurement.daily.SHARD_JOURNEYS, about 1.9 GiB at 1M users; docs/measurement.md).
    lock_wait_seconds: how long a run waits for another process to let go of the warehouse file
    before it stops with a one-line explanation of who holds it.
    bi_postgres_url: when set, the BI snapshot is also published to this PostgreSQL database
    (schema churn_recall_bi), e.g. postgresql://bi_writer@localhost:5432/analytics.
    input_bounds: the limits of the staging rules (CHURN_RECALL_MAX_AMOUNT etc., see InputBounds).
    at_risk_max_share: replaces the preset's at_risk_max_share, the share of the day's users the churn
    model may flag at_risk: the volume the team can serve (None: the preset's).
    recall_from: the day recall goes live: earlier partitions plan no journey (a backfill of history must not
    produce outboxes for days long gone). None: from the first partition.
    recall_until: the last day recall plans journeys (a pause: later partitions plan none, and running
    journeys stop). None: no end.
    delivery_silence_days: a sent outbox row without a delivery record this many days after its planning day
    makes the recall_delivery_silence check warn.
    bi_keep_versions: how many versions of the BI snapshot stay in bi/versions/ (a reader can hold
    one for that many runs; longer while it keeps bi.duckdb open on this machine): docs/bi.md.
    engine: where the Python steps read the dbt layer's days (CHURN_RECALL_ENGINE): `duckdb` (the
    warehouse file) or `spark` (the tables of dbt's `spark` target, through the active SparkSession;
    README "Running on Spark").
    recall_policy: how new journeys are targeted (docs/recall.md): `uplift` (default: the treatment of
    highest expected incremental profit, the rules while no model is mature), `risk` (the rules'
    strategy, budgets filled by churn probability) or `rules` (the first matching strategy by priority).
    """

    model_config = ConfigDict(frozen=True)

    home: Path
    warehouse: Path
    landing: Path
    truth: Path
    outbox: Path
    strategies: Path = DEFAULT_STRATEGIES
    start_date: date = date.fromisoformat(DEFAULT_START_DATE)
    lookback_days: int = Field(default=3, ge=0, le=30)
    vertical: str = DEFAULT_VERTICAL
    wake_up_days: int | None = Field(default=None, ge=1, le=30)
    duckdb_memory_limit: str = Field(default="3GB", pattern=MEMORY_LIMIT)
    dbt_chunk_user_days: int | None = Field(default=None, ge=1)
    measurement_shard_journeys: int | None = Field(default=None, ge=1_000)
    lock_wait_seconds: float = Field(default=20.0, ge=0, le=600)
    bi_postgres_url: str | None = None
    input_bounds: InputBounds = InputBounds()
    at_risk_max_share: float | None = Field(default=None, gt=0, le=1)
    recall_from: date | None = None
    recall_until: date | None = None
    delivery_silence_days: int = Field(default=2, ge=1, le=30)
    bi_keep_versions: int = Field(default=5, ge=2, le=1000)
    engine: Literal["duckdb", "spark"] = "duckdb"
    recall_policy: Literal["uplift", "risk", "rules"] = "uplift"

    @field_validator("vertical")
    @classmethod
    def _vertical_is_a_preset(cls, name: str) -> str:
        return validate_vertical(name)

    @field_validator("bi_postgres_url")
    @classmethod
    def _postgres_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a PostgreSQL URL: postgresql://user[:password]@host[:port]/database")
        return url

    @field_validator("strategies")
    @classmethod
    def _strategies_exist(cls, path: Path) -> Path:
        if not path.is_file():
            raise ValueError(f"strategy library not found: {path} (set CHURN_RECALL_STRATEGIES)")
        return path

    @classmethod
    def under(cls, home: Path, **overrides: object) -> "Settings":
        """Every path under one folder (what tests and benchmarks use); other fields as given."""
        home = Path(home).resolve()
        paths = {"warehouse": home / "warehouse.duckdb", "landing": home / "landing", "truth": home / "truth",
                 "outbox": home / "outbox"}
        return cls(home=home, **{**paths, **overrides})

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """The settings from CHURN_RECALL_* variables (os.environ by default); SystemExit naming the
        bad variable when one is invalid."""
        env = os.environ if env is None else env
        home = Path(env.get("CHURN_RECALL_HOME") or REPO_ROOT / "data").resolve()

        def path(name: str, default: Path) -> Path:
            return Path(env.get(name) or default).resolve()

        try:
            return cls(
                home=home,
                warehouse=path("CHURN_RECALL_WAREHOUSE", home / "warehouse.duckdb"),
                landing=path("CHURN_RECALL_LANDING", home / "landing"),
                truth=path("CHURN_RECALL_TRUTH", home / "truth"),
                outbox=path("CHURN_RECALL_OUTBOX", home / "outbox"),
                strategies=path("CHURN_RECALL_STRATEGIES", DEFAULT_STRATEGIES),
                start_date=env.get("CHURN_RECALL_START_DATE") or DEFAULT_START_DATE,
                lookback_days=env.get("CHURN_RECALL_LOOKBACK_DAYS") or 3,
                vertical=(env.get("CHURN_RECALL_VERTICAL") or DEFAULT_VERTICAL).strip(),
                wake_up_days=env.get("CHURN_RECALL_WAKE_UP_DAYS") or None,
                duckdb_memory_limit=env.get("CHURN_RECALL_DUCKDB_MEMORY_LIMIT") or "3GB",
                dbt_chunk_user_days=env.get("CHURN_RECALL_DBT_CHUNK_USER_DAYS") or None,
                measurement_shard_journeys=env.get("CHURN_RECALL_MEASUREMENT_SHARD_JOURNEYS") or None,
                lock_wait_seconds=env.get("CHURN_RECALL_LOCK_WAIT_SECONDS") or 20.0,
                bi_postgres_url=env.get("CHURN_RECALL_BI_POSTGRES_URL") or None,
                input_bounds=InputBounds.from_env(env),
                at_risk_max_share=env.get("CHURN_RECALL_AT_RISK_MAX_SHARE") or None,
                recall_from=env.get("CHURN_RECALL_RECALL_FROM") or None,
                recall_until=env.get("CHURN_RECALL_RECALL_UNTIL") or None,
                delivery_silence_days=env.get("CHURN_RECALL_DELIVERY_SILENCE_DAYS") or 2,
                bi_keep_versions=env.get("CHURN_RECALL_BI_KEEP_VERSIONS") or 5,
                engine=(env.get("CHURN_RECALL_ENGINE") or "duckdb").strip().lower(),
                recall_policy=(env.get("CHURN_RECALL_POLICY") or "uplift").strip(),
            )
        except ValidationError as exc:
            raise SystemExit(f"churn-recall: invalid configuration from the environment:\n{exc}") from exc

    @property
    def preset(self) -> VerticalPreset:
        """The vertical's validated preset (loaded once per process)."""
        return preset_for(self.vertical)

    def dbt_rule_vars(self) -> dict[str, object]:
        """The dbt vars of the run's rules: the vertical preset's with the settings' overrides, and the input bounds."""
        overrides = {} if self.at_risk_max_share is None else {"at_risk_max_share": self.at_risk_max_share}
        return {**self.preset.dbt_vars(), **overrides, **self.input_bounds.dbt_vars()}

    @property
    def measurement_windows(self) -> tuple[int, int]:
        """(wake-up window, churn threshold) in days for the measurement."""
        return measurement_windows(self.vertical, self.wake_up_days)

    @property
    def cache_dir(self) -> Path:
        """What a run keeps only to spare the next one work (deleting it costs time, never a result)."""
        return self.home / "cache"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def bi_dir(self) -> Path:
        """The BI snapshot (bi.duckdb and its versions of Parquet files): what BI tools open."""
        return self.home / "bi"

    @property
    def simulator_home(self) -> Path:
        """Where the closed-loop simulator keeps its world between days (orchestration/simulator/loop)."""
        return self.home / "simulator"

    def recall_live(self, day: date) -> bool:
        """Whether the recall plans journeys on `day` (from the go-live day through recall_until)."""
        return (self.recall_from is None or day >= self.recall_from) and (self.recall_until is None or day <= self.recall_until)

    def landing_days(self) -> list[date]:
        """Days that have a landing folder, oldest first."""
        if not self.landing.is_dir():
            return []
        days = []
        for child in self.landing.iterdir():
            try:
                days.append(date.fromisoformat(child.name))
            except ValueError:
                continue
        return sorted(days)
