"""Input bounds: the limits beyond which a landed row is implausible and quarantined (clock skew, event
age, amounts, contact cost, identifier length and characters). Validated settings with defaults, read
from CHURN_RECALL_* variables, handed to dbt as vars (their names are the dbt vars of dbt_project.yml,
whose defaults a test keeps equal to these)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

ENV_PREFIX = "CHURN_RECALL_"


class InputBounds(BaseModel):
    """Every bound of the staging rules (docs/contracts.md, "Input rules")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_clock_skew_minutes: int = Field(default=10, ge=0, le=24 * 60, description=(
        "Clocks may disagree by this much: a time after its landing day's end, an event received before "
        "it happened, a response before its send are tolerated within it."))
    max_landing_delay_days: int = Field(default=2, ge=0, le=30, description=(
        "An event's received_at may precede the day of its landing folder by this many days."))
    max_event_age_days: int = Field(default=30, ge=1, le=3650, description=(
        "An event that happened longer than this before it was received is rejected (event_too_old)."))
    max_amount: float = Field(default=1_000_000, gt=0, le=1e12, description=(
        "Largest plausible amount, balance or coupon value, in currency units."))
    max_touch_cost: float = Field(default=1000, gt=0, le=1e9, description=(
        "Largest plausible contact cost of one recall touch, in currency units."))
    id_max_length: int = Field(default=64, ge=1, le=1024, description="Longest accepted identifier.")
    id_pattern: str = Field(default="[A-Za-z0-9][A-Za-z0-9_.:@-]*", min_length=1, max_length=200, description=(
        "Regular expression (RE2 syntax) an identifier must match in full."))

    @field_validator("id_pattern")
    @classmethod
    def _pattern_compiles(cls, pattern: str) -> str:
        if "'" in pattern or "\\" in pattern:
            raise ValueError("id_pattern may not contain quotes or backslashes (use character classes)")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"id_pattern is not a regular expression: {exc}") from exc
        if re.fullmatch(pattern, ""):
            raise ValueError("id_pattern must not accept an empty identifier")
        return pattern

    def dbt_vars(self) -> dict[str, Any]:
        return self.model_dump()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "InputBounds":
        """The bounds from CHURN_RECALL_<NAME> variables (upper-case field names); unset ones default."""
        given = {name: env[ENV_PREFIX + name.upper()] for name in cls.model_fields
                 if env.get(ENV_PREFIX + name.upper(), "").strip()}
        return cls(**given)
