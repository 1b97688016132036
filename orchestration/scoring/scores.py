"""A day's churn scores: P(no key action in the next H days) for every labelled user, from the model in
force; during a cold start every user is scored by the rules instead (user_risk_tiers applies them) and
each row says why. Also the one-row summary of the model in force that the churn_model table keeps."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from orchestration.warehouse.io import read_frame, table_exists

from .features import feature_select
from .model import churn_probability
from .cadence import ModelInForce
from .registry import has_model, load_model

SCORE_COLUMNS = ["user_id", "score_date", "churn_probability", "horizon_days", "model_version", "scored_by",
                 "score_reason"]
QUALITY_COLUMNS = ("rows", "base_rate", "roc_auc", "pr_auc", "brier", "calibration_error")


def day_features(con: duckdb.DuckDBPyConnection, day: date) -> pd.DataFrame:
    """The feature rows of every user labelled on `day`."""
    return read_frame(con, f"select {feature_select()} from user_daily_labels as labels where label_date = ?", [day])


def recorded_model(con: duckdb.DuckDBPyConnection, day: date) -> tuple[str | None, str]:
    """(model version, reason) the churn_model table records for `day`; no version when it records a cold
    start or has no row for the day."""
    rows = (con.execute("select model_version, reason from churn_model where model_date = ?", [day]).fetchall()
            if table_exists(con, "churn_model") else [])
    if not rows:
        return None, f"no churn_model row for {day} (the churn_model asset has not run for it): rules"
    return rows[0][0], rows[0][1]


def score_day(con: duckdb.DuckDBPyConnection, day: date, registry: Path, horizon_days: int) -> pd.DataFrame:
    """user_churn_scores rows of `day`, scored by the model churn_model records for it (or the rules)."""
    version, reason = recorded_model(con, day)
    if version is None:  # the rules score every labelled user: a cold start reads their ids alone
        users = read_frame(con, "select user_id from user_daily_labels where label_date = ?", [day])["user_id"]
        probability: object = np.nan
    else:
        if not has_model(registry, version):
            raise FileNotFoundError(f"churn_model names version {version} for {day}, but {registry / version} "
                                    "is missing: rematerialize churn_model for that day to refit it")
        features = day_features(con, day)
        users, probability = features["user_id"], churn_probability(load_model(registry, version), features)
    scores = pd.DataFrame({"user_id": users.astype(str), "score_date": day, "churn_probability": probability})
    return scores.assign(horizon_days=horizon_days, model_version=version,
                         scored_by="rules" if version is None else "model", score_reason=reason)[SCORE_COLUMNS]


def model_row(in_force: ModelInForce, horizon_days: int) -> pd.DataFrame:
    """The churn_model row of `in_force.day`."""
    card = in_force.card
    window = card.training_window if card else {}
    row = {
        "model_date": in_force.day,
        "cutoff_date": in_force.cutoff,
        "model_version": in_force.version,
        "status": "model" if card else "cold_start",
        "reason": in_force.reason,
        "horizon_days": horizon_days,
        "training_first_date": window["train"][0] if card else None,
        "training_last_date": window["calibration"][1] if card else None,
        "train_rows": card.rows["train"] if card else None,
        **{f"test_{name}": (card.test[name] if card else None) for name in QUALITY_COLUMNS},
    }
    return pd.DataFrame([row])
