"""Guardrails that keep recall from pestering anyone: quiet hours in the user's own timezone,
frequency caps over rolling windows, and a daily budget and capacity per channel filled by
priority and expected value. Pure functions over DataFrames; the library declares the limits."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo, available_timezones

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ANY_CHANNEL = "any"
# Every channel the recall engine knows; a library lists the limits of those its strategies use.
CHANNELS: tuple[str, ...] = ("push", "sms", "call", "in_app")
# Consent rule per channel: the opt-in column of the users contract that must be true, or None when
# the channel needs no opt-in. An in-app message is shown inside the app to a user who opens it (it
# is not a notification reaching the phone), so it needs no opt-in; like every channel it is still
# subject to quiet hours, frequency caps, channel limits and the holdouts.
CONSENT_COLUMNS: dict[str, str | None] = {"push": "push_opt_in", "sms": "sms_opt_in", "call": "call_opt_in", "in_app": None}
OVER_CAPACITY = "over_capacity"
OVER_BUDGET = "over_budget"
_KNOWN_ZONES = frozenset(available_timezones())


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuietHours(_Model):
    """Local times [start, end) in which nobody is contacted; may wrap midnight (21:00-09:00)."""

    start: time
    end: time

    @model_validator(mode="after")
    def _not_empty(self) -> "QuietHours":
        if self.start == self.end:
            raise ValueError("quiet hours start and end must differ")
        return self


class FrequencyCap(_Model):
    """At most `max_contacts` contacts on `channel` ('any' = all channels) in any `window_days` x 24 h."""

    channel: str
    max_contacts: int = Field(ge=1)
    window_days: int = Field(ge=1)

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        if value not in (ANY_CHANNEL, *CHANNELS):
            raise ValueError(f"{value!r} is not one of {', '.join((ANY_CHANNEL, *CHANNELS))}")
        return value


class ChannelLimits(_Model):
    """Cost of one contact and the daily limits of a channel (null = unlimited)."""

    cost: float = Field(ge=0)
    daily_budget: float | None = Field(default=None, ge=0)
    daily_capacity: int | None = Field(default=None, ge=0)


class Guardrails(_Model):
    quiet_hours: QuietHours
    default_timezone: str = "UTC"
    frequency_caps: list[FrequencyCap] = Field(default_factory=list)
    channels: dict[str, ChannelLimits]

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value not in _KNOWN_ZONES:
            raise ValueError(f"unknown timezone {value!r}")
        return value

    @field_validator("channels")
    @classmethod
    def _all_channels(cls, value: dict[str, ChannelLimits]) -> dict[str, ChannelLimits]:
        # push, sms and call are the ladder's rungs and always listed; in_app only when a strategy uses it
        # (the library checks that every channel a step uses has limits here).
        missing = {"push", "sms", "call"} - set(value)
        unknown = set(value) - set(CHANNELS)
        if missing or unknown:
            raise ValueError(f"channels must list push, sms and call, and may list in_app "
                             f"(missing {sorted(missing)}, unknown {sorted(unknown)})")
        return value

    @property
    def longest_cap_days(self) -> int:
        return max((c.window_days for c in self.frequency_caps), default=0)


def known_timezones(zones: pd.Series, default: str) -> pd.Series:
    """The user's IANA timezone, or `default` where it is missing or unknown."""
    valid = zones.isin(_KNOWN_ZONES)
    return zones.where(valid, default).astype(object)


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def in_quiet_hours(local_minutes: np.ndarray, quiet: QuietHours) -> np.ndarray:
    start, end = _minutes(quiet.start), _minutes(quiet.end)
    if start < end:
        return (local_minutes >= start) & (local_minutes < end)
    return (local_minutes >= start) | (local_minutes < end)


def shift_out_of_quiet_hours(due_at: pd.Series, zones: pd.Series, quiet: QuietHours) -> pd.Series:
    """UTC send times: `due_at` itself, or the end of the quiet hours it falls in (user's local time)."""
    result = pd.Series(pd.to_datetime(due_at, utc=True), index=due_at.index)
    end_offset = pd.Timedelta(minutes=_minutes(quiet.end))
    for zone, rows in zones.groupby(zones, sort=False).groups.items():
        local = result.loc[rows].dt.tz_convert(ZoneInfo(zone))
        minutes = (local.dt.hour * 60 + local.dt.minute).to_numpy() + local.dt.second.to_numpy() / 60
        quiet_rows = in_quiet_hours(minutes, quiet)
        if not quiet_rows.any():
            continue
        naive = local[quiet_rows].dt.tz_localize(None)
        # Quiet hours that wrap midnight end tomorrow when we are in the evening part.
        next_day = minutes[quiet_rows] >= _minutes(quiet.end)
        ends = naive.dt.normalize() + end_offset + pd.to_timedelta(next_day.astype(int), unit="D")
        shifted = ends.dt.tz_localize(ZoneInfo(zone), nonexistent="shift_forward", ambiguous=False)
        result.loc[local.index[quiet_rows]] = shifted.dt.tz_convert("UTC").to_numpy()
    return result


