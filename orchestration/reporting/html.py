"""The recall report: one self-contained HTML page (inline CSS and SVG, no scripts or external files)
built from one day's recall_metrics rows: lift with intervals per strategy, the programme against the
global holdout, the A/B variants, funnel per channel, second churn by arm, the weekly trend, the
campaign table and the metric definitions. A simulation can add its true effects beside the lifts."""

from __future__ import annotations

import math
from datetime import date
from html import escape

import pandas as pd

from orchestration.reporting.svg import Interval, band_line, forest, grouped_bars
from orchestration.warehouse.tables import TABLES

# "{wake}" is the wake-up window of the rows shown (a vertical setting, so not fixed here).
LIFTS = (("wake_up", "Wake-up rate ({wake}), points", "points"), ("repurchase", "Repurchase (30 d), points", "points"),
         ("revenue", "Revenue per user (30 d)", "money"))
FUNNEL = (("users", "assigned"), ("sends", "sent"), ("deliveries", "delivered"), ("opens", "opened"),
          ("clicks", "clicked"), ("conversions", "converted"))
GLOSSARY = ("users", "wake_up_rate", "repurchase_30d_rate", "revenue_per_user_30d", "revenue_per_user_90d",
            "second_churn_rate", "second_churn_users", "coupon_redemption_rate", "coupon_journeys", "conversions",
            "wake_up_window_days", "churn_threshold_days", "control_basis", "wake_up_lift", "repurchase_lift",
            "revenue_lift", "ltv_90d_lift", "wake_up_lift_cuped", "incremental_revenue_30d", "roi_30d",
            "incremental_revenue_90d", "roi_90d", "srm_p_value", "trustworthy", "small_cohort", "wake_up_mature",
            "is_mature", "second_churn_mature", "ltv_mature")
CSS = """
body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#111827;background:#f9fafb}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px} p.note{color:#4b5563;margin:4px 0 10px}
.grid{display:flex;flex-wrap:wrap;gap:16px} .card{background:white;border:1px solid #e5e7eb;border-radius:8px;padding:10px}
.kpis{display:flex;gap:16px;flex-wrap:wrap} .kpi{background:white;border:1px solid #e5e7eb;border-radius:8px;padding:10px 16px}
.kpi b{display:block;font-size:20px} table{border-collapse:collapse;background:white;font-size:12px}
td,th{border-bottom:1px solid #e5e7eb;padding:4px 8px;text-align:right;white-space:nowrap} th{background:#f3f4f6}
td:first-child,td:nth-child(2),th:first-child,th:nth-child(2){text-align:left} .warn{color:#b91c1c;font-weight:600}
dt{font-weight:600;margin-top:6px} dd{margin-left:16px;color:#374151}
"""


def _fmt(kind: str):
    if kind == "points":
        return lambda v: "n/a" if v is None or not math.isfinite(v) else f"{v * 100:+.1f} pts"
    return lambda v: "n/a" if v is None or not math.isfinite(v) else f"{v:+,.2f}"


def _warning(row: pd.Series) -> str:
    flags = []
    if bool(row.get("srm_alarm", False)):
        flags.append("SRM: untrustworthy")
    if bool(row.get("small_cohort", False)):
        flags.append("small")
    return ", ".join(flags)


def _days(metrics: pd.DataFrame, column: str) -> str:
    """A window column of the rows as text ("7 d"; "3/7 d" if they differ; "n/a" without one)."""
    values = sorted({int(v) for v in metrics[column].dropna()}) if column in metrics else []
    return "/".join(str(v) for v in values) + " d" if values else "n/a"


def _true(truth: pd.DataFrame | None, level: str, strategy: str, prefix: str) -> float | None:
    """A simulation's true effect for a cohort row (None without a truth)."""
    if truth is None:
        return None
    hit = truth[(truth["cohort_level"] == level) & (truth["strategy_id"] == strategy)]
    return float(hit[f"true_{prefix}"].iloc[0]) if len(hit) else None


