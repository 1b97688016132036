"""Contract suites as asset checks: the events contract (warns; every accepted event of the window) and
the shared result builder."""

import dagster as dg

from orchestration.config import Settings
from orchestration.defs.partitions import day_window
from orchestration.defs.resources import Warehouse
from orchestration.quality.events_contract import validate_events
from orchestration.quality.suites import ValidationSummary


def validation_result(summary: ValidationSummary) -> dg.AssetCheckResult:
    """An error-severity check result with the summary's counts and failures."""
    return dg.AssetCheckResult(
        passed=summary.success,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "rows_validated": summary.rows,
            "expectations_evaluated": summary.evaluated,
            "expectations_failed": summary.failed,
            "failures": dg.MetadataValue.json([str(failure) for failure in summary.failures]),
        },
    )


def quality_checks(partitions: dg.DailyPartitionsDefinition) -> list[dg.AssetChecksDefinition]:
    @dg.asset_check(asset="stg_events", partitions_def=partitions,
                    description="expectations/stg_events.json on every accepted event landed in the window")
    def stg_events_contract(
        context: dg.AssetCheckExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]
    ) -> dg.AssetCheckResult:
        window = day_window(context, settings)
        with warehouse.connect() as con:
            return validation_result(validate_events(con, window.first, window.last))

    return [stg_events_contract]
