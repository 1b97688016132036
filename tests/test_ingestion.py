"""Landing files of every format load into the raw tables (typed Parquet columns stay typed), a day
is replaced only by a file with rows, file faults are recorded per feed and day, malformed lines
are kept with their line number, and a range loads in transactions of bounded size (a day's feeds always in one)."""

from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

import orchestration.ingestion.landing as landing
from orchestration.ingestion import ensure_raw_tables, load_landing_day, load_landing_range

DAY = date(2026, 1, 5)


def _events(n: int) -> pd.DataFrame:
    return pd.DataFrame({
        "event_id": [f"e{i}" for i in range(n)],
        "user_id": ["u1"] * n,
        "event_name": ["app_open"] * n,
        "event_time": pd.to_datetime(["2026-01-05 08:00:00"] * n),
        "received_at": pd.to_datetime(["2026-01-05 08:00:01"] * n),
        "properties": ['{"amount": 1}'] * n,
        "extra": [1] * n,
    })


def _write(folder, frame: pd.DataFrame, suffix: str, feed: str = "events") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{feed}.{suffix}"
    if suffix == "parquet":
        frame.to_parquet(path)
    elif suffix == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.astype(str).to_json(path, orient="records", lines=True)


def _log(con, feed="events", day=DAY):
    return con.execute("select status, raw_rows, malformed_rows, missing_columns, detail from raw_landing_log "
                       "where feed = ? and landing_date = ?", [feed, day]).fetchall()[0]


@pytest.mark.parametrize("suffix, first_row", [("parquet", 1), ("csv", 2), ("jsonl", 1)])
def test_each_format_loads_with_lineage_and_parquet_stays_typed(tmp_path, suffix, first_row):
    _write(tmp_path / DAY.isoformat(), _events(3), suffix)
    con = duckdb.connect()
    result = load_landing_day(con, "events", DAY, tmp_path)
    assert (result.status, result.rows, result.missing_columns) == ("loaded", 3, [])
    rows = con.execute("select event_id, event_time, event_time_ts, _landing_date, _source_file, _row_number "
                       "from raw_events order by _row_number").fetchall()
    assert [r[0] for r in rows] == ["e0", "e1", "e2"]
    if suffix == "parquet":  # typed in, typed out: no text round trip
        assert rows[0][1] is None and str(rows[0][2]) == "2026-01-05 08:00:00"
    else:
        assert rows[0][1].startswith("2026-01-05") and rows[0][2] is None
    assert rows[0][3] == DAY and rows[0][4] == f"{DAY}/events.{suffix}"
    assert [r[5] for r in rows] == [first_row, first_row + 1, first_row + 2]  # row, or line number
    columns = {name for (name,) in con.execute("select column_name from information_schema.columns "
                                               "where table_name = 'raw_events'").fetchall()}
    assert "extra" not in columns and {"event_time_ts", "_load_error", "_line_text"} <= columns


def test_reload_replaces_the_day_and_missing_optional_columns_are_null(tmp_path):
    folder = tmp_path / DAY.isoformat()
    _write(folder, _events(5).drop(columns=["properties"]), "parquet")
    con = duckdb.connect()
    first = load_landing_day(con, "events", DAY, tmp_path)
    again = load_landing_day(con, "events", DAY, tmp_path)
    assert first.rows == again.rows == 5 and again.missing_columns == ["properties"]
    assert con.execute("select count(*), count(properties) from raw_events").fetchall()[0] == (5, 0)


@pytest.mark.parametrize("fault, content, status", [
    ("no file", None, "no_file"),
    ("0-byte file", b"", "empty_file"),
    ("header only", b"event_id,user_id,event_name,event_time,received_at,properties\n", "empty_file"),
    ("wrong columns", b"a,b,c\n1,2,3\n", "rejected_file"),
])
def test_a_day_where_nothing_arrived_keeps_its_rows_and_says_so(tmp_path, fault, content, status):
    folder = tmp_path / DAY.isoformat()
    _write(folder, _events(4), "csv")
    con = duckdb.connect()
    load_landing_day(con, "events", DAY, tmp_path)
    (folder / "events.csv").unlink()
    if content is not None:
        (folder / "events.csv").write_bytes(content)
    result = load_landing_day(con, "events", DAY, tmp_path)
    assert result.status == status and result.nothing_arrived
    assert con.execute("select count(*) from raw_events where _landing_date = ?", [DAY]).fetchall()[0][0] == 4
    logged = _log(con)
    assert logged[0] == status and logged[1] == 4 and "kept the 4 rows" in logged[4]
    if status == "rejected_file":
        assert "event_id" in logged[3] and "required columns missing" in logged[4]


