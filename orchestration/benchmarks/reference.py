"""The reference the pipeline is measured against: one hand-written DuckDB query computing the core
labels of a day straight from the typed events (what an analyst would write without a pipeline):
recency of activity and of the key action, orders and revenue over 30 and 90 days, logins over the
last 7 days against the 28 days before them."""

from __future__ import annotations

import time
from datetime import date

import duckdb

from orchestration.config.verticals import VerticalPreset

REFERENCE_LABELS = """
with events as (
    select user_id, event_date, category, is_key_action, amount,
        event_name in (select unnest($purchase_events)) and amount is not null as is_purchase
    from stg_events
    where event_date <= $day
)
select
    users.user_id,
    $day - max(events.event_date) as days_since_last_active,
    $day - max(events.event_date) filter (where events.is_key_action) as days_since_last_key_action,
    count(*) filter (where events.is_purchase and events.event_date > $day - 30) as orders_30d,
    coalesce(sum(events.amount) filter (where events.is_purchase and events.event_date > $day - 30), 0) as revenue_30d,
    count(*) filter (where events.is_purchase and events.event_date > $day - 90) as orders_90d,
    coalesce(sum(events.amount) filter (where events.is_purchase and events.event_date > $day - 90), 0) as revenue_90d,
    count(*) filter (where events.category = 'session' and events.event_date > $day - 7) as logins_7d,
    count(*) filter (where events.category = 'session' and events.event_date > $day - 35
                     and events.event_date <= $day - 7) / 4.0 as logins_baseline_7d
from stg_users as users
left join events on events.user_id = users.user_id
where users.signup_date <= $day
group by users.user_id
"""

COMPARED = ("days_since_last_active", "days_since_last_key_action", "orders_30d", "orders_90d", "logins_7d")


def reference_labels(con: duckdb.DuckDBPyConnection, day: date, preset: VerticalPreset, table: str = "reference_labels") -> None:
    """Materialise the reference labels of `day` into `table` (replaced)."""
    con.execute(f"create or replace temp table {table} as {REFERENCE_LABELS}",
                {"day": day, "purchase_events": list(preset.purchase_events)})


def time_reference(con: duckdb.DuckDBPyConnection, day: date, preset: VerticalPreset, repeats: int = 3) -> float:
    """Best of `repeats` wall times of the reference query (seconds)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        reference_labels(con, day, preset)
        best = min(best, time.perf_counter() - started)
    return best


def agreement(con: duckdb.DuckDBPyConnection, day: date, preset: VerticalPreset) -> float:
    """Share of users whose pipeline labels of `day` equal the reference on the compared columns."""
    reference_labels(con, day, preset)
    same = " and ".join(f"labels.{c} is not distinct from reference.{c}" for c in COMPARED)
    rows = con.execute(f"""
        select count(*) filter (where {same}), count(*)
        from reference_labels as reference
        left join user_daily_labels as labels on labels.user_id = reference.user_id and labels.label_date = ?
    """, [day]).fetchall()[0]
    return rows[0] / rows[1] if rows[1] else float("nan")
