"""The uplift learner on real randomized data: the Hillstrom e-mail campaign (64,000 customers split at
random into Mens E-Mail, Womens E-Mail and No E-Mail). The same X-learner and the same Qini / AUUC
code the pipeline uses (orchestration/uplift) are fitted on two thirds of the customers and judged on
the held-out third, per treatment (each e-mail, and either e-mail) and outcome (visit ~ wake-up,
conversion ~ repurchase, spend ~ revenue); the No E-Mail arm is the control of every treatment.

Features are the campaign's pre-period columns: recency, history, mens, womens, newbie (numeric),
zip_code and channel (categories). The held-out split is the pipeline's keyed hash of the user id."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from orchestration.config.threads import fitting_threads
from orchestration.evaluation.hillstrom import ARMS, CONTROL_ARM, hillstrom_csv, load_hillstrom
from orchestration.uplift.evaluation import mean_difference, ranking_scores
from orchestration.uplift.learners import BoostingParams, fit_outcome_model, fit_x_learner
from orchestration.uplift.training import heldout_mask

OUTCOMES = ("visit", "conversion", "spend")
TREATMENTS = {**{name: [arm] for arm, name in ARMS.items()}, "any_email": list(ARMS)}
NUMERIC = ["recency", "history", "mens", "womens", "newbie"]
CATEGORICAL = ["zip_code", "channel"]


@dataclass(frozen=True)
class HillstromUplift:
    """One row per treatment and outcome: held-out rows, Qini and AUUC with 95% intervals, the
    held-out average effect with its interval, and the mean predicted uplift."""

    table: pd.DataFrame

    def row(self, treatment: str, outcome: str) -> pd.Series:
        return self.table.set_index(["treatment", "outcome"]).loc[(treatment, outcome)]


def features(raw: pd.DataFrame) -> np.ndarray:
    columns = [raw[c].astype(float).to_numpy() for c in NUMERIC]
    columns += [pd.Categorical(raw[c]).codes.astype(float) for c in CATEGORICAL]
    return np.column_stack(columns).astype(np.float32)


def evaluate_hillstrom_uplift(raw: pd.DataFrame, outcomes: tuple[str, ...] = OUTCOMES, test_share: float = 1 / 3,
                              reps: int = 200, params: BoostingParams = BoostingParams()) -> HillstromUplift:
    """Fit each treatment's X-learner on the training side and score it on the held-out side."""
    x = features(raw)
    categorical = [False] * len(NUMERIC) + [True] * len(CATEGORICAL)
    user_ids = pd.Series([f"h{i:05d}" for i in range(1, len(raw) + 1)])
    test = heldout_mask(user_ids, test_share)
    control = (raw["segment"] == CONTROL_ARM).to_numpy()
    rows = []
    with fitting_threads():
        for outcome in outcomes:
            y = raw[outcome].astype(float).to_numpy()
            mu0 = fit_outcome_model(x[control & ~test], y[control & ~test], params, categorical)
            for name, arms in TREATMENTS.items():
                treated = raw["segment"].isin(arms).to_numpy()
                learner = fit_x_learner(x[treated & ~test], y[treated & ~test], x[control & ~test], y[control & ~test],
                                        mu0, params, categorical)
                held = (treated | control) & test
                predicted = learner.predict(x[held])
                scores = ranking_scores(predicted, treated[held], y[held], reps=reps)
                effect = mean_difference(treated[held], y[held])
                rows.append({"treatment": name, "outcome": outcome, "heldout_rows": int(held.sum()),
                             **{f"qini{s}": v for s, v in zip(("", "_low", "_high"), scores["qini"].as_dict().values())},
                             **{f"auuc{s}": v for s, v in zip(("", "_low", "_high"), scores["auuc"].as_dict().values())},
                             **{f"effect{s}": v for s, v in zip(("", "_low", "_high"), effect.as_dict().values())},
                             "mean_predicted_uplift": float(predicted.mean())})
    return HillstromUplift(pd.DataFrame(rows))


def run_hillstrom_uplift(reps: int = 200) -> HillstromUplift | None:
    """Print the evaluation of the shared Hillstrom copy; None (and why) when the file is absent."""
    path = hillstrom_csv()
    if not path.is_file():
        print(f"Hillstrom data not found at {path} (set CHURN_RECALL_SHARED_DATA to the folder holding "
              "hillstrom/hillstrom.csv): uplift validation skipped")
        return None
    result = evaluate_hillstrom_uplift(load_hillstrom(path), reps=reps)
    print(f"X-learner on the Hillstrom e-mail campaign, held-out third, {reps} bootstrap resamples "
          "(qini and auuc: above random, per customer)")
    for r in result.table.itertuples():
        print(f"  {r.treatment:<13} {r.outcome:<10} qini {r.qini:+.5f} [{r.qini_low:+.5f}, {r.qini_high:+.5f}]  "
              f"auuc {r.auuc:+.5f} [{r.auuc_low:+.5f}, {r.auuc_high:+.5f}]  "
              f"effect {r.effect:+.4f} [{r.effect_low:+.4f}, {r.effect_high:+.4f}]  predicted {r.mean_predicted_uplift:+.4f}")
    best = result.row("womens_email", "visit")
    print(f"hillstrom uplift qini (womens_email, visit): {best.qini:.5f} [{best.qini_low:.5f}, {best.qini_high:.5f}]")
    return result
