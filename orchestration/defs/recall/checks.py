"""Checks that protect people, both blocking the outbox export: the outbox contract (GX: consent,
treatment arm only, one contact per user and day) and the guardrail audit (consent, holdouts, caps,
quiet hours, budget, capacity, one journey at a time, re-derived in SQL from the outbox history)."""

import dagster as dg

from orchestration.config import Settings
from orchestration.defs.partitions import day_window
from orchestration.defs.quality.contracts import validation_result
from orchestration.defs.resources import Warehouse
from orchestration.quality.outbox_contract import outbox_contract_frame
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
            frame = outbox_contract_frame(con, window.first, window.last)
        return validation_result(frame, "recall_outbox")

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

    return [recall_outbox_contract, recall_guardrails_audit]
