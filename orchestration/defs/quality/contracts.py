"""Great Expectations suites as asset checks: the events contract (warns; a bounded sample of the window)
and the shared result builder."""

from typing import Any

import dagster as dg

from orchestration.config import Settings
from orchestration.defs.partitions import day_window
from orchestration.defs.resources import Warehouse
from orchestration.quality.events_contract import events_contract_sample


def validation_result(frame: Any, suite: str, metadata: dict[str, Any] | None = None) -> dg.AssetCheckResult:
    """Validate `frame` against expectations/<suite>.json; an error-severity result with the failures
    (and `metadata` added)."""
    # Great Expectations takes seconds to import: only pay for it when a check runs.
    from orchestration.quality.expectations import validate_frame

    summary = validate_frame(frame, suite)
    return dg.AssetCheckResult(
        passed=summary.success,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "rows_validated": len(frame),
            "expectations_evaluated": summary.evaluated,
            "expectations_failed": summary.failed,
            "failures": dg.MetadataValue.json([str(failure) for failure in summary.failures]),
            **(metadata or {}),
        },
    )


def quality_checks(partitions: dg.DailyPartitionsDefinition) -> list[dg.AssetChecksDefinition]:
    @dg.asset_check(asset="stg_events", partitions_def=partitions,
                    description="expectations/stg_events.json on the window's accepted events (a bounded "
                                "sample by event_id hash when the window is large)")
    def stg_events_contract(
        context: dg.AssetCheckExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]
    ) -> dg.AssetCheckResult:
        window = day_window(context, settings)
        with warehouse.connect() as con:
            sample = events_contract_sample(con, window.first, window.last)
        return validation_result(sample.frame, "stg_events", {
            "rows_in_window": sample.rows_in_window, "share_validated": round(sample.share, 4)})

    return [stg_events_contract]
