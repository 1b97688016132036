"""A corpus of malformed rows and file faults across the three feeds and the three landing formats,
each case with the quarantine reason (or the landing-log status) it must get; good rows alongside
must all be accepted. `write_corpus` writes it as landing folders and returns the expectations."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

D1 = date(2026, 1, 1)
DAYS = [D1 + timedelta(days=i) for i in range(5)]
NUL = "\x00"


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute)


@dataclass
class Expected:
    """What the corpus must produce: per (source_file, row number), the reason (None = accepted)."""

    rows: dict[str, dict[tuple[str, int], str | None]] = field(default_factory=lambda: {
        "events": {}, "users": {}, "recall_touches": {}})
    landing_status: dict[tuple[str, date], str] = field(default_factory=dict)

    def kinds(self) -> set[tuple[str, str]]:
        """(feed, reason) of the bad rows and (feed, file fault) of the faulty files."""
        reasons = {(feed, reason) for feed, rows in self.rows.items() for reason in rows.values() if reason}
        return reasons | {(feed, f"file:{status}") for (feed, _), status in self.landing_status.items()}


# ------------------------------------------------------------------------------------------ events

def event(event_id: Any, user_id: Any, name: str, when: datetime | None, received: datetime | None = None,
          **properties: Any) -> dict[str, Any]:
    return {"event_id": event_id, "user_id": user_id, "event_name": name, "event_time": when,
            "received_at": received if received is not None else (when + timedelta(seconds=5) if when else None),
            "properties": json.dumps(properties)}


def events_day1() -> list[tuple[dict[str, Any], str | None]]:
    d = D1
    return [
        (event("g1", "u1", "app_open", at(d)), None),
        (event("g2", "u1", "order_paid", at(d, 9, 5), amount=120.5, order_id="o1"), None),
        (event("g3", "u2", "search", at(d, 10), feature="search"), None),
        (event("g4", "u3", "app_open", at(d, 11), at(d, 23, 59)), None),        # received late the same day
        (event("g5", "u2", "app_open", at(d - timedelta(days=2)), at(d, 1)), None),  # a late event, 2 days old
        (event("f1", "u1", "app_open", at(d + timedelta(days=400)), at(d)), "event_time_in_future"),
        (event("f2", "u1", "app_open", datetime(1970, 1, 1), at(d)), "event_too_old"),
        (event("f3", "u1", "app_open", at(d, 10), at(d, 9)), "received_before_event_time"),
        (event("f4", "u1", "app_open", at(d, 10), at(d + timedelta(days=3))), "received_at_off_landing_day"),
        (event("f5", "u1", "order_paid", at(d, 12), amount=1e15, order_id="o2"), "implausible_amount"),
        (event("f6", "u1", "order_paid", at(d, 12), order_id="o3"), "missing_amount"),
        (event("f7", "u999", "app_open", at(d, 12)), "unknown_user"),
        (event("f8", "u" * 100_000, "app_open", at(d, 12)), "invalid_user_id"),
        (event("f9", "u1" + NUL, "app_open", at(d, 12)), "invalid_user_id"),
        (event("f10" + NUL, "u1", "app_open", at(d, 12)), "invalid_event_id"),
        (event(None, "u1", "app_open", at(d, 12)), "missing_event_id"),
        (event("f12", "", "app_open", at(d, 12)), "missing_user_id"),
        (event("f13", "u1", "teleport", at(d, 12)), "unknown_event_name"),
        ({**event("f14", "u1", "app_open", at(d, 12)), "properties": "{not json"}, "invalid_properties_json"),
        ({**event("f15", "u1", "app_open", at(d, 12)), "properties": "[1, 2]"}, "invalid_properties_json"),
        (event("f16", "u1", "order_paid", at(d, 12), amount="lots", order_id="o4"), "non_numeric_amount"),
        (event("f17", "u1", "order_paid", at(d, 12), amount="NaN", order_id="o5"), "non_numeric_amount"),
        (event("f18", "u1", "order_paid", at(d, 12), amount=-5, order_id="o6"), "negative_amount"),
        (event("f19", "u1", "deposit", at(d, 12), amount=10, balance="abc"), "invalid_balance"),
        (event("g1", "u1", "app_open", at(d), at(d, 9, 30)), "duplicate_event_id"),
        (event("f21", "u1", "app_open", None, at(d)), "invalid_event_time"),
        ({**event("f22", "u1", "app_open", at(d, 12)), "received_at": None}, "invalid_received_at"),
        (event("f23", "u 1", "app_open", at(d, 12)), "invalid_user_id"),
    ]


def events_day2_csv() -> list[tuple[str, str | None]]:
    """(line, reason) of day 2's CSV; the header is added by the writer."""
    d = D1 + timedelta(days=1)

    def line(**row: Any) -> str:
        out = io.StringIO()
        values = event(**row) if "event_id" in row else row
        csv.writer(out, lineterminator="").writerow(
            ["" if values[c] is None else str(values[c]) for c in
             ("event_id", "user_id", "event_name", "event_time", "received_at", "properties")])
        return out.getvalue()

    return [
        (line(event_id="h1", user_id="u1", name="app_open", when=at(d)), None),
        (line(event_id="h2", user_id="u2", name="order_paid", when=at(d, 9, 1), amount=30, order_id="o7",
              coupon_code="C5"), None),
        ('h3,u3,app_open,2026-01-02T17:00:00+08:00,2026-01-02T09:00:05Z,{}', None),   # offsets, converted to UTC
        (line(event_id="g2", user_id="u1", name="order_paid", when=at(D1, 9, 5), received=at(d, 0, 30),
              amount=120.5, order_id="o1"), "duplicate_event_id"),              # accepted on day 1
        ('h5,u1,app_open,yesterday-ish,2026-01-02 09:00:00,{}', "invalid_event_time"),
        ('h6,u1,app_open,2026-01-02 09:00:00,,{}', "invalid_received_at"),
        ('h7,u1,app_open,"2026-01-02 09:00:00,2026-01-02 09:00:05,{}', "malformed_line"),  # unclosed quote
        ("h8,u1,app_open", "malformed_line"),                                               # too few fields
        ("h9,u1,app_open,2026-01-02 09:00:00,2026-01-02 09:00:05,{},extra", "malformed_line"),  # too many
        ("h10,u1,order_paid,2026-01-02 09:00:00,2026-01-02 09:00:05,\"{\"\"amount\"\": \"\"1e400\"\"}\"",
         "non_numeric_amount"),
        (line(event_id="h11", user_id="u2", name="withdraw", when=at(d, 11), amount=50, balance=10), None),
    ]


