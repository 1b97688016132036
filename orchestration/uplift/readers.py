"""What a refit of the uplift models reads from the warehouse, point in time: the journeys assigned
in recall_actions (first row of each), their outcomes in recall_outcomes and the tier rows of their
planning days (what the decision saw), turned into training.training_frame."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from orchestration.recall.library import StrategyLibrary
from orchestration.recall.readers import tier_segment_sql
from orchestration.uplift.training import OUTCOMES, training_frame
from orchestration.warehouse.io import read_frame, table_exists

# The first step of every journey planned before `through` (assigned on action_date + 1 <= through).
JOURNEYS = """
select journey_id, user_id, strategy_id, arm, action_date, {treatment_key} as treatment_key
from recall_actions
where journey_id is not null and step = 1 and action_date < ?
order by journey_id
"""
OUTCOME_COLUMNS = ", ".join(c for name in OUTCOMES for c in (name, f"{name}_mature"))
OUTCOMES_SQL = f"""
select action_id as journey_id, wake_up_window_days, {OUTCOME_COLUMNS}
from recall_outcomes
where action_id in (select journey_id from training_journeys)
"""
FEATURES = """
select tiers.*, {segment} as segment
from user_risk_tiers as tiers
join (select distinct user_id, action_date from training_journeys) as planned
    on planned.user_id = tiers.user_id and planned.action_date = tiers.tier_date {join}
"""


# What a refit through `through` would read that a model trained through `since` did not: journeys planned on
# `since` .. `through` - 1 (that model read those planned before `since`), and outcomes measured after `since`.
PLANNED_SINCE = """
select exists (select 1 from recall_actions
               where journey_id is not null and step = 1 and action_date >= ? and action_date < ?)
"""
MEASURED_SINCE = "select exists (select 1 from recall_outcomes where measured_through > ?)"


def has_news(con: duckdb.DuckDBPyConnection, since: date, through: date) -> bool:
    """Whether journeys were planned, or outcomes measured, since a model trained through `since`."""
    if not table_exists(con, "recall_actions"):
        return False
    if con.execute(PLANNED_SINCE, [since, through]).fetchone()[0]:
        return True
    return table_exists(con, "recall_outcomes") and bool(con.execute(MEASURED_SINCE, [since]).fetchone()[0])


def read_training(con: duckdb.DuckDBPyConnection, library: StrategyLibrary, through: date) -> pd.DataFrame:
    """The training frame of a model trained through `through` (empty without journeys yet)."""
    if not table_exists(con, "recall_actions"):
        return pd.DataFrame()
    columns = {row[0] for row in con.execute("describe recall_actions").fetchall()}
    journeys = read_frame(con, JOURNEYS.format(treatment_key="treatment_key" if "treatment_key" in columns else "null"),
                          [through])
    if journeys.empty:
        return pd.DataFrame()
    con.register("training_journeys", journeys)
    try:
        outcomes = read_frame(con, OUTCOMES_SQL) if table_exists(con, "recall_outcomes") else \
            pd.DataFrame(columns=["journey_id", "wake_up_window_days", *OUTCOME_COLUMNS.split(", ")])
        features = read_frame(con, FEATURES.format(**tier_segment_sql(con)))
    finally:
        con.unregister("training_journeys")
    features = features.sort_values(["tier_date", "user_id"], kind="stable").reset_index(drop=True)
    return training_frame(journeys, outcomes, features, library, as_of=through)
