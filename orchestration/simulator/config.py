"""Configuration of the simulated world: one frozen dataclass, validated on creation with clear errors."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from orchestration.config.verticals import DEFAULT_VERTICAL, vertical_names

from .presets import BEHAVIOURS  # the verticals the simulator can generate

# A journey's responses end by day A+2 and the coupon of a response made then is valid 7 days,
# so a campaign's effects stay inside its own block of days when campaigns are at least 9 days apart.
MIN_CAMPAIGN_EVERY_DAYS = 9


@dataclass(frozen=True)
class SimulationConfig:
    """Size, seed and data-quality knobs of one simulated world."""

    n_users: int = 20_000
    n_days: int = 120
    start_date: datetime.date = datetime.date(2026, 1, 1)
    seed: int = 7
    vertical: str = DEFAULT_VERTICAL
    late_event_share: float = 0.02
    max_lateness_days: int = 2
    duplicate_share: float = 0.001
    invalid_share: float = 0.0005
    campaign_every_days: int = 14
    holdout_share: float = 0.2
    # The last days of the world are left to the closed loop (simulator/loop): the open-loop generation, and
    # its pre-made campaigns, stop before them. 0: the whole world is generated at once.
    closed_loop_days: int = 0

    def __post_init__(self) -> None:
        if self.vertical not in vertical_names():
            raise ValueError(
                f"unknown vertical {self.vertical!r}; known verticals: {', '.join(vertical_names())}"
            )
        if self.vertical not in BEHAVIOURS:
            raise ValueError(
                f"vertical {self.vertical!r} is not simulated yet; supported: {', '.join(BEHAVIOURS)}"
            )
        if not isinstance(self.start_date, datetime.date) or isinstance(self.start_date, datetime.datetime):
            raise ValueError(f"start_date must be a datetime.date, got {self.start_date!r}")
        _check_int("n_users", self.n_users, 1, 9_999_999)  # user ids are u + 7 digits
        _check_int("n_days", self.n_days, 1, 3650)
        _check_int("seed", self.seed, 0, 2**63 - 1)
        _check_int("max_lateness_days", self.max_lateness_days, 1, 30)
        _check_int("campaign_every_days", self.campaign_every_days, MIN_CAMPAIGN_EVERY_DAYS, 3650)
        _check_int("closed_loop_days", self.closed_loop_days, 0, self.n_days - 1)
        for name in ("late_event_share", "duplicate_share", "invalid_share"):
            _check_share(name, getattr(self, name), upper=0.5)
        _check_share("holdout_share", self.holdout_share, upper=1.0)

    @property
    def end_date(self) -> datetime.date:
        """Last day of the world (inclusive): the last landing folder once every day is simulated."""
        return self.start_date + datetime.timedelta(days=self.n_days - 1)

    @property
    def history_days(self) -> int:
        """Days generated at once (open loop), before the closed loop takes over."""
        return self.n_days - self.closed_loop_days

    @property
    def history_end_date(self) -> datetime.date:
        """Last day of the open-loop history (inclusive)."""
        return self.start_date + datetime.timedelta(days=self.history_days - 1)


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")


def _check_share(name: str, value: object, upper: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not 0.0 <= float(value) <= upper:
        raise ValueError(f"{name} must be between 0 and {upper}, got {value}")
