"""Fit the uplift models of every treatment from randomized journeys, evaluate them on held-out
journeys (Qini / AUUC with bootstrap intervals, the average effect with its interval) and describe
the result in a card; the fitted set scores (user, treatment) pairs for the decision.

The training frame has one row per assigned journey (intent-to-treat: treatment journeys whether or
not a step was sent, and control journeys, strategy and global holdout alike):
- user_id, strategy_id, arm ('treatment' / 'control'), assignment_date;
- treatment_key: the treatment a treatment journey received (treatments.journey_treatment_keys),
  null on control rows, which are the control of every treatment of their strategy;
- the features as of the planning day (features.py: the tier row the decision saw);
- the outcomes and their maturity flags of recall_outcomes, prefixed `outcome_` so that they never
  clash with the features of the same name (the tiers' revenue_90d is spend *before* assignment):
  outcome_woke_up / outcome_woke_up_mature, outcome_revenue_30d / ..._mature, outcome_revenue_90d / ..._mature.
`training_frame` builds it from recall_actions, recall_outcomes and the tier rows. Only mature
outcomes are learned from, so a window still open never counts as "no effect"."""

from __future__ import annotations

import hashlib
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
import sklearn
from pydantic import BaseModel, ConfigDict, Field

from orchestration.config.threads import SIDE_BY_SIDE, fitting_threads, predict_side_by_side, worker_threads
from orchestration.recall.assignment import CONTROL, TREATMENT, hash_key, stable_hash, unit_interval
from orchestration.recall.library import StrategyLibrary
from orchestration.uplift.evaluation import mean_difference, ranking_scores
from orchestration.uplift.features import available_features, categorical_mask, feature_matrix
from orchestration.uplift.learners import (BoostingParams, CalibratedUplift, XLearner, calibrate, fit_outcome_model,
                                          fit_x_learner)
from orchestration.uplift.treatments import journey_treatment_keys, library_treatments

if TYPE_CHECKING:
    from sklearn.ensemble import HistGradientBoostingRegressor

# The outcomes learned (recall_outcomes names); in the training frame as outcome_<name> and outcome_<name>_mature.
OUTCOMES: tuple[str, ...] = ("woke_up", "revenue_30d", "revenue_90d")
OUTCOME_PREFIX = "outcome_"
# The revenue outcome each decision objective needs, in order of preference.
OBJECTIVE_OUTCOMES: dict[str, tuple[str, ...]] = {"margin_90d": ("revenue_90d", "revenue_30d"),
                                                  "margin_30d": ("revenue_30d",)}
REQUIRED = ["user_id", "strategy_id", "arm", "assignment_date", "treatment_key"]
# Salt of the held-out split: a keyed hash of the user, so a user is on one side for every treatment.
SPLIT_KEY = "uplift-heldout-split"
# Salt of the sample of an arm too large for one fit (TrainingConfig.max_arm_rows): a keyed hash of the journey.
SAMPLE_KEY = "uplift-arm-sample"
# How the decision's uplift is set from a fitted learner (learners.CalibratedUplift); in the version digest.
CALIBRATION = "randomized-average-level; individual when the held-out Qini interval is above zero"
# Treatments fitted side by side (config/threads.py): each fit is small (a few thousand journeys), so OpenMP's
# threads inside one fit gain little there, while two fits at once keep two cores busy.
FIT_WORKERS = SIDE_BY_SIDE


