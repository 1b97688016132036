"""The recall report: a self-contained page with its charts built from cohort_metrics, and the Dagster
asset that writes it under $CHURN_RECALL_HOME/reports and links it from its metadata."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
from dagster import materialize

from orchestration.measurement.metrics import cohort_metrics
from orchestration.reporting import render_report

AS_OF = date(2026, 4, 30)


def demo_outcomes(seed: int = 1, weeks: int = 10, users: int = 300) -> pd.DataFrame:
    """Campaigns of three strategies every week for `weeks` weeks before AS_OF, with a real effect."""
    rng = np.random.default_rng(seed)
    frames = []
    for w in range(weeks):
        day = AS_OF - timedelta(days=7 * (weeks - w))
        for s, (strategy, effect) in enumerate((("winback_coupon", 0.06), ("care_push", 0.02), ("vip_callback", 0.1))):
            n = users
            treated = rng.random(n) >= 0.2
            woke = rng.random(n) < 0.15 + effect * treated
            channel = rng.choice(["push", "sms", "call"][: s + 1], n)
            frames.append(pd.DataFrame({
                "action_id": [f"{strategy}-{w}-{i}" for i in range(n)], "user_id": [f"u{w}{s}{i}" for i in range(n)],
                "strategy_id": strategy, "arm": np.where(treated, "treatment", "control"), "assignment_date": day,
                "lifecycle_stage": rng.choice(["at_risk", "dormant_light"], n),
                "value_tier": rng.choice(["high", "low"], n),
                "channel": np.where(treated, channel, None),
                "step_variant": np.where(treated, "coupon_10" if s == 0 else "no_coupon", None),
                "sent": treated, "delivered": treated & (rng.random(n) < 0.95),
                "opened": treated & (rng.random(n) < 0.3), "clicked": treated & (rng.random(n) < 0.1),
                "cost": np.where(treated, 0.05 * (s + 1), 0.0),
                "pre_period_revenue": rng.gamma(1.5, 30.0, n),
                "wake_up_window_days": 7, "churn_threshold_days": 60,
                "woke_up": woke, "repurchased_30d": woke | (rng.random(n) < 0.05), "return_date": np.where(woke, day, None),
                "revenue_30d": np.where(woke, rng.gamma(2.0, 25.0, n), 0.0),
                "revenue_90d": np.where(woke, rng.gamma(3.0, 25.0, n), 0.0),
                "second_churned": pd.array(woke & (rng.random(n) < np.where(treated, 0.3, 0.45)), dtype="boolean"),
            }))
    outcomes = pd.concat(frames, ignore_index=True)
    immature = (pd.Timestamp(AS_OF) - pd.to_datetime(outcomes["assignment_date"])).dt.days < 59
    outcomes.loc[immature.to_numpy(), "second_churned"] = pd.NA
    return outcomes


def demo_metrics() -> pd.DataFrame:
    return cohort_metrics(demo_outcomes(), AS_OF)


def test_page_is_self_contained_with_every_chart() -> None:
    html = render_report(demo_metrics())
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == 7  # 3 lifts, 2 trends, funnel, churn
    assert "Wake-up rate (7 d)" in html and "silent 60 d or more" in html
    for outside in ("http://", "https://", "<script", "<link", "src="):
        assert outside not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    for text in ("Lift per strategy", "Funnel per channel", "Second churn by arm", "Trend over weeks", "winback_coupon",
                 "How each metric is defined", "sample-ratio alarms"):
        assert text in html, text
    # Every rate in the glossary states its window, denominator and use of the control arm.
    for rate in ("wake_up_rate", "repurchase_30d_rate", "revenue_per_user_30d", "revenue_per_user_90d",
                 "second_churn_rate", "coupon_redemption_rate"):
        entry = html.split(f"<dt>{rate}</dt><dd>")[1].split("</dd>")[0]
        assert "Window" in entry and "Denominator" in entry and "Control" in entry, rate


def test_page_without_data_or_mature_campaigns_still_renders() -> None:
    assert "no data yet" in render_report(cohort_metrics(demo_outcomes().iloc[0:0], AS_OF))
    early = demo_outcomes(weeks=1)
    html = render_report(cohort_metrics(early, early["assignment_date"].iloc[0] + timedelta(days=3)))
    assert "No campaign has a closed wake-up window yet" in html and "closed second-churn window" in html
    week = render_report(cohort_metrics(early, early["assignment_date"].iloc[0] + timedelta(days=8)))
    assert "No campaign has a closed 30-day window yet" in week and "Wake-up rate (7 d)" in week


def test_asset_writes_the_page_and_links_it(tmp_path) -> None:
    from orchestration.config import Settings
    from orchestration.defs.partitions import daily_partitions
    from orchestration.defs.reporting.assets import reporting_assets
    from orchestration.defs.resources import resources

    settings = Settings.under(tmp_path)
    [recall_report] = reporting_assets(daily_partitions(settings.start_date))
    metrics = demo_metrics()
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table recall_metrics as select * from metrics")
    result = materialize([recall_report], partition_key=AS_OF.isoformat(), resources=resources(settings))
    assert result.success
    page = tmp_path / "reports" / "recall_report.html"
    assert page.is_file() and "winback_coupon" in page.read_text()
    metadata = result.asset_materializations_for_node("recall_report")[0].metadata
    assert metadata["report"].value == str(tmp_path / "reports" / f"recall_report_{AS_OF}.html")
    assert metadata["report_url"].value.startswith("file://")


def test_a_simulation_shows_the_true_effects_beside_the_lifts() -> None:
    metrics = demo_metrics()
    treated = metrics[(metrics["arm"] == "treatment") & metrics["cohort_level"].isin(["campaign", "overall_wake_up"])]
    truth = treated[["cohort_level", "strategy_id", "assignment_date"]].assign(
        true_wake_up=0.05, true_repurchase=np.nan, true_revenue=np.nan, true_ltv_90d=np.nan)
    plain, simulated = render_report(metrics), render_report(metrics, truth=truth)
    assert "true effect" not in plain and "true wake-up effect" not in plain
    assert simulated.count("<title>true effect: +5.0 pts</title>") == (truth["cohort_level"] == "overall_wake_up").sum()
    assert "true wake-up effect" in simulated and "Black diamonds" in simulated
