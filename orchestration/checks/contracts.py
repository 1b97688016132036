"""Great Expectations suites as asset checks: the events contract (warns) and the outbox contract,
which protects people (consent, holdout, one contact per day) and therefore blocks the export."""


from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from orchestration.partitions import daily_partitions
from orchestration.resources import Warehouse

# The outbox row joined with the consent the user had for that channel on the action day.
OUTBOX_WITH_CONSENT = """
select
    actions.user_id, actions.action_date, actions.arm, actions.channel, actions.status,
    coalesce(case actions.channel
        when 'push' then users.push_opt_in
        when 'sms' then users.sms_opt_in
        when 'call' then users.call_opt_in
    end, false) as has_consent
from recall_actions as actions
left join int_user_versions as users
    on users.user_id = actions.user_id
    and users.valid_from < actions.action_date + 1
    and (users.valid_to is null or users.valid_to >= actions.action_date + 1)
where actions.status = 'queued' and actions.action_date >= ? and actions.action_date < ?
"""


def _validate(frame, suite: str) -> AssetCheckResult:
    # Great Expectations takes seconds to import: only pay for it when a check runs.
    from orchestration.quality.expectations import validate_frame

    summary = validate_frame(frame, suite)
    return AssetCheckResult(
        passed=summary.success,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "rows_validated": len(frame),
            "expectations_evaluated": summary.evaluated,
            "expectations_failed": summary.failed,
            "failures": MetadataValue.json([str(failure) for failure in summary.failures]),
        },
    )


@asset_check(asset="stg_events", partitions_def=daily_partitions, description="expectations/stg_events.json on the window's landing days")
def stg_events_contract(context: AssetCheckExecutionContext, warehouse: Warehouse) -> AssetCheckResult:
    window = context.partition_time_window
    with warehouse.connect(read_only=True) as con:
        frame = con.execute(
            "select * exclude (properties) from stg_events where _landing_date >= ? and _landing_date < ?",
            [window.start.date(), window.end.date()],
        ).df()
    return _validate(frame, "stg_events")


@asset_check(
    asset="recall_actions",
    blocking=True,
    partitions_def=daily_partitions,
    additional_deps=["int_user_versions"],
    description="expectations/recall_outbox.json: every queued user consented to the channel, is in the "
    "treatment arm, and appears once per day. Blocks the outbox export when it fails.",
)
def recall_outbox_contract(context: AssetCheckExecutionContext, warehouse: Warehouse) -> AssetCheckResult:
    window = context.partition_time_window
    with warehouse.connect(read_only=True) as con:
        frame = con.execute(OUTBOX_WITH_CONSENT, [window.start.date(), window.end.date()]).df()
    return _validate(frame, "recall_outbox")
