"""The uplift model registry: one folder per fitted model set under
$CHURN_RECALL_HOME/models/uplift/<version>/, holding the fitted learners (model.pkl,
orchestration/model_files.py) and the card (card.json: version, training window, features, journeys
per treatment and arm, held-out Qini / AUUC with intervals, which treatments are mature and why the
others are not).

A version is `uplift-<trained through yyyymmdd>-<digest of the inputs>`; a folder is written aside
and renamed, so a reader never sees half a model. The decision of day D uses the newest model
trained through a day before D (point in time: a backfill of D never uses a later model)."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import pandas as pd

from orchestration.model_files import MODEL_FILE, dump_model, load_model_file, model_file
from orchestration.recall.library import StrategyLibrary
from orchestration.uplift.training import TrainingConfig, UpliftModelSet, train_uplift_models

CARD_FILE = "card.json"


def registry_root(home: Path) -> Path:
    return Path(home) / "models" / "uplift"


def save_model(model_set: UpliftModelSet, home: Path) -> Path:
    """Write the model set and its card; returns its folder (an existing version is left as it is)."""
    root = registry_root(home)
    target = root / model_set.version
    if target.exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".writing-", dir=root))
    try:
        dump_model({"version": model_set.version, "features": model_set.features, "models": model_set.models},
                   scratch)
        (scratch / CARD_FILE).write_text(json.dumps(model_set.card, indent=2, default=str) + "\n")
        scratch.rename(target)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch)
    return target


def load_model(folder: Path) -> UpliftModelSet:
    """The model set of a registry folder; a clear error when a file is missing."""
    folder = Path(folder)
    model, card = model_file(folder), folder / CARD_FILE
    if model is None or not card.is_file():
        raise FileNotFoundError(f"uplift model folder {folder} lacks {MODEL_FILE if model is None else CARD_FILE}")
    return _load(model.resolve(), card.resolve(), (model.stat().st_mtime_ns, card.stat().st_mtime_ns))


@lru_cache(maxsize=8)
def _load(model: Path, card_file: Path, stamp: tuple[int, int]) -> UpliftModelSet:
    """A saved model set, read once per process (the daily planning and the uplift step of a range ask for the
    same version every day); `stamp` (the files' modification times) makes a rewritten folder read again.
    Callers never modify a model set."""
    stored = load_model_file(model)
    card = json.loads(card_file.read_text())
    return UpliftModelSet(version=stored["version"], features=stored["features"], models=stored["models"], card=card)


def _cards(home: Path) -> list[tuple[date, str, Path]]:
    root = registry_root(home)
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        card = folder / CARD_FILE
        if folder.name.startswith(".") or not card.is_file():
            continue
        meta = json.loads(card.read_text())
        found.append((date.fromisoformat(meta["trained_through"]), meta["version"], folder))
    return sorted(found)


def _latest_card(home: Path, as_of: date) -> tuple[date, str, Path] | None:
    """(trained_through, version, folder) of the newest model trained through a day before `as_of`, or None."""
    usable = [card for card in _cards(home) if card[0] < as_of]
    return usable[-1] if usable else None


def latest_model_folder(home: Path, as_of: date) -> Path | None:
    """The newest model trained through a day before `as_of`, or None."""
    card = _latest_card(home, as_of)
    return card[2] if card else None


def latest_trained_through(home: Path, as_of: date) -> date | None:
    """The day the newest model usable on `as_of` was trained through, or None."""
    card = _latest_card(home, as_of)
    return card[0] if card else None


def latest_model(home: Path, as_of: date) -> UpliftModelSet | None:
    folder = latest_model_folder(home, as_of)
    return load_model(folder) if folder is not None else None


def refit_due(home: Path, as_of: date, every_days: int) -> bool:
    """True when the newest usable model (trained through T, deciding from T + 1) has served
    `every_days` days by `as_of`, or when there is none."""
    return _served(latest_trained_through(home, as_of), as_of, every_days)


def _served(trained: date | None, as_of: date, every_days: int) -> bool:
    return trained is None or trained + timedelta(days=every_days) < as_of


def training_config(library: StrategyLibrary) -> TrainingConfig:
    """The fit settings with the library's maturity thresholds (economics.decision)."""
    policy = library.economics.decision
    return TrainingConfig(min_treated=policy.min_treated_journeys, min_control=policy.min_control_journeys)


def model_for_day(home: Path, day: date, library: StrategyLibrary, load_training: Callable[[date], pd.DataFrame],
                  config: TrainingConfig | None = None,
                  has_news: Callable[[date, date], bool] | None = None) -> UpliftModelSet | None:
    """The model the decision of planning day `day` uses: refitted through `day - 1` and saved when
    the library's cadence (`economics.decision.refit_every_days`) says a refit is due, else the
    latest saved one; None when there are no randomized journeys to learn from yet. config: the fit
    settings (default: training_config(library)).

    load_training(trained_through): the training frame as of that day (training.training_frame).
    has_news(since, through): whether journeys were planned, or outcomes measured, after the latest model's
    training day `since` and up to `through`. When it says no, a refit would learn exactly what that model learned
    (the later refits of a range, whose own days are planned and measured after this step): the latest model stays
    in force, and the next day with news refits."""
    since = latest_trained_through(home, day)
    if _served(since, day, library.economics.decision.refit_every_days):
        through = day - timedelta(days=1)
        if since is None or has_news is None or has_news(since, through):
            training = load_training(through)
            if len(training):
                save_model(train_uplift_models(training, library, through, config or training_config(library)), home)
    return latest_model(home, day)
