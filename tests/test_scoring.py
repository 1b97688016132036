"""The churn model's rules on a synthetic label table: outcome, maturity cut-off, cold start, weekly refit
cadence, versioned registry, calibration, point in time, and the rules fallback of the daily scores."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.scoring import (
    MIN_MATURED_DAYS,
    ScoringContext,
    calibration_error,
    model_in_force,
    model_row,
    model_version,
    quality,
    score_day,
    write_day_scores,
    training_window,
    unsettled_days,
)
from orchestration.scoring import scores as scores_module
from orchestration.scoring.features import FEATURE_NAMES
from orchestration.scoring.model import churn_probability, fit_model
from orchestration.scoring.registry import has_model, load_card, registry_root
from orchestration.scoring.training import labelled_rows, training_rows
from orchestration.warehouse import replace_rows
from tests.scoring_fixtures import START, load_labels, synthetic_labels

H = 7  # a short horizon keeps the synthetic history small
FIRST_MODEL_MONDAY = START + timedelta(days=35)  # the first Monday with H + MIN_MATURED_DAYS days behind it


def context(home: Path, warehouse: Path) -> ScoringContext:
    return ScoringContext(vertical="ecommerce", horizon_days=H, home=home, warehouse=warehouse, first_partition=START)


@pytest.fixture(scope="module")
def labels() -> pd.DataFrame:
    return synthetic_labels()


@pytest.fixture()
def warehouse(tmp_path: Path, labels: pd.DataFrame) -> Path:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        load_labels(con, labels)
    return path


def run_days(warehouse: Path, home: Path, days: list[date]) -> dict[date, object]:
    """The churn_model and user_churn_scores steps of each day, as the assets run them."""
    ctx = context(home, warehouse)
    out = {}
    with duckdb.connect(str(warehouse)) as con:
        for day in days:
            in_force = model_in_force(con, day, ctx)
            replace_rows(con, "churn_model", model_row(in_force, H), "model_date = ?", [day])
            write_day_scores(con, day, ctx.registry, H)
            out[day] = in_force
    return out


def scores_of(warehouse: Path, day: date) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select * from user_churn_scores where score_date = ? order by user_id", [day]).df()


# ------------------------------------------------------------------ outcome and maturity

def test_training_window_uses_only_matured_days_and_splits_them_by_date():
    cutoff = START + timedelta(days=60)
    window = training_window(cutoff, H, START)
    assert window.last == cutoff - timedelta(days=H)  # D matures when D + H <= cutoff
    assert window.first == START and window.matured_days == 54
    slices = window.slices()  # oldest to newest: train, test, calibration (the newest outcomes)
    assert slices["calibration"] == (window.last - timedelta(days=6), window.last)
    assert slices["test"][1] + timedelta(days=1) == slices["calibration"][0]
    assert slices["train"] == (START, slices["test"][0] - timedelta(days=1))
    long = training_window(START + timedelta(days=300), H, START)
    assert long.matured_days == 84  # at most 12 weeks


def test_too_little_matured_history_is_a_cold_start_with_its_reason():
    cutoff = START + timedelta(days=H + MIN_MATURED_DAYS - 2)
    reason = training_window(cutoff, H, START)
    assert isinstance(reason, str) and "cold start" in reason and f"{MIN_MATURED_DAYS - 1} matured" in reason
    assert not isinstance(training_window(cutoff + timedelta(days=1), H, START), str)
    assert training_window(cutoff, H, None) == "no labels yet"


def test_outcome_is_no_key_action_on_the_next_h_days(tmp_path):
    d = START + timedelta(days=10)
    rows = []
    for user, key_action in (("acts_on_d_plus_h", d + timedelta(days=H)), ("acts_after_h", d + timedelta(days=H + 1)),
                             ("acts_on_d_only", d), ("never", None)):
        for offset in range(H + 2):
            day = d + timedelta(days=offset)
            last = key_action if key_action is not None and key_action <= day else (
                d if user == "acts_on_d_only" else None)
            rows.append({"user_id": user, "label_date": day, "last_key_action_date": last, "days_since_signup": 10})
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        load_labels(con, pd.DataFrame(rows))
        got = labelled_rows(con, d, d, H, max_rows=1000).set_index("user_id")["churned"].to_dict()
    assert got == {"acts_on_d_plus_h": False, "acts_after_h": True, "acts_on_d_only": True, "never": True}


def test_a_refit_reads_no_label_dated_after_its_cutoff(tmp_path, labels):
    """Changing every label row after the cut-off changes nothing in the rows a refit learns from."""
    cutoff = FIRST_MODEL_MONDAY
    window = training_window(cutoff, H, START)
    later = labels["label_date"] > cutoff
    rewritten = labels.copy()
    rewritten.loc[later, "last_key_action_date"] = None
    rewritten.loc[later, "orders_30d"] = 99
    frames = []
    for name, frame in (("a", labels), ("b", rewritten)):
        with duckdb.connect(str(tmp_path / f"{name}.duckdb")) as con:
            load_labels(con, frame)
            frames.append(labelled_rows(con, window.first, window.last, H, max_rows=10**6))
    pd.testing.assert_frame_equal(frames[0], frames[1])
    assert frames[0]["churned"].nunique() == 2


def test_the_recent_slice_has_the_short_outcome_known_by_the_cutoff(tmp_path, labels):
    """The recent slice is the week R-13..R-7 with `quiet_next_days` (no key action on D+1..D+7), read from
    labels up to the cut-off only; the calibration slice has both outcomes."""
    cutoff = FIRST_MODEL_MONDAY
    window = training_window(cutoff, H, START)
    assert window.recent == (cutoff - timedelta(days=13), cutoff - timedelta(days=7))
    # labels the lookback may still recompute (here 3 days) are left to later refits (a week later: the first
    # Monday's refit has too few settled days)
    later = cutoff + timedelta(days=7)
    plain, settled = training_window(later, H, START), training_window(later, H, START, unsettled_days=3)
    assert settled.recent == (later - timedelta(days=16), later - timedelta(days=10))
    # ... and so are the matured days' outcomes read from them: every slice ends 3 days earlier
    assert settled.last == plain.last - timedelta(days=3) == later - timedelta(days=H + 3)
    assert settled.slices()["calibration"] == tuple(d - timedelta(days=3) for d in plain.slices()["calibration"])
    rewritten = labels.copy()
    rewritten.loc[labels["label_date"] > cutoff, "last_key_action_date"] = None
    slices = []
    for name, frame in (("a", labels), ("b", rewritten)):
        with duckdb.connect(str(tmp_path / f"{name}.duckdb")) as con:
            load_labels(con, frame)
            slices.append(training_rows(con, window))
    for name in slices[0]:
        pd.testing.assert_frame_equal(slices[0][name], slices[1][name])
    recent = slices[0]["recent"]
    assert "churned" not in recent and recent["quiet_next_days"].nunique() == 2
    assert recent["label_date"].min().date() == window.recent[0] and recent["label_date"].max().date() == window.recent[1]
    assert {"churned", "quiet_next_days"} <= set(slices[0]["calibration"])
    # quiet for a week is implied by quiet for the whole horizon (H = 7 here: the two are one outcome)
    calibration = slices[0]["calibration"]
    assert (calibration["churned"] == calibration["quiet_next_days"]).all()


def _drifting_rows(n: int, shift: float, seed: int) -> pd.DataFrame:
    """Rows whose outcomes' log-odds fall with orders_30d, raised by `shift` (an app whose users age)."""
    rng = np.random.default_rng(seed)
    orders = rng.integers(0, 10, n).astype(float)
    frame = pd.DataFrame(np.nan, index=range(n), columns=list(FEATURE_NAMES))
    frame["orders_30d"] = orders
    frame["churned"] = rng.random(n) < 1 / (1 + np.exp(-(1.5 - 0.5 * orders + shift)))
    frame["quiet_next_days"] = frame["churned"] | (rng.random(n) < 1 / (1 + np.exp(-(0.5 - 0.3 * orders + shift))))
    return frame


