"""One factory for the daily assets that write a documented Python table: partitioned like the rest,
one writer at a time, the table's description and column schema shown in the Dagster UI."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import dagster as dg

from orchestration.defs.partitions import SINGLE_RUN, WAREHOUSE_POOL
from orchestration.warehouse.tables import TABLES


def table_schema(table: str) -> dg.TableSchema:
    _, columns = TABLES[table]
    return dg.TableSchema(columns=[dg.TableColumn(c.name, c.type, c.description) for c in columns])


def table_spec(table: str, partitions: dg.DailyPartitionsDefinition, deps: Sequence[str], group_name: str) -> dg.AssetSpec:
    """The AssetSpec of `table` for a step that writes several Python tables (a multi-asset)."""
    description, _ = TABLES[table]
    return dg.AssetSpec(table, deps=list(deps), group_name=group_name, partitions_def=partitions,
                        kinds={"python", "duckdb"}, description=description,
                        metadata={"dagster/column_schema": table_schema(table)})


def table_asset(
    table: str, partitions: dg.DailyPartitionsDefinition, deps: Sequence[str], group_name: str, **extra: Any
) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """@asset for the Python step that writes `table` (see orchestration/warehouse/tables.py)."""
    description, _ = TABLES[table]
    return dg.asset(
        name=table,
        deps=list(deps),
        group_name=group_name,
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        pool=WAREHOUSE_POOL,
        kinds={"python", "duckdb", *extra.pop("kinds", ())},
        description=description,
        metadata={"dagster/column_schema": table_schema(table)},
        **extra,
    )
