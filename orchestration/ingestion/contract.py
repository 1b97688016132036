"""The landing feeds' columns and the raw tables they load into.

Every contract column has a text column in its raw table (the value as landed in a text format: CSV,
JSON lines, or a Parquet column of an unexpected type). Timestamps, booleans and numbers also have a
typed companion (`<name>_ts`, `<name>_bool`, `<name>_num`) that a typed Parquet column fills directly,
so a typed value is never turned into text and parsed back; staging reads the typed value when there
is one and parses the text otherwise. Nothing is lost either way: exactly one of the two is set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "json", "timestamp", "boolean", "number"]
# The typed companion of each kind that has one: (column suffix, SQL type).
TYPED: dict[str, tuple[str, str]] = {"timestamp": ("_ts", "TIMESTAMP"), "boolean": ("_bool", "BOOLEAN"),
                                     "number": ("_num", "DOUBLE")}
# Raw tables that hold personal data (nickname, phone) live in this schema, never in `main`.
RESTRICTED_SCHEMA = "restricted"


@dataclass(frozen=True)
class Column:
    """A contract column: its kind, and whether a file without it is rejected (every row needs it)."""

    name: str
    kind: Kind = "text"
    required: bool = True

    @property
    def typed_name(self) -> str | None:
        return self.name + TYPED[self.kind][0] if self.kind in TYPED else None


@dataclass(frozen=True)
class Feed:
    name: str
    columns: tuple[Column, ...]
    schema: str = "main"

    @property
    def table(self) -> str:
        return f"raw_{self.name}"

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_landing_date", "DATE"),      # the landing folder's day
    ("_source_file", "VARCHAR"),    # YYYY-MM-DD/<file name>
    ("_row_number", "BIGINT"),      # Parquet: 1-based row; CSV and JSON lines: the line number (CSV header = 1)
    ("_load_error", "VARCHAR"),     # why the line could not be read into columns (null for a read row)
    ("_line_text", "VARCHAR"),      # the unreadable line as it was (null for a read row)
)

_FEEDS = (
    Feed("events", (
        Column("event_id"), Column("user_id"), Column("event_name"),
        Column("event_time", "timestamp"), Column("received_at", "timestamp"),
        Column("properties", "json", required=False),
    )),
    Feed("users", (
        Column("user_id"), Column("signup_at", "timestamp"),
        Column("nickname", required=False), Column("phone", required=False), Column("timezone", required=False),
        Column("push_opt_in", "boolean"), Column("sms_opt_in", "boolean"), Column("call_opt_in", "boolean"),
        Column("updated_at", "timestamp"),
    ), schema=RESTRICTED_SCHEMA),
    Feed("recall_touches", (
        Column("touch_id"), Column("action_id"), Column("user_id"), Column("strategy_id"), Column("arm"),
        Column("step", "number"), Column("channel", required=False), Column("scheduled_at", "timestamp"),
        Column("sent_at", "timestamp", required=False), Column("status"),
        Column("opened_at", "timestamp", required=False), Column("clicked_at", "timestamp", required=False),
        Column("cost", "number"), Column("coupon_code", required=False),
        Column("coupon_value", "number", required=False),
    )),
)
FEEDS: dict[str, Feed] = {feed.name: feed for feed in _FEEDS}


def feed_spec(name: str) -> Feed:
    if name not in FEEDS:
        raise ValueError(f"unknown feed {name!r}; expected one of {', '.join(FEEDS)}")
    return FEEDS[name]


def raw_table(feed: str) -> str:
    return feed_spec(feed).table


def raw_columns(feed: Feed) -> list[tuple[str, str]]:
    """(name, SQL type) of the feed's raw table, in order: each contract column as text, then its typed
    companion, then the lineage columns."""
    columns: list[tuple[str, str]] = []
    for column in feed.columns:
        columns.append((column.name, "VARCHAR"))
        if column.typed_name:
            columns.append((column.typed_name, TYPED[column.kind][1]))
    return columns + list(LINEAGE_COLUMNS)