def test_the_prior_shift_moves_the_probabilities_to_the_recent_rate():
    """The log-odds shift is what the recent week's short outcome says the drift is: about +0.6 when both
    outcomes' log-odds rose by 0.6 since the calibration days, about 0 when nothing moved, 0 without a
    recent slice; the ranking does not change and the test days are judged unshifted."""
    train, calibration = _drifting_rows(20_000, 0.0, 1), _drifting_rows(10_000, 0.0, 2)
    drifted = fit_model(train, calibration, H, _drifting_rows(10_000, 0.6, 3))
    still = fit_model(train, calibration, H, _drifting_rows(10_000, 0.0, 4))
    assert 0.4 < drifted.prior_shift < 0.8 and abs(still.prior_shift) < 0.15
    assert fit_model(train, calibration, H).prior_shift == 0.0
    later = _drifting_rows(20_000, 0.6, 5)
    shifted, unshifted = churn_probability(drifted, later), churn_probability(drifted, later, shifted=False)
    rate = later["churned"].mean()
    assert abs(shifted.mean() - rate) < 0.02 < abs(unshifted.mean() - rate)
    assert calibration_error(shifted, later["churned"].to_numpy(float)) < calibration_error(
        unshifted, later["churned"].to_numpy(float))
    assert (np.argsort(shifted, kind="stable") == np.argsort(unshifted, kind="stable")).all()


