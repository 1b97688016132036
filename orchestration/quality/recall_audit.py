"""Independent audit of the recall outbox history (recall_actions).

The recall engine (orchestration/recall) enforces consent, holdouts, quiet hours, frequency caps and
channel limits while it plans. This module re-checks what actually landed in recall_actions with
its own DuckDB SQL and its own re-derivation of the global holdout, without calling any of the
engine's enforcement functions: a bug in the engine cannot hide itself by being audited by the same
code. Only the configured limits are read from the StrategyLibrary.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # the audit needs the library's limits, never the engine's code at run time
    import duckdb

    from orchestration.recall.library import StrategyLibrary

# Queued rows of the audited days (parameters: first_day, last_day).
_OUTBOX = "select * from recall_actions where status = 'queued' and action_date between ? and ?"
# int_user_versions row valid for planning day D (same rule as contracts.OUTBOX_WITH_CONSENT).
_VALID_ON_DAY = "v.user_id = a.user_id and v.valid_from < a.action_date + 1 and (v.valid_to is null or v.valid_to >= a.action_date + 1)"

_NO_CONSENT = f"""
select count(*) from ({_OUTBOX}) as a
where not exists (
    select 1 from int_user_versions as v
    where {_VALID_ON_DAY}
      -- in-app messages need no opt-in (docs/recall.md), only a user known on the day
      and case a.channel when 'push' then v.push_opt_in when 'sms' then v.sms_opt_in when 'call' then v.call_opt_in
                         when 'in_app' then true end
)"""

_CONTROL_CONTACTED = f"""
select count(*) from ({_OUTBOX}) as a
where a.journey_id in (select journey_id from recall_actions where arm = 'control' or holdout is not null)
   or a.user_id::varchar in (select unnest(?::varchar[]))"""

_LOCAL_SEND_TIME = f"""
with sends as (
    select a.scheduled_at,
        (select v.timezone from int_user_versions as v where {_VALID_ON_DAY} order by v.valid_from desc limit 1) as tz
    from ({_OUTBOX}) as a
)
select timezone(case when tz in (select name from pg_timezone_names()) then tz else ? end, scheduled_at)::time as t
from sends"""

_CAP_WINDOWS = f"""
with r as (select row_number() over () as rid, user_id, channel, scheduled_at from ({_OUTBOX})),
     -- Sends go out within three days of their planning day: older rows cannot reach a window.
     s as (select user_id, channel, scheduled_at from recall_actions
           where status = 'queued' and action_date >= cast(? as date) - {{longest}} - 3)
select {{counts}}
from r join s on s.user_id = r.user_id and s.scheduled_at <= r.scheduled_at
    and s.scheduled_at > r.scheduled_at - to_hours(24 * {{longest}})
group by r.rid"""

_CHANNEL_DAYS = f"""
select
    count(*) filter (where l.daily_budget is not null and o.spent > l.daily_budget + 1e-9),
    count(*) filter (where l.daily_capacity is not null and o.contacts > l.daily_capacity)
from (select action_date, channel, sum(cost) as spent, count(*) as contacts from ({_OUTBOX}) group by all) as o
join (values {{limits}}) as l(channel, daily_budget, daily_capacity) on l.channel = o.channel"""

_OVERLAPPING = """
with spans as (
    select a.user_id, a.journey_id, min(a.action_date) as first_day,
        max(a.action_date + case when a.arm = 'control' then coalesce(l.span_days, 0) else 0 end) as last_day
    from recall_actions as a left join (values {ladders}) as l(strategy_id, span_days) on l.strategy_id = a.strategy_id
    -- A journey reaching the audited days started at most its ladder's span before them.
    where a.journey_id is not null and a.action_date >= cast(? as date) - {longest} - 1
    group by all
)
select count(distinct x.user_id) from spans as x join spans as y
    on x.user_id = y.user_id and x.journey_id < y.journey_id
    and x.first_day <= y.last_day and y.first_day <= x.last_day
