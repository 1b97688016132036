"""The registries' model file: one pickle, and the joblib files written before it still read."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor

from orchestration.model_files import JOBLIB_MODEL_FILE, MODEL_FILE, dump_model, load_model_file, model_file
from orchestration.scoring.registry import has_model, load_model


@pytest.fixture(scope="module")
def boosted() -> tuple[HistGradientBoostingRegressor, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 4))
    return HistGradientBoostingRegressor(max_iter=20, random_state=0).fit(x, x[:, 0] * 2 + rng.normal(size=300)), x


def test_a_model_round_trips_through_its_pickle(boosted, tmp_path: Path) -> None:
    model, x = boosted
    path = dump_model({"model": model, "features": ["a", "b", "c", "d"]}, tmp_path)
    assert path == tmp_path / MODEL_FILE and model_file(tmp_path) == path
    stored = load_model_file(path)
    assert stored["features"] == ["a", "b", "c", "d"] and np.array_equal(stored["model"].predict(x), model.predict(x))


def test_a_joblib_file_of_an_older_folder_still_loads(boosted, tmp_path: Path) -> None:
    model, x = boosted
    joblib.dump(model, tmp_path / JOBLIB_MODEL_FILE)
    assert model_file(tmp_path) == tmp_path / JOBLIB_MODEL_FILE
    assert np.array_equal(load_model_file(model_file(tmp_path)).predict(x), model.predict(x))
    dump_model(model, tmp_path)  # a folder holding both reads the pickle
    assert model_file(tmp_path) == tmp_path / MODEL_FILE


def test_a_folder_without_a_model_file_has_none(tmp_path: Path) -> None:
    assert model_file(tmp_path) is None and model_file(tmp_path / "missing") is None


def test_the_churn_registry_reads_a_version_written_by_joblib(boosted, tmp_path: Path) -> None:
    model, x = boosted
    folder = tmp_path / "ecommerce-20260105-abc"
    folder.mkdir()
    joblib.dump(model, folder / JOBLIB_MODEL_FILE)
    assert not has_model(tmp_path, folder.name)  # no card yet
    (folder / "card.json").write_text("{}")
    assert has_model(tmp_path, folder.name)
    assert np.array_equal(load_model(tmp_path, folder.name).predict(x), model.predict(x))
    with pytest.raises(FileNotFoundError, match="has no model file"):
        load_model(tmp_path, "ecommerce-20260112-abc")