def test_unreadable_parquet_is_recorded_not_raised(tmp_path):
    folder = tmp_path / DAY.isoformat()
    folder.mkdir()
    (folder / "events.parquet").write_bytes(b"PAR1 this is not parquet")
    con = duckdb.connect()
    result = load_landing_day(con, "events", DAY, tmp_path)
    assert result.status == "unreadable_file" and result.rows == 0
    assert _log(con)[0] == "unreadable_file"


def test_malformed_csv_lines_are_kept_with_their_line_number_and_good_rows_load(tmp_path):
    folder = tmp_path / DAY.isoformat()
    folder.mkdir()
    good = 'e{n},u1,app_open,2026-01-05 08:00:00,2026-01-05 08:00:01,"{{""amount"": 1}}"'
    lines = [
        "event_id,user_id,event_name,event_time,received_at,properties",
        good.format(n=1),
        'e2,u1,app_open,"2026-01-05 08:00:00,2026-01-05 08:00:01,{}',     # unclosed quote
        "e3,u1,app_open",                                                 # too few fields
        "",                                                               # a blank line is no row
        good.format(n=4),
        'e5,u1,app_open,2026-01-05 08:00:00,2026-01-05 08:00:01,"{""note"": ""two',  # a quoted field
        'lines""}"',                                                      # ... spanning two lines
        good.format(n=6),
    ]
    (folder / "events.csv").write_bytes(("\n".join(lines) + "\n").encode() + b"e7,u1,\xff\xfe,x,y,z\n")
    con = duckdb.connect()
    result = load_landing_day(con, "events", DAY, tmp_path)
    assert result.status == "loaded" and result.malformed_rows == 3
    rows = con.execute("select _row_number, event_id, _load_error is not null, _line_text, properties "
                       "from raw_events order by _row_number").fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (2, "e1", False), (3, None, True), (4, None, True), (6, "e4", False), (7, "e5", False), (9, "e6", False),
        (10, None, True)]
    assert rows[1][3].startswith('e2,u1,app_open,"2026') and rows[4][4] == '{"note": "two\nlines"}'
    assert _log(con)[2] == 3


def test_malformed_json_lines_are_kept_with_their_line_number(tmp_path):
    folder = tmp_path / DAY.isoformat()
    folder.mkdir()
    lines = [
        '{"event_id": "e1", "user_id": "u1", "event_name": "app_open", "event_time": "2026-01-05 08:00:00", '
        '"received_at": "2026-01-05 08:00:01", "properties": {"amount": 2}}',
        '{"event_id": "e2", "user_id": "u1", "event_na',                  # truncated
        '[1, 2]',                                                         # not an object
        '{"event_id": "e3", "user_id": "u1", "event_name": "app_open", "event_time": "2026-01-05 08:00:00", '
        '"received_at": "2026-01-05 08:00:01", "properties": "{\\"amount\\": 3}"}',
    ]
    (folder / "events.jsonl").write_text("\n".join(lines) + "\n")
    con = duckdb.connect()
    result = load_landing_day(con, "events", DAY, tmp_path)
    assert result.status == "loaded" and result.rows == 4 and result.malformed_rows == 2
    rows = con.execute("select _row_number, event_id, properties, _load_error from raw_events order by 1").fetchall()
    assert rows[0][:3] == (1, "e1", '{"amount":2}') and rows[3][:3] == (4, "e3", '{"amount": 3}')
    assert rows[1][3] == "malformed JSON line" and rows[2][3] == "JSON line is not an object"


def fail_reading_on(monkeypatch, day):
    """Make reading any landing file of `day` fail as a broken disk would; returns the real reader."""
    real = landing.read_landing_file

    def failing(con, feed, path):
        if day.isoformat() in str(path):
            raise OSError("disk went away")
        return real(con, feed, path)

    monkeypatch.setattr(landing, "read_landing_file", failing)
    return real


