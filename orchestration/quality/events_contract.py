"""The rows the events contract (expectations/stg_events.json) validates: the window's accepted events,
or a bounded sample of them drawn by a hash of event_id, so memory and time stay flat however long
the window, and every copy of a duplicated id is drawn together (the uniqueness expectation keeps
its meaning on the sample: a duplicate in the sample is a duplicate in the table)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

MAX_ROWS = 50_000
# Resolution of the hash sample: a row is drawn when hash(event_id) mod BUCKETS < share x BUCKETS.
BUCKETS = 1_000_000


@dataclass(frozen=True)
class ContractSample:
    frame: pd.DataFrame
    rows_in_window: int

    @property
    def share(self) -> float:
        return len(self.frame) / self.rows_in_window if self.rows_in_window else 1.0


def events_contract_sample(con: duckdb.DuckDBPyConnection, first: date, last: date,
                           max_rows: int = MAX_ROWS) -> ContractSample:
    """The accepted events landed first..last (inclusive), all of them up to about `max_rows`, else a
    hash sample of about that many (typed columns only; the JSON properties are not validated)."""
    window = "_landing_date >= ? and _landing_date <= ?"
    rows = con.execute(f"select count(*) from stg_events where {window}", [first, last]).fetchall()[0][0]
    buckets = BUCKETS if rows <= max_rows else int(BUCKETS * max_rows / rows)
    frame = con.execute(
        f"select * exclude (properties) from stg_events where {window} and hash(event_id) % {BUCKETS} < ?",
        [first, last, buckets]).df()
    return ContractSample(frame, rows)
