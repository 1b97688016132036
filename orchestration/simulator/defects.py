"""Delivery times and bad data: event ids, received_at (late arrivals), re-sent duplicates and malformed rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .config import SimulationConfig
from .events import EventColumns
from .population import US_PER_DAY
from .presets import BEHAVIOURS
from .strings import digit_strings, join_fixed, lookup, sequential_ids

EVENT_SCHEMA = pa.schema([
    ("event_id", pa.string()), ("user_id", pa.string()), ("event_name", pa.string()),
    ("event_time", pa.timestamp("us")), ("received_at", pa.timestamp("us")), ("properties", pa.string()),
])
INVALID_KINDS: tuple[str, ...] = ("missing_user_id", "unknown_event_name", "negative_amount", "missing_event_time")
UNKNOWN_NAMES: tuple[str, ...] = ("app_opn", "page_view", "unknown_event")


def delivered_events(
    events: EventColumns, config: SimulationConfig, epoch_day: int, rng: np.random.Generator,
    first_id: int = 1, last_day: int | None = None,
) -> tuple[pa.Table, dict[str, int]]:
    """The events landing table with late, duplicated and invalid rows, and counts of each.

    Event ids count up from first_id (a world simulated day by day continues its numbering); late events
    arrive at the latest on last_day (default: the last day of the open-loop history)."""
    n = len(events)
    b = BEHAVIOURS[config.vertical]
    late = bernoulli_indices(rng, n, config.late_event_share)
    lateness = np.zeros(n, np.int64)
    lateness[late] = rng.integers(1, config.max_lateness_days + 1, len(late))
    # Late events beyond the last day arrive in the last folder (received_at clamped to its end).
    day = events.time_us // US_PER_DAY - epoch_day
    arrival_day = np.minimum(day + lateness, config.history_days - 1 if last_day is None else last_day)
    delay = (rng.random(n, dtype=np.float32) * np.float32(20e6)).astype(np.int64) + (200_000 + lateness * US_PER_DAY)
    received = np.minimum(events.time_us + delay, (epoch_day + 1 + arrival_day) * US_PER_DAY - 1)
    ts = pa.timestamp("us")
    table = pa.table({
        "event_id": sequential_ids("e", first_id, n, 10),
        "user_id": join_fixed([b"u", digit_strings(np.arange(1, config.n_users + 1), 7)[events.user]]),
        "event_name": lookup(b.event_names, events.code),
        "event_time": pa.array(events.time_us, ts),
        "received_at": pa.array(received, ts),
        "properties": events.properties,
    }, schema=EVENT_SCHEMA)

    duplicates = bernoulli_indices(rng, n, config.duplicate_share)
    amount_codes = [b.code(name) for name in (*b.payment_events, "withdraw") if name in b.event_names]
    invalid, kind = _invalid_sources(events, config.invalid_share, amount_codes, rng)
    bad = _corrupt(table.take(pa.array(invalid)), kind, first_id + n - 1, rng)
    stats = {
        "valid_events": n,
        "late_events": int((arrival_day[late] > day[late]).sum()),
        "duplicate_events": len(duplicates),
        "invalid_events": len(invalid),
        **{f"invalid_{name}": int((kind == i).sum()) for i, name in enumerate(INVALID_KINDS)},
    }
    return pa.concat_tables([table, table.take(pa.array(duplicates)), bad]), stats


def bernoulli_indices(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    """Indices of the rows picked by independent coin flips of probability share (via geometric gaps, cheap for
    small shares of many rows)."""
    if n == 0 or share <= 0.0:
        return np.zeros(0, np.int64)
    picked: list[np.ndarray] = []
    last = -1
    while last < n:
        expected = (n - last) * share
        gaps = rng.geometric(share, int(expected + 6 * np.sqrt(expected) + 16))
        steps = last + np.cumsum(gaps)
        picked.append(steps)
        last = int(steps[-1])
    indices = np.concatenate(picked)
    return indices[indices < n]


def _invalid_sources(
    events: EventColumns, share: float, amount_codes: list[int], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Rows to copy into malformed rows, and the defect of each; negative amounts are copied from money events."""
    n = len(events)
    source = bernoulli_indices(rng, n, share)
    kind = rng.integers(0, len(INVALID_KINDS), len(source))
    orders = np.flatnonzero(np.isin(events.code, amount_codes))
    negative = kind == 2
    if len(orders):
        source[negative] = orders[rng.integers(0, len(orders), int(negative.sum()))]
    else:
        kind[negative] = 1
    return source, kind


def _corrupt(rows: pa.Table, kind: np.ndarray, last_id: int, rng: np.random.Generator) -> pa.Table:
    """Give copied rows fresh ids after last_id and one defect each, so they never shadow a valid event."""
    n = rows.num_rows
    null_str = pa.scalar(None, pa.string())
    names = lookup(UNKNOWN_NAMES, rng.integers(0, len(UNKNOWN_NAMES), n))
    negative_props = pc.replace_substring(rows["properties"], '"amount":', '"amount":-')
    return pa.table({
        "event_id": sequential_ids("e", last_id + 1, n, 10),
        "user_id": pc.if_else(pa.array(kind == 0), null_str, rows["user_id"]),
        "event_name": pc.if_else(pa.array(kind == 1), names, rows["event_name"]),
        "event_time": pc.if_else(pa.array(kind == 3), pa.scalar(None, pa.timestamp("us")), rows["event_time"]),
        "received_at": rows["received_at"],
        "properties": pc.if_else(pa.array(kind == 2), negative_props, rows["properties"]),
    }, schema=EVENT_SCHEMA)
