"""The churn probability: a calibrated model of P(no key action in the next H days) learned point in time
from user_daily_labels, refit weekly, versioned in a registry, and the daily scores it writes (with the
rules standing in during a cold start)."""

from .features import FEATURE_NAMES, FEATURES
from .model import Quality, calibration_error, churn_probability, fit_model, quality
from .cadence import ModelInForce, ScoringContext, model_in_force, refit, unsettled_days
from .registry import ModelCard, load_card, load_model, model_version, registry_root
from .scores import DayScores, model_row, score_day, write_day_scores
from .training import MIN_MATURED_DAYS, TrainingWindow, training_window

__all__ = [
    "FEATURES", "FEATURE_NAMES", "MIN_MATURED_DAYS", "DayScores", "ModelCard", "ModelInForce", "Quality",
    "ScoringContext", "TrainingWindow", "calibration_error", "churn_probability", "fit_model", "load_card",
    "load_model", "model_in_force", "model_row", "model_version", "quality", "refit", "registry_root", "score_day",
    "training_window", "unsettled_days", "write_day_scores",
]