def _intervals(rows: pd.DataFrame, prefix: str, truth: pd.DataFrame | None = None, label=None) -> list[Interval]:
    label = label or (lambda r: f"{r.strategy_id} ({r.users:,}/{int(r.control_users):,})")
    return [Interval(label(r), r[f"{prefix}_lift"], r[f"{prefix}_lift_ci_low"], r[f"{prefix}_lift_ci_high"],
                     (r[f"{prefix}_lift_cuped"], r[f"{prefix}_lift_cuped_ci_low"], r[f"{prefix}_lift_cuped_ci_high"]),
                     _warning(r), _true(truth, r["cohort_level"], r["strategy_id"], prefix)) for _, r in rows.iterrows()]


def _lift_charts(metrics: pd.DataFrame, truth: pd.DataFrame | None = None) -> str:
    """Wake-up lift per strategy over the campaigns whose wake-up window has closed; 30-day lifts over those
    whose 30-day window has."""
    charts = []
    for prefix, title, kind in LIFTS:
        level = "overall_wake_up" if prefix == "wake_up" else "overall"
        rows = metrics[(metrics["cohort_level"] == level) & (metrics["arm"] == "treatment")]
        if rows.empty:
            continue
        rows = rows.sort_values("strategy_id", key=lambda s: s.eq("all").map({True: 1, False: 0}).astype(str) + s)
        chart = forest(title.format(wake=_days(rows, "wake_up_window_days")), _intervals(rows, prefix, truth), _fmt(kind))
        charts.append(f'<div class="card">{chart}</div>')
    if not charts:
        return '<p class="note">No campaign has a closed wake-up window yet: nothing to compare.</p>'
    if not (metrics["cohort_level"] == "overall").any():
        charts.append('<p class="note">No campaign has a closed 30-day window yet: repurchase and revenue lifts '
                      "follow once one has.</p>")
    return '<div class="grid">' + "".join(charts) + "</div>"


def _programme_chart(metrics: pd.DataFrame) -> str:
    rows = metrics[metrics["cohort_level"].isin(["programme_overall", "programme_week"]) & (metrics["arm"] == "treatment")]
    if rows.empty:
        return '<p class="note">No global holdout: the programme cannot be measured as a whole.</p>'
    rows = rows.sort_values(["cohort_level", "assignment_date"], ascending=[False, True])

    def label(r) -> str:
        what = "all weeks pooled" if r.cohort_level == "programme_overall" else f"week of {r.assignment_date:%d %b}"
        return f"{what} ({r.users:,}/{int(r.control_users):,})"

    chart = forest(f"Wake-up ({_days(rows, 'wake_up_window_days')}): programme against the global holdout",
                   _intervals(rows, "wake_up", label=label), _fmt("points"))
    return f'<div class="card">{chart}</div>'


def _variant_chart(metrics: pd.DataFrame) -> str:
    rows = metrics[(metrics["cohort_level"] == "variant_contrast_overall") & (metrics["arm"] == "treatment")]
    if rows.empty:
        return '<p class="note">No A/B step has a variant contrast with a closed wake-up window yet.</p>'
    rows = rows.sort_values(["strategy_id", "cohort_value"])
    chart = forest(f"Wake-up ({_days(rows, 'wake_up_window_days')}) difference between variants",
                   _intervals(rows, "wake_up", label=lambda r: f"{r.strategy_id}: {r.cohort_value}"), _fmt("points"))
    return f'<div class="card">{chart}</div>'


def _funnel_chart(metrics: pd.DataFrame) -> str:
    rows = metrics[(metrics["cohort_level"] == "channel") & (metrics["arm"] == "treatment")]
    if rows.empty:
        return '<p class="note">No treatment journey has been sent yet.</p>'
    totals = rows.groupby("cohort_value")[[c for c, _ in FUNNEL]].sum()
    series = {name: [float(v) for v in totals[column]] for column, name in FUNNEL}
    chart = grouped_bars("Treatment journeys by the channel they reached", list(totals.index), series, lambda v: f"{v:,.0f}")
    return f'<div class="card">{chart}</div>'


