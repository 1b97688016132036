"""Recall policy (domain logic, no Dagster): the strategy library, the journey cadence, guardrails,
personal benefits and templates, hash-based holdouts and variants, and the daily plan with its outbox."""

from orchestration.recall.actions import (
    ACTION_COLUMNS,
    OUTBOX_COLUMNS,
    DayInputs,
    finalize,
    holdout_assignments,
    outbox,
    plan_day,
    propose,
)
from orchestration.recall.assignment import assign_arm
from orchestration.recall.cadence import history_days
from orchestration.recall.library import (
    Strategy,
    StrategyLibrary,
    StrategyLibraryError,
    load_strategy_library,
    parse_strategy_library,
)

__all__ = [
    "ACTION_COLUMNS", "OUTBOX_COLUMNS", "DayInputs", "Strategy", "StrategyLibrary", "StrategyLibraryError",
    "assign_arm", "finalize", "history_days", "holdout_assignments", "load_strategy_library", "outbox",
    "parse_strategy_library", "plan_day", "propose",
]
