"""A synthetic randomized recall history with known, heterogeneous true effects: users with tier
features, each assigned one of the treatments the library allows them at random and split by the
strategies' holdout hashes, with outcomes = what happens anyway + the true effect of the treatment.
Used to test that the uplift models recover who gains, and by the planning benchmark; the
`TrueEffectScorer` knows every effect (the oracle policy of the design card).

The truth, per treatment and user, in revenue over 90 days (30 days: half; wake-up: a probability):
- coupons move price-sensitive users most, gift packs and points social users, care messages
  feature-dependent users; a per-treatment factor makes variants and strategies differ;
- the effect grows with what the user spent in the last 90 days;
- "sleeping dogs": contacting a high-value user who was active in the last 10 days loses revenue
  (contact pushes them away), the negative effects a policy must learn to avoid."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from orchestration.recall.assignment import CONTROL, TREATMENT, assign_arm, hash_key, in_global_holdout, stable_hash, unit_interval
from orchestration.recall.library import SIGNALS, StrategyLibrary
from orchestration.uplift.treatments import Treatment, allowed_treatments, library_treatments

STAGES = ("at_risk", "dormant_light", "dormant_medium", "dormant_severe", "churned", "active")
SEGMENT_AFFINITY = {  # how much each kind of treatment moves each segment
    "coupon": {"price_sensitive": 1.0, "feature_dependent": 0.1, "social_driven": 0.3, "unclassified": 0.3},
    "gift": {"price_sensitive": 0.4, "feature_dependent": 0.3, "social_driven": 0.9, "unclassified": 0.3},
    "care": {"price_sensitive": 0.05, "feature_dependent": 0.8, "social_driven": 0.4, "unclassified": 0.2},
}
SLEEPING_DOG_HARM = 25.0


def synthetic_tiers(n: int, seed: int = 0) -> pd.DataFrame:
    """n users' tier rows (user_risk_tiers columns the strategies match on and the models read)."""
    rng = np.random.default_rng(seed)
    ids = pd.Series(np.char.add("u", np.char.zfill(np.arange(n).astype(str), 8)), dtype=object)
    stage = rng.choice(STAGES, n, p=[0.25, 0.2, 0.15, 0.12, 0.13, 0.15])
    silent = np.select([stage == "active", stage == "at_risk", stage == "dormant_light", stage == "dormant_medium",
                        stage == "dormant_severe"], [rng.integers(0, 3, n), rng.integers(3, 7, n), rng.integers(7, 14, n),
                                                     rng.integers(14, 30, n), rng.integers(30, 60, n)], rng.integers(60, 120, n))
    orders = rng.poisson(np.where(silent < 30, 2.5, 0.8))
    revenue = (orders * rng.gamma(2.0, 35.0, n)).round(2)
    value_tier = np.where((orders >= 4) & (revenue >= 250), "high", np.where(orders > 0, "medium", "low"))
    signal_names = np.array(SIGNALS[:8])
    fired = rng.random((n, len(signal_names))) < 0.07
    signals = pd.Series([",".join(signal_names[row]) for row in fired], dtype=object)
    return pd.DataFrame({
        "user_id": ids, "lifecycle_stage": stage, "risk_level": "medium", "value_tier": value_tier,
        "segment": rng.choice(["price_sensitive", "feature_dependent", "social_driven", "unclassified"], n),
        "special_tier": None, "is_high_value_dormant": (value_tier == "high") & (stage != "active") & (silent < 30),
        "risk_score": np.minimum(100.0, 60 * np.minimum(silent, 60) / 60 + 10 * fired.sum(axis=1)).round(1),
        "silent_days": silent, "days_since_last_key_action": silent + rng.integers(0, 5, n),
        "orders_90d": orders, "revenue_90d": revenue, "signals_fired": signals, "signal_count": fired.sum(axis=1),
        "value_depth": revenue >= 200, "value_duration": orders >= 2, "value_decision": rng.random(n) < 0.2,
        "churn_probability": np.clip(0.15 + silent / 150 + rng.normal(0, 0.1, n), 0.01, 0.99).round(3),
    })


def _kind(treatment: Treatment, library: StrategyLibrary) -> str:
    benefits = [library.benefits[a.benefit].kind for arms in treatment.step_arms() for a in arms if a.benefit]
    if "coupon" in benefits:
        return "coupon"
    return "gift" if benefits else "care"


def true_effects(tiers: pd.DataFrame, treatment: Treatment, library: StrategyLibrary) -> dict[str, np.ndarray]:
    """The true effect of the treatment on each row: revenue_90d, revenue_30d and woke_up."""
    factor = 0.5 + unit_interval(stable_hash(pd.Series([treatment.key]), hash_key("synthetic-effect")))[0]
    affinity = tiers["segment"].map(SEGMENT_AFFINITY[_kind(treatment, library)]).fillna(0.2).to_numpy(dtype=float)
    spend = pd.to_numeric(tiers["revenue_90d"], errors="coerce").fillna(0).to_numpy(dtype=float)
    dog = ((tiers["value_tier"] == "high") & (pd.to_numeric(tiers["silent_days"]) < 10)).to_numpy()
    revenue_90d = factor * affinity * (8.0 + 0.12 * spend) - dog * SLEEPING_DOG_HARM
    return {"revenue_90d": revenue_90d, "revenue_30d": 0.5 * revenue_90d,
            "woke_up": np.clip(0.08 * factor * affinity - 0.06 * dog, -0.2, 0.3)}


