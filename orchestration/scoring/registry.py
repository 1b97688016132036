"""The model registry: one folder per fitted churn model, $CHURN_RECALL_HOME/models/churn/<version>/, holding the
fitted model (model.pkl, orchestration/model_files.py) and its card (card.json: version, training window,
features, row counts, held-out quality, the warehouse it learned from). A version names the vertical, the
cut-off day and a digest of how the fit was made (horizon, features, settings of the fit, library version), so
a refit made differently never overwrites or reuses a model it should not. The registry belongs to the
warehouse of the same home: a version is the same wherever the same rows are fitted the same way."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import sklearn
from pydantic import BaseModel, ConfigDict

from orchestration.model_files import dump_model, load_model_file, model_file

from . import training
from .features import FEATURES
from .model import BOOSTING, MAX_PRIOR_SHIFT, RECENCY_CAP_QUANTILE

CARD_FILE = "card.json"


class ModelCard(BaseModel):
    """What a fitted model is and how good it was on the days after its calibration slice."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    vertical: str
    horizon_days: int
    cutoff: date
    training_window: dict[str, tuple[date, date]]
    features: list[str]
    rows: dict[str, int]
    test: dict[str, float]
    baseline_roc_auc: dict[str, float]  # recency baselines on the same test days
    accepted: bool  # beats every baseline: the model scores; otherwise the rules stand in
    recency_cap_days: float  # recency features were capped here (the training history's long silences)
    prior_shift_logit: float = 0.0  # log-odds shift of the scores towards the recent days (model.prior_shift)
    boosting: dict[str, Any]
    library: dict[str, str]
    warehouse: str
    fitted_at: datetime
    fit_seconds: float


def registry_root(home: Path) -> Path:
    return Path(home) / "models" / "churn"


def model_version(vertical: str, horizon_days: int, cutoff: date, unsettled_days: int = 0) -> str:
    """<vertical>-<cutoff yyyymmdd>-<digest of how the fit is made>. unsettled_days (the lookback the slices skip)
    moves the slices, hence the fit: another lookback is another model."""
    spec = {
        "vertical": vertical, "horizon_days": horizon_days, "features": FEATURES, "boosting": BOOSTING,
        "unsettled_days": unsettled_days, "settled_slices": "matured and recent",  # both skip the unsettled days
        "training": [training.TRAINING_WINDOW_DAYS, training.CALIBRATION_DAYS, training.TEST_DAYS,
                     training.MIN_TRAIN_DAYS, training.MAX_TRAIN_ROWS, training.MAX_HOLDOUT_ROWS],
        "prior_shift": [training.SHIFT_OUTCOME_DAYS, training.RECENT_DAYS, MAX_PRIOR_SHIFT],
        "scikit-learn": sklearn.__version__, "recency_cap_quantile": RECENCY_CAP_QUANTILE,
    }
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:10]
    return f"{vertical}-{cutoff:%Y%m%d}-{digest}"


def save_model(root: Path, model: Any, card: ModelCard) -> Path:
    """Write the model and its card into root/<version>/ atomically (a folder renamed into place)."""
    root.mkdir(parents=True, exist_ok=True)
    target = root / card.version
    staging = Path(tempfile.mkdtemp(prefix=f".{card.version}-", dir=root))
    try:
        dump_model(model, staging)
        (staging / CARD_FILE).write_text(card.model_dump_json(indent=2))
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def has_model(root: Path, version: str) -> bool:
    return model_file(root / version) is not None and (root / version / CARD_FILE).is_file()


def load_card(root: Path, version: str) -> ModelCard:
    return ModelCard.model_validate_json((root / version / CARD_FILE).read_text())


def load_model(root: Path, version: str) -> Any:
    """The fitted model of a version (cached in the process: a week of days reuses one model)."""
    path = model_file(root / version)
    if path is None:
        raise FileNotFoundError(f"churn model folder {root / version} has no model file")
    return _load(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _load(path: Path, _mtime_ns: int) -> Any:
    return load_model_file(path)
