"""Plain-text summary of what a run produced: the latest day's tiers, outbox and recall decisions,
and the campaign lifts."""

from __future__ import annotations

from pathlib import Path

import duckdb

TIERS = """
select lifecycle_stage, count(*) as users from user_risk_tiers
where tier_date = (select max(tier_date) from user_risk_tiers) group by 1 order by 2 desc
"""
OUTBOX = """
select channel, count(*) as steps from recall_outbox
where action_date = (select max(action_date) from recall_actions) group by 1 order by 1
"""
DECISIONS = """
select status, coalesce(reason, '') as reason, count(*) as decisions from recall_actions
where action_date = (select max(action_date) from recall_actions) group by all order by 1, 3 desc
"""
LIFTS = """
select assignment_date, strategy_id, users, control_users, wake_up_window_days,
       wake_up_lift, wake_up_lift_ci_low, wake_up_lift_ci_high,
       revenue_lift, revenue_lift_ci_low, revenue_lift_ci_high
from recall_metrics
where as_of_date = (select max(as_of_date) from recall_metrics)
  and arm = 'treatment' and cohort_level = 'campaign' and is_mature
order by assignment_date, strategy_id
"""


def _interval(value: float | None, low: float | None, high: float | None, fmt: str) -> str:
    if value is None or low is None or high is None or value != value:
        return "n/a (no control users)"
    return f"{fmt.format(value)} [{fmt.format(low)}, {fmt.format(high)}]"


def summarize(warehouse: Path) -> str:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        last_day = con.execute("select max(tier_date) from user_risk_tiers").fetchall()[0][0]
        lines = [f"Risk tiers on {last_day}:"]
        lines += [f"  {stage:<16} {users:>7,}" for stage, users in con.execute(TIERS).fetchall()]
        outbox = con.execute(OUTBOX).fetchall()
        lines.append(f"Outbox on {last_day}: {sum(n for _, n in outbox):,} steps")
        lines += [f"  {channel:<16} {steps:>7,}" for channel, steps in outbox]
        lines.append("Recall decisions that day (outbox history, recall_actions):")
        lines += [f"  {status:<10} {reason:<26} {n:>7,}" for status, reason, n in con.execute(DECISIONS).fetchall()]
        lines.append("Past campaigns (mature cohorts, treatment vs control, 95% intervals):")
        lines.append(f"  {'assigned':<10} {'strategy':<16} {'treated/control':>15}  "
                     f"{'wake-up window: lift (95% CI)':<36} revenue/user lift, 30 d (95% CI)")
        for row in con.execute(LIFTS).fetchall():
            day, strategy, users, controls, window, wake_lift, wake_lo, wake_hi, rev_lift, rev_lo, rev_hi = row
            wake = f"{window} d: {_interval(wake_lift, wake_lo, wake_hi, '{:+.1%}')}"
            lines.append(
                f"  {day} {strategy:<16} {users:>7,}/{int(controls or 0):<7,}  "
                f"{wake:<36} {_interval(rev_lift, rev_lo, rev_hi, '{:+.2f}')}"
            )
    return "\n".join(lines)
