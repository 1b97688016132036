"""Refresh cadence of the segments: recomputed as of each Monday, carried unchanged through the week."""

from __future__ import annotations

from datetime import date, timedelta


def refresh_day(day: date, first_day: date | None = None) -> date:
    """The day whose clustering is in force on `day`: the Monday on or before it, or `first_day` (the first
    partition) when that Monday is earlier, so the first week has segments too."""
    monday = day - timedelta(days=day.weekday())
    return max(monday, first_day) if first_day is not None and first_day <= day else monday
