"""Agreement of assigned behaviour segments with the simulator's true segments: accuracy by name and the
adjusted Rand index (label-free), over the users the clustering classified."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import comb

from orchestration.segments import UNCLASSIFIED


def adjusted_rand_index(a: np.ndarray, b: np.ndarray) -> float:
    """Hubert and Arabie's adjusted Rand index of two labelings of the same items."""
    table = pd.crosstab(pd.Series(a, name="a"), pd.Series(b, name="b")).to_numpy()
    n = table.sum()
    pairs = comb(table, 2).sum()
    rows, cols = comb(table.sum(axis=1), 2).sum(), comb(table.sum(axis=0), 2).sum()
    expected = rows * cols / comb(n, 2)
    top = (rows + cols) / 2
    return float((pairs - expected) / (top - expected)) if top != expected else 1.0


def segment_agreement(assigned: pd.DataFrame, truth_users: pd.DataFrame) -> dict[str, float]:
    """assigned: user_id, segment (one day); truth_users: user_id, segment. Accuracy and ARI on classified users."""
    merged = assigned[["user_id", "segment"]].merge(
        truth_users[["user_id", "segment"]].rename(columns={"segment": "true_segment"}), on="user_id"
    )
    classified = merged[merged["segment"] != UNCLASSIFIED]
    return {
        "users": float(len(merged)),
        "classified_share": float(len(classified) / len(merged)) if len(merged) else float("nan"),
        "accuracy": float((classified["segment"] == classified["true_segment"]).mean()),
        "adjusted_rand_index": adjusted_rand_index(classified["segment"].to_numpy(), classified["true_segment"].to_numpy()),
    }
