"""The early warning on a real, purchase-only log: CDNOW (69,659 CD purchases by 23,570 customers who first
bought in 1997-Q1, recorded to 1998-06-30), as shipped with the `lifetimes` package.

The log goes through the whole pipeline the way a new user's data would: it is turned into the landing
contract (users signed up at their first purchase; one `order_paid` event per purchase with its amount;
no session or browsing events, so the feed is orders only) and landed day by day up to the cut-off,
1997-09-30: nine months of history. The pipeline (ecommerce preset) runs those days; its labels, churn
probability and tiers of the cut-off day are then judged against what the log says happened next
(the next 30 days, the model's horizon; the next 90 days; the next nine months, the issue's target).
Feeding the labels directly would skip staging and the label arithmetic, which are part of what is judged.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.metrics import roc_auc_score

from .bgnbd import fit_bgnbd, key_action_days, p_no_key_action, rfm_summary

CDNOW_ENV = "CHURN_RECALL_CDNOW"
FIRST_DAY = date(1997, 1, 1)
CUTOFF = date(1997, 9, 30)
LAST_DAY = date(1998, 6, 30)
TARGET_DAYS = (30, 90, (LAST_DAY - CUTOFF).days)  # the model's horizon, the 90 days, nine months


def cdnow_path() -> Path:
    """CDNOW_master.txt: $CHURN_RECALL_CDNOW, else the copy inside the installed lifetimes package."""
    if os.environ.get(CDNOW_ENV):
        path = Path(os.environ[CDNOW_ENV])
    else:
        import lifetimes

        path = Path(lifetimes.__file__).parent / "datasets" / "CDNOW_master.txt"
    if not path.is_file():
        raise FileNotFoundError(f"CDNOW log not found at {path}: install lifetimes==0.11.3 (it ships "
                                f"lifetimes/datasets/CDNOW_master.txt) or set {CDNOW_ENV} to the file")
    return path


def read_cdnow(path: Path | None = None) -> pd.DataFrame:
    """One row per purchase: customer_id, day, cds, amount (US dollars), in file order."""
    raw = pd.read_csv(path or cdnow_path(), sep=r"\s+", dtype={"customer_id": str, "date": str})
    raw.columns = ["customer_id", "day", "cds", "amount"]
    raw["day"] = pd.to_datetime(raw["day"], format="%Y%m%d").dt.date
    return raw


def landing_tables(purchases: pd.DataFrame) -> tuple[pa.Table, pa.Table]:
    """(users, events) in the landing contract: a user per customer signed up at 00:00 UTC on its first
    purchase day (no consent: nobody is ever contacted); an order_paid event at noon per purchase."""
    noon = pd.to_datetime(purchases["day"]) + pd.Timedelta(hours=12)
    events = pa.table({
        "event_id": [f"cdnow-{i}" for i in range(len(purchases))],
        "user_id": ("c" + purchases["customer_id"]).tolist(),
        "event_name": ["order_paid"] * len(purchases),
        "event_time": pa.array(noon, pa.timestamp("us")),
        "received_at": pa.array(noon, pa.timestamp("us")),
        "properties": [json.dumps({"amount": round(float(a), 2), "currency": "USD", "order_id": f"o{i}",
                                   "quantity": int(q)})
                       for i, (a, q) in enumerate(zip(purchases["amount"], purchases["cds"], strict=True))],
    })
    first = purchases.groupby("customer_id")["day"].min()
    signup = pd.to_datetime(first.to_numpy())
    users = pa.table({
        "user_id": ("c" + first.index).tolist(),
        "signup_at": pa.array(signup, pa.timestamp("us")),
        "nickname": [f"cdnow_{c}" for c in first.index],
        "phone": pa.nulls(len(first), pa.string()),
        "timezone": ["UTC"] * len(first),
        "push_opt_in": [False] * len(first), "sms_opt_in": [False] * len(first), "call_opt_in": [False] * len(first),
        "updated_at": pa.array(signup, pa.timestamp("us")),
    })
    return users, events


def write_landing(purchases: pd.DataFrame, landing: Path, until: date) -> int:
    """Land every purchase day up to `until` as landing/<day>/{users,events}.parquet; the day folders."""
    users, events = landing_tables(purchases)
    tables = {"users": (users, "signup_at"), "events": (events, "received_at")}
    day = FIRST_DAY
    folders = 0
    by_day = {name: pd.Series(pd.to_datetime(table[column].to_numpy(zero_copy_only=False)).date)
              for name, (table, column) in tables.items()}
    while day <= until:
        folder = landing / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        for name, (table, _) in tables.items():
            rows = np.flatnonzero((by_day[name] == day).to_numpy())
            if len(rows):
                pq.write_table(table.take(pa.array(rows)), folder / f"{name}.parquet")
        folders += 1
        day += timedelta(days=1)
    return folders


@dataclass(frozen=True)
class CdnowFigures:
    customers: int
    cutoff: date
    aucs: pd.DataFrame           # rows: score, columns: target horizon (days) -> ROC AUC
    base_rates: dict[int, float]
    churned_share: float         # customers labelled churned on the cut-off day
    at_risk_share: float
    returners_90d: int           # customers with a purchase in the 90 days after the cut-off
    returners_labelled_churned: float  # share of them labelled churned on the cut-off day
    scored_by: str


def cutoff_figures(con: duckdb.DuckDBPyConnection, purchases: pd.DataFrame, cutoff: date = CUTOFF) -> CdnowFigures:
    """The issue's figures on the cut-off day: AUCs of each ranking for 'no purchase in the next N days',
    and how many of the customers who came back within 90 days had been labelled churned."""
    tiers = con.execute("""
        select user_id, lifecycle_stage, risk_score, rules_risk_score, churn_probability, scored_by,
               days_since_last_key_action
        from user_risk_tiers where tier_date = ?""", [cutoff]).df().set_index("user_id")
    days = purchases.assign(user_id="c" + purchases["customer_id"])
    after = days[days["day"] > cutoff]
    next_purchase = after.groupby("user_id")["day"].min()
    wait = (pd.to_datetime(tiers.index.map(next_purchase)) - pd.Timestamp(cutoff)).days
    summary = rfm_summary(key_action_days(con, cutoff), cutoff)
    bgnbd = fit_bgnbd(summary)
    if bgnbd is None:
        raise RuntimeError("the BG/NBD fit of CDNOW did not converge with any penalty")
    aucs, base_rates = {}, {}
    for horizon in TARGET_DAYS:
        scores = {
            "risk_score (pipeline)": tiers["risk_score"],
            "churn probability": tiers["churn_probability"],
            "rules_risk_score": tiers["rules_risk_score"],
            "days since last purchase": tiers["days_since_last_key_action"],
            "BG/NBD P(no purchase in N d)": tiers.index.map(p_no_key_action(bgnbd, summary, horizon)).to_series(
                index=tiers.index),
        }
        silent = ~(pd.Series(wait, index=tiers.index) <= horizon)
        base_rates[horizon] = float(silent.mean())
        aucs[horizon] = {name: (roc_auc_score(silent, s) if s.notna().all() else float("nan"))
                         for name, s in scores.items()}
    came_back = pd.Series(wait, index=tiers.index) <= 90
    stage = tiers["lifecycle_stage"]
    return CdnowFigures(
        customers=len(tiers), cutoff=cutoff, aucs=pd.DataFrame(aucs), base_rates=base_rates,
        churned_share=float(stage.eq("churned").mean()), at_risk_share=float(stage.eq("at_risk").mean()),
        returners_90d=int(came_back.sum()),
        returners_labelled_churned=float(stage[came_back].eq("churned").mean()),
        scored_by=",".join(sorted(tiers["scored_by"].unique())),
    )


def run_cdnow_evaluation(home: Path, cutoff: date = CUTOFF) -> CdnowFigures:
    """Land CDNOW up to the cut-off under `home`, run the early-warning chain of the pipeline over those
    days (ecommerce preset), and compute the figures of the cut-off day."""
    from orchestration.config import Settings
    from orchestration.runner import run_days

    purchases = read_cdnow()
    settings = Settings.under(home, vertical="ecommerce", start_date=FIRST_DAY)
    write_landing(purchases, settings.landing, cutoff)
    # the days before the cut-off only need labels (the carried state of the cut-off day's labels)
    run_days(settings, FIRST_DAY, cutoff - timedelta(days=1), log_level="WARNING", up_to=["user_daily_labels"])
    run_days(settings, cutoff, cutoff, log_level="WARNING", up_to=["user_risk_tiers"])
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return cutoff_figures(con, purchases, cutoff)


def format_cdnow(figures: CdnowFigures) -> str:
    lines = [f"== CDNOW (real, orders only): {figures.customers:,} customers on {figures.cutoff}, "
             f"nine months of history; scored by {figures.scored_by} =="]
    table = figures.aucs.copy()
    table.columns = [f"AUC no purchase {h} d (base {figures.base_rates[h]:.2f})" for h in table.columns]
    lines.append(table.to_string(float_format=lambda v: f"{v:.3f}"))
    lines.append(f"labelled churned on the cut-off day: {figures.churned_share:.1%} of customers; at_risk: "
                 f"{figures.at_risk_share:.1%}")
    lines.append(f"of the {figures.returners_90d:,} customers who bought again within 90 days, "
                 f"{figures.returners_labelled_churned:.1%} had been labelled churned the day before (target <= 20%)")
    return "\n".join(lines)