# ------------------------------------------------------------------ cadence, registry, fallback

def test_cold_start_scores_say_the_rules_stand_in(warehouse, tmp_path):
    day = FIRST_MODEL_MONDAY - timedelta(days=1)
    in_force = run_days(warehouse, tmp_path / "home", [day])[day]
    assert in_force.version is None and "cold start" in in_force.reason
    scores = scores_of(warehouse, day)
    assert len(scores) > 0 and set(scores["scored_by"]) == {"rules"}
    assert scores["churn_probability"].isna().all() and scores["model_version"].isna().all()
    assert scores["score_reason"].str.contains("cold start").all()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select status, model_version from churn_model").fetchall() == [("cold_start", None)]


def test_refit_weekly_on_mondays_and_carried_through_the_week(warehouse, tmp_path):
    week = [FIRST_MODEL_MONDAY + timedelta(days=k) for k in range(8)]  # Monday .. next Monday
    in_force = run_days(warehouse, tmp_path / "home", week)
    first, next_monday = in_force[week[0]], in_force[week[7]]
    assert first.refitted and first.cutoff == week[0] and first.version
    assert all(in_force[d].version == first.version and not in_force[d].refitted for d in week[1:7])
    assert next_monday.refitted and next_monday.version != first.version and next_monday.cutoff == week[7]
    # rerunning a day carries the registered model: no refit
    again = run_days(warehouse, tmp_path / "home", [week[3]])[week[3]]
    assert again.version == first.version and not again.refitted
    scores = scores_of(warehouse, week[3])
    assert set(scores["scored_by"]) == {"model"} and set(scores["model_version"]) == {first.version}
    assert scores["churn_probability"].between(0, 1).all()


