"""Vertical presets: load `verticals.yml` (the one list of verticals), validate each preset, turn the
chosen one into the dbt vars of a run, and give the measurement its windows (the wake-up window and
the churn threshold second churn is judged against)."""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PRESETS_FILE = Path(__file__).resolve().parent / "verticals.yml"
TAXONOMY_FILE = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "event_taxonomy.csv"
DEFAULT_VERTICAL = "ecommerce"

EventList = list[str]
# The wake-up window may not outlast the 30-day return window: a woken-up user has always returned.
MAX_WAKE_UP_WINDOW_DAYS = 30


class MeasurementPreset(BaseModel):
    """Post-recall measurement settings of a vertical: not dbt vars (dbt never sees them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    wake_up_window_days: int = Field(default=7, ge=1, le=MAX_WAKE_UP_WINDOW_DAYS)


class VerticalPreset(BaseModel):
    """One vertical's label and tier rules; field names are the dbt vars of dbt_project.yml, except
    `measurement` (read by orchestration/measurement only)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key_action_events: EventList = Field(min_length=1)
    purchase_events: EventList = Field(min_length=1)
    core_feature_events: EventList = Field(min_length=1)
    silence_grade_days: list[int] = Field(min_length=6, max_length=6)
    stage_new_user_days: int = Field(ge=1)
    stage_at_risk_days: int = Field(ge=1)
    stage_dormant_light_days: int = Field(ge=1)
    stage_dormant_medium_days: int = Field(ge=1)
    stage_dormant_severe_days: int = Field(ge=1)
    stage_churned_days: int = Field(ge=1)
    stage_at_risk_min_signals: int = Field(ge=1)
    reactivation_window_days: int = Field(ge=1)
    # the app's rhythm: stage thresholds fitted to the gaps between key actions (int_key_action_rhythm);
    # the stage_* thresholds above are the defaults before enough history, and the override when
    # fit_stage_thresholds is false
    fit_stage_thresholds: bool = True
    rhythm_window_days: int = Field(default=365, ge=28, le=3650)
    rhythm_min_gaps: int = Field(default=200, ge=1)
    rhythm_min_history_days: int = Field(default=60, ge=1)
    rhythm_max_gap_weight: float = Field(default=10, ge=1)
    rhythm_stage_quantiles: list[float] = Field(default=[0.5, 0.75, 0.9, 0.95, 0.98], min_length=5, max_length=5)
    rhythm_user_min_gaps: int = Field(default=3, ge=1)
    rhythm_user_gap_multiple: float = Field(default=1.5, ge=1)
    rhythm_warn_ratio: float = Field(default=2.0, gt=1)
    signal_availability_days: int = Field(default=90, ge=1, le=3650)
    signal_drop_threshold: float = Field(gt=0, le=1)
    signal_min_baseline_count: float = Field(ge=0)
    signal_min_baseline_spend: float = Field(ge=0)
    signal_no_core_session_streak: int = Field(ge=1)
    signal_payment_min_purchase_days: int = Field(ge=2)
    signal_payment_cycle_tolerance: float = Field(ge=1)
    signal_large_withdrawal_multiple: float = Field(gt=1)
    signal_large_withdrawal_peak_share: float = Field(gt=0, le=1)
    signal_partial_churn_asset_share: float = Field(gt=0, lt=1)
    hvd_max_recency_days: int = Field(ge=0)
    hvd_min_frequency: int = Field(ge=1)
    hvd_min_monetary: float = Field(ge=0)
    value_depth_min_monetary: float = Field(ge=0)
    value_duration_min_purchase_days: int = Field(ge=1)
    value_first_repeat_window_days: int = Field(ge=1)
    value_renewal_window_days: int = Field(ge=0)
    # the churn probability (orchestration/scoring) and the tiers built on it
    churn_horizon_days: int = Field(default=30, ge=7, le=365)
    at_risk_max_share: float = Field(default=0.05, gt=0, le=1)
    at_risk_min_probability: float = Field(default=0.5, ge=0, lt=1)
    risk_level_probabilities: list[float] = Field(default=[0.5, 0.7, 0.85], min_length=3, max_length=3)
    measurement: MeasurementPreset = MeasurementPreset()

    def dbt_vars(self) -> dict[str, Any]:
        """The preset as dbt vars (every key a var of dbt_project.yml; the measurement block is not)."""
        return self.model_dump(exclude={"measurement"})

    @model_validator(mode="after")
    def _consistent(self) -> "VerticalPreset":
        grades = self.silence_grade_days
        if any(b <= a for a, b in zip(grades, grades[1:])) or grades[0] < 1:
            raise ValueError(f"silence_grade_days must be six strictly increasing positive days, got {grades}")
        stages = {
            "stage_at_risk_days": self.stage_at_risk_days,
            "stage_dormant_light_days": self.stage_dormant_light_days,
            "stage_dormant_medium_days": self.stage_dormant_medium_days,
            "stage_dormant_severe_days": self.stage_dormant_severe_days,
            "stage_churned_days": self.stage_churned_days,
        }
        values = list(stages.values())
        if any(b <= a for a, b in zip(values, values[1:])):
            raise ValueError(f"stage thresholds must increase from at_risk to churned, got {stages}")
        # the stages name which silence grade they are; the at-risk threshold may sit below the first
        for name, days in list(stages.items())[1:]:
            if days not in grades:
                raise ValueError(f"{name} = {days} is not one of silence_grade_days {grades}")
        quantiles = self.rhythm_stage_quantiles
        if any(b <= a for a, b in zip(quantiles, quantiles[1:])) or not 0 < quantiles[0] or not quantiles[-1] < 1:
            raise ValueError("rhythm_stage_quantiles must be five increasing shares in (0, 1) (at_risk, dormant "
                             f"light, medium, severe, churned), got {quantiles}")
        bands = self.risk_level_probabilities
        if any(b <= a for a, b in zip(bands, bands[1:])) or not 0 < bands[0] or not bands[-1] < 1:
            raise ValueError(f"risk_level_probabilities must be three increasing probabilities in (0, 1), got {bands}")
        known = known_event_names()
        for field in ("key_action_events", "purchase_events", "core_feature_events"):
            unknown = sorted(set(getattr(self, field)) - known)
            if unknown:
                raise ValueError(f"{field} names events missing from the event taxonomy seed: {unknown}")
        return self