def _second_churn_chart(metrics: pd.DataFrame) -> str:
    rows = metrics[(metrics["cohort_level"] == "campaign") & metrics["second_churn_mature"] & (metrics["second_churn_users"] > 0)]
    if rows.empty:
        return ('<p class="note">No campaign has a closed second-churn window yet (final at the latest on day A+89+T, '
                "T the vertical's churn threshold).</p>")
    rows = rows.assign(churned=rows["second_churn_rate"] * rows["second_churn_users"])
    g = rows.groupby(["strategy_id", "arm"])[["churned", "second_churn_users"]].sum()
    rate = (g["churned"] / g["second_churn_users"]).unstack("arm")
    series = {arm: [float(rate.loc[s, arm]) if arm in rate and pd.notna(rate.loc[s, arm]) else float("nan") for s in rate.index]
              for arm in ("treatment", "control")}
    threshold = _days(rows, "churn_threshold_days")
    title = "Second churn among returned users, by arm" + (f" (silent {threshold} or more)" if threshold != "n/a" else "")
    chart = grouped_bars(title, list(rate.index), series, lambda v: "n/a" if not math.isfinite(v) else f"{v:.1%}")
    return f'<div class="card">{chart}</div>'


def _trend_charts(metrics: pd.DataFrame) -> str:
    rows = metrics[(metrics["cohort_level"] == "week") & (metrics["strategy_id"] == "all") & (metrics["arm"] == "treatment")]
    if rows.empty:
        return '<p class="note">No weekly cohorts yet.</p>'
    rows = rows.sort_values("assignment_date")
    labels = [pd.Timestamp(d).strftime("%d %b") for d in rows["assignment_date"]]
    charts = []
    wake = _days(rows, "wake_up_window_days")
    for prefix, title, kind, mature in (("wake_up", f"Wake-up ({wake}) lift by assignment week", "points", "wake_up_mature"),
                                        ("revenue", "30-day revenue lift by assignment week", "money", "is_mature")):
        charts.append(band_line(title, labels, rows[f"{prefix}_lift"].tolist(), rows[f"{prefix}_lift_ci_low"].tolist(),
                                rows[f"{prefix}_lift_ci_high"].tolist(), _fmt(kind), hollow=(~rows[mature]).tolist()))
    return '<div class="grid">' + "".join(f'<div class="card">{c}</div>' for c in charts) + "</div>"


def _campaign_table(metrics: pd.DataFrame, truth: pd.DataFrame | None = None) -> str:
    rows = metrics[(metrics["cohort_level"] == "campaign") & (metrics["arm"] == "treatment")].sort_values(["assignment_date", "strategy_id"])
    points, money = _fmt("points"), _fmt("money")
    known = None
    if truth is not None:
        known = truth[truth["cohort_level"] == "campaign"].set_index(["strategy_id", "assignment_date"])["true_wake_up"]

    def interval(r: pd.Series, prefix: str, f) -> str:
        return f"{f(r[f'{prefix}_lift'])} [{f(r[f'{prefix}_lift_ci_low'])}, {f(r[f'{prefix}_lift_ci_high'])}]"

    def true_wake_up(r: pd.Series) -> str:
        value = known.get((r["strategy_id"], r["assignment_date"])) if known is not None else None
        return points(value) if value is not None and pd.notna(value) else "n/a"

    head = ("assigned", "strategy", "treated / control", f"wake-up lift ({_days(rows, 'wake_up_window_days')})",
            *(("true wake-up effect",) if known is not None else ()),
            "repurchase lift (30 d)", "revenue/user lift (30 d)",
            "CUPED revenue lift", "cost", "ROI (30 d)", "SRM p", "status")
    body = []
    for _, r in rows.iterrows():
        status = _warning(r) or ("final" if r["is_mature"] else "30-day window open")
        body.append("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in (
            r["assignment_date"], r["strategy_id"], f"{r['users']:,} / {int(r['control_users']):,}",
            interval(r, "wake_up", points), *((true_wake_up(r),) if known is not None else ()),
            interval(r, "repurchase", points), interval(r, "revenue", money),
            f"{money(r['revenue_lift_cuped'])} [{money(r['revenue_lift_cuped_ci_low'])}, {money(r['revenue_lift_cuped_ci_high'])}]",
            f"{r['cost']:,.2f}", "n/a" if pd.isna(r["roi_30d"]) else f"{r['roi_30d']:+.0%}",
            "n/a" if pd.isna(r["srm_p_value"]) else f"{r['srm_p_value']:.3f}",
        )) + f'<td class="{"warn" if _warning(r) else ""}">{escape(status)}</td></tr>')
    table = f"<table><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr>{''.join(body)}</table>"
    return f'<div style="overflow-x:auto">{table}</div>'


