"""The uplift models' features: what the planner knows about a user on the planning day (the tier
row of user_risk_tiers, the segment, the churn probability and the predicted 12-month value when
present), turned into one float matrix. Categories are coded from the library's fixed vocabularies
(unknown or missing: NaN, which the gradient boosting routes on its own), so a model and the day it
scores always agree on the codes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from orchestration.recall.eligibility import fired_signals
from orchestration.recall.library import LIFECYCLE_STAGES, RISK_LEVELS, SEGMENTS, SIGNALS, SPECIAL_TIERS, VALUE_TIERS

CATEGORICAL: dict[str, tuple[str, ...]] = {
    "lifecycle_stage": LIFECYCLE_STAGES, "risk_level": RISK_LEVELS, "value_tier": VALUE_TIERS,
    "segment": SEGMENTS, "special_tier": SPECIAL_TIERS,
}
NUMERIC: tuple[str, ...] = (
    "risk_score", "silent_days", "silence_grade", "days_since_signup", "days_since_last_key_action",
    "orders_90d", "revenue_90d", "r_score", "f_score", "m_score", "signal_count", "value_check_score",
    "is_high_value_dormant", "value_depth", "value_duration", "value_decision",
    # from the churn-probability mart (issue 10) and the 12-month value model, when the frame carries them
    "churn_probability", "rules_risk_score", "predicted_value_12m",
)
SIGNAL_PREFIX = "signal:"


def available_features(frame: pd.DataFrame) -> list[str]:
    """The feature names `frame` can provide, in a fixed order; columns wholly null are left out."""
    names = [c for c in CATEGORICAL if c in frame.columns and frame[c].notna().any()]
    names += [c for c in NUMERIC if c in frame.columns and frame[c].notna().any()]
    if "signals_fired" in frame.columns:
        names += [SIGNAL_PREFIX + s for s in SIGNALS]
    return names


def categorical_mask(names: list[str]) -> list[bool]:
    return [name in CATEGORICAL for name in names]


def feature_matrix(frame: pd.DataFrame, names: list[str]) -> np.ndarray:
    """float32 matrix (rows of `frame`, `names`); a ValueError lists the columns a feature needs and
    the frame lacks (a model never scores with features silently missing)."""
    needed = {"signals_fired" if n.startswith(SIGNAL_PREFIX) else n for n in names}
    missing = sorted(needed - set(frame.columns))
    if missing:
        raise ValueError(f"the frame lacks feature columns the model was trained with: {', '.join(missing)}")
    out = np.empty((len(frame), len(names)), dtype=np.float32)
    signals = fired_signals(frame) if any(n.startswith(SIGNAL_PREFIX) for n in names) else None
    for j, name in enumerate(names):
        if name in CATEGORICAL:
            codes = pd.Categorical(frame[name], categories=CATEGORICAL[name]).codes.astype(np.float32)
            codes[codes < 0] = np.nan
            out[:, j] = codes
        elif name.startswith(SIGNAL_PREFIX):
            out[:, j] = signals[name[len(SIGNAL_PREFIX):]].to_numpy(dtype=np.float32)
        else:
            out[:, j] = pd.to_numeric(frame[name].astype("Float64") if frame[name].dtype == bool else frame[name],
                                      errors="coerce").to_numpy(dtype=np.float32, na_value=np.nan)
    return out
