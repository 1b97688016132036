"""The rows the recall_outbox suite validates, built in SQL from the outbox history and the users'
consent as of each action day (read independently of the planner's own consent check)."""

from __future__ import annotations

from datetime import date

import duckdb

from orchestration.quality.sql_contract import validate_relation
from orchestration.quality.suites import ValidationSummary

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


def validate_outbox(con: duckdb.DuckDBPyConnection, first_day: date, last_day: date) -> ValidationSummary:
    """The outbox contract on the queued rows of recall_actions for action_date in [first_day, last_day]."""
    return validate_relation(con, OUTBOX_WITH_CONSENT, "recall_outbox", [first_day, last_day])
