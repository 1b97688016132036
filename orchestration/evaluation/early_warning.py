"""Early-warning evaluation against the simulator's ground truth: how many days before a user's true churn the
at-risk stage (or worse) flags them, how many true churners it catches (recall), how many flagged users truly
churn within a horizon (precision), and how far the flag runs ahead of silence alone.

A flag *run* is a stretch of consecutive tier days in a flagged stage (at_risk or any dormant/churned stage).
An *alarm* is the first day of a run. A churner is caught when the day before the true churn date lies in a run;
the lead is the churn date minus the run's first day. Precision is that of each day's list: among the user-days
flagged (and not truly churned yet), the share whose true churn follows within the horizon, next to the same
share among all not-yet-churned user-days (the base rate).
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

FLAG_STAGES = frozenset({"at_risk", "dormant_light", "dormant_medium", "dormant_severe", "churned"})
DORMANT_STAGES = frozenset({"dormant_light", "dormant_medium", "dormant_severe", "churned"})
HORIZON_DAYS = 30


def flag_runs(tiers: pd.DataFrame) -> pd.DataFrame:
    """Tier rows sorted by user and day with flag, run_id, run_start and the run's first silence/dormant days."""
    t = tiers[["user_id", "tier_date", "lifecycle_stage", "signals_fired", "silent_days"]].copy()
    t["tier_date"] = pd.to_datetime(t["tier_date"])
    t = t.sort_values(["user_id", "tier_date"], kind="stable").reset_index(drop=True)
    t["flag"] = t["lifecycle_stage"].isin(FLAG_STAGES)
    same_user = t["user_id"].eq(t["user_id"].shift())
    next_day = t["tier_date"].sub(t["tier_date"].shift()).dt.days.eq(1)
    continues = t["flag"] & t["flag"].shift(fill_value=False) & same_user & next_day
    t["alarm"] = t["flag"] & ~continues
    t["run_id"] = t["alarm"].cumsum().where(t["flag"])
    t["run_start"] = t.groupby("run_id")["tier_date"].transform("min")
    return t


def _first_in_run(runs: pd.DataFrame, mask: pd.Series) -> pd.Series:
    """First tier_date per run_id among rows where mask holds."""
    return runs[mask & runs["flag"]].groupby("run_id")["tier_date"].min()


def infer_at_risk_silent_days(tiers: pd.DataFrame) -> int | None:
    """The silence threshold of at_risk, read off the rows: at_risk without fired signals is silence-based."""
    silent = tiers[(tiers["lifecycle_stage"] == "at_risk") & (tiers["signals_fired"].fillna("") == "")]
    return int(silent["silent_days"].min()) if len(silent) else None


