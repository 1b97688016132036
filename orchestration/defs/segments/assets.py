"""Segment asset: users clustered on their behaviour mix, refit weekly (see orchestration/segments
for why weekly) and carried through the week; every day's rows are point in time."""

import dagster as dg

from orchestration.config import Settings
from orchestration.defs.partitions import day_window
from orchestration.defs.resources import Warehouse
from orchestration.defs.tables import table_asset
from orchestration.segments import WINDOW_DAYS, segments_for_day
from orchestration.warehouse import replace_rows


def segment_assets(partitions: dg.DailyPartitionsDefinition) -> list[dg.AssetsDefinition]:
    @table_asset("user_segments", partitions, group_name="segments", deps=["int_user_daily_activity"])
    def user_segments(
        context: dg.AssetExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]
    ) -> dg.MaterializeResult:
        counts: dict[str, int] = {}
        refits = 0
        with warehouse.connect() as con:
            for day in day_window(context, settings).days:
                segments, refitted = segments_for_day(con, day, settings.start_date)
                replace_rows(con, "user_segments", segments, "segment_date = ?", [day])
                refits += refitted
                counts = segments["segment"].value_counts().to_dict()
        return dg.MaterializeResult(metadata={
            "segments_on_last_day": dg.MetadataValue.json({k: int(v) for k, v in counts.items()}),
            "refits": dg.MetadataValue.int(refits),
            "window_days": dg.MetadataValue.int(WINDOW_DAYS),
        })

    return [user_segments]
