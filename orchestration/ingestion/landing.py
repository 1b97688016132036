"""Load one day's landing file of a feed into its raw table, idempotently.

Raw tables keep every contract column as VARCHAR, exactly as landed, so that typing and rejection
happen in dbt staging where a bad row becomes a quarantine row with a reason instead of a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

FEEDS: dict[str, tuple[str, ...]] = {
    "events": ("event_id", "user_id", "event_name", "event_time", "received_at", "properties"),
    "users": (
        "user_id", "signup_at", "nickname", "phone", "timezone",
        "push_opt_in", "sms_opt_in", "call_opt_in", "updated_at",
    ),
    "recall_touches": (
        "touch_id", "action_id", "user_id", "strategy_id", "arm", "step", "channel", "scheduled_at",
        "sent_at", "status", "opened_at", "clicked_at", "cost", "coupon_code", "coupon_value",
    ),
}
LINEAGE_COLUMNS = ("_landing_date DATE", "_source_file VARCHAR", "_row_number BIGINT")
# Preference order when a day folder holds the same feed in several formats.
READERS = {
    ".parquet": "read_parquet({path})",
    ".csv": "read_csv({path}, all_varchar = true, header = true)",
    ".jsonl": "read_json({path}, format = 'newline_delimited', records = true)",
}


@dataclass(frozen=True)
class LoadResult:
    feed: str
    day: date
    rows: int
    source_file: str | None
    missing_columns: list[str] = field(default_factory=list)


def raw_table(feed: str) -> str:
    if feed not in FEEDS:
        raise ValueError(f"unknown feed {feed!r}; expected one of {', '.join(FEEDS)}")
    return f"raw_{feed}"


def ensure_raw_table(con: duckdb.DuckDBPyConnection, feed: str) -> None:
    columns = [f"{name} VARCHAR" for name in FEEDS[feed]] + list(LINEAGE_COLUMNS)
    con.execute(f"create table if not exists {raw_table(feed)} ({', '.join(columns)})")


def find_landing_file(landing_dir: Path, day: date, feed: str) -> Path | None:
    """The feed's file in the day's folder, or None when nothing arrived that day."""
    folder = landing_dir / day.isoformat()
    for suffix in READERS:
        candidate = folder / f"{feed}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def load_landing_day(con: duckdb.DuckDBPyConnection, feed: str, day: date, landing_dir: Path) -> LoadResult:
    """Replace the raw rows of `day` with the day's landing file (no file: the day is emptied).

    Columns missing from the file load as NULL and are reported, so staging quarantines the rows
    that needed them; extra columns are ignored.
    """
    table = raw_table(feed)
    ensure_raw_table(con, feed)
    path = find_landing_file(landing_dir, day, feed)
    con.execute("begin transaction")
    try:
        con.execute(f"delete from {table} where _landing_date = ?", [day])
        if path is None:
            con.execute("commit")
            return LoadResult(feed, day, 0, None)
        reader = READERS[path.suffix].format(path="$path")
        present = {row[0] for row in con.execute(f"describe select * from {reader}", {"path": str(path)}).fetchall()}
        missing = [name for name in FEEDS[feed] if name not in present]
        projections = [
            f'cast("{name}" as varchar)' if name in present else "cast(null as varchar)" for name in FEEDS[feed]
        ]
        con.execute(
            f"insert into {table} select {', '.join(projections)}, $day, $file, row_number() over () "
            f"from {reader}",
            {"path": str(path), "day": day, "file": f"{day.isoformat()}/{path.name}"},
        )
        rows = con.execute(f"select count(*) from {table} where _landing_date = ?", [day]).fetchall()[0][0]
        con.execute("commit")
    except Exception as exc:
        con.execute("rollback")
        raise RuntimeError(f"could not load {path} into {table}: {exc}") from exc
    return LoadResult(feed, day, rows, str(path), missing)