def test_versions_are_registered_with_their_card(warehouse, tmp_path):
    home = tmp_path / "home"
    day = FIRST_MODEL_MONDAY
    version = run_days(warehouse, home, [day])[day].version
    root = registry_root(home)
    assert version == model_version("ecommerce", H, day) and has_model(root, version)
    assert version.startswith("ecommerce-" + day.strftime("%Y%m%d") + "-")
    assert model_version("ecommerce", H, day) != model_version("ecommerce", H + 1, day)
    assert model_version("ecommerce", H, day) != model_version("game", H, day)
    assert model_version("ecommerce", H, day) != model_version("ecommerce", H, day, unsettled_days=3)
    card = load_card(root, version)
    assert card.cutoff == day and card.horizon_days == H and card.warehouse == str(warehouse)
    assert card.training_window["calibration"][1] == day - timedelta(days=H)
    assert set(card.rows) == {"train", "calibration", "test", "recent"} and card.rows["train"] > card.rows["test"] > 0
    assert {"roc_auc", "pr_auc", "brier", "calibration_error", "base_rate"} <= set(card.test)
    assert card.test["roc_auc"] > 0.7  # recency and frequency predict the synthetic users' silence
    assert set(card.baseline_roc_auc) == {"days_since_last_key_action", "silent_days"}
    assert card.accepted == (card.test["roc_auc"] > max(card.baseline_roc_auc.values())) and card.accepted
    assert json.loads((root / version / "card.json").read_text())["version"] == version
    assert [p.name for p in root.iterdir()] == [version]  # no staging folder left behind
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute("select status, model_version, test_roc_auc, train_rows from churn_model").fetchall()[0]
    assert row[0] == "model" and row[1] == version and row[2] == pytest.approx(card.test["roc_auc"])


def test_a_model_that_does_not_beat_recency_leaves_the_rules_in_force(warehouse, tmp_path):
    home = tmp_path / "home"
    day = FIRST_MODEL_MONDAY
    version = run_days(warehouse, home, [day])[day].version
    card_path = registry_root(home) / version / "card.json"
    card = json.loads(card_path.read_text())
    card.update(accepted=False, baseline_roc_auc={"days_since_last_key_action": 0.99, "silent_days": 0.5})
    card_path.write_text(json.dumps(card))  # as if the model had lost to days since the last key action
    in_force = run_days(warehouse, home, [day + timedelta(days=1)])[day + timedelta(days=1)]
    assert in_force.version is None and not in_force.refitted
    assert "does not beat days_since_last_key_action (0.990)" in in_force.reason
    scores = scores_of(warehouse, day + timedelta(days=1))
    assert set(scores["scored_by"]) == {"rules"} and scores["churn_probability"].isna().all()


def test_a_registered_model_that_went_missing_is_a_clear_error(warehouse, tmp_path):
    home = tmp_path / "home"
    day = FIRST_MODEL_MONDAY
    version = run_days(warehouse, home, [day])[day].version
    shutil.rmtree(registry_root(home) / version)
    with duckdb.connect(str(warehouse)) as con, pytest.raises(FileNotFoundError, match="rematerialize churn_model"):
        score_day(con, day, registry_root(home), H)


def test_without_a_churn_model_row_the_rules_score(warehouse, tmp_path):
    with duckdb.connect(str(warehouse)) as con:
        written = write_day_scores(con, FIRST_MODEL_MONDAY, registry_root(tmp_path), H)
        with pytest.raises(ValueError, match="the rules do"):
            score_day(con, FIRST_MODEL_MONDAY, registry_root(tmp_path), H)
    scores = scores_of(warehouse, FIRST_MODEL_MONDAY)
    assert written.rows == len(scores) > 0 and written.scored_by == "rules" and written.predicted == written.kept == 0
    assert set(scores["scored_by"]) == {"rules"} and scores["score_reason"].str.contains("has not run").all()
    assert scores["churn_probability"].isna().all() and scores["inputs_hash"].isna().all()


# ------------------------------------------------------------------ a day scored again

@pytest.fixture()
def predictions(monkeypatch) -> list[int]:
    """The row count of every prediction score_day makes."""
    counts: list[int] = []
    predict = scores_module.churn_probability
    monkeypatch.setattr(scores_module, "churn_probability", lambda model, frame: counts.append(len(frame)) or predict(model, frame))
    return counts


