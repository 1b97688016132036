"""The frame the recall_outbox suite validates, built in SQL from the outbox history and the users'
consent as of each action day (read independently of the planner's own consent check)."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

OUTBOX_WITH_CONSENT = """
select
    actions.action_id, actions.user_id, actions.action_date, actions.arm, actions.channel, actions.status,
    coalesce(case actions.channel
        when 'push' then users.push_opt_in
        when 'sms' then users.sms_opt_in
        when 'call' then users.call_opt_in
        -- an in-app message needs no opt-in, only a user known on the day (docs/recall.md)
        when 'in_app' then users.user_id is not null
    end, false) as has_consent
from recall_actions as actions
left join int_user_versions as users
    on users.user_id = actions.user_id
    and users.valid_from < actions.action_date + 1
    and (users.valid_to is null or users.valid_to >= actions.action_date + 1)
where actions.status = 'queued' and actions.action_date >= ? and actions.action_date <= ?
"""


def outbox_contract_frame(con: duckdb.DuckDBPyConnection, first_day: date, last_day: date) -> pd.DataFrame:
    """Queued rows of recall_actions for action_date in [first_day, last_day], with has_consent."""
    return con.execute(OUTBOX_WITH_CONSENT, [first_day, last_day]).df()