def events_day3_jsonl() -> list[tuple[str, str | None]]:
    d = D1 + timedelta(days=2)

    def line(**properties: Any) -> str:
        return json.dumps(properties)

    return [
        (line(event_id="j1", user_id="u1", event_name="app_open", event_time=f"{d} 09:00:00",
              received_at=f"{d} 09:00:01", properties={"device_id": "d1"}), None),     # nested properties
        (line(event_id="j2", user_id="u6", event_name="search", event_time=f"{d} 09:00:00",
              received_at=f"{d} 09:00:01", properties=json.dumps({"feature": "search"})), None),
        ('{"event_id": "j3", "user_id": "u1", "event_na', "malformed_line"),               # truncated
        ('["j4", "u1"]', "malformed_line"),                                                  # not an object
        (line(event_id="j5", user_id="u1", event_name="app_open", event_time=1767258000,
              received_at=f"{d} 09:00:01", properties={}), "invalid_event_time"),        # epoch number
        (line(event_id="j6", user_id="u1", event_name="order_paid", event_time=f"{d} 09:00:00",
              received_at=f"{d} 09:00:01", properties={"amount": 5e300}),
         "implausible_amount"),
        (line(event_id="j7", user_id={"id": "u1"}, event_name="app_open", event_time=f"{d} 09:00:00",
              received_at=f"{d} 09:00:01", properties={}), "invalid_user_id"),            # an object as id
        (line(event_id="j8", event_name="app_open", event_time=f"{d} 09:00:00",
              received_at=f"{d} 09:00:01"), "missing_user_id"),                            # key absent
    ]