def _glossary() -> str:
    columns = {c.name: c.description for c in TABLES["recall_metrics"][1]}
    items = "".join(f"<dt>{escape(name)}</dt><dd>{escape(columns[name])}</dd>" for name in GLOSSARY if name in columns)
    return f"<details><summary>How each metric is defined</summary><p class=\"note\">{escape(TABLES['recall_metrics'][0])}</p><dl>{items}</dl></details>"


def render_report(metrics: pd.DataFrame, title: str = "Recall campaigns: what the recall bought",
                  truth: pd.DataFrame | None = None) -> str:
    """The page for one as_of_date's metrics (the latest day in `metrics` when it holds several).

    truth: a simulation's true effects (evaluation.measurement_truth.true_effects), drawn beside the lifts."""
    metrics = metrics.copy()
    for column in ("as_of_date", "assignment_date", "assignment_end_date"):
        if column in metrics and not metrics.empty:
            metrics[column] = pd.to_datetime(metrics[column]).dt.date  # DuckDB DATEs may arrive as timestamps
    if metrics.empty:
        day: date | None = None
    else:
        day = max(metrics["as_of_date"])
        metrics = metrics[metrics["as_of_date"] == day]
    campaigns = metrics[(metrics["cohort_level"] == "campaign") & (metrics["arm"] == "treatment")] if not metrics.empty else metrics
    alarms = int(campaigns["srm_alarm"].sum()) if not campaigns.empty else 0
    kpis = (("campaigns measured", f"{len(campaigns):,}"),
            ("final (30-day window closed)", f"{int(campaigns['is_mature'].sum()) if not campaigns.empty else 0:,}"),
            ("treated / control journeys", f"{int(campaigns['users'].sum()) if not campaigns.empty else 0:,} / "
                                           f"{int(campaigns['control_users'].sum()) if not campaigns.empty else 0:,}"),
            ("sample-ratio alarms", f"{alarms}"))
    sections = [
        f"<h1>{escape(title)}</h1><p class=\"note\">Measured as of {escape(str(day)) if day else 'no data yet'}. "
        "Every lift is treatment minus the randomized control, with its 95% interval (blue); orange is the same "
        "lift after CUPED on pre-assignment revenue. Hollow or red-labelled points are untrustworthy (sample-ratio "
        "mismatch) or small cohorts: shown, not to be over-read."
        + (" Black diamonds: the simulator's true effect (known only in a simulation)." if truth is not None else "")
        + "</p>",
        '<div class="kpis">' + "".join(f'<div class="kpi"><b>{v}</b>{escape(k)}</div>' for k, v in kpis) + "</div>",
    ]
    if not metrics.empty:
        sections += [
            "<h2>Lift per strategy</h2><p class=\"note\">Treatment against the strategy's own holdout, every assigned "
            "journey counted (sent or not). Campaigns of the last 90 days whose window has closed, per-campaign lifts "
            "weighted by treated users; label: treated/control users.</p>", _lift_charts(metrics, truth),
            "<h2>The programme</h2><p class=\"note\">Users' first journeys outside the global holdout against those "
            "inside it: what the recall programme as a whole buys.</p>", _programme_chart(metrics),
            "<h2>A/B steps</h2><p class=\"note\">Each variant against its step's reference variant, inside the "
            "treatment arm.</p>", _variant_chart(metrics),
            "<h2>Trend over weeks</h2><p class=\"note\">All strategies, by assignment week; hollow points: window still open.</p>",
            _trend_charts(metrics),
            '<div class="grid"><div><h2>Funnel per channel</h2>' + _funnel_chart(metrics) + "</div>"
            "<div><h2>Second churn by arm</h2>" + _second_churn_chart(metrics) + "</div></div>",
            "<h2>Campaigns</h2>", _campaign_table(metrics, truth),
        ]
    sections.append("<h2>Definitions</h2>" + _glossary())
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{CSS}</style></head><body>{''.join(sections)}</body></html>")
