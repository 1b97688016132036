"""Plain-text summary of what a run produced: the latest day's tiers, outbox and recall decisions; the lift of the
pipeline's own strategies with their intervals (next to the simulator's true effects when a truth folder is given),
the programme against the global holdout, the A/B variants, and campaigns only the delivery log knows."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from orchestration.warehouse.io import table_exists

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
METRICS = "select * from recall_metrics where as_of_date = (select max(as_of_date) from recall_metrics)"
OWN_STRATEGIES = "select distinct strategy_id from recall_actions where journey_id is not null"
# The lifts shown: (lift prefix, label, format, maturity flag).
SHOWN = (("wake_up", "wake-up", "{:+.1%}", "wake_up_mature"), ("revenue", "revenue/user 30 d", "{:+.2f}", "is_mature"))


def _interval(value: float | None, low: float | None, high: float | None, fmt: str) -> str:
    if value is None or low is None or high is None or value != value or low != low:
        return "n/a (no interval)"
    return f"{fmt.format(value)} [{fmt.format(low)}, {fmt.format(high)}]"


def _day(value: object) -> str:
    """A date as YYYY-MM-DD (DuckDB dates may arrive as timestamps)."""
    return pd.Timestamp(value).date().isoformat()


def _truth(metrics: pd.DataFrame, truth_dir: Path | None) -> pd.DataFrame | None:
    """The treatment rows with the simulator's true effects, when a closed-loop truth folder exists."""
    if truth_dir is None:
        return None
    from orchestration.evaluation.measurement_truth import read_campaign_truth, true_effects

    try:
        return true_effects(metrics, read_campaign_truth(truth_dir))
    except FileNotFoundError:
        return None


def _strategy_lines(metrics: pd.DataFrame, own: set[str], truth: pd.DataFrame | None) -> list[str]:
    lines = []
    for level, what, (prefix, label, fmt, mature) in (("overall_wake_up", "wake-up window closed", SHOWN[0]),
                                                      ("overall", "30-day window closed", SHOWN[1])):
        rows = metrics[(metrics["cohort_level"] == level) & (metrics["arm"] == "treatment")
                       & metrics["strategy_id"].isin(own)].sort_values("strategy_id")
        if rows.empty:
            lines.append(f"  {label}: no campaign with its {what} yet")
            continue
        window = f" ({int(rows['wake_up_window_days'].max())} d)" if prefix == "wake_up" else ""
        lines.append(f"  {label}{window} lift, campaigns with the {what}, last 90 days:")
        lines.append(f"    {'strategy':<34} {'treated/control':>15}  {'measured (95% CI)':<28} true effect")
        known = truth.set_index(["cohort_level", "strategy_id"]) if truth is not None else None
        for row in rows.itertuples(index=False):
            true = ""
            if known is not None and (level, row.strategy_id) in known.index:
                value = known.loc[(level, row.strategy_id), f"true_{prefix}"]
                true = fmt.format(value) if pd.notna(value) else "n/a"
            flags = " SRM!" if row.srm_alarm else (" small" if row.small_cohort else "")
            lines.append(f"    {row.strategy_id:<34} {int(row.users):>7,}/{int(row.control_users or 0):<7,}  "
                         f"{_interval(getattr(row, prefix + '_lift'), getattr(row, prefix + '_lift_ci_low'), getattr(row, prefix + '_lift_ci_high'), fmt):<28} "
                         f"{true}{flags}")
    return lines


def _programme_lines(metrics: pd.DataFrame) -> list[str]:
    rows = metrics[(metrics["cohort_level"].isin(["programme_overall", "programme_week"])) & (metrics["arm"] == "treatment")]
    if rows.empty:
        return ["  no global holdout journeys yet"]
    lines = []
    for row in rows.sort_values(["cohort_level", "assignment_date"], ascending=[False, True]).itertuples(index=False):
        what = "pooled" if row.cohort_level == "programme_overall" else f"week of {_day(row.assignment_date)}"
        lines.append(f"  {what:<22} {int(row.users):>7,}/{int(row.control_users or 0):<6,} first journeys, wake-up lift "
                     f"{_interval(row.wake_up_lift, row.wake_up_lift_ci_low, row.wake_up_lift_ci_high, '{:+.1%}')}"
                     + ("" if row.wake_up_mature else " (window open)"))
    return lines