def test_a_day_scored_again_predicts_only_the_rows_whose_features_changed(warehouse, tmp_path, predictions):
    home, day = tmp_path / "home", FIRST_MODEL_MONDAY
    run_days(warehouse, home, [day])
    first = scores_of(warehouse, day).set_index("user_id")
    assert first["scored_by"].eq("model").all() and first["inputs_hash"].notna().all() and predictions == [len(first)]
    kept, changed, gone = first.index[0], first.index[1], first.index[2]
    with duckdb.connect(str(warehouse)) as con:  # a mark on a row left as it was; a late event in another's features
        con.execute("update user_churn_scores set churn_probability = 0.123456 where user_id = ? and score_date = ?",
                    [kept, day])
        con.execute("update user_daily_labels set logins_7d = coalesce(logins_7d, 0) + 5 where user_id = ? "
                    "and label_date = ?", [changed, day])
        con.execute("delete from user_daily_labels where user_id = ? and label_date = ?", [gone, day])
    run_days(warehouse, home, [day])
    again = scores_of(warehouse, day).set_index("user_id")
    assert predictions[1:] == [1]
    assert again.at[kept, "churn_probability"] == 0.123456  # kept, not predicted again
    assert again.at[changed, "inputs_hash"] != first.at[changed, "inputs_hash"]
    assert gone not in again.index and len(again) == len(first) - 1  # no longer labelled: no score
    with duckdb.connect(str(warehouse)) as con:  # what a day scored from nothing gives
        con.execute("delete from user_churn_scores")
    run_days(warehouse, home, [day])
    fresh = scores_of(warehouse, day).set_index("user_id")
    assert predictions[2:] == [len(first) - 1]
    pd.testing.assert_frame_equal(again.drop(index=kept), fresh.drop(index=kept))
    assert (again.loc[[kept]].drop(columns="churn_probability") == fresh.loc[[kept]].drop(columns="churn_probability")).all(axis=None)


def test_a_model_fitted_again_on_other_rows_predicts_every_row_again(warehouse, tmp_path, predictions):
    home, day = tmp_path / "home", FIRST_MODEL_MONDAY
    version = run_days(warehouse, home, [day])[day].version
    shutil.rmtree(registry_root(home) / version)  # the same version fitted again on the same rows: the same model
    run_days(warehouse, home, [day])
    assert predictions[1:] == [0]
    with duckdb.connect(str(warehouse)) as con:  # and on other rows: half the users' training days rewritten
        con.execute("update user_daily_labels set logins_7d = 0, active_days_30d = 0 "
                    "where label_date < ? and hash(user_id) % 2 = 0", [day - timedelta(days=H)])
    shutil.rmtree(registry_root(home) / version)
    run_days(warehouse, home, [day])
    assert predictions[2:] == [len(scores_of(warehouse, day))]


# ------------------------------------------------------------------ point in time

def test_rows_dated_after_d_change_nothing_in_the_scores_of_d(tmp_path, labels):
    day = FIRST_MODEL_MONDAY + timedelta(days=2)
    later = labels["label_date"] > day
    rewritten = labels.copy()
    rewritten.loc[later, ["last_key_action_date", "days_since_last_key_action"]] = (None, np.nan)
    extra = labels[labels["label_date"] == labels["label_date"].max()].assign(
        label_date=labels["label_date"].max() + timedelta(days=1))
    rewritten = pd.concat([rewritten, extra], ignore_index=True)
    got = []
    for name, frame in (("original", labels), ("rewritten", rewritten)):
        warehouse = tmp_path / f"{name}.duckdb"
        with duckdb.connect(str(warehouse)) as con:
            load_labels(con, frame)
        run_days(warehouse, tmp_path / name, [FIRST_MODEL_MONDAY, day])  # each refits in its own registry
        got.append(scores_of(warehouse, day))
    assert got[0]["scored_by"].eq("model").all() and len(got[0]) > 100
    # inputs_hash names each registry's own fit (a cache key, not a score)
    pd.testing.assert_frame_equal(got[0].drop(columns="inputs_hash"), got[1].drop(columns="inputs_hash"))