def test_a_range_loads_in_one_transaction(tmp_path, monkeypatch):
    days = [DAY + timedelta(days=i) for i in range(3)]
    for n, day in enumerate(days):
        _write(tmp_path / day.isoformat(), _events(2 + n), "parquet")
    con = duckdb.connect()
    real = fail_reading_on(monkeypatch, days[-1])
    with pytest.raises(OSError, match="disk went away"):
        load_landing_range(con, days, tmp_path)
    assert con.execute("select count(*) from raw_events").fetchall()[0][0] == 0  # the earlier days rolled back
    assert con.execute("select count(*) from raw_landing_log").fetchall()[0][0] == 0
    monkeypatch.setattr(landing, "read_landing_file", real)
    results = load_landing_range(con, days, tmp_path)
    assert [r.rows for r in results if r.feed == "events"] == [2, 3, 4]


def test_a_long_range_commits_in_bounded_transactions_and_an_error_rolls_back_only_its_own(tmp_path, monkeypatch):
    days = [DAY + timedelta(days=i) for i in range(4)]
    for day in days:
        _write(tmp_path / day.isoformat(), _events(3), "parquet")
    monkeypatch.setattr(landing, "TRANSACTION_ROWS", 5)  # two days of 3 events a transaction
    con = duckdb.connect()
    fail_reading_on(monkeypatch, days[-1])
    with pytest.raises(OSError, match="disk went away"):
        load_landing_range(con, days, tmp_path)
    # The first transaction's two days stay, recorded as loaded and not staged (the next dbt step resumes from
    # them); the third day shared the failing day's transaction and rolled back with it.
    landed = con.execute("select _landing_date, count(*) from raw_events group by 1 order by 1").fetchall()
    assert landed == [(days[0], 3), (days[1], 3)]
    logged = con.execute("select landing_date, status, staged_at is null from raw_landing_log "
                         "where feed = 'events' order by 1").fetchall()
    assert logged == [(days[0], "loaded", True), (days[1], "loaded", True)]


def test_an_older_warehouse_layout_is_upgraded_in_place(tmp_path):
    con = duckdb.connect()
    con.execute("create table raw_users (user_id varchar, nickname varchar, _landing_date date)")
    con.execute("insert into raw_users values ('u1', 'Ann', '2026-01-01')")
    con.execute("create table raw_events (event_id varchar, event_time varchar, _landing_date date)")
    ensure_raw_tables(con)
    assert con.execute("select user_id, nickname from restricted.raw_users").fetchall() == [("u1", "Ann")]
    assert con.execute("select count(*) from information_schema.tables where table_schema = 'main' "
                       "and table_name = 'raw_users'").fetchall()[0][0] == 0
    columns = {name for (name,) in con.execute("select column_name from information_schema.columns "
                                               "where table_name = 'raw_events'").fetchall()}
    assert {"event_time_ts", "received_at", "_load_error"} <= columns


def test_unknown_feed_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown feed 'orders'"):
        load_landing_day(duckdb.connect(), "orders", DAY, tmp_path)


def test_a_parquet_column_of_another_type_lands_as_text_for_staging_to_parse(tmp_path):
    frame = _events(2).astype({"event_time": str})
    frame.loc[1, "event_time"] = "soon"
    frame["properties"] = [{"amount": 1}, {"amount": 2}]  # a struct column: rendered as JSON text
    _write(tmp_path / DAY.isoformat(), frame, "parquet")
    con = duckdb.connect()
    load_landing_day(con, "events", DAY, tmp_path)
    rows = con.execute("select event_time, event_time_ts, received_at_ts is not null, properties "
                       "from raw_events order by _row_number").fetchall()
    assert rows[0][0].startswith("2026-01-05 08:00:00") and rows[0][1] is None and rows[0][2]
    assert rows[1][0] == "soon" and rows[0][3] == '{"amount":1}'


def test_a_json_lines_file_without_one_object_is_unreadable(tmp_path):
    folder = tmp_path / DAY.isoformat()
    folder.mkdir()
    (folder / "events.jsonl").write_text("not json\n[1]\n")
    con = duckdb.connect()
    result = load_landing_day(con, "events", DAY, tmp_path)
    assert result.status == "unreadable_file" and "none of the 2 lines" in result.detail and result.rows == 0