# ------------------------------------------------------------------------------------------- users

def user(user_id: Any, signup: datetime | None, updated: datetime | None = None, push: Any = True,
         sms: Any = True, call: Any = False, nickname: str = "Ann", phone: str = "+8613800000000") -> dict[str, Any]:
    return {"user_id": user_id, "signup_at": signup, "nickname": nickname, "phone": phone, "timezone": "Asia/Shanghai",
            "push_opt_in": push, "sms_opt_in": sms, "call_opt_in": call,
            "updated_at": updated if updated is not None else signup}


def users_day1() -> list[tuple[dict[str, Any], str | None]]:
    d = D1
    return [
        (user("u1", at(d, 8)), "superseded"),                                  # replaced by day 2's opt-out
        (user("u2", at(d, 8)), None),
        (user("u3", at(d, 8)), None),
        (user("u1", at(d, 8), datetime(2030, 1, 1)), "updated_at_in_future"),   # must not mask the opt-out
        (user("u4", None), "invalid_signup_at"),
        (user("u5", at(d, 8), push=None), "invalid_consent_flag"),
        (user("u" + NUL, at(d, 8)), "invalid_user_id"),
    ]


def users_day2_csv() -> list[tuple[str, str | None]]:
    d = D1 + timedelta(days=1)
    head = "u1,2026-01-01 08:00:00,Ann,+8613800000000,Asia/Shanghai"
    return [
        (f"{head},true,false,false,{d} 10:00:00", None),                        # the opt-out
        (f"u7,{d} 08:00:00,Bo,+100,UTC,maybe,true,false,{d} 08:00:00", "invalid_consent_flag"),
        (f"u8,{d} 08:00:00,Bo,+100,UTC,true,true,false,never", "invalid_updated_at"),
        (f"u9,{d} 08:00:00,Bo,+100,UTC,true,true,false,2025-12-01 08:00:00", "updated_before_signup"),
        (f"u10,2031-01-01 08:00:00,Bo,+100,UTC,true,true,false,{d} 08:00:00", "signup_at_in_future"),
        ('u11,"2026-01-02 08:00:00,Bo', "malformed_line"),
    ]


def users_day3_jsonl() -> list[tuple[str, str | None]]:
    d = D1 + timedelta(days=2)
    return [
        (json.dumps({"user_id": "u6", "signup_at": f"{d} 07:00:00", "nickname": "Cy", "phone": "+1",
                     "timezone": "UTC", "push_opt_in": True, "sms_opt_in": False, "call_opt_in": False,
                     "updated_at": f"{d} 07:00:00"}), None),
        ('{"user_id": "u12", "signup_at": "2026-01-0', "malformed_line"),
        (json.dumps({"signup_at": f"{d} 07:00:00", "push_opt_in": True, "sms_opt_in": False,
                     "call_opt_in": False, "updated_at": f"{d} 07:00:00"}), "missing_user_id"),
    ]


# ---------------------------------------------------------------------------------- recall touches

def touch(touch_id: str, user_id: str = "u2", arm: str = "treatment", step: float = 1.0, channel: str | None = "push",
          status: str = "delivered", sent: datetime | None = None, opened: datetime | None = None,
          clicked: datetime | None = None, cost: float = 0.01, day: date | None = None,
          scheduled: datetime | None = None) -> dict[str, Any]:
    d = day or D1 + timedelta(days=1)
    return {"touch_id": touch_id, "action_id": f"j_{touch_id}_1", "user_id": user_id, "strategy_id": "winback",
            "arm": arm, "step": step, "channel": channel, "scheduled_at": scheduled or at(d, 10),
            "sent_at": sent, "status": status, "opened_at": opened, "clicked_at": clicked, "cost": cost,
            "coupon_code": None, "coupon_value": None}


