"""Silence of the delivery system: outbox rows that were queued for sending but have no delivery record (a row of
stg_recall_touches) some days later. Without it the measurement would quietly count every such journey as sent to
nobody; the check says how many rows and since when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from orchestration.warehouse.io import table_exists

# Queued rows of the planning days checked that no delivery-log row answers: matched by the log's touch_id (the
# outbox action_id), or by its action_id (the journey id, or the step id echoed) and step.
SILENT = """
with sent as (
    select action_id, journey_id, step, action_date from recall_actions
    where status = 'queued' and action_date between ? and ?
),
logged as (
    select sent.action_id from sent join stg_recall_touches as t on t.touch_id = sent.action_id
    union
    select sent.action_id from sent join stg_recall_touches as t on t.action_id = sent.journey_id and t.step = sent.step
    union
    select sent.action_id from sent join stg_recall_touches as t on t.action_id = sent.action_id
)
select count(*), min(action_date), max(action_date), (select count(*) from sent)
from sent where action_id not in (select action_id from logged)
"""
# How far back a daily check looks: older silences were reported by earlier runs.
WINDOW_DAYS = 30


@dataclass(frozen=True)
class Silence:
    """Outbox rows without a delivery record among those planned on [first_day, last_day]."""

    first_day: date
    last_day: date
    checked_rows: int
    silent_rows: int
    since: date | None   # earliest planning day with a silent row
    latest: date | None  # latest planning day with a silent row


def delivery_silence(con: duckdb.DuckDBPyConnection, as_of: date, silence_days: int) -> Silence:
    """Rows queued on planning days up to `as_of - silence_days` (sent the next day) that have no delivery record
    by the end of `as_of`, looking back WINDOW_DAYS."""
    last = as_of - timedelta(days=silence_days)
    first = last - timedelta(days=WINDOW_DAYS - 1)
    if not (table_exists(con, "recall_actions") and table_exists(con, "stg_recall_touches")):
        return Silence(first, last, 0, 0, None, None)
    silent, since, latest, checked = con.execute(SILENT, [first, last]).fetchall()[0]
    return Silence(first, last, int(checked), int(silent), since, latest)