def evaluate_early_warning(
    tiers: pd.DataFrame, truth_users: pd.DataFrame, vertical: str, horizon_days: int = HORIZON_DAYS,
    at_risk_silent_days: int | None = None,
) -> pd.DataFrame:
    """One row of early-warning figures for a preset.

    tiers: user_risk_tiers rows (user_id, tier_date, lifecycle_stage, signals_fired, silent_days).
    truth_users: the simulator's truth/users (user_id, churn_date; null when the user never churns).
    Churners count when their churn date falls after the first tier day and on or before the last one.
    Precision counts user-days early enough that the horizon ends by the last tier day.
    """
    runs = flag_runs(tiers)
    threshold = at_risk_silent_days if at_risk_silent_days is not None else infer_at_risk_silent_days(runs)
    first_day, last_day = runs["tier_date"].min(), runs["tier_date"].max()
    churn = pd.to_datetime(truth_users.set_index("user_id")["churn_date"])
    runs["churn_date"] = runs["user_id"].map(churn)

    # Recall and lead: the row of the day before the true churn date.
    eve = runs[runs["tier_date"] == runs["churn_date"] - pd.Timedelta(days=1)]
    eve = eve[(eve["churn_date"] > first_day) & (eve["churn_date"] <= last_day)]
    caught = eve[eve["flag"]].copy()
    lead = (caught["churn_date"] - caught["run_start"]).dt.days
    silence_at = _first_in_run(runs, runs["silent_days"] >= (threshold if threshold is not None else np.inf))
    dormant_at = _first_in_run(runs, runs["lifecycle_stage"].isin(DORMANT_STAGES))
    ahead_of_silence = (caught["run_id"].map(silence_at) - caught["run_start"]).dt.days
    ahead_of_dormant = (caught["run_id"].map(dormant_at) - caught["run_start"]).dt.days
    starts = runs[runs["alarm"]].set_index("run_id")
    by_signal = caught["run_id"].map(starts["signals_fired"].fillna("") != "")

    # Precision: user-days whose horizon is observed and whose user has not truly churned yet (cannot be warned).
    days = runs[(runs["tier_date"] + pd.Timedelta(days=horizon_days) <= last_day)
                & ~(runs["churn_date"] <= runs["tier_date"])]
    hit = (days["churn_date"] > days["tier_date"]) & (
        days["churn_date"] <= days["tier_date"] + pd.Timedelta(days=horizon_days))
    base = float(hit.mean()) if len(days) else float("nan")
    precision = float(hit[days["flag"]].mean()) if days["flag"].any() else float("nan")
    at_risk = days["lifecycle_stage"] == "at_risk"
    precision_at_risk = float(hit[at_risk].mean()) if at_risk.any() else float("nan")
    alarms = days[days["alarm"]]
    return pd.DataFrame([{
        "vertical": vertical,
        "users": int(runs["user_id"].nunique()),
        "tier_days": int(runs["tier_date"].nunique()),
        "true_churners": int(len(eve)),
        "flagged_before_churn": int(len(caught)),
        "recall": float(len(caught) / len(eve)) if len(eve) else float("nan"),
        "median_lead_days": float(lead.median()) if len(lead) else float("nan"),
        "mean_lead_days": float(lead.mean()) if len(lead) else float("nan"),
        "flag_started_by_signals": float(by_signal.mean()) if len(by_signal) else float("nan"),
        "at_risk_silent_days": threshold,
        "median_days_ahead_of_silence": float(ahead_of_silence.median()) if len(caught) else float("nan"),
        "mean_days_ahead_of_silence": float(ahead_of_silence.mean()) if len(caught) else float("nan"),
        "median_days_ahead_of_dormant": float(ahead_of_dormant.median()) if len(caught) else float("nan"),
        "horizon_days": horizon_days,
        "alarms": int(len(alarms)),
        "flagged_user_days": int(days["flag"].sum()),
        f"precision_{horizon_days}d": precision,
        f"precision_at_risk_{horizon_days}d": precision_at_risk,
        f"alarm_precision_{horizon_days}d": float(hit[alarms.index].mean()) if len(alarms) else float("nan"),
        f"base_rate_{horizon_days}d": base,
        "precision_lift": precision / base if base > 0 else float("nan"),
    }])


def run_early_warning_evaluation(
    vertical: str, n_users: int, n_days: int, home: Path, seed: int = 7, horizon_days: int = HORIZON_DAYS,
) -> pd.DataFrame:
    """Simulate a world of the vertical under `home`, run the whole pipeline over every day with that
    vertical's preset, and evaluate the early warning against the simulator's truth."""
    import duckdb
    import pyarrow.parquet as pq

    from orchestration.config import Settings
    from orchestration.runner import run_days
    from orchestration.simulator import SimulationConfig, simulate, write_world

    settings = Settings.under(home, vertical=vertical)
    config = SimulationConfig(n_users=n_users, n_days=n_days, seed=seed, vertical=vertical,
                              start_date=settings.start_date)
    write_world(simulate(config), settings.landing, settings.truth)
    run_days(settings, config.start_date, config.end_date, log_level="WARNING")
    with duckdb.connect(str(settings.warehouse)) as con:
        tiers = con.execute(
            "select user_id, tier_date, lifecycle_stage, signals_fired, silent_days from user_risk_tiers"
        ).df()
    truth = pq.read_table(settings.truth / "users.parquet").to_pandas()
    return evaluate_early_warning(tiers, truth, vertical, horizon_days)


def main(argv: list[str] | None = None) -> None:
    """python -m orchestration.evaluation.early_warning --vertical game --users 20000 --days 120 --home DIR"""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vertical", action="append", required=True)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--home", type=Path, required=True)
    args = parser.parse_args(argv)
    tables = [run_early_warning_evaluation(v, args.users, args.days, args.home / v) for v in args.vertical]
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(pd.concat(tables, ignore_index=True).T.to_string())


if __name__ == "__main__":
    main()