def test_a_refit_the_evening_before_reads_only_days_no_later_run_recomputes(tmp_path, labels):
    """The model of cut-off R, fitted after the run of R - 1 (the model_refits job), is the model R's own run would
    fit: R's run recomputes its lookback days R-3..R-1 (here late events rewrite them) and adds R, and the refit
    leaves out those days and one more. With only the lookback left out, the refit would read a rewritten day."""
    lookback, cutoff = 3, FIRST_MODEL_MONDAY + timedelta(days=14)
    assert unsettled_days(lookback) == lookback + 1
    evening_before = labels[labels["label_date"] < cutoff]
    after_its_run = labels[labels["label_date"] <= cutoff].copy()
    recomputed = after_its_run["label_date"] >= cutoff - timedelta(days=lookback)
    after_its_run.loc[recomputed, "last_key_action_date"] = after_its_run.loc[recomputed, "label_date"]
    fitted = {}
    for unsettled in (unsettled_days(lookback), lookback):
        for name, frame in (("before", evening_before), ("after", after_its_run)):
            warehouse = tmp_path / f"{name}-{unsettled}.duckdb"
            with duckdb.connect(str(warehouse)) as con:
                load_labels(con, frame)
                ctx = ScoringContext(vertical="ecommerce", horizon_days=H, home=tmp_path / f"{name}-{unsettled}",
                                     warehouse=warehouse, first_partition=START, unsettled_days=unsettled)
                in_force = model_in_force(con, cutoff, ctx)
            assert in_force.refitted and in_force.version, in_force.reason
            fitted[name, unsettled] = (in_force.card.rows, in_force.card.test, in_force.card.prior_shift_logit)
    assert fitted["before", lookback + 1] == fitted["after", lookback + 1]
    assert fitted["before", lookback] != fitted["after", lookback]


# ------------------------------------------------------------------ quality figures

def test_calibration_error_measures_the_gap_between_probability_and_rate():
    rng = np.random.default_rng(1)
    p = rng.uniform(0, 1, 200_000)
    y = rng.uniform(0, 1, 200_000) < p
    assert calibration_error(p, y.astype(float)) < 0.01
    assert calibration_error(np.clip(p + 0.1, 0, 1), y.astype(float)) == pytest.approx(0.095, abs=0.01)


def test_quality_of_a_perfect_and_of_a_useless_score():
    y = np.array([0, 0, 1, 1] * 100, dtype=bool)
    perfect = quality(y.astype(float), y)
    assert perfect.roc_auc == 1 and perfect.pr_auc == 1 and perfect.brier == 0 and perfect.base_rate == 0.5
    flat = quality(np.full(len(y), 0.5), y)
    assert flat.roc_auc == 0.5 and flat.brier == 0.25 and flat.calibration_error == pytest.approx(0)


def test_the_booster_walked_on_its_bins_scores_as_its_decision_function(monkeypatch):
    """booster_score walks the trees on the booster's bins: the same scores as decision_function for values between,
    at and beyond its bin thresholds, missing values, and a column fitted as zeros scored with nulls."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from orchestration.scoring.model import booster_score

    rng = np.random.default_rng(7)
    x = rng.gamma(2.0, 5.0, size=(4_000, 4)).round(1)
    x[rng.random(x.shape) < 0.1] = np.nan
    x[:, 3] = 0.0  # a feature without any value is fitted as zeros (fit_model)
    y = rng.random(len(x)) < 1 / (1 + np.exp(-(np.nan_to_num(x[:, 0], nan=30) - 10) / 3))
    booster = HistGradientBoostingClassifier(max_iter=40, max_leaf_nodes=15, random_state=0).fit(x, y)
    thresholds = np.concatenate(booster._bin_mapper.bin_thresholds_[:3])
    new = rng.choice(np.concatenate([thresholds, np.nextafter(thresholds, np.inf), [-1.0, 1e9, np.nan]]),
                     size=(2_000, 4))
    new[:, 3] = np.where(rng.random(len(new)) < 0.5, np.nan, 0.0)
    expected = booster.decision_function(new)
    assert np.array_equal(booster_score(booster, new), expected)
    monkeypatch.setattr(booster, "decision_function", lambda _: pytest.fail("the public path was taken"))
    assert np.array_equal(booster_score(booster, new), expected)
