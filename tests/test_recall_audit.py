"""Independent outbox audit: one clean and one violating case per rule, at the rule's boundary."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import pandas as pd
import pytest

from orchestration.quality.recall_audit import audit_outbox, global_holdout_users
from orchestration.recall.assignment import in_global_holdout
from orchestration.recall.library import StrategyLibrary, parse_strategy_library

D = date(2026, 3, 2)
SEND = pd.Timestamp("2026-03-03 10:00", tz="UTC")  # D + 1 at send_hour_utc
CAPS = ["frequency_cap:any:3/7d", "frequency_cap:push:1/1d", "frequency_cap:sms:2/7d", "frequency_cap:call:1/14d"]
KEYS = {"outbox_rows", "no_consent", "control_contacted", "quiet_hours", "frequency_cap", *CAPS,
        "budget", "capacity", "overlapping_journeys", "duplicate_coupon_codes", "duplicate_actions"}

LIBRARY_YAML = """\
version: 2
revision: test.1
salt: audit-test
cooldown_days: 0
global_holdout_share: 0.0
send_hour_utc: 10
default_recommendation: our new picks
link_base: https://app.example.com/r
economics:
  wake_probability: {dormant_medium: 0.15, at_risk: 0.35}
guardrails:
  quiet_hours: {start: "21:00", end: "09:00"}
  default_timezone: UTC
  frequency_caps:
    - {channel: any, max_contacts: 3, window_days: 7}
    - {channel: push, max_contacts: 1, window_days: 1}
    - {channel: sms, max_contacts: 2, window_days: 7}
    - {channel: call, max_contacts: 1, window_days: 14}
  channels:
    push: {cost: 0.001}
    sms: {cost: 0.04, daily_budget: 0.08}
    call: {cost: 1.20, daily_capacity: 2}
benefits:
  personal_coupon: {kind: coupon, label: coupon, share_of_order: 0.20, min_value: 5, max_value: 50, round_to: 5}
templates:
  coupon_push: "{nickname}, a {benefit} just for you. Ends in {countdown}."
  coupon_sms: "{nickname}: your {benefit} (code {coupon_code}) ends in {countdown}. {link}"
  coupon_call: "Call {nickname}: offer the {benefit}, code {coupon_code}."
  care_push: "{nickname}, we picked {recommendation} for you."
strategies:
  - id: coupon_ladder
    match: {lifecycle_stage: [dormant_medium]}
    priority: 10
    holdout_share: 0.2
    steps:
      - {channel: push, delay_hours: 0, template: coupon_push, benefit: personal_coupon}
      - {channel: sms, delay_hours: 24, template: coupon_sms, benefit: personal_coupon}
      - {channel: call, delay_hours: 48, template: coupon_call, benefit: personal_coupon}
  - id: care_push
    match: {lifecycle_stage: [at_risk]}
    priority: 20
    holdout_share: 0.2
    steps:
      - {channel: push, delay_hours: 0, template: care_push}