def cap_blocked(candidates: pd.DataFrame, history: pd.DataFrame, caps: list[FrequencyCap]) -> np.ndarray:
    """True for candidate contacts a frequency cap forbids.

    candidates: user_id, channel, scheduled_at (at most one per user: a user is in one journey);
    history: contacts already in the outbox (user_id, channel, scheduled_at).
    A candidate at t is allowed when, for every cap, fewer than max_contacts contacts lie in
    (t - window, t + window): then no window of that length holds more than the cap, whichever
    side of t the earlier contacts fall on.
    """
    blocked = np.zeros(len(candidates), dtype=bool)
    if not caps or candidates.empty or history.empty:
        return blocked
    cand = candidates[["user_id", "channel", "scheduled_at"]].reset_index(drop=True)
    cand["row"] = np.arange(len(cand))
    pairs = cand.merge(history[["user_id", "channel", "scheduled_at"]], on="user_id", suffixes=("", "_prior"))
    if pairs.empty:
        return blocked
    gap = (pairs["scheduled_at_prior"] - pairs["scheduled_at"]).abs()
    for cap in caps:
        window = pd.Timedelta(days=cap.window_days)
        hit = gap < window
        if cap.channel != ANY_CHANNEL:
            hit &= (pairs["channel"] == cap.channel) & (pairs["channel_prior"] == cap.channel)
        counts = np.bincount(pairs.loc[hit, "row"].to_numpy(), minlength=len(cand))
        blocked |= counts >= cap.max_contacts
    return blocked


def fill_channel_limits(candidates: pd.DataFrame, channels: dict[str, ChannelLimits]) -> pd.Series:
    """OVER_CAPACITY / OVER_BUDGET for the contacts a channel's daily limits cannot serve, else null.

    candidates: channel, cost, priority (lower first), expected_value (higher first), user_id, and optionally
    `sends` (default all true). Each channel is served in that order and stops at the first contact that does not
    fit, so the most important and most valuable users are served first. A row that `sends` nothing (a control-arm
    choice, or a user who cannot be reached on the channel) uses none of the limits but is cut where a contact of
    its own would not have fitted: whether a choice survives the cut then never depends on its own arm (a cut that
    kept every control, or every unreachable treated user, would tilt the arms of what it keeps). user_id breaks
    ties, so the order is total and the result independent of the rows' order.
    """
    reasons = pd.Series(None, index=candidates.index, dtype=object)
    keys = ["channel", "priority", "expected_value", "user_id"]
    sends = candidates["sends"].astype(bool) if "sends" in candidates.columns else pd.Series(True, index=candidates.index)
    order = candidates[keys + ["cost"]].assign(_sends=sends).sort_values(
        keys, ascending=[True, True, False, True], kind="stable")
    for channel, rows in order.groupby("channel", sort=False):
        limits = channels[channel]
        sent = rows["_sends"].to_numpy(dtype=bool)
        cost = rows["cost"].to_numpy(dtype=float)
        # Contacts before each row, and what they cost (only contacts use the limits).
        before = np.cumsum(sent) - sent
        spent_before = np.cumsum(np.where(sent, cost, 0.0)) - np.where(sent, cost, 0.0)
        over_capacity = before >= limits.daily_capacity if limits.daily_capacity is not None else np.zeros(len(rows), bool)
        over_budget = spent_before + cost > limits.daily_budget + 1e-9 if limits.daily_budget is not None \
            else np.zeros(len(rows), bool)
        # Strict prefix: once one contact does not fit, nobody after it is served.
        cut = np.logical_or.accumulate(over_capacity | over_budget)
        reasons.loc[rows.index[cut & over_capacity]] = OVER_CAPACITY
        reasons.loc[rows.index[cut & ~over_capacity]] = OVER_BUDGET
    return reasons
