"""Rendered messages (they name the user) are kept apart from the decisions, in the restricted schema,
joined back only for the outbox export; a warehouse written before that has them moved out of main."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from orchestration.recall.messages import MESSAGES_TABLE, split_messages, with_messages
from orchestration.warehouse.migrations import MIGRATIONS
from orchestration.warehouse import replace_rows

DAY = date(2026, 2, 1)


def _actions() -> pd.DataFrame:
    return pd.DataFrame({"action_id": ["a1", "a2"], "action_date": [DAY, DAY], "user_id": ["u1", "u2"],
                         "status": ["queued", "holdout"], "message": ["Ann, a coupon for you", None]})


def test_messages_are_split_off_and_joined_back_for_the_export() -> None:
    decided, messages = split_messages(_actions())
    assert "message" not in decided.columns and messages.to_dict("records") == [
        {"action_id": "a1", "action_date": DAY, "message": "Ann, a coupon for you"}]
    con = duckdb.connect()
    con.execute("create table recall_actions (action_id varchar, action_date date, user_id varchar, status varchar)")
    con.execute("insert into recall_actions select * from decided")
    replace_rows(con, MESSAGES_TABLE, messages, "action_date = ?", [DAY])
    joined = with_messages(con, "select * from recall_actions where action_date = ?", [DAY]).sort_values("action_id")
    assert joined["message"].tolist()[0] == "Ann, a coupon for you" and pd.isna(joined["message"].tolist()[1])


def test_the_migration_moves_an_older_warehouses_messages_out_of_main() -> None:
    con = duckdb.connect()
    con.execute("create table recall_actions as select * from (values ('a1', date '2026-02-01', 'Hi Ann'), "
                "('a2', date '2026-02-01', null)) as t(action_id, action_date, message)")
    con.execute("create table recall_outbox as select action_id, message from recall_actions where message is not null")
    [messages_apart] = [m for m in MIGRATIONS if m.version == 2]
    messages_apart.apply(con)
    messages_apart.apply(con)  # once moved, nothing more to do
    assert con.execute(f"select action_id, message from {MESSAGES_TABLE}").fetchall() == [("a1", "Hi Ann")]
    left = con.execute("select count(*) from information_schema.columns where table_schema = 'main' "
                       "and column_name = 'message'").fetchall()[0][0]
    assert left == 0
