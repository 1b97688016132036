"""Segment asset: users clustered on their behaviour mix, refit weekly (see orchestration/segments
for why weekly) and carried through the week; every day's rows are point in time."""

import dagster as dg

from orchestration.config import Settings
from orchestration.defs.partitions import day_window
from orchestration.defs.resources import Warehouse
from orchestration.defs.tables import table_asset
from orchestration.segments import WINDOW_DAYS, write_segment_days


def segment_assets(partitions: dg.DailyPartitionsDefinition) -> list[dg.AssetsDefinition]:
    @table_asset("user_segments", partitions, group_name="segments", deps=["int_user_daily_activity"])
    def user_segments(
        context: dg.AssetExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]
    ) -> dg.MaterializeResult:
        days = day_window(context, settings).days
        with warehouse.connect() as con:
            refits = write_segment_days(con, days, settings.start_date)
            counts = dict(con.execute("select segment, count(*) from user_segments where segment_date = ? group by 1",
                                      [days[-1]]).fetchall())
        return dg.MaterializeResult(metadata={
            "segments_on_last_day": dg.MetadataValue.json({k: int(v) for k, v in counts.items()}),
            "refits": dg.MetadataValue.int(refits),
            "window_days": dg.MetadataValue.int(WINDOW_DAYS),
        })

    return [user_segments]
