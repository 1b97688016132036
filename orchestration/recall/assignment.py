"""Deterministic treatment/control assignment: a keyed hash of the user id, salted per strategy (and, for a
journey's arm, its send day), mapped to [0, 1); users below the holdout share form the control arm. Same inputs,
same arm, in any process and on any platform (SipHash via pandas, no Python hash randomisation)."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

TREATMENT = "treatment"
CONTROL = "control"

_ARMS = np.array([TREATMENT, CONTROL], dtype=object)
_HEX = np.array(list("0123456789abcdef"))
_NIBBLE_SHIFTS = np.arange(60, -1, -4, dtype=np.uint64)


def hash_key(*parts: str) -> str:
    """16-character key for pandas' SipHash, derived from the parts (pandas requires 16 bytes)."""
    return hashlib.blake2b("|".join(parts).encode("utf-8"), digest_size=8).hexdigest()


def stable_hash(values: pd.Series, key: str) -> np.ndarray:
    """uint64 SipHash-2-4 of each value's UTF-8 text under `key`; independent of dtype and process."""
    text = values.astype(str).to_numpy(dtype=object)
    return pd.util.hash_array(text, hash_key=key, categorize=False)


def unit_interval(hashes: np.ndarray) -> np.ndarray:
    """Map uint64 hashes to floats in [0, 1) using the top 53 bits (exact in float64)."""
    return (hashes >> np.uint64(11)).astype(np.float64) * 2.0**-53


def hex16(hashes: np.ndarray) -> np.ndarray:
    """Vectorised 16-digit lowercase hex of uint64 values."""
    nibbles = (hashes[:, None] >> _NIBBLE_SHIFTS) & np.uint64(0xF)
    return _HEX[nibbles.astype(np.intp)].view("<U16").ravel() if len(hashes) else np.array([], "<U16")


def assign_arm(user_ids: pd.Series, strategy_id: str, holdout_share: float, salt: str, draw: str = "") -> pd.Series:
    """'control' when the user's hash point is below holdout_share, else 'treatment'; keeps the index.

    `draw` names the randomisation: the planner passes the journey's send day, so that every journey is a fresh
    draw (a user held out once is not held out for ever: docs/recall.md says why the measurement needs this)."""
    if not 0 <= holdout_share < 1:
        raise ValueError(f"holdout_share must be in [0, 1), got {holdout_share}")
    key = hash_key(salt, strategy_id, draw) if draw else hash_key(salt, strategy_id)
    points = unit_interval(stable_hash(user_ids, key))
    # Index into a two-element object array: much faster than np.where over strings.
    arms = _ARMS[(points < holdout_share).astype(np.intp)]
    return pd.Series(arms, index=user_ids.index, name="arm", dtype=object, copy=False)


def in_global_holdout(user_ids: pd.Series, share: float, salt: str) -> np.ndarray:
    """Users kept out of every strategy (the global holdout): a hash point below `share`."""
    if share <= 0:
        return np.zeros(len(user_ids), dtype=bool)
    return unit_interval(stable_hash(user_ids, hash_key(salt, "global-holdout"))) < share


def assign_variant(user_ids: pd.Series, strategy_id: str, step: int, ids: list[str], shares: list[float], salt: str) -> np.ndarray:
    """A/B variant of a step per user: the hash point falls into one share's slice of [0, 1).

    Keyed on strategy and step, not the day: a user sees the same variant on every journey."""
    if len(ids) == 1:
        return np.full(len(user_ids), ids[0], dtype=object)
    points = unit_interval(stable_hash(user_ids, hash_key(salt, strategy_id, f"step{step}", "variant")))
    edges = np.cumsum(shares)[:-1]
    return np.asarray(ids, dtype=object)[np.searchsorted(edges, points, side="right")]