-- the overlap itself must fall within the audited days
where greatest(x.first_day, y.first_day) <= ? and least(x.last_day, y.last_day) >= ?"""

# Codes and ids are unique across the whole history, but only those touching the audited days are reported.
_DUPLICATE_COUPONS = """
select count(*) from (
    select coupon_code from recall_actions where coupon_code is not null
    group by coupon_code
    having count(distinct journey_id) > 1 and bool_or(action_date between ? and ?)
)"""
_DUPLICATE_ACTIONS = """
select count(*) from (
    select action_id from recall_actions group by action_id
    having count(*) > 1 and bool_or(action_date between ? and ?)
)"""


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> int:
    return int(con.execute(sql, params).fetchall()[0][0] or 0)


def global_holdout_users(user_ids: list[str], share: float, salt: str) -> list[str]:
    """Users in the global holdout, re-derived from the documented contract: SipHash-2-4 (pandas)
    of the user id under key blake2b("<salt>|global-holdout")[:8], top 53 bits as a point in [0, 1)."""
    if not user_ids:
        return []
    key = hashlib.blake2b(f"{salt}|global-holdout".encode(), digest_size=8).hexdigest()
    hashes = pd.util.hash_array(np.array(user_ids, dtype=object), hash_key=key, categorize=False)
    points = (hashes >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return [u for u, p in zip(user_ids, points) if p < share]


def audit_outbox(con: duckdb.DuckDBPyConnection, first_day: date, last_day: date, library: StrategyLibrary) -> dict[str, int]:
    """Violations in recall_actions for action_date in [first_day, last_day], per rule.

    Counts are rows of the outbox (status 'queued') except budget/capacity ((day, channel) groups),
    overlapping_journeys (users), duplicate_coupon_codes (codes) and duplicate_actions (action ids).
    'outbox_rows' is the number of queued rows audited, to tell an empty audit from a clean one.
    """
    days = [first_day, last_day]
    rails = library.guardrails
    result = {"outbox_rows": _scalar(con, f"select count(*) from ({_OUTBOX})", days),
              "no_consent": _scalar(con, _NO_CONSENT, days)}

    users = [row[0] for row in con.execute(f"select distinct user_id::varchar from ({_OUTBOX})", days).fetchall()]
    held_out = global_holdout_users(users, library.global_holdout_share, library.salt)
    result["control_contacted"] = _scalar(con, _CONTROL_CONTACTED, days + [held_out])

    start, end = rails.quiet_hours.start, rails.quiet_hours.end
    # Quiet hours that wrap midnight (21:00-09:00) are the union of the evening and the morning part.
    inside = "t >= ? and t < ?" if start < end else "(t >= ? or t < ?)"
    result["quiet_hours"] = _scalar(con, f"select count(*) from ({_LOCAL_SEND_TIME}) where {inside}",
                                    days + [rails.default_timezone, start, end])

    result["frequency_cap"] = 0
    caps = rails.frequency_caps
    names = [f"frequency_cap:{c.channel}:{c.max_contacts}/{c.window_days}d" for c in caps]
    result.update(dict.fromkeys(names, 0))
    if caps:
        # Window (t - window_days x 24 h, t] counting the row itself; fixed 24 h days (to_hours), not
        # calendar days, so DST in the session time zone cannot stretch a window. Cap values are
        # validated ints and channels one of a fixed set, hence inlined.
        counts = ", ".join(
            f"count(*) filter (where s.scheduled_at > r.scheduled_at - to_hours({24 * c.window_days})"
            + ("" if c.channel == "any" else f" and r.channel = '{c.channel}' and s.channel = '{c.channel}'")
            + f") > {c.max_contacts}" for c in caps)
        sql = _CAP_WINDOWS.format(counts=counts, longest=max(c.window_days for c in caps))
        flags = np.array(con.execute(sql, days + [first_day]).fetchall(), dtype=bool).reshape(-1, len(caps))
        for name, hits in zip(names, flags.sum(axis=0)):
            result[name] += int(hits)
        result["frequency_cap"] = int(flags.any(axis=1).sum())  # each row once, whichever caps it breaks

    limits = [(name, c.daily_budget, c.daily_capacity) for name, c in rails.channels.items()]
    values = ", ".join("(?, ?::double, ?::bigint)" for _ in limits)
    over = con.execute(_CHANNEL_DAYS.format(limits=values), days + [v for row in limits for v in row]).fetchall()[0]
    result["budget"], result["capacity"] = int(over[0]), int(over[1])

    # A control journey occupies the user for its ladder's span, as the treatment it stands in for would.
    ladders = [(s.id, s.steps[-1].delay_hours // 24) for s in library.strategies]
    sql = _OVERLAPPING.format(ladders=", ".join("(?, ?::integer)" for _ in ladders), longest=max(d for _, d in ladders))
    params = [v for row in ladders for v in row] + [first_day, last_day, first_day]
    result["overlapping_journeys"] = _scalar(con, sql, params)
    result["duplicate_coupon_codes"] = _scalar(con, _DUPLICATE_COUPONS, days)
    result["duplicate_actions"] = _scalar(con, _DUPLICATE_ACTIONS, days)
    return result
