"""Who may be recalled at all, beyond a strategy's stage and tier: the three-dimension value check
(depth of past value, duration of spend potential, a decision point in the user's lifecycle) of
user_daily_labels, and the early-warning signals fired on the day. Pure functions over the day's
tier rows, used by strategy matching (`match_mask`) and callable by the planner directly."""

from __future__ import annotations

import numpy as np
import pandas as pd

from orchestration.recall.library import SIGNALS, VALUE_CHECKS

# The short names a reason lists for the checks passed.
_CHECK_NAMES = {"value_depth": "depth", "value_duration": "duration", "value_decision": "decision"}


def value_checks_passed(tiers: pd.DataFrame) -> np.ndarray:
    """Number of value checks (0-3) each row passes: the three boolean columns when present, else
    `value_check_score`; a user without any of them passes none (unknown value is not value)."""
    if all(c in tiers.columns for c in VALUE_CHECKS):
        flags = np.column_stack([tiers[c].astype("boolean").fillna(False).to_numpy(dtype=bool) for c in VALUE_CHECKS])
        return flags.sum(axis=1)
    if "value_check_score" in tiers.columns:
        return pd.to_numeric(tiers["value_check_score"], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    return np.zeros(len(tiers), dtype=np.int64)


def value_check(tiers: pd.DataFrame, min_checks: int) -> pd.DataFrame:
    """Per tier row: value_checks_passed, value_eligible (passes >= min_checks of depth, duration and
    decision point) and value_check_reason, e.g. 'value_check:2/3(depth,decision)' or
    'value_check:0/3(none)'; the index is the tiers' index."""
    if not 0 <= min_checks <= len(VALUE_CHECKS):
        raise ValueError(f"min_checks must be 0..{len(VALUE_CHECKS)}, got {min_checks}")
    passed = value_checks_passed(tiers)
    if all(c in tiers.columns for c in VALUE_CHECKS):
        names = pd.Series("", index=tiers.index, dtype=object)
        for column in VALUE_CHECKS:
            hit = tiers[column].astype("boolean").fillna(False).to_numpy(dtype=bool)
            names = names.where(~hit, names + np.where(names == "", "", ",") + _CHECK_NAMES[column])
        names = names.where(names != "", "none")
    else:
        names = pd.Series("score", index=tiers.index, dtype=object)
    reason = "value_check:" + pd.Series(passed, index=tiers.index).astype(str) + f"/{len(VALUE_CHECKS)}(" + names + ")"
    return pd.DataFrame({"value_checks_passed": passed, "value_eligible": passed >= min_checks,
                         "value_check_reason": reason}, index=tiers.index)


def _signal_table(tiers: pd.DataFrame, signals: list[str] | tuple[str, ...]) -> np.ndarray:
    """(rows, signals) booleans: which of `signals` fired on each row, from `signals_fired`.

    The comma-separated text takes few distinct values (combinations of ten signals), so each
    distinct value is parsed once and the rows take its answer by code."""
    unknown = sorted(set(signals) - set(SIGNALS))
    if unknown:
        raise ValueError(f"unknown signals {unknown}; known: {', '.join(SIGNALS)}")
    if "signals_fired" not in tiers.columns:
        return np.zeros((len(tiers), len(signals)), dtype=bool)
    codes, uniques = pd.factorize(tiers["signals_fired"], use_na_sentinel=True)
    parsed = [{part.strip() for part in str(text).split(",")} for text in uniques]
    table = np.array([[name in fired for name in signals] for fired in parsed] + [[False] * len(signals)], dtype=bool)
    return table[codes]  # code -1 (missing) takes the last, all-false row


def fired_signals(tiers: pd.DataFrame) -> pd.DataFrame:
    """One boolean column per known signal (SIGNALS), from the comma-separated `signals_fired`
    column (empty or missing: none fired); the index is the tiers' index."""
    return pd.DataFrame(_signal_table(tiers, SIGNALS), columns=list(SIGNALS), index=tiers.index)


def any_signal(tiers: pd.DataFrame, signals: list[str]) -> np.ndarray:
    """True where at least one of `signals` fired (a single strong signal is enough to act)."""
    return _signal_table(tiers, signals).any(axis=1)
