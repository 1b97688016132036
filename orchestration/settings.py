"""Runtime settings: where the warehouse, landing files and exports live, read from environment
variables (one place, validated) so that dbt, Dagster and the CLI agree."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, field_validator

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
DEFAULT_STRATEGIES = Path(__file__).resolve().parent / "recall" / "strategies.yml"


class Settings(BaseModel):
    """Paths, the partition start date and the late-data lookback; every field has a default.

    lookback_days: a daily run also recomputes this many earlier days, so events that arrive up
    to that many days late are folded into the days they belong to.
    vertical: the preset of `orchestration/verticals.yml` whose label rules dbt runs with.
    wake_up_days: replaces the preset's measurement wake-up window (None: the preset's), so one
    deployment can measure a different window without editing the presets.
    """

    home: Path
    warehouse: Path
    landing: Path
    truth: Path
    outbox: Path
    start_date: date
    lookback_days: int = Field(ge=0, le=30)
    strategies: Path
    vertical: str = "ecommerce"
    wake_up_days: int | None = Field(default=None, ge=1, le=30)

    @field_validator("vertical")
    @classmethod
    def _vertical_is_a_preset(cls, name: str) -> str:
        from orchestration.verticals import validate_vertical

        return validate_vertical(name)

    @field_validator("strategies")
    @classmethod
    def _strategies_exist(cls, path: Path) -> Path:
        if not path.is_file():
            raise ValueError(f"strategy library not found: {path} (set CHURN_RECALL_STRATEGIES)")
        return path

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        home = Path(env.get("CHURN_RECALL_HOME", REPO_ROOT / "data")).resolve()
        try:
            return cls(
                home=home,
                warehouse=Path(env.get("CHURN_RECALL_WAREHOUSE", home / "warehouse.duckdb")).resolve(),
                landing=Path(env.get("CHURN_RECALL_LANDING", home / "landing")).resolve(),
                truth=Path(env.get("CHURN_RECALL_TRUTH", home / "truth")).resolve(),
                outbox=Path(env.get("CHURN_RECALL_OUTBOX", home / "outbox")).resolve(),
                start_date=env.get("CHURN_RECALL_START_DATE", "2026-01-01"),
                lookback_days=env.get("CHURN_RECALL_LOOKBACK_DAYS", "3"),
                strategies=Path(env.get("CHURN_RECALL_STRATEGIES", DEFAULT_STRATEGIES)).resolve(),
                vertical=env.get("CHURN_RECALL_VERTICAL", "ecommerce"),
                wake_up_days=env.get("CHURN_RECALL_WAKE_UP_DAYS") or None,
            )
        except ValidationError as exc:
            raise SystemExit(f"churn-recall: invalid configuration from the environment:\n{exc}") from exc

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

    def export_env(self) -> None:
        """Publish the warehouse path so dbt's profiles.yml reads the same file."""
        os.environ["CHURN_RECALL_WAREHOUSE"] = str(self.warehouse)
