"""Read one landing file (Parquet, CSV or JSON lines) into the rows of its feed's raw table.

A file is either loaded (its rows, with any line that could not be read kept as a row with
`_load_error` and the line's text, so staging quarantines it with its file and line number), or
not loaded with the reason recorded: `empty_file` (no data rows: a 0-byte file, a header alone),
`rejected_file` (a required column is missing: the file is not this feed's), `unreadable_file`
(not readable as its format at all). Typed Parquet columns fill the typed raw columns directly.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.ingestion.contract import Column, Feed

Status = Literal["loaded", "empty_file", "rejected_file", "unreadable_file"]
# Preference order when a day folder holds the same feed in several formats.
FORMATS = (".parquet", ".csv", ".jsonl")
# A quoted CSV field may span lines; a record is looked for over at most this many lines, after
# which the first line is malformed (an unclosed quote never swallows the rest of the file).
MAX_CSV_RECORD_LINES = 20
_TIMESTAMP_TYPES = ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "DATE")
_NUMBER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE")


@dataclass
class LandedFile:
    """A landing file read: `select` gives the raw table's columns (lineage from the loader) from
    `source` (a registered Arrow table or a table function), or `status` says why nothing loads."""

    status: Status
    rows: int = 0
    malformed: int = 0
    missing: list[str] = field(default_factory=list)
    detail: str = ""
    select: str = ""
    source: str = ""
    arrow: pa.Table | None = None


def read_landing_file(con: duckdb.DuckDBPyConnection, feed: Feed, path: Path) -> LandedFile:
    """The file's rows as its feed's raw columns, or why it cannot load (never raises for bad content)."""
    if path.stat().st_size == 0:
        return LandedFile("empty_file", detail="0-byte file")
    if path.suffix == ".parquet":
        return _parquet(con, feed, path)
    lines = _lines(path.read_bytes())
    if path.suffix == ".csv":
        return _csv(feed, lines)
    return _json_lines(con, feed, lines)


# ------------------------------------------------------------------------------------------ Parquet

def _parquet(con: duckdb.DuckDBPyConnection, feed: Feed, path: Path) -> LandedFile:
    # Read whole with pyarrow first: a corrupt file fails here, not halfway through an insert that
    # would abort the range's transaction.
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        return LandedFile("unreadable_file", detail=f"not a readable Parquet file: {_first_line(exc)}")
    checked = _check_columns(feed, set(table.column_names))
    if checked is not None:
        return checked
    if table.num_rows == 0:
        return LandedFile("empty_file", detail="Parquet file without rows")
    table = table.append_column("_file_row", pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64)))
    con.register("landing_types", table.slice(0, 0))
    try:
        types = {name: kind for name, kind, *_ in con.execute("describe select * from landing_types").fetchall()}
    finally:
        con.unregister("landing_types")
    projections = []
    for column in feed.columns:
        text, typed = _parquet_projection(column, types.get(column.name))
        projections.append(f"{text} as {column.name}")
        if column.typed_name:
            projections.append(f"{typed} as {column.typed_name}")
    projections += ["_file_row as _row_number", "null as _load_error", "null as _line_text"]
    return LandedFile("loaded", rows=table.num_rows, missing=_missing_optional(feed, set(types)),
                      select=", ".join(projections), source="landing_rows", arrow=table)


def _parquet_projection(column: Column, landed_type: str | None) -> tuple[str, str]:
    """(text, typed) SQL for a contract column of a Parquet file: the typed value when the landed type
    is the contract's, else the value as text for staging to parse (or quarantine)."""
    if landed_type is None:
        return "null", "null"
    quoted = f'"{column.name}"'
    if column.kind == "timestamp" and landed_type.startswith("TIMESTAMP WITH TIME ZONE"):
        return "null", f"timezone('UTC', {quoted})"
    if column.kind == "timestamp" and landed_type in _TIMESTAMP_TYPES:
        return "null", f"cast({quoted} as timestamp)"
    if column.kind == "boolean" and landed_type == "BOOLEAN":
        return "null", quoted
    if column.kind == "number" and (landed_type in _NUMBER_TYPES or landed_type.startswith("DECIMAL")):
        return "null", f"cast({quoted} as double)"
    if column.kind == "json" and landed_type.startswith(("STRUCT", "MAP", "JSON")):
        return f"cast(to_json({quoted}) as varchar)", "null"
    return f"cast({quoted} as varchar)", "null"


# ------------------------------------------------------------------------------------ text formats

@dataclass(frozen=True)
class _Line:
    number: int
    text: str
    error: str | None = None


