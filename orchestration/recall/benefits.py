"""Personal benefits: a coupon sized from the user's own orders (e.g. 20% of the average order,
bounded and rounded to amounts operators like), unique coupon codes, and the texts and expected
costs templates and the value rule use."""

from __future__ import annotations

import numpy as np
import pandas as pd

from orchestration.recall.assignment import hash_key, stable_hash
from orchestration.recall.library import Benefit

_BASE32 = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ23456789"))  # no I, O, 0, 1: read out on calls


def coupon_value(benefit: Benefit, avg_order_value: pd.Series) -> np.ndarray:
    """Benefit value per user. Coupons: share_of_order x average order, rounded to `round_to`,
    kept within [min_value, max_value] (users without orders get min_value); others: the fixed value."""
    if benefit.kind != "coupon":
        return np.full(len(avg_order_value), float(benefit.value))
    raw = benefit.share_of_order * pd.to_numeric(avg_order_value, errors="coerce").fillna(0).to_numpy(dtype=float)
    rounded = np.floor(raw / benefit.round_to + 0.5) * benefit.round_to
    return np.clip(rounded, benefit.min_value, benefit.max_value)


def coupon_codes(journey_ids: pd.Series, benefit_names: pd.Series, prefix: str, salt: str) -> np.ndarray:
    """PREFIX-XXXXXX-XXXXXX: 60 bits of a keyed hash of journey and benefit (unique in practice;
    the outbox audit checks it), stable across re-runs of the day."""
    hashes = stable_hash(journey_ids.astype(str) + "|" + benefit_names.astype(str), hash_key(salt, "coupon"))
    shifts = np.arange(55, -1, -5, dtype=np.uint64)
    digits = _BASE32[((hashes[:, None] >> shifts) & np.uint64(31)).astype(np.intp)]
    if not len(hashes):
        return np.array([], dtype=object)
    left = digits[:, :6].copy().view("<U6").ravel()
    right = digits[:, 6:].copy().view("<U6").ravel()
    return np.char.add(np.char.add(f"{prefix}-", np.char.add(left, "-")), right).astype(object)


def benefit_text(benefit: Benefit, values: np.ndarray, currency_symbol: str) -> np.ndarray:
    """'$15 coupon' for coupons, the label otherwise."""
    if benefit.kind == "coupon":
        amounts = np.array([f"{v:g}" for v in values], dtype=object)
        return currency_symbol + amounts + " " + benefit.label
    return np.full(len(values), benefit.label, dtype=object)


def expected_benefit_cost(benefit: Benefit | None, value: np.ndarray | float, redemption_rate: float) -> np.ndarray | float:
    """Expected cost to the business: coupon value x redemption rate, or the pack's unit cost."""
    if benefit is None:
        return 0.0 * value
    if benefit.kind == "coupon":
        return value * redemption_rate
    return benefit.unit_cost + 0.0 * value
