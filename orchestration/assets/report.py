"""Report asset: renders one day's recall_metrics as a self-contained HTML page under
$CHURN_RECALL_HOME/reports/ and links it from the asset's metadata in the Dagster UI."""

from pathlib import Path

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from orchestration.assets.warehouse_io import table_exists
from orchestration.partitions import WAREHOUSE_POOL, daily_partitions, single_run, window_days
from orchestration.reporting import render_report
from orchestration.resources import Warehouse
from orchestration.settings import Settings

REPORT_NAME = "recall_report.html"


def reports_dir() -> Path:
    return Settings.from_env().home / "reports"


@asset(
    deps=["recall_metrics"],
    group_name="measurement",
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool=WAREHOUSE_POOL,
    kinds={"python", "html"},
    description="The recall report: lift with 95% intervals per strategy, funnel per channel, second churn by arm "
    "and the weekly trend, as one self-contained HTML page (recall_report.html, plus a dated copy per day).",
)
def recall_report(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    day = window_days(context.partition_time_window)[-1]
    with warehouse.connect() as con:
        exists = table_exists(con, "recall_metrics")
        metrics = con.execute("select * from recall_metrics where as_of_date = ?", [day]).df() if exists else None
    if metrics is None:
        raise RuntimeError("recall_metrics does not exist yet: materialize it before the report")
    html = render_report(metrics)
    folder = reports_dir()
    folder.mkdir(parents=True, exist_ok=True)
    dated = folder / f"recall_report_{day.isoformat()}.html"
    dated.write_text(html, encoding="utf-8")
    latest = folder / REPORT_NAME
    # The undated page is the newest day's: re-running an older partition leaves it alone.
    latest_day = folder / ".latest_day"
    if not latest.exists() or not latest_day.exists() or latest_day.read_text().strip() <= day.isoformat():
        latest.write_text(html, encoding="utf-8")
        latest_day.write_text(day.isoformat())
    return MaterializeResult(
        metadata={
            "report": MetadataValue.path(str(dated)),
            "report_url": MetadataValue.url(dated.resolve().as_uri()),
            "latest_report": MetadataValue.path(str(latest)),
            "as_of": MetadataValue.text(day.isoformat()),
            "cohort_rows": MetadataValue.int(len(metrics)),
        }
    )
