"""Recall policy (domain logic, no Dagster): the strategy library, hash-based holdout assignment
and the daily plan of recall actions with its outbox."""

from orchestration.recall.actions import (
    ACTION_COLUMNS,
    OUTBOX_COLUMNS,
    outbox,
    outbox_contract_frame,
    plan_recall_actions,
)
from orchestration.recall.assignment import assign_arm
from orchestration.recall.library import (
    Strategy,
    StrategyLibrary,
    StrategyLibraryError,
    load_strategy_library,
    parse_strategy_library,
)

__all__ = [
    "ACTION_COLUMNS",
    "OUTBOX_COLUMNS",
    "Strategy",
    "StrategyLibrary",
    "StrategyLibraryError",
    "assign_arm",
    "load_strategy_library",
    "outbox",
    "outbox_contract_frame",
    "parse_strategy_library",
    "plan_recall_actions",
]
