"""Report asset: renders one day's recall_metrics as a self-contained HTML page under
$CHURN_RECALL_HOME/reports/ and links it from the asset's metadata in the Dagster UI."""

import dagster as dg

from orchestration.config import Settings
from orchestration.defs.partitions import SINGLE_RUN, WAREHOUSE_POOL, day_window
from orchestration.defs.resources import Warehouse
from orchestration.reporting import publish_report
from orchestration.warehouse import table_exists


def reporting_assets(partitions: dg.DailyPartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(
        deps=["recall_metrics"], group_name="measurement", partitions_def=partitions, backfill_policy=SINGLE_RUN,
        pool=WAREHOUSE_POOL, kinds={"python", "html"},
        description="The recall report: lift with 95% intervals per strategy, funnel per channel, second churn by "
        "arm and the weekly trend, as one self-contained HTML page (recall_report.html, plus a dated copy per day).",
    )
    def recall_report(
        context: dg.AssetExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]
    ) -> dg.MaterializeResult:
        day = day_window(context, settings).last
        with warehouse.connect() as con:
            if not table_exists(con, "recall_metrics"):
                raise RuntimeError("recall_metrics does not exist yet: materialize it before the report")
            metrics = con.execute("select * from recall_metrics where as_of_date = ?", [day]).df()
        dated, latest = publish_report(metrics, day, settings.reports_dir)
        return dg.MaterializeResult(metadata={
            "report": dg.MetadataValue.path(str(dated)),
            "report_url": dg.MetadataValue.url(dated.resolve().as_uri()),
            "latest_report": dg.MetadataValue.path(str(latest)),
            "as_of": dg.MetadataValue.text(day.isoformat()),
            "cohort_rows": dg.MetadataValue.int(len(metrics)),
        })

    return [recall_report]