def _lines(data: bytes) -> list[_Line]:
    """Non-blank physical lines with their 1-based numbers (a line of whitespace is blank); a line that is
    not UTF-8 is kept with an error."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    raw = data.split(b"\n")
    try:
        decoded = data.decode("utf-8").split("\n")
        return [_Line(n, text.removesuffix("\r")) for n, text in enumerate(decoded, 1) if text.strip()]
    except UnicodeDecodeError:
        lines = []
        for n, chunk in enumerate(raw, 1):
            if not chunk.strip():
                continue
            try:
                lines.append(_Line(n, chunk.decode("utf-8").removesuffix("\r")))
            except UnicodeDecodeError:
                lines.append(_Line(n, chunk.decode("utf-8", "replace").removesuffix("\r"), "not UTF-8 text"))
        return lines


def _check_columns(feed: Feed, present: set[str]) -> LandedFile | None:
    missing = [name for name in feed.required if name not in present]
    if missing:
        return LandedFile("rejected_file", missing=missing,
                          detail=f"required columns missing: {', '.join(missing)} (found: {', '.join(sorted(present)) or 'none'})")
    return None


def _missing_optional(feed: Feed, present: set[str]) -> list[str]:
    return [name for name in feed.column_names if name not in present]


def _text_table(feed: Feed, values: dict[str, list[str | None]], numbers: list[int], errors: list[str | None],
                texts: list[str | None]) -> pa.Table:
    columns: dict[str, pa.Array] = {}
    for column in feed.columns:
        columns[column.name] = pa.array(values.get(column.name) or [None] * len(numbers), pa.string())
    columns["_row_number"] = pa.array(numbers, pa.int64())
    columns["_load_error"] = pa.array(errors, pa.string())
    columns["_line_text"] = pa.array(texts, pa.string())
    return pa.table(columns)


def _text_select(feed: Feed) -> str:
    """Projection of a text file's registered rows: every value as text, typed companions empty."""
    parts = []
    for column in feed.columns:
        parts.append(column.name)
        if column.typed_name:
            parts.append(f"null as {column.typed_name}")
    return ", ".join(parts + ["_row_number", "_load_error", "_line_text"])


def _csv(feed: Feed, lines: list[_Line]) -> LandedFile:
    if not lines:
        return LandedFile("empty_file", detail="no lines")
    header_line, body = lines[0], lines[1:]
    try:
        header = [name.strip() for name in next(csv.reader([header_line.text], strict=True))]
    except csv.Error as exc:
        return LandedFile("unreadable_file", detail=f"line {header_line.number}: unreadable CSV header ({exc})")
    checked = _check_columns(feed, set(header))
    if checked is not None:
        return checked
    if not body:
        return LandedFile("empty_file", detail="header only")
    positions = {name: header.index(name) for name in feed.column_names if name in header}
    values: dict[str, list[str | None]] = {name: [] for name in positions}
    numbers: list[int] = []
    errors: list[str | None] = []
    texts: list[str | None] = []
    i = 0
    while i < len(body):
        line = body[i]
        fields, used, error = _csv_record(body, i, len(header))
        numbers.append(line.number)
        if line.error or error:
            errors.append(line.error or error)
            texts.append(line.text)
            for name in positions:
                values[name].append(None)
            i += 1
            continue
        errors.append(None)
        texts.append(None)
        for name, position in positions.items():
            values[name].append(fields[position])
        i += used
    table = _text_table(feed, values, numbers, errors, texts)
    malformed = sum(error is not None for error in errors)
    return LandedFile("loaded", rows=table.num_rows, malformed=malformed, missing=_missing_optional(feed, set(header)),
                      select=_text_select(feed), source="landing_rows", arrow=table)


def _csv_record(lines: list[_Line], start: int, width: int) -> tuple[list[str], int, str | None]:
    """(fields, lines used, error) of the record beginning at lines[start]."""
    text = lines[start].text
    for used in range(1, MAX_CSV_RECORD_LINES + 1):
        try:
            fields = next(csv.reader([text], strict=True))
        except csv.Error as exc:
            following = start + used
            # a quoted field that continues on the next physical line (no blank line in between)
            if "unexpected end of data" in str(exc) and following < len(lines) \
                    and lines[following].number == lines[following - 1].number + 1 and not lines[following].error:
                text = f"{text}\n{lines[following].text}"
                continue
            return [], 1, f"malformed CSV line ({exc})"
        if len(fields) != width:
            if used == 1:
                return [], 1, f"expected {width} fields, found {len(fields)}"
            break
        return fields, used, None
    return [], 1, "malformed CSV line (unclosed quote)"


def _json_lines(con: duckdb.DuckDBPyConnection, feed: Feed, lines: list[_Line]) -> LandedFile:
    if not lines:
        return LandedFile("empty_file", detail="no lines")
    table = pa.table({
        "line_number": pa.array([line.number for line in lines], pa.int64()),
        "line": pa.array([line.text for line in lines], pa.string()),
        "line_error": pa.array([line.error for line in lines], pa.string()),
    })
    con.register("landing_lines", table)
    try:
        con.execute("""
            create or replace temp table landing_rows as
            select *,
                case when line_error is not null then line_error
                     when not json_valid(line) then 'malformed JSON line'
                     when json_type(line) <> 'OBJECT' then 'JSON line is not an object' end as _load_error
            from landing_lines""")
        keys = {row[0] for row in con.execute(
            "select distinct unnest(json_keys(line)) from landing_rows where _load_error is null").fetchall()}
        malformed = con.execute("select count(*) from landing_rows where _load_error is not null").fetchall()[0][0]
    finally:
        con.unregister("landing_lines")
    if malformed == len(lines):
        return LandedFile("unreadable_file", detail=f"none of the {len(lines)} lines is a JSON object")
    checked = _check_columns(feed, keys)
    if checked is not None:
        return checked
    parts = []
    for column in feed.columns:
        path = "'$.\"" + column.name + "\"'"
        value = f"json_extract_string(line, {path})"
        if column.kind == "json":
            value = f"case when json_type(line, {path}) = 'OBJECT' then cast(json_extract(line, {path}) as varchar) else {value} end"
        parts.append(f"case when _load_error is null then {value} end as {column.name}")
        if column.typed_name:
            parts.append(f"null as {column.typed_name}")
    parts += ["line_number as _row_number", "_load_error",
              "case when _load_error is not null then line end as _line_text"]
    return LandedFile("loaded", rows=len(lines), malformed=malformed, missing=_missing_optional(feed, keys),
                      select=", ".join(parts), source="landing_rows")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
