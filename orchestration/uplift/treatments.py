"""Treatments: what the strategy library allows, as the units the uplift models learn and the decision
chooses between.

A **treatment key** names one strategy's ladder with a fixed variant on each A/B-tested step:
`<strategy_id>` for a strategy without variants, `<strategy_id>/<step>=<variant>[/<step>=<variant>...]`
otherwise (e.g. `dormant_medium_coupon/1=coupon_15pct`; steps numbered from 1 as in recall_actions).
Each key therefore fixes the channels, templates and benefits of every step. When the decision
policy does not choose variants (`economics.decision.choose_variants: false`) the key is the bare
strategy id and its variants stay drawn by the planner's hash, as in the rules.

A treatment's randomized evidence is the strategy's treatment journeys that were served exactly
those variants, against the strategy's control journeys (strategy holdout and global holdout): the
arm and the variants are independent keyed hashes, so every variant has the whole control arm as
its control."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from itertools import product

import numpy as np
import pandas as pd

from orchestration.recall.actions import match_mask
from orchestration.recall.assignment import CONTROL, TREATMENT, assign_variant
from orchestration.recall.library import Strategy, StrategyLibrary, Variant

STEP_SEPARATOR, VARIANT_SEPARATOR = "/", "="


def treatment_key(strategy_id: str, variants: dict[int, str] | None = None) -> str:
    """`strategy` or `strategy/1=a/2=b` (steps in order)."""
    parts = [strategy_id] + [f"{step}{VARIANT_SEPARATOR}{variant}" for step, variant in sorted((variants or {}).items())]
    return STEP_SEPARATOR.join(parts)


def parse_treatment_key(key: str) -> tuple[str, dict[int, str]]:
    """(strategy_id, {step: variant}) of a treatment key; ValueError on a malformed key."""
    strategy_id, *parts = key.split(STEP_SEPARATOR)
    variants: dict[int, str] = {}
    for part in parts:
        step, sep, variant = part.partition(VARIANT_SEPARATOR)
        if not sep or not step.isdigit() or not variant:
            raise ValueError(f"malformed treatment key {key!r}: expected <strategy>/<step>=<variant>")
        variants[int(step)] = variant
    if not strategy_id:
        raise ValueError(f"malformed treatment key {key!r}: no strategy")
    return strategy_id, variants


@dataclass(frozen=True)
class Treatment:
    """One treatment: a strategy's ladder with the variant of each A/B step fixed (or left to the hash
    when `variants` is empty on a strategy that has A/B steps and variants are not chosen)."""

    key: str
    strategy: Strategy
    variants: dict[int, str] = field(default_factory=dict)

    def step_arms(self) -> list[list[Variant]]:
        """Per step, the variants the treatment may serve (one when fixed, all with their shares otherwise)."""
        out = []
        for number, step in enumerate(self.strategy.steps, start=1):
            arms = step.arms()
            chosen = self.variants.get(number)
            out.append([a for a in arms if a.id == chosen] if chosen else arms)
        return out

    @property
    def first_channel(self) -> str | None:
        """The channel of step 1 when it is fixed (None when an unfixed A/B step mixes channels)."""
        channels = {a.channel for a in self.step_arms()[0]}
        return channels.pop() if len(channels) == 1 else None


def strategy_treatments(strategy: Strategy, choose_variants: bool = True) -> list[Treatment]:
    """Every treatment of a strategy: one per combination of its A/B variants (or one in all)."""
    tested = [(n, [a.id for a in step.arms()]) for n, step in enumerate(strategy.steps, start=1) if step.variants]
    if not tested or not choose_variants:
        return [Treatment(strategy.id, strategy)]
    steps = [n for n, _ in tested]
    return [Treatment(treatment_key(strategy.id, dict(zip(steps, combo))), strategy, dict(zip(steps, combo)))
            for combo in product(*(ids for _, ids in tested))]


def library_treatments(library: StrategyLibrary, choose_variants: bool = True) -> dict[str, Treatment]:
    """Every treatment of the library by key, strategies in priority order."""
    return {t.key: t for s in library.ordered() for t in strategy_treatments(s, choose_variants)}


def allowed_treatments(tiers: pd.DataFrame, library: StrategyLibrary, send_day: date, vertical: str,
                       choose_variants: bool = True) -> pd.DataFrame:
    """One row per (tier row, allowed treatment): the strategies active on the send day for the
    vertical whose match targets the row, each with its treatments.

    Columns: row (position in `tiers`), user_id, treatment_key, strategy_id, priority, service."""
    rows, keys, strategies, priorities, service = [], [], [], [], []
    for strategy in library.ordered():
        if not strategy.is_active(send_day, vertical):
            continue
        matched = np.flatnonzero(match_mask(tiers, strategy).to_numpy(dtype=bool))
        if not len(matched):
            continue
        for treatment in strategy_treatments(strategy, choose_variants):
            rows.append(matched)
            keys.append(np.full(len(matched), treatment.key, dtype=object))
            strategies.append(np.full(len(matched), strategy.id, dtype=object))
            priorities.append(np.full(len(matched), strategy.priority, dtype=np.int64))
            service.append(np.full(len(matched), strategy.service, dtype=bool))
    if not rows:
        return pd.DataFrame({"row": pd.Series(dtype=np.int64), "user_id": pd.Series(dtype=object),
                             "treatment_key": pd.Series(dtype=object), "strategy_id": pd.Series(dtype=object),
                             "priority": pd.Series(dtype=np.int64), "service": pd.Series(dtype=bool)})
    row = np.concatenate(rows)
    # Object columns kept as such: inferring a string dtype for millions of pairs costs seconds.
    return pd.DataFrame({"row": row, "user_id": pd.Series(tiers["user_id"].to_numpy(dtype=object)[row], dtype=object),
                         "treatment_key": pd.Series(np.concatenate(keys), dtype=object),
                         "strategy_id": pd.Series(np.concatenate(strategies), dtype=object),
                         "priority": np.concatenate(priorities), "service": np.concatenate(service)})


def journey_treatment_keys(journeys: pd.DataFrame, library: StrategyLibrary, choose_variants: bool = True) -> pd.Series:
    """The treatment key each assigned journey received; null for control journeys (they are the
    control of every treatment of their strategy).

    journeys: user_id, strategy_id, arm, and optionally treatment_key (what the decision recorded).
    Without a recorded key the variants are re-derived from the planner's keyed hash (the rules'
    assignment: a user sees the same variant of a step on every journey)."""
    missing = [c for c in ("user_id", "strategy_id", "arm") if c not in journeys.columns]
    if missing:
        raise ValueError(f"journeys lack required columns: {', '.join(missing)}")
    unknown_arms = set(journeys["arm"].dropna().unique()) - {TREATMENT, CONTROL}  # unique(): not a Python loop
    if unknown_arms:
        raise ValueError(f"journeys have unknown arms {sorted(unknown_arms)}")
    keys = pd.Series(None, index=journeys.index, dtype=object)
    recorded = journeys["treatment_key"] if "treatment_key" in journeys.columns else pd.Series(None, index=journeys.index)
    treated = (journeys["arm"] == TREATMENT).to_numpy()
    known = {s.id: s for s in library.strategies}
    for strategy_id, index in journeys.index[treated].groupby(journeys.loc[treated, "strategy_id"]).items():
        strategy = known.get(strategy_id)
        if strategy is None:  # a strategy removed from the library: its journeys teach nothing current
            continue
        tested = [(n, step) for n, step in enumerate(strategy.steps, start=1) if step.variants]
        if not tested or not choose_variants:
            keys.loc[index] = strategy_id
            continue
        derived = pd.Series(strategy_id, index=index, dtype=object)
        for number, step in tested:
            arms = step.arms()
            chosen = assign_variant(journeys.loc[index, "user_id"], strategy_id, number, [a.id for a in arms],
                                    [a.share for a in arms], library.salt)
            derived = derived + f"{STEP_SEPARATOR}{number}{VARIANT_SEPARATOR}" + chosen
        keys.loc[index] = recorded.loc[index].where(recorded.loc[index].notna(), derived)
    return keys