def synthetic_history(library: StrategyLibrary, n_users: int, first_day: date, days: int = 60, seed: int = 0,
                      vertical: str = "ecommerce") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training frame, truth): one journey per user who matches a strategy, on a random day, with a
    treatment drawn uniformly among those allowed and the arm from the holdout hashes; outcomes
    mature. truth: journey's user_id, treatment_key and true effects (revenue_90d, revenue_30d, woke_up)."""
    rng = np.random.default_rng(seed)
    tiers = synthetic_tiers(n_users, seed)
    pairs = allowed_treatments(tiers, library, first_day, vertical, library.economics.decision.choose_variants)
    if pairs.empty:
        raise ValueError("no synthetic user matches any strategy of the library")
    counts = np.bincount(pairs["row"], minlength=len(tiers))
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    matched = np.flatnonzero(counts)
    order = np.lexsort((np.arange(len(pairs)), pairs["row"].to_numpy()))
    pick = order[starts[matched] + (rng.random(len(matched)) * counts[matched]).astype(int)]
    journeys = pairs.iloc[pick].reset_index(drop=True)
    users = tiers.iloc[journeys["row"]].reset_index(drop=True)
    arm = np.full(len(journeys), TREATMENT, dtype=object)
    for strategy_id, index in journeys.groupby("strategy_id").groups.items():
        s = library.get(strategy_id)
        arm[index] = assign_arm(journeys.loc[index, "user_id"], s.id, s.holdout_share, library.salt).to_numpy()
    arm[in_global_holdout(journeys["user_id"], library.global_holdout_share, library.salt)] = CONTROL
    treated = arm == TREATMENT
    effects = {name: np.zeros(len(journeys)) for name in ("revenue_90d", "revenue_30d", "woke_up")}
    treatments = library_treatments(library, library.economics.decision.choose_variants)
    for key, index in journeys.groupby("treatment_key").groups.items():
        for name, values in true_effects(users.loc[index], treatments[key], library).items():
            effects[name][index] = values
    spend = users["revenue_90d"].to_numpy(dtype=float)
    stage_alive = users["lifecycle_stage"].map({"active": 0.8, "at_risk": 0.6, "dormant_light": 0.45, "dormant_medium": 0.3,
                                                "dormant_severe": 0.2, "churned": 0.1}).to_numpy(dtype=float)
    buys = rng.random(len(journeys)) < stage_alive
    base_90 = buys * (0.3 * spend + 10) * rng.lognormal(-0.1, 0.45, len(journeys))
    base_30 = base_90 * rng.uniform(0.25, 0.5, len(journeys))
    noise = rng.normal(0, 10, len(journeys))
    wake_p = np.clip(stage_alive * 0.5 + treated * effects["woke_up"], 0, 1)
    day = pd.Timestamp(first_day) + pd.to_timedelta(rng.integers(0, days, len(journeys)), unit="D")
    training = users.assign(
        strategy_id=journeys["strategy_id"], arm=arm, treatment_key=np.where(treated, journeys["treatment_key"], None),
        assignment_date=pd.Series(day).dt.date.to_numpy(),
        revenue_90d_outcome=base_90 + treated * (effects["revenue_90d"] + noise),
        revenue_30d_outcome=base_30 + treated * (effects["revenue_30d"] + noise / 2),
        woke_up_outcome=rng.random(len(journeys)) < wake_p,
    )
    training = training.rename(columns={f"{n}_outcome": f"outcome_{n}" for n in ("revenue_90d", "revenue_30d", "woke_up")})
    training = training.assign(outcome_woke_up_mature=True, outcome_revenue_30d_mature=True, outcome_revenue_90d_mature=True)
    truth = pd.DataFrame({"user_id": journeys["user_id"], "treatment_key": journeys["treatment_key"], **effects})
    return training, truth


class TrueEffectScorer:
    """The oracle: scores every treatment with its true effect (what no real policy can know)."""

    version = "oracle"

    def __init__(self, library: StrategyLibrary):
        self.library = library
        self.treatments = library_treatments(library, library.economics.decision.choose_variants)

    def mature_keys(self, outcome: str) -> set[str]:
        return set(self.treatments)

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame.reset_index(drop=True)

    def predict(self, prepared: pd.DataFrame, rows: np.ndarray, key: str, outcome: str) -> np.ndarray:
        return true_effects(prepared.iloc[rows], self.treatments[key], self.library)[outcome]