@lru_cache(maxsize=1)
def known_event_names() -> frozenset[str]:
    """Event names of the dbt taxonomy seed (the only names staging accepts)."""
    with TAXONOMY_FILE.open(newline="") as handle:
        return frozenset(row["event_name"] for row in csv.DictReader(handle))


# The safe YAML loader of the project's files: libyaml's when PyYAML has it, about ten times faster than the
# pure-Python one (this file, read by every run's preflight: 10 ms against 1 ms).
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_presets(path: Path = PRESETS_FILE) -> dict[str, VerticalPreset]:
    """Every preset of the file, validated; errors name the preset and the field."""
    raw = yaml.load(path.read_text(), Loader=YAML_LOADER)
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"{path}: expected a mapping of vertical name to preset")
    presets: dict[str, VerticalPreset] = {}
    for name, body in raw.items():
        try:
            presets[str(name)] = VerticalPreset.model_validate(body)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(preset)'}: {err['msg']}" for err in exc.errors()
            )
            raise ValueError(f"{path}: vertical preset {name!r} is invalid: {problems}") from exc
    return presets


@lru_cache(maxsize=4)
def _cached_presets(path: Path) -> dict[str, VerticalPreset]:
    return load_presets(path)


def vertical_names(path: Path = PRESETS_FILE) -> tuple[str, ...]:
    """The verticals the presets file defines, in file order."""
    return tuple(_cached_presets(path))


def validate_vertical(name: str, path: Path = PRESETS_FILE) -> str:
    """The name when it is a preset of the file, else a ValueError listing the choices."""
    presets = _cached_presets(path)
    if name not in presets:
        raise ValueError(f"unknown vertical {name!r}; choose one of {', '.join(sorted(presets))}")
    return name


def preset_for(vertical: str, path: Path = PRESETS_FILE) -> VerticalPreset:
    """The validated preset of a vertical."""
    return _cached_presets(path)[validate_vertical(vertical, path)]


def measurement_windows(vertical: str, wake_up_override: int | None = None, path: Path = PRESETS_FILE) -> tuple[int, int]:
    """(wake-up window, churn threshold) in days for the measurement of `vertical`.

    The churn threshold is the preset's `stage_churned_days`, so "went silent again past the churn
    threshold" means what the churned lifecycle stage means; `wake_up_override` (the
    CHURN_RECALL_WAKE_UP_DAYS setting) replaces the preset's wake-up window when given.
    """
    preset = preset_for(vertical, path)
    wake_up = preset.measurement.wake_up_window_days if wake_up_override is None else wake_up_override
    if not 1 <= wake_up <= MAX_WAKE_UP_WINDOW_DAYS:
        raise ValueError(f"wake-up window must be 1..{MAX_WAKE_UP_WINDOW_DAYS} days, got {wake_up}")
    return wake_up, preset.stage_churned_days
