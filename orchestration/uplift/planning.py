"""The targeting policies the daily planner can run (Settings.recall_policy), as deciders for
recall.actions.propose: `uplift` chooses by expected incremental profit (decisions.decide, the rules
while no model is mature), `risk` keeps the rules' strategies and fills the budgets by churn
probability (decisions.decide_by_risk), `rules` is the first matching strategy by priority; and the uplift model a
planning day uses (fitted by the day's run, or by the model_refits run the evening before)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Literal

import pandas as pd

from orchestration.recall.actions import Decider
from orchestration.recall.library import StrategyLibrary
from orchestration.uplift.decisions import DecisionInputs, decide, decide_by_risk
from orchestration.uplift.readers import has_news, read_training
from orchestration.uplift.registry import model_for_day
from orchestration.uplift.training import OUTCOMES, UpliftModelSet, UpliftScorer

if TYPE_CHECKING:
    import duckdb

    from orchestration.config import Settings

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


def uplift_model_of_day(con: duckdb.DuckDBPyConnection, settings: Settings, library: StrategyLibrary,
                        day: date) -> UpliftModelSet | None:
    """The uplift model of planning day `day`, refitted into the registry first when the cadence says so; None
    when the policy is not `uplift`, recall is not live that day, or there are no randomized journeys yet."""
    if settings.recall_policy != "uplift" or not settings.recall_live(day):
        return None
    con.execute("set TimeZone = 'UTC'")
    return model_for_day(settings.home, day, library, lambda through: read_training(con, library, through),
                         has_news=lambda since, through: has_news(con, since, through))