def _variant_lines(metrics: pd.DataFrame) -> list[str]:
    rows = metrics[(metrics["cohort_level"] == "variant_contrast_overall") & (metrics["arm"] == "treatment")]
    if rows.empty:
        return ["  no A/B step with a closed wake-up window yet"]
    return [f"  {row.strategy_id:<28} {row.cohort_value:<30} {int(row.users):>6,}/{int(row.control_users or 0):<6,} "
            f"wake-up difference {_interval(row.wake_up_lift, row.wake_up_lift_ci_low, row.wake_up_lift_ci_high, '{:+.1%}')}"
            for row in rows.sort_values(["strategy_id", "cohort_value"]).itertuples(index=False)]


def summarize(warehouse: Path, truth_dir: Path | None = None) -> str:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        last_day = con.execute("select max(tier_date) from user_risk_tiers").fetchall()[0][0]
        lines = [f"Risk tiers on {last_day}:"]
        lines += [f"  {stage:<16} {users:>7,}" for stage, users in con.execute(TIERS).fetchall()]
        outbox = con.execute(OUTBOX).fetchall()
        lines.append(f"Outbox on {last_day}: {sum(n for _, n in outbox):,} steps")
        lines += [f"  {channel:<16} {steps:>7,}" for channel, steps in outbox]
        lines.append("Recall decisions that day (outbox history, recall_actions):")
        lines += [f"  {status:<10} {reason:<26} {n:>7,}" for status, reason, n in con.execute(DECISIONS).fetchall()]
        metrics = con.execute(METRICS).df() if table_exists(con, "recall_metrics") else pd.DataFrame()
        own = {s for (s,) in con.execute(OWN_STRATEGIES).fetchall()} if table_exists(con, "recall_actions") else set()
    if metrics.empty:
        return "\n".join(lines + ["No recall metrics yet."])
    truth = _truth(metrics, truth_dir)
    lines.append(f"The pipeline's own strategies, measured as of {_day(metrics['as_of_date'].iloc[0])} (treatment against "
                 "the strategy's holdout, every assigned journey counted)"
                 + (", next to the simulator's true effect:" if truth is not None else ":"))
    lines += _strategy_lines(metrics, own, truth)
    lines.append("The programme: users' first journeys outside the global holdout against inside it:")
    lines += _programme_lines(metrics)
    lines.append("A/B steps, variant against the reference variant (both treated):")
    lines += _variant_lines(metrics)
    others = metrics[(metrics["cohort_level"] == "campaign") & (metrics["arm"] == "treatment") & metrics["is_mature"]
                     & ~metrics["strategy_id"].isin(own)].sort_values(["assignment_date", "strategy_id"])
    if len(others):
        lines.append("Campaigns known only from the delivery log (mature, treatment vs control, 95% intervals):")
        for row in others.itertuples(index=False):
            lines.append(f"  {_day(row.assignment_date)} {row.strategy_id:<16} {int(row.users):>7,}/{int(row.control_users or 0):<7,} "
                         f"wake-up {_interval(row.wake_up_lift, row.wake_up_lift_ci_low, row.wake_up_lift_ci_high, '{:+.1%}')}  "
                         f"revenue/user {_interval(row.revenue_lift, row.revenue_lift_ci_low, row.revenue_lift_ci_high, '{:+.2f}')}")
    return "\n".join(lines)


def publish_with_truth(warehouse: Path, truth_dir: Path, reports_dir: Path) -> Path | None:
    """Rewrite the latest recall report with the simulator's true effects beside the measured lifts (a simulation
    only: the pipeline's own report never reads the truth folder). None when there is no truth or no metrics."""
    from orchestration.reporting.publish import publish_report

    with duckdb.connect(str(warehouse), read_only=True) as con:
        if not table_exists(con, "recall_metrics"):
            return None
        metrics = con.execute(METRICS).df()
    truth = _truth(metrics, truth_dir)
    if metrics.empty or truth is None:
        return None
    day = pd.to_datetime(metrics["as_of_date"].iloc[0]).date()
    _, latest = publish_report(metrics, day, reports_dir, truth=truth)
    return latest
