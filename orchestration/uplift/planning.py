"""The targeting policies the daily planner can run (Settings.recall_policy), as deciders for
recall.actions.propose: `uplift` chooses by expected incremental profit (decisions.decide, the rules
while no model is mature), `risk` keeps the rules' strategies and fills the budgets by churn
probability (decisions.decide_by_risk), `rules` is the first matching strategy by priority."""

from __future__ import annotations

from datetime import date
from typing import Literal

import pandas as pd

from orchestration.recall.actions import Decider
from orchestration.recall.library import StrategyLibrary
from orchestration.uplift.decisions import DecisionInputs, decide, decide_by_risk
from orchestration.uplift.training import OUTCOMES, UpliftScorer

Policy = Literal["uplift", "risk", "rules"]
POLICIES: tuple[str, ...] = ("uplift", "risk", "rules")


def mature(model: UpliftScorer | None) -> UpliftScorer | None:
    """The model when it can score at least one treatment's revenue, else None (the decision then
    says `no_mature_model` instead of naming a model that decided nothing)."""
    if model is None or not any(model.mature_keys(o) for o in OUTCOMES if o.startswith("revenue")):
        return None
    return model


def decider(policy: Policy, day: date, vertical: str, library: StrategyLibrary, users: pd.DataFrame | None,
            model: UpliftScorer | None = None) -> Decider | None:
    """The decider of planning day `day` under `policy` (None for the rules: the planner matches itself).

    users: user_id and the opt-in flags (who can be reached, for the budgets); model: the uplift model
    of the day (registry.latest_model), used by the uplift policy only."""
    if policy not in POLICIES:
        raise ValueError(f"unknown recall policy {policy!r}: expected one of {', '.join(POLICIES)}")
    if policy == "rules":
        return None
    if policy == "risk":
        return lambda tiers, committed: decide_by_risk(DecisionInputs(day, tiers, vertical, users, committed), library)
    scorer = mature(model)
    return lambda tiers, committed: decide(DecisionInputs(day, tiers, vertical, users, committed), library, scorer)