def touches_day2() -> list[tuple[dict[str, Any], str | None]]:
    d = D1 + timedelta(days=1)
    sent = at(d, 10, 1)
    return [
        (touch("t1", sent=sent, opened=at(d, 11), clicked=at(d, 11, 1)), None),
        (touch("t2", "u3", arm="control", step=0.0, channel=None, status="holdout", cost=0.0), None),
        (touch("t3", step=2.5, sent=sent), "invalid_step"),
        (touch("t4", sent=sent, cost=float("nan")), "invalid_cost"),
        (touch("t5", sent=sent, cost=float("inf")), "invalid_cost"),
        (touch("t6", sent=sent, cost=1e300), "invalid_cost"),
        (touch("t7", sent=sent, opened=at(d, 9)), "opened_before_sent"),
        (touch("t8", sent=sent, clicked=at(d, 9)), "clicked_before_sent"),
        (touch("t9", status="failed", opened=at(d, 11)), "response_without_send"),
        (touch("t10", "u999", sent=sent), "unknown_user"),
        (touch("t1", sent=sent), "duplicate_touch_id"),
        (touch("t12", sent=sent, scheduled=datetime(2027, 1, 1)), "scheduled_at_in_future"),
        (touch("t13", arm="maybe", sent=sent), "invalid_arm"),
        (touch("t14", channel="pigeon", sent=sent), "invalid_channel"),
        (touch("t15", sent=sent, cost=-1.0), "invalid_cost"),
        ({**touch("t16", sent=sent), "coupon_code": "C1", "coupon_value": -3.0}, "invalid_coupon_value"),
        (touch("t17", status="sent", sent=sent), "invalid_status"),
        ({**touch("t18", sent=sent), "touch_id": None}, "missing_touch_id"),
        ({**touch("t19", sent=sent), "scheduled_at": None}, "invalid_scheduled_at"),
        ({**touch("t19b", sent=sent), "action_id": "j t19b"}, "invalid_action_id"),
    ]


def touches_day3_csv() -> list[tuple[str, str | None]]:
    d = D1 + timedelta(days=2)
    base = f"j_{{t}}_1,u2,winback,treatment,{{step}},push,{d} 10:00:00,{{sent}},delivered,,,{{cost}},,"
    return [
        ("t20," + base.format(t="t20", step="1", sent=f"{d} 10:00:01", cost="0.01"), None),
        ("t21," + base.format(t="t21", step="2.5", sent=f"{d} 10:00:01", cost="0.01"), "invalid_step"),
        ("t22," + base.format(t="t22", step="1", sent=f"{d} 10:00:01", cost="1e400"), "invalid_cost"),
        ("t23," + base.format(t="t23", step="1", sent=f"{d} 10:00:01", cost="NaN"), "invalid_cost"),
        ("t24," + base.format(t="t24", step="1", sent="garbage", cost="0.01"), "invalid_timestamp"),
        ("t25,j_t25_1,u2", "malformed_line"),
    ]


# ------------------------------------------------------------------------------------------ writer

COLUMNS = {
    "events": ["event_id", "user_id", "event_name", "event_time", "received_at", "properties"],
    "users": ["user_id", "signup_at", "nickname", "phone", "timezone", "push_opt_in", "sms_opt_in", "call_opt_in",
              "updated_at"],
    "recall_touches": ["touch_id", "action_id", "user_id", "strategy_id", "arm", "step", "channel", "scheduled_at",
                       "sent_at", "status", "opened_at", "clicked_at", "cost", "coupon_code", "coupon_value"],
}
SCHEMAS = {
    "events": pa.schema([("event_id", pa.string()), ("user_id", pa.string()), ("event_name", pa.string()),
                         ("event_time", pa.timestamp("us")), ("received_at", pa.timestamp("us")),
                         ("properties", pa.string())]),
    "users": pa.schema([("user_id", pa.string()), ("signup_at", pa.timestamp("us")), ("nickname", pa.string()),
                        ("phone", pa.string()), ("timezone", pa.string()), ("push_opt_in", pa.bool_()),
                        ("sms_opt_in", pa.bool_()), ("call_opt_in", pa.bool_()), ("updated_at", pa.timestamp("us"))]),
    "recall_touches": pa.schema([
        ("touch_id", pa.string()), ("action_id", pa.string()), ("user_id", pa.string()), ("strategy_id", pa.string()),
        ("arm", pa.string()), ("step", pa.float64()), ("channel", pa.string()), ("scheduled_at", pa.timestamp("us")),
        ("sent_at", pa.timestamp("us")), ("status", pa.string()), ("opened_at", pa.timestamp("us")),
        ("clicked_at", pa.timestamp("us")), ("cost", pa.float64()), ("coupon_code", pa.string()),
        ("coupon_value", pa.float64())]),
}