"""

TYPES = {
    "action_id": "varchar", "journey_id": "varchar", "action_date": "date", "user_id": "varchar",
    "strategy_id": "varchar", "arm": "varchar", "holdout": "varchar", "step": "integer", "channel": "varchar",
    "coupon_code": "varchar", "scheduled_at": "timestamptz", "cost": "double", "status": "varchar", "reason": "varchar",
}
COSTS = {"push": 0.001, "sms": 0.04, "call": 1.20, "in_app": 0.0}


@pytest.fixture(scope="module")
def library() -> StrategyLibrary:
    return parse_strategy_library(LIBRARY_YAML)


def send(user: str, at: pd.Timestamp | str, channel: str = "push", day: date = D, journey: str | None = None,
         step: int = 1, **extra: Any) -> dict[str, Any]:
    """A queued treatment row (the outbox) with sensible defaults."""
    journey = journey or f"j_{user}_{day:%m%d}"
    row = {"action_id": f"{journey}_{step}", "journey_id": journey, "action_date": day, "user_id": user,
           "strategy_id": "coupon_ladder", "arm": "treatment", "holdout": None, "step": step, "channel": channel,
           "coupon_code": None, "scheduled_at": pd.Timestamp(at, tz="UTC") if isinstance(at, str) else at,
           "cost": COSTS[channel], "status": "queued", "reason": None}
    return row | extra


def control(user: str, day: date = D, journey: str | None = None, strategy: str = "coupon_ladder",
            holdout: str = "strategy") -> dict[str, Any]:
    return send(user, pd.NaT, journey=journey or f"j_{user}_{day:%m%d}", day=day, strategy_id=strategy,
                arm="control", holdout=holdout, channel="push", cost=0.0, status="holdout", reason=f"{holdout}_holdout")


def version(user: str, valid_from: str = "2026-01-01", valid_to: str | None = None, tz: str | None = "UTC",
            push: bool = True, sms: bool = True, call: bool = True) -> dict[str, Any]:
    return {"user_id": user, "valid_from": pd.Timestamp(valid_from), "valid_to": pd.Timestamp(valid_to) if valid_to else pd.NaT,
            "nickname": user, "timezone": tz, "push_opt_in": push, "sms_opt_in": sms, "call_opt_in": call}


def audit(library: StrategyLibrary, actions: list[dict[str, Any]], versions: list[dict[str, Any]] | None = None,
          first: date = D, last: date = D) -> dict[str, int]:
    """Build the two tables in a fresh in-memory DuckDB and audit [first, last]; every user consents
    with timezone UTC unless `versions` says otherwise."""
    con = duckdb.connect()
    frame = pd.DataFrame(actions, columns=list(TYPES))  # noqa: F841 (read by DuckDB by name)
    con.execute("create table recall_actions as select "
                + ", ".join(f"{c}::{t} as {c}" for c, t in TYPES.items()) + " from frame")
    if versions is None:
        versions = [version(u) for u in sorted({a["user_id"] for a in actions})]
    users = pd.DataFrame(versions, columns=list(version("x")))  # noqa: F841
    con.execute("""create table int_user_versions as select user_id::varchar as user_id,
        valid_from::timestamp as valid_from, valid_to::timestamp as valid_to, nickname::varchar as nickname,
        timezone::varchar as timezone, push_opt_in::boolean as push_opt_in, sms_opt_in::boolean as sms_opt_in,
        call_opt_in::boolean as call_opt_in from users""")
    try:
        result = audit_outbox(con, first, last, library)
    finally:
        con.close()
    assert set(result) == KEYS
    return result


def test_empty_and_clean_audits_are_told_apart(library: StrategyLibrary) -> None:
    empty = audit(library, [])
    assert empty == dict.fromkeys(KEYS, 0)
    ladder = [send("u1", SEND, "push", step=1, coupon_code="CR1"),
              send("u1", SEND + pd.Timedelta(days=1), "sms", day=D + timedelta(days=1), journey="j_u1_0302", step=2, coupon_code="CR1"),
              send("u1", SEND + pd.Timedelta(days=2), "call", day=D + timedelta(days=2), journey="j_u1_0302", step=3, coupon_code="CR1"),
              control("u2")]
    clean = audit(library, ladder, last=D + timedelta(days=2))
    assert clean == dict.fromkeys(KEYS, 0) | {"outbox_rows": 3}
    # Rows outside the audited days are not audited.
    assert audit(library, ladder, first=D + timedelta(days=5), last=D + timedelta(days=6))["outbox_rows"] == 0


def test_no_consent_uses_the_version_valid_on_the_planning_day(library: StrategyLibrary) -> None:
    end_of_day = (D + timedelta(days=1)).isoformat()  # 00:00 of D + 1
    rows = [send("u1", SEND, "sms"), send("u2", SEND, "sms"), send("u3", SEND, "push"), send("u4", SEND, "sms")]
    versions = [
        # Withdrawn at 00:00 of D + 1: the opt-in still held on D (valid_to >= D + 1).
        version("u1", valid_to=end_of_day), version("u1", valid_from=end_of_day, sms=False),
        # Withdrawn at 23:59 on D: not allowed any more.
        version("u2", valid_to=f"{D} 23:59"), version("u2", valid_from=f"{D} 23:59", sms=False),
        version("u3", push=False, sms=True),
        # u4 has no version at all: no consent.
    ]
    result = audit(library, rows, versions)
    assert result["no_consent"] == 3
    assert audit(library, rows[:1], versions)["no_consent"] == 0


def test_in_app_needs_no_opt_in_but_a_known_user(library: StrategyLibrary) -> None:
    rows = [send("u1", SEND, "in_app"), send("u2", SEND, "in_app")]
    # u1 opted out of every channel: an in-app message needs no opt-in; u2 is unknown on the day.
    assert audit(library, rows, [version("u1", push=False, sms=False, call=False)])["no_consent"] == 1
    assert audit(library, rows[:1], [version("u1", push=False, sms=False, call=False)])["no_consent"] == 0
    # It is still a contact: never to a control user.
    assert audit(library, [control("u3"), send("u3", SEND, "in_app", day=D + timedelta(days=1), journey="j_u3_0302", step=2)],
                 last=D + timedelta(days=1))["control_contacted"] == 1


def test_control_contacted_strategy_and_global_holdout(library: StrategyLibrary) -> None:
    assert audit(library, [send("u1", SEND), control("u2")])["control_contacted"] == 0
    # A step queued on a journey that started as control (strategy or global holdout).
    rows = [control("u1"), send("u1", SEND, "sms", day=D + timedelta(days=1), journey="j_u1_0302", step=2),
            send("u2", SEND, holdout="global", arm="control")]
    assert audit(library, rows, last=D + timedelta(days=1))["control_contacted"] == 2

    shared = library.model_copy(update={"global_holdout_share": 0.3})
    users = [f"u{i:04d}" for i in range(200)]
    held = set(global_holdout_users(users, 0.3, shared.salt))
    # The re-derivation must agree with the engine's assignment (the contract both implement).
    assert held == set(pd.Series(users)[in_global_holdout(pd.Series(users), 0.3, shared.salt)])
    assert 30 < len(held) < 90
    inside, outside = sorted(held)[0], sorted(set(users) - held)[0]
    assert audit(shared, [send(outside, SEND)])["control_contacted"] == 0
    assert audit(shared, [send(inside, SEND), send(outside, SEND)])["control_contacted"] == 1
    assert audit(library, [send(inside, SEND)])["control_contacted"] == 0  # share 0: nobody held out


@pytest.mark.parametrize(("tz", "local", "quiet"), [
    ("Asia/Shanghai", "20:59", False), ("Asia/Shanghai", "21:00", True),
    ("Asia/Shanghai", "08:59", True), ("Asia/Shanghai", "09:00", False),
    ("America/New_York", "20:59", False), ("America/New_York", "21:00", True),  # EST on D
    ("Mars/Olympus", "21:00", True), (None, "20:59", False),  # unknown or missing: default UTC
])
def test_quiet_hours_in_the_users_local_time(library: StrategyLibrary, tz: str | None, local: str, quiet: bool) -> None:
    zone = tz if tz in ("Asia/Shanghai", "America/New_York") else "UTC"
    at = pd.Timestamp(f"{D + timedelta(days=1)} {local}", tz=zone).tz_convert("UTC")
    result = audit(library, [send("u1", at)], [version("u1", tz=tz)])
    assert result["quiet_hours"] == int(quiet)


def test_quiet_hours_follow_the_timezone_valid_on_the_planning_day(library: StrategyLibrary) -> None:
    at = pd.Timestamp(f"{D + timedelta(days=1)} 13:30", tz="UTC")  # 21:30 in Shanghai, 13:30 in UTC
    moved_later = [version("u1", valid_to=f"{D + timedelta(days=1)}", tz="UTC"),
                   version("u1", valid_from=f"{D + timedelta(days=1)}", tz="Asia/Shanghai")]
    assert audit(library, [send("u1", at)], moved_later)["quiet_hours"] == 0
    moved_on_day = [version("u1", valid_to=f"{D} 12:00", tz="UTC"), version("u1", valid_from=f"{D} 12:00", tz="Asia/Shanghai")]
    assert audit(library, [send("u1", at)], moved_on_day)["quiet_hours"] == 1


def test_frequency_cap_window_excludes_its_left_edge(library: StrategyLibrary) -> None:
    def sms(offset_days: float) -> dict[str, Any]:
        at = SEND + pd.Timedelta(days=offset_days)
        day = (at - pd.Timedelta(days=1)).date()
        return send("u1", at, "sms", day=day, journey=f"j_{offset_days}")

    last = D + timedelta(days=7)
    # Exactly window_days before the third sms is outside its window: 2 sms in (t - 7d, t].
    assert audit(library, [sms(0), sms(3), sms(7)], last=last)["frequency_cap:sms:2/7d"] == 0
    result = audit(library, [sms(0), sms(3), sms(6.5), sms(7)], last=last)
    assert result["frequency_cap:sms:2/7d"] == 2 and result["frequency_cap"] == 2  # rows at 6.5 and 7
    # Earlier history counts in the window, but only rows of the audited days are reported.
    assert audit(library, [sms(0), sms(3), sms(6.5), sms(7)], first=D + timedelta(days=7), last=last)["frequency_cap"] == 1


def test_frequency_cap_counts_a_row_once_across_caps(library: StrategyLibrary) -> None:
    pushes = [send("u1", SEND - pd.Timedelta(days=d), journey=f"j{d}") for d in (2, 1, 0)]  # 24 h apart
    assert audit(library, pushes)["frequency_cap"] == 0  # 3 in 7 days, 1 a day: exactly at both caps
    # 23:59 after the previous push: breaks the push cap (2 in 24 h) and the any cap (4 in 7 days).
    both = audit(library, pushes + [send("u1", SEND + pd.Timedelta(hours=23, minutes=59), journey="j9")])
    assert both["frequency_cap:any:3/7d"] == 1 and both["frequency_cap:push:1/1d"] == 1
    assert both["frequency_cap"] == 1
    # A fourth contact on another channel, 24 h later: only the any cap.
    sms = audit(library, pushes + [send("u1", SEND + pd.Timedelta(days=1), "sms", journey="j9")])
    assert (sms["frequency_cap:any:3/7d"], sms["frequency_cap:push:1/1d"], sms["frequency_cap:sms:2/7d"]) == (1, 0, 0)


def test_budget_and_capacity_per_day_and_channel(library: StrategyLibrary) -> None:
    sms = [send(f"u{i}", SEND, "sms") for i in range(3)]
    calls = [send(f"c{i}", SEND, "call") for i in range(3)]
    assert audit(library, sms[:2] + calls[:2]) | {"outbox_rows": 0} == dict.fromkeys(KEYS, 0)  # exactly at the limits
    result = audit(library, sms + calls + [send("u9", SEND, "sms", day=D + timedelta(days=1))], last=D + timedelta(days=1))
    assert (result["budget"], result["capacity"]) == (1, 1)


def test_overlapping_journeys(library: StrategyLibrary) -> None:
    later = D + timedelta(days=3)
    treatment = [send("u1", SEND + pd.Timedelta(days=k), ["push", "sms", "call"][k], day=D + timedelta(days=k),
                      journey="j_a", step=k + 1) for k in range(3)]  # occupies D .. D + 2
    nxt = send("u1", SEND + pd.Timedelta(days=3), day=later, journey="j_b")
    early = send("u1", SEND + pd.Timedelta(days=2, hours=2), day=D + timedelta(days=2), journey="j_b")
    assert audit(library, treatment + [nxt], last=later)["overlapping_journeys"] == 0
    assert audit(library, treatment + [early], last=later)["overlapping_journeys"] == 1
    assert audit(library, treatment + [early | {"journey_id": "j_0"}], last=later)["overlapping_journeys"] == 1  # either order
    # Only overlaps within the audited days are reported.
    assert audit(library, treatment + [early], first=later, last=later)["overlapping_journeys"] == 0
    # A control journey spans its strategy's ladder: 48 h -> D .. D + 2.
    assert audit(library, [control("u1", journey="j_a"), nxt], last=later)["overlapping_journeys"] == 0
    assert audit(library, [control("u1", journey="j_a"), early], last=later)["overlapping_journeys"] == 1
    # Unknown strategy: no ladder to extend by.
    unknown = [control("u1", journey="j_a", strategy="gone"), send("u1", SEND, day=D + timedelta(days=1), journey="j_b")]
    assert audit(library, unknown, last=later)["overlapping_journeys"] == 0


def test_duplicate_coupon_codes_and_actions(library: StrategyLibrary) -> None:
    same_journey = [send("u1", SEND, coupon_code="CR1", journey="j1", step=1),
                    send("u1", SEND + pd.Timedelta(days=1), "sms", day=D + timedelta(days=1), coupon_code="CR1", journey="j1", step=2)]
    result = audit(library, same_journey, last=D + timedelta(days=1))
    assert (result["duplicate_coupon_codes"], result["duplicate_actions"]) == (0, 0)
    shared = same_journey + [send("u2", SEND, coupon_code="CR1", journey="j2")]
    repeated = [send("u1", SEND, journey="j1"), send("u1", SEND, journey="j1")]
    assert audit(library, shared, last=D + timedelta(days=1))["duplicate_coupon_codes"] == 1
    assert audit(library, repeated)["duplicate_actions"] == 1
