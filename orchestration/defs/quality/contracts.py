"""Great Expectations suites as asset checks: the events contract (warns) and the shared result builder."""

from typing import Any

import dagster as dg

from orchestration.config import Settings
from orchestration.defs.partitions import day_window
from orchestration.defs.resources import Warehouse


def validation_result(frame: Any, suite: str) -> dg.AssetCheckResult:
    """Validate `frame` against expectations/<suite>.json; an error-severity result with the failures."""
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
        },
    )


def quality_checks(partitions: dg.DailyPartitionsDefinition) -> list[dg.AssetChecksDefinition]:
    @dg.asset_check(asset="stg_events", partitions_def=partitions,
                    description="expectations/stg_events.json on the window's landing days")
    def stg_events_contract(
        context: dg.AssetCheckExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]
    ) -> dg.AssetCheckResult:
        window = day_window(context, settings)
        with warehouse.connect() as con:
            frame = con.execute(
                "select * exclude (properties) from stg_events where _landing_date >= ? and _landing_date <= ?",
                [window.first, window.last],
            ).df()
        return validation_result(frame, "stg_events")

    return [stg_events_contract]