def _parquet(folder: Path, feed: str, cases: list[tuple[dict[str, Any], str | None]], expected: Expected,
             day: date) -> None:
    table = pa.Table.from_pylist([row for row, _ in cases], schema=SCHEMAS[feed])
    pq.write_table(table, folder / f"{feed}.parquet")
    for n, (_, reason) in enumerate(cases, start=1):
        expected.rows[feed][(f"{day}/{feed}.parquet", n)] = reason


def _text(folder: Path, feed: str, suffix: str, cases: list[tuple[str, str | None]], expected: Expected,
          day: date, header: bool) -> None:
    lines = ([",".join(COLUMNS[feed])] if header else []) + [line for line, _ in cases]
    (folder / f"{feed}.{suffix}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    first = 2 if header else 1
    for n, (_, reason) in enumerate(cases, start=first):
        expected.rows[feed][(f"{day}/{feed}.{suffix}", n)] = reason


def write_corpus(landing: Path) -> Expected:
    """Landing folders for DAYS: three days of rows (Parquet, CSV, JSON lines per feed) and two days of
    file faults; the expected reason of every row and the expected landing status of every fault."""
    expected = Expected()
    folders = {day: landing / day.isoformat() for day in DAYS}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    d1, d2, d3, d4, d5 = DAYS
    _parquet(folders[d1], "users", users_day1(), expected, d1)
    _parquet(folders[d1], "events", events_day1(), expected, d1)
    _text(folders[d2], "users", "csv", users_day2_csv(), expected, d2, header=True)
    _text(folders[d2], "events", "csv", events_day2_csv(), expected, d2, header=True)
    _parquet(folders[d2], "recall_touches", touches_day2(), expected, d2)
    _text(folders[d3], "users", "jsonl", users_day3_jsonl(), expected, d3, header=False)
    _text(folders[d3], "events", "jsonl", events_day3_jsonl(), expected, d3, header=False)
    _text(folders[d3], "recall_touches", "csv", touches_day3_csv(), expected, d3, header=True)
    # an invalid UTF-8 line among good CSV lines of day 3's touches
    with (folders[d3] / "recall_touches.csv").open("ab") as handle:
        handle.write(b"t26,j_t26_1,u2,winback,treatment,1,push,\xff\xfe,,delivered,,,0.01,,\n")
    expected.rows["recall_touches"][(f"{d3}/recall_touches.csv", 8)] = "malformed_line"
    # file faults: nothing arrives, visibly
    (folders[d4] / "events.csv").write_bytes(b"")
    (folders[d4] / "users.csv").write_text(",".join(COLUMNS["users"]) + "\n")
    (folders[d4] / "recall_touches.csv").write_text("id,when,what\n1,2,3\n")
    (folders[d5] / "events.parquet").write_bytes(b"PAR1\x00\x01 truncated")
    (folders[d5] / "users.jsonl").write_text("\n\n  \n")
    (folders[d5] / "recall_touches.jsonl").write_text(json.dumps({"touch": "t1", "user": "u2"}) + "\n")
    expected.landing_status.update({
        ("events", d4): "empty_file", ("users", d4): "empty_file", ("recall_touches", d4): "rejected_file",
        ("events", d5): "unreadable_file", ("users", d5): "empty_file", ("recall_touches", d5): "rejected_file",
        ("recall_touches", d1): "no_file",
    })
    return expected
