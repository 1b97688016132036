"""Checks that protect people, both blocking the outbox export: the outbox contract (the suite
expectations/recall_outbox.json, evaluated in SQL: consent, treatment arm only, one contact per user and
day) and the guardrail audit (consent, holdouts, caps, quiet hours, budget, capacity, one journey at a
time, re-derived in SQL from the outbox history).
And a warning when the delivery system falls silent: exported steps without a delivery record."""

import dagster as dg

from orchestration.config import Settings
from orchestration.defs.partitions import day_window
from orchestration.defs.quality.contracts import validation_result
from orchestration.defs.resources import Warehouse
from orchestration.quality.delivery_silence import delivery_silence
from orchestration.quality.outbox_contract import validate_outbox
from orchestration.quality.recall_audit import audit_outbox
from orchestration.recall import load_strategy_library


def recall_checks(partitions: dg.DailyPartitionsDefinition) -> list[dg.AssetChecksDefinition]:
    @dg.asset_check(
        asset="recall_actions", blocking=True, partitions_def=partitions, additional_deps=["int_user_versions"],
        description="expectations/recall_outbox.json: every queued user consented to the channel, is in the "
        "treatment arm, and appears once per day. Blocks the outbox export when it fails.",
    )
    def recall_outbox_contract(
        context: dg.AssetCheckExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]
    ) -> dg.AssetCheckResult:
        window = day_window(context, settings)
        with warehouse.connect() as con:
            return validation_result(validate_outbox(con, window.first, window.last))

    @dg.asset_check(
        asset="recall_actions", blocking=True, partitions_def=partitions, additional_deps=["int_user_versions"],
        description="Guardrail audit of the outbox history, independent of the code that enforces the rules: zero "
        "contacts without consent, to control or global-holdout users, inside quiet hours, over a frequency cap, "
        "over a channel's daily budget or capacity, overlapping journeys, duplicate coupon codes or action ids. "
        "Blocks the outbox export when any count is above zero.",
    )
    def recall_guardrails_audit(
        context: dg.AssetCheckExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]
    ) -> dg.AssetCheckResult:
        window = day_window(context, settings)
        library = load_strategy_library(settings.strategies)
        with warehouse.connect() as con:
            counts = audit_outbox(con, window.first, window.last, library)
        violations = {rule: n for rule, n in counts.items() if rule != "outbox_rows" and n}
        return dg.AssetCheckResult(
            passed=not violations,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"outbox_rows_audited": counts.get("outbox_rows", 0), "violations": dg.MetadataValue.json(violations),
                      "counts": dg.MetadataValue.json(counts)},
        )

    @dg.asset_check(
        asset="recall_outbox", partitions_def=partitions, additional_deps=["stg_recall_touches"],
        description="Warns when the delivery system is silent: outbox rows queued at least delivery_silence_days "
        "(CHURN_RECALL_DELIVERY_SILENCE_DAYS, default 2) before the partition have no delivery record "
        "(stg_recall_touches) yet; says how many and since which planning day. Without records the "
        "measurement counts those journeys as never sent.",
    )
    def recall_delivery_silence(
        context: dg.AssetCheckExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]
    ) -> dg.AssetCheckResult:
        as_of = day_window(context, settings).last
        with warehouse.connect() as con:
            silence = delivery_silence(con, as_of, settings.delivery_silence_days)
        text = (f"{silence.silent_rows} of {silence.checked_rows} sent outbox rows have no delivery record, "
                f"planned {silence.since}..{silence.latest}" if silence.silent_rows else
                f"every one of {silence.checked_rows} sent outbox rows has a delivery record")
        return dg.AssetCheckResult(
            passed=silence.silent_rows == 0,
            severity=dg.AssetCheckSeverity.WARN,
            description=text,
            metadata={
                "silent_rows": silence.silent_rows, "checked_rows": silence.checked_rows,
                "silent_since": dg.MetadataValue.text(str(silence.since) if silence.since else "none"),
                "silent_latest": dg.MetadataValue.text(str(silence.latest) if silence.latest else "none"),
                "planning_days_checked": dg.MetadataValue.text(f"{silence.first_day}..{silence.last_day}"),
            },
        )

    return [recall_outbox_contract, recall_guardrails_audit, recall_delivery_silence]