class TrainingConfig(BaseModel):
    """How the models are fitted and judged; recorded in the card.

    A treatment's model for an outcome is *mature* (used by the decision) when its training split
    holds at least `min_treated` treated and `min_control` control journeys with that outcome mature."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    test_share: float = Field(default=0.3, gt=0, lt=1)
    min_treated: int = Field(default=300, ge=2)
    min_control: int = Field(default=100, ge=2)
    bootstrap_reps: int = Field(default=200, ge=0)
    boosting: BoostingParams = BoostingParams()
    # The journeys of an arm a treatment's fits and held-out evaluation read at most (the same ones at every refit):
    # a refit otherwise grows with every journey ever planned. The randomized average effect still reads them all.
    # On a synthetic history of 708,000 journeys, 50,000 ranked as well as all of them (each of the 45 models' effect
    # basis the same, the correlation with the true effect within -0.012..+0.036 of the uncapped one).
    max_arm_rows: int = Field(default=50_000, ge=2)


class UpliftScorer(Protocol):
    """What the decision needs from a model: which treatments it can score for an outcome, the
    features it reads, and the predicted uplift of rows of a prepared feature matrix."""

    version: str

    def mature_keys(self, outcome: str) -> set[str]: ...

    def prepare(self, frame: pd.DataFrame) -> Any: ...

    def predict(self, prepared: Any, rows: np.ndarray, key: str, outcome: str) -> np.ndarray: ...


@dataclass
class UpliftModelSet:
    """Fitted uplift models by (treatment key, outcome), the features they read and the card."""

    version: str
    features: list[str]
    models: dict[tuple[str, str], CalibratedUplift] = field(default_factory=dict)
    card: dict[str, Any] = field(default_factory=dict)

    def mature_keys(self, outcome: str) -> set[str]:
        return {key for key, name in self.models if name == outcome}

    def prepare(self, frame: pd.DataFrame) -> np.ndarray:
        return feature_matrix(frame, self.features)

    def predict(self, prepared: np.ndarray, rows: np.ndarray, key: str, outcome: str) -> np.ndarray:
        return predict_side_by_side(self.models[(key, outcome)].predict, prepared[rows])


def _validate(training: pd.DataFrame, library: StrategyLibrary, trained_through: date) -> pd.DataFrame:
    missing = [c for c in REQUIRED if c not in training.columns]
    missing += [c for name in OUTCOMES for c in (OUTCOME_PREFIX + name, OUTCOME_PREFIX + name + "_mature")
                if c not in training.columns]
    if missing:
        raise ValueError(f"training frame lacks required columns: {', '.join(missing)}")
    arms = set(training["arm"].dropna().unique()) - {TREATMENT, CONTROL}
    if arms or training["arm"].isna().any():
        raise ValueError(f"training frame has unknown or null arms: {sorted(map(str, arms)) or ['null']}")
    treated = training["arm"] == TREATMENT
    if training.loc[treated, "treatment_key"].isna().any():
        raise ValueError("treatment journeys without a treatment_key (use treatments.journey_treatment_keys)")
    strategy_of_key = training.loc[treated, "treatment_key"].astype(str).str.split("/").str[0]
    wrong = treated & (strategy_of_key.reindex(training.index) != training["strategy_id"])
    if wrong.any():
        raise ValueError(f"treatment_key does not belong to strategy_id in {int(wrong.sum())} rows")
    future = pd.to_datetime(training["assignment_date"]) > pd.Timestamp(trained_through)
    if future.any():
        raise ValueError(f"{int(future.sum())} journeys were assigned after trained_through {trained_through}: "
                         "a model is fitted point in time")
    known = {s.id for s in library.strategies}
    return training.loc[training["strategy_id"].isin(known)].reset_index(drop=True)


# Outcome windows in days from the assignment day (the wake-up window comes from the outcome rows).
WINDOW_DAYS = {"revenue_30d": 30, "revenue_90d": 90}


def training_frame(journeys: pd.DataFrame, outcomes: pd.DataFrame, features: pd.DataFrame,
                   library: StrategyLibrary, as_of: date) -> pd.DataFrame:
    """The training frame from the warehouse's tables, one row per assigned journey, point in time:
    an outcome counts as mature only when its window closed by `as_of` (the day the model is trained
    through), whatever later day the outcome table was measured on.

    journeys: the first row of each journey in recall_actions: journey_id, user_id, strategy_id, arm,
      action_date (the planning day D; the journey is assigned on D + 1), and treatment_key when the
      decision recorded it.
    outcomes: recall_outcomes by journey_id: woke_up, revenue_30d, revenue_90d and their *_mature flags.
    features: tier rows by (user_id, tier_date) with the feature columns (user_risk_tiers joined with
      the segment and the churn probability): the row of the planning day is what the decision saw.
    A journey without an outcome row yet is kept with immature outcomes; one without a tier row keeps
    null features (the boosting routes missing values); neither is dropped."""
    need = {"journeys": (journeys, ["journey_id", "user_id", "strategy_id", "arm", "action_date"]),
            "outcomes": (outcomes, ["journey_id", "wake_up_window_days", *[c for n in OUTCOMES for c in (n, n + "_mature")]]),
            "features": (features, ["user_id", "tier_date"])}
    for name, (frame, columns) in need.items():
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} lack required columns: {', '.join(missing)}")
    if not journeys["journey_id"].is_unique:
        raise ValueError("journeys must hold one row per journey_id (its first step)")
    renamed = outcomes[["journey_id", "wake_up_window_days", *[c for n in OUTCOMES for c in (n, n + "_mature")]]]
    renamed = renamed.drop_duplicates("journey_id").rename(
        columns={c: OUTCOME_PREFIX + c for c in renamed.columns if c not in ("journey_id", "wake_up_window_days")})
    frame = journeys.assign(treatment_key=journey_treatment_keys(journeys, library, library.economics.decision.choose_variants),
                            tier_date=pd.to_datetime(journeys["action_date"]).dt.date,
                            assignment_date=(pd.to_datetime(journeys["action_date"]) + pd.Timedelta(days=1)).dt.date)
    frame = frame.drop(columns=[c for c in frame.columns if c in features.columns and c not in ("user_id", "tier_date")])
    feats = features.assign(tier_date=pd.to_datetime(features["tier_date"]).dt.date).drop_duplicates(["user_id", "tier_date"])
    frame = frame.merge(feats, on=["user_id", "tier_date"], how="left").merge(renamed, on="journey_id", how="left")
    assigned = pd.to_datetime(frame["assignment_date"])
    windows = {"woke_up": pd.to_numeric(frame.pop("wake_up_window_days"), errors="coerce"), **WINDOW_DAYS}
    for name in OUTCOMES:
        closes = assigned + pd.to_timedelta(windows[name] - 1, unit="D")
        flag = frame[OUTCOME_PREFIX + name + "_mature"].astype("boolean").fillna(False)
        frame[OUTCOME_PREFIX + name + "_mature"] = flag & (closes <= pd.Timestamp(as_of)).fillna(False)
    return frame


def card_summary(card: dict[str, Any]) -> dict[str, Any]:
    """The card in a few flat figures (for asset metadata): version, mature treatments per outcome,
    and per mature treatment the 90-day (else 30-day) Qini with its interval."""
    mature = [e for e in card.get("treatments", []) if e.get("mature")]
    summary: dict[str, Any] = {"version": card.get("version"), "trained_through": card.get("trained_through"),
                               "journeys": card.get("journeys")}
    for outcome in OUTCOMES:
        summary[f"mature_treatments_{outcome}"] = sorted(e["treatment_key"] for e in mature if e["outcome"] == outcome)
    for entry in mature:
        if entry["outcome"] in ("revenue_90d", "revenue_30d") and "qini" in entry:
            key = f"qini_{entry['outcome']}:{entry['treatment_key']}"
            summary[key] = f"{entry['qini']['value']:.4g} [{entry['qini']['low']:.4g}, {entry['qini']['high']:.4g}]"
    return summary


def heldout_mask(user_ids: pd.Series, share: float) -> np.ndarray:
    """True for users on the held-out side (a keyed hash: stable across refits and treatments)."""
    return unit_interval(stable_hash(user_ids, hash_key(SPLIT_KEY))) < share


def sampled(rows: np.ndarray, priority: np.ndarray, limit: int) -> np.ndarray:
    """The mask `rows` with at most `limit` rows left: those of the lowest `priority`."""
    chosen = np.flatnonzero(rows)
    if len(chosen) <= limit:
        return rows
    kept = np.zeros(len(rows), dtype=bool)
    kept[chosen[np.argpartition(priority[chosen], limit - 1)[:limit]]] = True
    return kept


def _digest(training: pd.DataFrame, library: StrategyLibrary, config: TrainingConfig, features: list[str]) -> str:
    spec = {"config": config.model_dump(), "features": features, "library": library.revision, "calibration": CALIBRATION,
            "rows": int(len(training)), "sklearn": sklearn.__version__,
            "arms": training.groupby(["strategy_id", "arm"]).size().astype(int).to_dict().__repr__()}
    return hashlib.blake2b(json.dumps(spec, sort_keys=True, default=str).encode(), digest_size=4).hexdigest()


def train_uplift_models(training: pd.DataFrame, library: StrategyLibrary, trained_through: date,
                        config: TrainingConfig = TrainingConfig()) -> UpliftModelSet:
    """Fit, evaluate and describe the X-learners of every treatment of the library with enough
    randomized journeys, for each outcome. Treatments below the minimum get no model (their card
    entry says why); the decision then falls back to the rules for users with only those."""
    # The allowed threads for the whole refit (fits and held-out scoring; orchestration/config/threads.py says why).
    with fitting_threads():
        return _train(training, library, trained_through, config)


def _train(training: pd.DataFrame, library: StrategyLibrary, trained_through: date, config: TrainingConfig) -> UpliftModelSet:
    started = time.perf_counter()
    frame = _validate(training, library, trained_through)
    features = available_features(frame)
    if not features:
        raise ValueError("the training frame has no feature columns (see orchestration/uplift/features.py)")
    categorical = categorical_mask(features)
    matrix = feature_matrix(frame, features)
    test = heldout_mask(frame["user_id"], config.test_share)
    treated = (frame["arm"] == TREATMENT).to_numpy()
    keys = frame["treatment_key"].to_numpy(dtype=object)
    strategies = frame["strategy_id"].to_numpy(dtype=object)
    journeys = frame["user_id"].astype(str) + "|" + strategies + "|" + frame["assignment_date"].astype(str)
    priority = stable_hash(journeys, hash_key(SAMPLE_KEY))

    def arm(rows: np.ndarray) -> np.ndarray:  # a treatment's fits and evaluation (the shared mu0 reads every control)
        return sampled(rows, priority, config.max_arm_rows)

    version = f"uplift-{trained_through:%Y%m%d}-{_digest(frame, library, config, features)}"
    model_set = UpliftModelSet(version=version, features=features)
    entries: list[dict[str, Any]] = []
    treatments = library_treatments(library, library.economics.decision.choose_variants)
    per_fit = worker_threads(FIT_WORKERS)

    def fit(job: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, HistGradientBoostingRegressor]
            ) -> tuple[dict[str, Any], CalibratedUplift]:
        """One treatment's X-learner, its held-out quality and the model the decision reads."""
        in_key, train_t, train_c, y, mu0 = job
        with fitting_threads(per_fit):  # a worker thread starts with OpenMP's default: every core
            learner = fit_x_learner(matrix[train_t], y[train_t], matrix[train_c], y[train_c], mu0, config.boosting,
                                    categorical)
            heldout = arm(in_key & treated & test) | arm(in_key & ~treated & test)
            quality = _heldout_quality(learner, matrix, y, treated, heldout, config)
            # The level from every randomized journey of the treatment; individual differences only once ranked well.
            average = mean_difference(treated[in_key], y[in_key])
            proven = "qini" in quality and quality["qini"]["low"] > 0
            quality.update(average_effect=average.as_dict(), effect_basis="individual" if proven else "average")
            return quality, calibrate(learner, matrix[train_t | train_c], average.value, proven)

    with ThreadPoolExecutor(max_workers=FIT_WORKERS, thread_name_prefix="uplift-fit") as pool:
        for outcome in OUTCOMES:
            column = OUTCOME_PREFIX + outcome
            mature = frame[column + "_mature"].astype("boolean").fillna(False).to_numpy(dtype=bool)
            y = pd.to_numeric(frame[column].astype("Float64"), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            usable = mature & ~np.isnan(y)
            control_train = usable & ~treated & ~test
            mu0 = fit_outcome_model(matrix[control_train], y[control_train], config.boosting, categorical) \
                if control_train.sum() >= config.min_control else None
            jobs = []
            for key in sorted(set(keys[treated & usable]) | {k for k in treatments}):
                strategy_id = key.split("/")[0]
                in_key = usable & ((treated & (keys == key)) | (~treated & (strategies == strategy_id)))
                counts = {"train_treated": int((in_key & treated & ~test).sum()),
                          "train_control": int((in_key & ~treated & ~test).sum()),
                          "test_treated": int((in_key & treated & test).sum()),
                          "test_control": int((in_key & ~treated & test).sum())}
                entry: dict[str, Any] = {"treatment_key": key, "outcome": outcome, **counts, "mature": False}
                entries.append(entry)
                if key not in treatments:
                    entry["why_not"] = "not in the library any more"
                    continue
                if counts["train_treated"] < config.min_treated or counts["train_control"] < config.min_control \
                        or mu0 is None:
                    entry["why_not"] = (f"too few journeys with a mature {outcome}: {counts['train_treated']} treated "
                                        f"and {counts['train_control']} control (needs {config.min_treated} and "
                                        f"{config.min_control})")
                    continue
                train_t, train_c = arm(in_key & treated & ~test), arm(in_key & ~treated & ~test)
                entry.update(mature=True, fit_treated=int(train_t.sum()), fit_control=int(train_c.sum()))
                jobs.append((entry, (in_key, train_t, train_c, y, mu0)))
            # The treatments' fits side by side, their results taken in the treatments' order.
            for (entry, _), (quality, model) in zip(jobs, pool.map(fit, [job for _, job in jobs])):
                entry.update(quality)
                model_set.models[(entry["treatment_key"], outcome)] = model
    model_set.card = {
        "version": version, "trained_through": trained_through.isoformat(),
        "fitted_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "fit_seconds": round(time.perf_counter() - started, 2), "learner": "X-learner over HistGradientBoostingRegressor",
        "scikit_learn": sklearn.__version__, "library_revision": library.revision, "features": features,
        "config": config.model_dump(), "journeys": int(len(frame)),
        "assignment_dates": [str(pd.to_datetime(frame["assignment_date"]).min().date()) if len(frame) else None,
                             str(pd.to_datetime(frame["assignment_date"]).max().date()) if len(frame) else None],
        "treatments": entries,
    }
    return model_set


def _heldout_quality(learner: XLearner, matrix: np.ndarray, y: np.ndarray, treated: np.ndarray, rows: np.ndarray,
                     config: TrainingConfig) -> dict[str, Any]:
    """Qini / AUUC with intervals and the average effect vs the mean prediction on held-out rows."""
    if treated[rows].sum() < 2 or (~treated[rows]).sum() < 2:
        return {"heldout": "too few held-out journeys to evaluate"}
    predicted = learner.predict(matrix[rows])
    scores = ranking_scores(predicted, treated[rows], y[rows], reps=config.bootstrap_reps)
    effect = mean_difference(treated[rows], y[rows])
    return {"qini": scores["qini"].as_dict(), "auuc": scores["auuc"].as_dict(), "heldout_effect": effect.as_dict(),
            "mean_predicted_uplift": float(predicted.mean())}
