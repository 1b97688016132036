"""Asset checks that protect data and people: the events contract (GX, warns), the outbox contract
(GX: consent, holdout, one contact per day) and the guardrail audit (consent, holdout, caps, quiet
hours, budget, capacity, one journey at a time, re-derived in SQL from the outbox history). The last
two block the export."""


from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from datetime import timedelta
from pathlib import Path

from orchestration.partitions import daily_partitions
from orchestration.quality.recall_audit import audit_outbox
from orchestration.recall import load_strategy_library
from orchestration.resources import PipelinePaths, Warehouse

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


@asset_check(
    asset="recall_actions",
    blocking=True,
    partitions_def=daily_partitions,
    additional_deps=["int_user_versions"],
    description="Guardrail audit of the outbox history, independent of the code that enforces the rules: zero "
    "contacts without consent, to control or global-holdout users, inside quiet hours, over a frequency cap, "
    "over a channel's daily budget or capacity, overlapping journeys, duplicate coupon codes or action ids. "
    "Blocks the outbox export when any count is above zero.",
)
def recall_guardrails_audit(
    context: AssetCheckExecutionContext, warehouse: Warehouse, paths: PipelinePaths
) -> AssetCheckResult:
    window = context.partition_time_window
    library = load_strategy_library(Path(paths.strategies))
    with warehouse.connect(read_only=True) as con:
        counts = audit_outbox(con, window.start.date(), window.end.date() - timedelta(days=1), library)
    violations = {rule: n for rule, n in counts.items() if rule != "outbox_rows" and n}
    return AssetCheckResult(
        passed=not violations,
        severity=AssetCheckSeverity.ERROR,
        metadata={"outbox_rows_audited": counts.get("outbox_rows", 0), "violations": MetadataValue.json(violations),
                  "counts": MetadataValue.json(counts)},
    )
