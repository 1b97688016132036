"""Uplift models: treatment keys over the library, money counted on margin, Qini / AUUC, the
X-learner on data with a known effect, training with its card and maturity, the registry."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from orchestration.config.threads import fitting_threads
from orchestration.recall import load_strategy_library
from orchestration.uplift.evaluation import auuc, mean_difference, qini_coefficient, ranking_scores
from orchestration.uplift.features import available_features, feature_matrix
from orchestration.uplift.learners import BoostingParams, calibrate, fit_outcome_model, fit_x_learner
from orchestration.uplift.money import margin_roi, realized_benefit_cost, treatment_costs
from orchestration.uplift.registry import latest_model, load_model, model_for_day, refit_due, save_model
from orchestration.uplift.synthetic import synthetic_history
from orchestration.uplift.training import TrainingConfig, train_uplift_models, training_frame
from orchestration.uplift.treatments import (
    allowed_treatments, journey_treatment_keys, library_treatments, parse_treatment_key, treatment_key,
)
from tests.uplift_fixtures import uplift_library, users

DEFAULT_LIBRARY = Path(__file__).resolve().parents[1] / "orchestration" / "recall" / "strategies.yml"
DAY = date(2026, 4, 1)
FAST = TrainingConfig(bootstrap_reps=60, min_treated=150, min_control=50)


# --- treatments ----------------------------------------------------------------------------------


def test_treatment_keys_map_the_library() -> None:
    lib = uplift_library()
    keys = library_treatments(lib)
    assert list(keys) == ["guard", "coupon_ab/1=big", "coupon_ab/1=small", "pack", "care"]
    small = keys["coupon_ab/1=small"]
    assert [[a.benefit for a in arms] for arms in small.step_arms()] == [["small_coupon"], ["coupon"]]
    assert small.first_channel == "push" and keys["care"].first_channel == "in_app"
    assert parse_treatment_key("coupon_ab/1=small") == ("coupon_ab", {1: "small"})
    assert treatment_key("s", {2: "b", 1: "a"}) == "s/1=a/2=b"
    for bad in ("coupon_ab/1", "coupon_ab/x=a", "/1=a"):
        with pytest.raises(ValueError, match="malformed treatment key"):
            parse_treatment_key(bad)
    # Variants left to the hash: one treatment per strategy.
    assert list(library_treatments(lib, choose_variants=False)) == ["guard", "coupon_ab", "pack", "care"]


def test_allowed_treatments_are_every_active_match() -> None:
    lib = uplift_library()
    tiers = users([{"user_id": "d"}, {"user_id": "r", "lifecycle_stage": "at_risk"}, {"user_id": "a", "lifecycle_stage": "active"},
                   {"user_id": "g", "lifecycle_stage": "active", "signals_fired": "login_drop,device_change"}])
    pairs = allowed_treatments(tiers, lib, DAY, "ecommerce")
    by_user = pairs.groupby("user_id")["treatment_key"].apply(list).to_dict()
    assert by_user == {"d": ["coupon_ab/1=big", "coupon_ab/1=small", "pack", "care"], "r": ["pack", "care"], "g": ["guard"]}
    assert pairs.loc[pairs["user_id"] == "g", "service"].all()
    gated = uplift_library(**{"    priority: 20\n": "    priority: 20\n    active_from: 2026-05-01\n"})
    assert "pack" not in set(allowed_treatments(tiers, gated, DAY, "ecommerce")["treatment_key"])


def test_journey_keys_recorded_or_rederived_from_the_variant_hash() -> None:
    from orchestration.recall.assignment import assign_variant

    lib = uplift_library()
    ids = pd.Series([f"u{i:03d}" for i in range(40)])
    journeys = pd.DataFrame({"user_id": ids, "strategy_id": "coupon_ab", "arm": ["treatment"] * 39 + ["control"]})
    keys = journey_treatment_keys(journeys, lib)
    drawn = assign_variant(ids, "coupon_ab", 1, ["big", "small"], [0.5, 0.5], lib.salt)
    assert keys.iloc[:39].tolist() == [f"coupon_ab/1={v}" for v in drawn[:39]] and pd.isna(keys.iloc[39])
    recorded = journeys.assign(treatment_key=["coupon_ab/1=big"] * 40)
    assert set(journey_treatment_keys(recorded, lib).iloc[:39]) == {"coupon_ab/1=big"}
    assert set(journey_treatment_keys(journeys, lib, choose_variants=False).dropna()) == {"coupon_ab"}
    with pytest.raises(ValueError, match="unknown arms"):
        journey_treatment_keys(journeys.assign(arm="holdout"), lib)


# --- money ---------------------------------------------------------------------------------------


def test_costs_count_contacts_benefits_and_the_coupon_net_of_margin() -> None:
    lib = uplift_library()
    keys = library_treatments(lib)
    aov = pd.Series([100.0, None])
    contact, benefit = treatment_costs(keys["coupon_ab/1=big"], lib, aov, margin_rate=0.5)
    # push 0.01 + sms 0.05; a $20 coupon redeemed 30% of the time costs (1 - 0.5) x its value beyond
    # the revenue it lowered; the user without orders gets the $5 minimum.
    assert contact == pytest.approx(0.06) and benefit.tolist() == pytest.approx([20 * 0.3 * 0.5, 5 * 0.3 * 0.5])
    _, both = treatment_costs(keys["coupon_ab/1=small"], lib, aov, margin_rate=0.5)
    assert both[0] == pytest.approx((10 + 20) * 0.3 * 0.5)  # two coupons: one code per benefit
    contact, pack = treatment_costs(keys["pack"], lib, aov, margin_rate=0.5)
    assert contact == pytest.approx(0.01) and pack.tolist() == [4.0, 4.0]  # the pack's unit cost, not its value
    gross = uplift_library(**{"  margin_rate: {default: 0.5}\n": "  margin_rate: {default: 0.5}\n  revenue_net_of_coupons: false\n"})
    assert treatment_costs(keys["coupon_ab/1=big"], gross, aov, 0.5)[1][0] == pytest.approx(20 * 0.3)
    # Variants not fixed: weighted by their shares.
    mixed = library_treatments(lib, choose_variants=False)["coupon_ab"]
    assert treatment_costs(mixed, lib, aov, 0.5)[1][0] == pytest.approx(0.5 * 10 * 0.3 * 0.5 + 20 * 0.3 * 0.5)


def test_realized_benefit_cost_and_roi_on_margin() -> None:
    lib = uplift_library()
    journeys = pd.DataFrame({"benefit": ["coupon", "coupon", "pack", "pack", None],
                             "coupon_value": [20.0, 20.0, 30.0, 30.0, np.nan],
                             "coupon_redeemed": [True, False, None, True, None], "sent": [True, True, True, False, False]})
    assert realized_benefit_cost(journeys, lib, margin_rate=0.5).tolist() == [10.0, 0.0, 4.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="benefits missing from the library"):
        realized_benefit_cost(journeys.assign(benefit="mystery"), lib, 0.5)
    cohorts = pd.DataFrame({"incremental_revenue": [1000.0, 100.0, 0.0], "contact_cost": [50.0, 10.0, 0.0],
                            "benefit_cost": [150.0, 50.0, 0.0]})
    roi = margin_roi(cohorts, margin_rate=0.3)
    assert roi["incremental_margin"].tolist() == pytest.approx([300.0, 30.0, 0.0])
    assert roi["incremental_profit"].tolist() == pytest.approx([100.0, -30.0, 0.0])
    assert roi["roi_margin"].iloc[:2].tolist() == pytest.approx([0.5, -0.5]) and pd.isna(roi["roi_margin"].iloc[2])


# --- ranking quality -----------------------------------------------------------------------------


def test_qini_and_auuc_reward_ranking_by_the_true_effect() -> None:
    # Hand-made: 4 treated and 4 control; the effect is entirely in users a and b.
    score = np.array([4, 3, 2, 1, 4, 3, 2, 1], dtype=float)
    treated = np.array([1, 1, 1, 1, 0, 0, 0, 0], dtype=bool)
    outcome = np.array([1, 1, 0, 0, 0, 0, 0, 0], dtype=float)
    # Qini points at shares 0, .25, .5, .75, 1: 0, 1, 2, 2, 2; area 1.5, random (to 2) 1: 0.5 / 8 rows.
    assert qini_coefficient(score, treated, outcome) == pytest.approx(0.5 / 8)
    assert qini_coefficient(-score, treated, outcome) < 0
    assert qini_coefficient(np.zeros(8), treated, outcome) == pytest.approx(0.0)  # one tie group = random
    rng = np.random.default_rng(3)
    n = 20_000
    x = rng.random(n)
    t = rng.random(n) < 0.5
    y = (rng.random(n) < 0.1 + 0.2 * t * x).astype(float)
    good = ranking_scores(x, t, y, reps=100)
    assert good["qini"].excludes_zero() and good["qini"].low > 0 and good["auuc"].low > 0
    assert good["qini"].low <= good["qini"].value <= good["qini"].high
    assert not ranking_scores(rng.random(n), t, y, reps=100)["qini"].excludes_zero()
    assert auuc(x, t, y) > 0 and mean_difference(t, y).value == pytest.approx(y[t].mean() - y[~t].mean())
    with pytest.raises(ValueError, match="NaN"):
        qini_coefficient(np.array([np.nan, 1.0]), np.array([True, False]), np.array([1.0, 0.0]))


def test_x_learner_recovers_a_known_heterogeneous_effect() -> None:
    rng = np.random.default_rng(11)
    n = 12_000
    x = rng.random((n, 3)).astype(np.float32)
    truth = 4.0 * x[:, 0] - 1.0  # negative for a quarter of the users
    treated = rng.random(n) < 0.8  # unequal arms, like a 20% holdout
    y = 2.0 * x[:, 1] + rng.normal(0, 1.0, n) + treated * truth
    train = np.arange(n) < 8000
    params = BoostingParams()
    with fitting_threads():
        mu0 = fit_outcome_model(x[train & ~treated], y[train & ~treated], params, [False] * 3)
        learner = fit_x_learner(x[train & treated], y[train & treated], x[train & ~treated], y[train & ~treated], mu0, params, [False] * 3)
        predicted = learner.predict(x[~train])
    assert np.corrcoef(predicted, truth[~train])[0, 1] > 0.85
    assert abs(predicted.mean() - truth[~train].mean()) < 0.2
    assert ranking_scores(predicted, treated[~train], y[~train], reps=100)["qini"].low > 0
    with pytest.raises(ValueError, match="at least two rows per arm"):
        fit_x_learner(x[:1], y[:1], x[:5], y[:5], mu0, params, [False] * 3)


def test_features_code_categories_and_require_what_the_model_read() -> None:
    frame = users([{"user_id": "a", "signals_fired": "device_change"}, {"user_id": "b", "lifecycle_stage": "mystery"}])
    names = available_features(frame)
    assert "lifecycle_stage" in names and "signal:device_change" in names and "churn_probability" not in names
    matrix = feature_matrix(frame, names)
    stage = names.index("lifecycle_stage")
    assert matrix[0, stage] == 3 and np.isnan(matrix[1, stage])  # dormant_light is the 4th stage; unknown -> missing
    assert matrix[:, names.index("signal:device_change")].tolist() == [1.0, 0.0]
    with pytest.raises(ValueError, match="lacks feature columns the model was trained with: churn_probability"):
        feature_matrix(frame, names + ["churn_probability"])


# --- training, card and registry ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def history() -> tuple[pd.DataFrame, pd.DataFrame]:
    return synthetic_history(uplift_library(), 24_000, date(2026, 1, 1), days=60, seed=4)


@pytest.fixture(scope="module")
def fitted(history):
    training, _ = history
    return train_uplift_models(training, uplift_library(), date(2026, 3, 31), FAST)


def test_training_fits_mature_treatments_and_describes_them(fitted, history) -> None:
    training, truth = history
    assert fitted.version.startswith("uplift-20260331-")
    card = {(e["treatment_key"], e["outcome"]): e for e in fitted.card["treatments"]}
    for key in ("coupon_ab/1=big", "coupon_ab/1=small", "pack", "care"):
        entry = card[(key, "revenue_90d")]
        assert entry["mature"] and entry["train_treated"] >= FAST.min_treated and entry["test_control"] > 0
        assert entry["qini"]["low"] <= entry["qini"]["value"] <= entry["qini"]["high"]
    # The service strategy holds nobody out: no control, no model, and the card says why.
    assert not card[("guard", "revenue_90d")]["mature"] and "too few journeys" in card[("guard", "revenue_90d")]["why_not"]
    assert fitted.mature_keys("revenue_90d") == {"coupon_ab/1=big", "coupon_ab/1=small", "pack", "care"}
    # The learned uplift follows the true effect (coupons: strongly heterogeneous by segment and spend,
    # with losses on recently active high-value users) and ranks held-out journeys above random.
    big = (training["treatment_key"] == "coupon_ab/1=big").to_numpy()
    predicted = fitted.predict(fitted.prepare(training), np.flatnonzero(big), "coupon_ab/1=big", "revenue_90d")
    assert np.corrcoef(predicted, truth.loc[big, "revenue_90d"])[0, 1] > 0.6
    assert abs(predicted.mean() - truth.loc[big, "revenue_90d"].mean()) < 3
    assert card[("coupon_ab/1=big", "revenue_90d")]["qini"]["low"] > 0
    assert card[("coupon_ab/1=small", "revenue_90d")]["qini"]["low"] > 0


def test_the_decision_reads_the_randomized_average_unless_the_ranking_is_proven(fitted, history) -> None:
    # A learner whose level is off by 5: calibrated, its mean on the training rows is the randomized average.
    rng = np.random.default_rng(5)
    x = rng.random((4000, 2)).astype(np.float32)
    treated = rng.random(4000) < 0.7
    y = x[:, 0] + treated * (3.0 * x[:, 1]) + rng.normal(0, 0.5, 4000)
    with fitting_threads():
        mu0 = fit_outcome_model(x[~treated], y[~treated], FAST.boosting, [False] * 2)
        learner = fit_x_learner(x[treated], y[treated], x[~treated], y[~treated], mu0, FAST.boosting, [False] * 2)

    class Biased:
        def predict(self, v: np.ndarray) -> np.ndarray:
            return learner.predict(v) + 5.0

    biased = Biased()
    proven = calibrate(biased, x, 1.5, ranking_proven=True)
    assert proven.predict(x).mean() == pytest.approx(1.5, abs=1e-6)
    assert np.corrcoef(proven.predict(x), x[:, 1])[0, 1] > 0.9  # the ranking is kept
    unproven = calibrate(biased, x, 1.5, ranking_proven=False)
    assert np.all(unproven.predict(x) == 1.5)
    # In a fit: a treatment uses individual differences exactly when its held-out Qini interval is above zero,
    # and its level is the mean difference of all its randomized journeys.
    training, _ = history
    prepared = fitted.prepare(training)
    for entry in fitted.card["treatments"]:
        if not entry["mature"]:
            continue
        assert entry["effect_basis"] == ("individual" if entry["qini"]["low"] > 0 else "average")
        predicted = fitted.predict(prepared, np.arange(len(training)), entry["treatment_key"], entry["outcome"])
        if entry["effect_basis"] == "average":
            assert np.all(predicted == entry["average_effect"]["value"])
    card = {(e["treatment_key"], e["outcome"]): e for e in fitted.card["treatments"]}
    assert card[("coupon_ab/1=big", "revenue_90d")]["effect_basis"] == "individual"


def test_a_fit_reads_a_bounded_sample_of_each_arm_and_the_average_effect_every_journey(fitted, history) -> None:
    training, _ = history
    capped = FAST.model_copy(update={"max_arm_rows": 400, "bootstrap_reps": 0})
    models = [train_uplift_models(training, uplift_library(), date(2026, 3, 31), capped) for _ in range(2)]
    cards = [{(e["treatment_key"], e["outcome"]): e for e in model.card["treatments"]} for model in models]
    uncapped = {(e["treatment_key"], e["outcome"]): e for e in fitted.card["treatments"]}
    entry = cards[0][("coupon_ab/1=big", "woke_up")]
    assert entry["train_treated"] > 400 and entry["fit_treated"] == 400
    assert entry["fit_control"] == min(400, entry["train_control"])
    assert uncapped[("coupon_ab/1=big", "woke_up")]["fit_treated"] == entry["train_treated"]
    for key, entry in cards[0].items():
        if entry["mature"]:
            assert entry["fit_treated"] <= 400 and entry["fit_control"] <= 400
            # The randomized average effect reads every journey, as without the bound.
            assert entry["average_effect"] == uncapped[key]["average_effect"]
    # The same sample at every refit of the same journeys: the same models.
    assert models[0].version == models[1].version
    prepared = models[0].prepare(training)
    rows = np.flatnonzero((training["treatment_key"] == "coupon_ab/1=big").to_numpy())
    first, second = (m.models[("coupon_ab/1=big", "woke_up")].learner.predict(prepared[rows]) for m in models)
    assert np.array_equal(first, second)


def test_treatments_fitted_side_by_side_give_the_models_of_one_at_a_time(history, monkeypatch) -> None:
    import orchestration.uplift.training as training_module

    training, _ = history
    config = FAST.model_copy(update={"bootstrap_reps": 20})
    models = {}
    for workers in (1, 2):
        monkeypatch.setattr(training_module, "FIT_WORKERS", workers)
        models[workers] = train_uplift_models(training, uplift_library(), date(2026, 3, 31), config)
    alone, side_by_side = models[1], models[2]
    assert len(alone.models) > 2 and alone.models.keys() == side_by_side.models.keys()
    # The card lists every treatment in the same order with the same figures.
    assert alone.card["treatments"] == side_by_side.card["treatments"] and alone.version == side_by_side.version
    prepared = alone.prepare(training)
    for key in alone.models:
        assert np.array_equal(alone.models[key].predict(prepared), side_by_side.models[key].predict(prepared)), key
    # Each treatment's results are its own: its average effect is that of its journeys against its strategy's control.
    treated = (training["arm"] == "treatment").to_numpy()
    for entry in (e for e in side_by_side.card["treatments"] if e["mature"]):
        column = f"outcome_{entry['outcome']}"
        y = pd.to_numeric(training[column].astype("Float64")).to_numpy(dtype=float, na_value=np.nan)
        usable = training[f"{column}_mature"].astype("boolean").fillna(False).to_numpy(dtype=bool) & ~np.isnan(y)
        strategy = entry["treatment_key"].split("/")[0]
        own = usable & np.where(treated, training["treatment_key"] == entry["treatment_key"],
                                training["strategy_id"] == strategy)
        assert entry["average_effect"] == mean_difference(treated[own], y[own]).as_dict(), entry["treatment_key"]


def test_training_uses_mature_outcomes_only_and_is_point_in_time(history) -> None:
    training, _ = history
    lib = uplift_library()
    open_window = training.assign(outcome_revenue_90d_mature=False)
    model = train_uplift_models(open_window, lib, date(2026, 3, 31),
                                FAST.model_copy(update={"bootstrap_reps": 0, "boosting": BoostingParams(max_iter=10)}))
    assert not model.mature_keys("revenue_90d") and "care" in model.mature_keys("revenue_30d")
    with pytest.raises(ValueError, match="assigned after trained_through 2026-02-01"):
        train_uplift_models(training, lib, date(2026, 2, 1), FAST)
    with pytest.raises(ValueError, match="lacks required columns: outcome_woke_up_mature"):
        train_uplift_models(training.drop(columns="outcome_woke_up_mature"), lib, date(2026, 3, 31), FAST)
    broken = training.assign(treatment_key=np.where(training["arm"] == "treatment", "pack", None))
    with pytest.raises(ValueError, match="treatment_key does not belong to strategy_id"):
        train_uplift_models(broken, lib, date(2026, 3, 31), FAST)


def test_training_frame_joins_decisions_outcomes_and_the_days_features() -> None:
    lib = uplift_library()
    journeys = pd.DataFrame({"journey_id": ["j1", "j2", "j3"], "user_id": ["a", "b", "c"], "strategy_id": ["pack", "pack", "care"],
                             "arm": ["treatment", "control", "treatment"], "action_date": [date(2026, 3, 1)] * 3})
    outcomes = pd.DataFrame({"journey_id": ["j1", "j2"], "wake_up_window_days": 7, "woke_up": [True, False],
                             "woke_up_mature": [True, True], "revenue_30d": [10.0, 0.0], "revenue_30d_mature": [True, True],
                             "revenue_90d": [12.0, 0.0], "revenue_90d_mature": [False, True]})
    tiers = users([{"user_id": u} for u in "abc"])
    features = pd.concat([tiers.assign(tier_date=date(2026, 3, 1)), tiers.assign(tier_date=date(2026, 2, 28), revenue_90d=1.0)])
    frame = training_frame(journeys, outcomes, features, lib, as_of=date(2026, 3, 31)).set_index("journey_id")
    assert frame["revenue_90d"].tolist() == [100.0] * 3  # the tier row of the planning day, never the outcome
    assert frame["outcome_revenue_30d"].tolist()[:2] == [10.0, 0.0] and frame.at["j3", "outcome_revenue_30d_mature"] == False  # noqa: E712
    assert frame["treatment_key"].tolist()[0] == "pack" and pd.isna(frame.at["j2", "treatment_key"])
    assert frame.at["j1", "assignment_date"] == date(2026, 3, 2)
    # Point in time: assigned Mar 2, the 30-day window closes Mar 31; the 90-day one is not closed on
    # Mar 31 even where a later measurement already calls it mature.
    assert frame.loc[["j1", "j2"], "outcome_revenue_30d_mature"].tolist() == [True, True]
    assert not frame["outcome_revenue_90d_mature"].any()
    earlier = training_frame(journeys, outcomes, features, lib, as_of=date(2026, 3, 30)).set_index("journey_id")
    assert not earlier["outcome_revenue_30d_mature"].any() and earlier.loc[["j1", "j2"], "outcome_woke_up_mature"].all()


def test_registry_round_trip_latest_and_refit_cadence(fitted, tmp_path: Path, history) -> None:
    training, _ = history
    assert latest_model(tmp_path, date(2026, 4, 1)) is None and refit_due(tmp_path, date(2026, 4, 1), 7)
    folder = save_model(fitted, tmp_path)
    assert folder.name == fitted.version and (folder / "card.json").is_file()
    loaded = load_model(folder)
    rows = np.arange(200)
    prepared = loaded.prepare(training)
    assert np.allclose(loaded.predict(prepared, rows, "care", "revenue_90d"),
                       fitted.predict(prepared, rows, "care", "revenue_90d"))
    # Point in time: a model trained through Mar 31 is not used on Mar 31 itself.
    assert latest_model(tmp_path, date(2026, 3, 31)) is None
    assert latest_model(tmp_path, date(2026, 4, 1)).version == fitted.version
    assert not refit_due(tmp_path, date(2026, 4, 7), 7) and refit_due(tmp_path, date(2026, 4, 8), 7)
    (folder / "model.pkl").unlink()
    with pytest.raises(FileNotFoundError, match="lacks model.pkl"):
        load_model(folder)


def test_a_model_set_saved_by_joblib_still_loads(fitted, tmp_path: Path, history) -> None:
    """Registries wrote model.joblib until 2026-12-06: such a folder loads and predicts as the set saved now."""
    training, _ = history
    folder = save_model(fitted, tmp_path)
    stored = {"version": fitted.version, "features": fitted.features, "models": fitted.models}
    joblib.dump(stored, folder / "model.joblib")
    (folder / "model.pkl").unlink()
    loaded, rows = load_model(folder), np.arange(200)
    prepared = loaded.prepare(training)
    assert loaded.version == fitted.version and loaded.card == json.loads((folder / "card.json").read_text())
    assert np.allclose(loaded.predict(prepared, rows, "care", "revenue_90d"),
                       fitted.predict(prepared, rows, "care", "revenue_90d"))


def test_the_default_library_trains_on_its_own_treatments() -> None:
    lib = load_strategy_library(DEFAULT_LIBRARY)
    training, _ = synthetic_history(lib, 6000, date(2026, 1, 1), seed=2)
    assert set(training["treatment_key"].dropna()) <= set(library_treatments(lib))
    assert {"dormant_medium_coupon/1=coupon_20pct", "dormant_medium_coupon/1=coupon_15pct"} <= set(training["treatment_key"])


def test_the_model_of_a_day_is_refitted_on_the_librarys_cadence(history, tmp_path: Path) -> None:
    training = history[0].sample(n=5000, random_state=1)
    lib = uplift_library(**{"decision: {exploration_share: 0.0}": "decision: {exploration_share: 0.0, refit_every_days: 3}"})
    asked: list[date] = []

    def load(through: date) -> pd.DataFrame:
        asked.append(through)
        return training.loc[pd.to_datetime(training["assignment_date"]) <= pd.Timestamp(through)]

    config = FAST.model_copy(update={"bootstrap_reps": 0, "min_treated": 50, "min_control": 20,
                                     "boosting": BoostingParams(max_iter=10)})
    first = model_for_day(tmp_path, date(2026, 4, 1), lib, load, config)
    assert first.card["trained_through"] == "2026-03-31" and asked == [date(2026, 3, 31)]
    # It decides Apr 1, 2 and 3; on Apr 4 it has served its three days.
    assert model_for_day(tmp_path, date(2026, 4, 3), lib, load, config).version == first.version and len(asked) == 1
    refitted = model_for_day(tmp_path, date(2026, 4, 4), lib, load, config)
    assert refitted.card["trained_through"] == "2026-04-03" and asked[-1] == date(2026, 4, 3)
    # Nothing to learn from yet: no model, and the decision falls back to the rules.
    assert model_for_day(tmp_path / "empty", date(2026, 1, 1), lib, lambda through: training.iloc[:0], config) is None


def test_a_due_refit_with_nothing_new_keeps_the_model_in_force(history, tmp_path: Path) -> None:
    training = history[0].sample(n=5000, random_state=1)
    lib = uplift_library(**{"decision: {exploration_share: 0.0}": "decision: {exploration_share: 0.0, refit_every_days: 3}"})
    asked: list[date] = []
    news: list[tuple[date, date]] = []

    def load(through: date) -> pd.DataFrame:
        asked.append(through)
        return training.loc[pd.to_datetime(training["assignment_date"]) <= pd.Timestamp(through)]

    def nothing_new(since: date, through: date) -> bool:
        news.append((since, through))
        return False

    config = FAST.model_copy(update={"bootstrap_reps": 0, "min_treated": 50, "min_control": 20,
                                     "boosting": BoostingParams(max_iter=10)})
    first = model_for_day(tmp_path, date(2026, 4, 1), lib, load, config, has_news=nothing_new)
    assert asked == [date(2026, 3, 31)] and news == []  # no model yet: fitted without asking
    # Apr 4 and Apr 10 are due, but nothing was planned or measured since Mar 31 (the later days of a range).
    for day in (date(2026, 4, 4), date(2026, 4, 10)):
        assert model_for_day(tmp_path, day, lib, load, config, has_news=nothing_new).version == first.version
    assert asked == [date(2026, 3, 31)] and news == [(date(2026, 3, 31), date(2026, 4, 3)),
                                                     (date(2026, 3, 31), date(2026, 4, 9))]
    # The first day with news refits at once.
    refitted = model_for_day(tmp_path, date(2026, 4, 11), lib, load, config, has_news=lambda since, through: True)
    assert refitted.card["trained_through"] == "2026-04-10" and asked[-1] == date(2026, 4, 10)


def test_news_for_a_refit_are_journeys_planned_or_outcomes_measured_since_the_model() -> None:
    import duckdb

    from orchestration.uplift.readers import has_news

    con = duckdb.connect()
    assert not has_news(con, date(2026, 4, 1), date(2026, 4, 8))  # no journeys table: nothing to learn from
    con.execute("create table recall_actions (journey_id varchar, step integer, action_date date)")
    con.execute("insert into recall_actions values ('j1', 1, '2026-03-30'), ('j1', 2, '2026-04-02'), "
                "(null, 1, '2026-04-03')")
    # A model trained through Apr 1 read the journeys planned before Apr 1; a later step or a skipped row is no news.
    assert not has_news(con, date(2026, 4, 1), date(2026, 4, 8))
    con.execute("insert into recall_actions values ('j2', 1, '2026-04-01')")
    assert has_news(con, date(2026, 4, 1), date(2026, 4, 8)) and not has_news(con, date(2026, 4, 2), date(2026, 4, 8))
    con.execute("create table recall_outcomes (action_id varchar, measured_through date)")
    con.execute("insert into recall_outcomes values ('j1', '2026-04-02')")
    assert not has_news(con, date(2026, 4, 2), date(2026, 4, 8)) and has_news(con, date(2026, 4, 1), date(2026, 4, 1))


def test_a_feature_missing_on_every_row_of_a_fit_does_not_stop_the_refit() -> None:
    # e.g. the churn probability before the first churn model: scikit-learn's binning fails on an all-NaN column.
    from orchestration.uplift.learners import BoostingParams, fit_outcome_model

    rng = np.random.default_rng(0)
    x = np.column_stack([rng.normal(size=200), np.full(200, np.nan)])
    y = 2 * x[:, 0] + rng.normal(scale=0.1, size=200)
    model = fit_outcome_model(x, y, BoostingParams(min_samples_leaf=5), [False, False])
    assert np.corrcoef(model.predict(x), y)[0, 1] > 0.9
