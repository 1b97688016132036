"""A day's churn scores: P(no key action in the next H days) for every labelled user, from the model in
force; during a cold start every user is scored by the rules instead (user_risk_tiers applies them) and
each row says why. Also the one-row summary of the model in force that the churn_model table keeps.

A probability depends only on the model's fit and the row's features, so each model-scored row keeps a hash of
the two (inputs_hash), and a day scored again keeps every row whose hash is unchanged, and predicts and writes only
the others: a daily run scores its lookback days again, and late events change only a few percent of their rows."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from orchestration.warehouse.io import ensure_documented, read_frame, replace_rows, replace_with_query, table_exists

from .features import FEATURES, feature_select
from .model import churn_probability
from .cadence import ModelInForce
from .registry import ModelCard, has_model, load_card, load_model

# The day's feature rows with the hash of their inputs ($fit: the model's fit_identity, the reason and the horizon),
# and the probability a row of the same user, day and hash was given before (null when there is none: the row is
# predicted). 63 bits of the hash, so that it is a BIGINT on every engine.
SCORED_ROWS = """
with day_rows as (
    select {features}, cast(hash({names}, $fit) >> 1 as bigint) as inputs_hash
    from user_daily_labels as labels
    where label_date = $day
)
select day_rows.*, scored.churn_probability as previous_probability
from day_rows
left join user_churn_scores as scored
    on scored.score_date = $day and scored.user_id = day_rows.user_id and scored.inputs_hash = day_rows.inputs_hash
"""
# A cold start: the rules score every labelled user (user_risk_tiers applies them), and each row says why.
RULES_ROWS = """
select user_id, label_date as score_date, cast(null as double) as churn_probability, ? as horizon_days,
       cast(null as varchar) as model_version, 'rules' as scored_by, ? as score_reason
from user_daily_labels
where label_date = ?
"""
QUALITY_COLUMNS = ("rows", "base_rate", "roc_auc", "pr_auc", "brier", "calibration_error")


def scored_rows(con: duckdb.DuckDBPyConnection, day: date, fit: str) -> pd.DataFrame:
    """The feature rows of every user labelled on `day`, with each row's inputs_hash under the model fit `fit`, and
    previous_probability: the probability user_churn_scores holds for the same user, day and hash (NaN if none)."""
    ensure_documented(con, "user_churn_scores")  # a warehouse before inputs_hash gets the column (null: predicted)
    sql = SCORED_ROWS.format(features=feature_select(), names=", ".join(sql for sql, _ in FEATURES.values()))
    return read_frame(con, sql, {"day": day, "fit": fit})


def fit_identity(card: ModelCard) -> str:
    """What tells one fit from another: the card without when, how fast and where it was made. A version fitted
    again on other rows has other quality figures; the same rows fitted again give the same model (the fit is
    seeded), so two homes that fit the same rows keep the same hashes."""
    made = card.model_dump(mode="json", exclude={"fitted_at", "fit_seconds", "warehouse"})
    return hashlib.sha256(json.dumps(made, sort_keys=True).encode()).hexdigest()


def recorded_model(con: duckdb.DuckDBPyConnection, day: date) -> tuple[str | None, str]:
    """(model version, reason) the churn_model table records for `day`; no version when it records a cold
    start or has no row for the day."""
    rows = (con.execute("select model_version, reason from churn_model where model_date = ?", [day]).fetchall()
            if table_exists(con, "churn_model") else [])
    if not rows:
        return None, f"no churn_model row for {day} (the churn_model asset has not run for it): rules"
    return rows[0][0], rows[0][1]


@dataclass(frozen=True)
class DayScores:
    """What write_day_scores wrote for a day: its rows, who scored them and why, and how many were predicted (the
    others kept the probability their unchanged inputs had)."""

    rows: int
    scored_by: str
    reason: str
    predicted: int
    mean_probability: float | None

    @property
    def kept(self) -> int:
        """Model-scored rows that kept their probability (their inputs had not changed)."""
        return self.rows - self.predicted if self.scored_by == "model" else 0


def score_day(con: duckdb.DuckDBPyConnection, day: date, registry: Path, horizon_days: int) -> pd.DataFrame:
    """user_churn_scores rows of `day` scored by the model churn_model records for it, and `predicted`: whether a
    row was predicted now (else it kept the probability of its unchanged inputs). The rules have nothing to
    compute: write_day_scores writes their rows in SQL."""
    version, reason = recorded_model(con, day)
    if version is None:
        raise ValueError(f"no model scores {day} ({reason}): the rules do")
    if not has_model(registry, version):
        raise FileNotFoundError(f"churn_model names version {version} for {day}, but {registry / version} "
                                "is missing: rematerialize churn_model for that day to refit it")
    # everything a row is written from besides its features: a kept row is the row that would be written
    rows = scored_rows(con, day, "|".join([fit_identity(load_card(registry, version)), reason, str(horizon_days)]))
    probability = rows["previous_probability"].to_numpy(dtype=float, na_value=np.nan, copy=True)
    fresh = np.isnan(probability)
    probability[fresh] = churn_probability(load_model(registry, version), rows.loc[fresh])
    return pd.DataFrame({
        "user_id": rows["user_id"].astype(str), "score_date": day, "churn_probability": probability,
        "horizon_days": horizon_days, "model_version": version, "scored_by": "model", "score_reason": reason,
        "inputs_hash": rows["inputs_hash"].to_numpy(), "predicted": fresh,
    })


def write_day_scores(con: duckdb.DuckDBPyConnection, day: date, registry: Path, horizon_days: int) -> DayScores:
    """Replace the user_churn_scores rows of `day`: the model's probabilities, or during a cold start a rules row per
    labelled user (written in SQL: those rows carry no value computed here)."""
    version, reason = recorded_model(con, day)
    if version is None:
        rows = replace_with_query(con, "user_churn_scores", RULES_ROWS, [horizon_days, reason, day], "score_date = ?",
                                  [day])
        return DayScores(rows, "rules", reason, 0, None)
    scores = score_day(con, day, registry, horizon_days)
    fresh = scores.pop("predicted").to_numpy()
    # the kept rows stay as they are: only the others are deleted (with any user no longer labelled) and written
    con.register("kept_scores", pa.table({"user_id": scores.loc[~fresh, "user_id"].to_numpy(dtype=object)}))
    try:
        replace_rows(con, "user_churn_scores", scores.loc[fresh],
                     "score_date = ? and user_id not in (select user_id from kept_scores)", [day])
    finally:
        con.unregister("kept_scores")
    probability = scores["churn_probability"]
    return DayScores(len(scores), "model", reason, int(fresh.sum()),
                     float(probability.mean()) if len(probability) else None)


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
