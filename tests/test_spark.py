"""The dbt project on Apache Spark (slow; needs the `spark` extra and Java): a small simulated world,
with the hand-made edge cases of the dbt tests landed beside it, built once by `dbt build` on DuckDB and
once on a local Spark session (dbt-spark's session method) from the same raw rows: every model and the
seed hold the same rows on both engines, and the Python steps' reads through the Spark engine give the
frames the DuckDB engine gives."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from dbt.cli.main import dbtRunner

from orchestration.warehouse.spark import spark_available

PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(spark_available() is not None, reason=str(spark_available())),
]


def dbt_build(target: str, work: Path, warehouse: Path) -> Path:
    """`dbt build` (the default selector: all but the reporting views) on `target`; its target folder."""
    target_path = work / f"target-{target}"
    result = dbtRunner().invoke([
        "build", "--target", target, "--vars", json.dumps({"warehouse_path": str(warehouse)}),
        "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(target_path), "--log-path", str(work / f"logs-{target}"), "--quiet",
    ])
    assert result.success, f"dbt build --target {target} failed: {result.exception or result.result}"
    return target_path


def built_relations(target_path: Path) -> list[str]:
    """schema.table of every model and seed the build materialized (ephemeral models are not tables)."""
    manifest = json.loads((target_path / "manifest.json").read_text())["nodes"]
    ran = [r["unique_id"] for r in json.loads((target_path / "run_results.json").read_text())["results"]]
    nodes = [manifest[uid] for uid in ran if uid in manifest]
    return sorted(f"{n['schema']}.{n['alias']}" for n in nodes
                  if n["resource_type"] in ("model", "seed") and n["config"]["materialized"] != "ephemeral")


def comparable(table: pa.Table) -> pd.DataFrame:
    """Rows in a canonical order with engine-neutral types: instants as naive UTC, numbers as floats
    (compared with a tolerance), everything else as Python objects."""
    frame = table.to_pandas()
    for column in frame.columns:
        kind = table.schema.field(column).type
        if pa.types.is_timestamp(kind):
            values = pd.to_datetime(frame[column])
            if values.dt.tz is not None:
                values = values.dt.tz_convert("UTC").dt.tz_localize(None)
            frame[column] = values.astype("datetime64[us]")
        elif pa.types.is_decimal(kind) or pa.types.is_floating(kind) or pa.types.is_integer(kind):
            frame[column] = frame[column].astype("float64")
        else:
            frame[column] = frame[column].astype("object").where(frame[column].notna(), None)
    floats = [c for c in frame.columns if frame[c].dtype == "float64"]
    keys = pd.DataFrame({c: frame[c].astype(str) for c in frame.columns if c not in floats}
                        | {c: frame[c].round(6) for c in floats})
    order = keys.sort_values(list(keys.columns), kind="stable").index
    return frame.loc[order].reset_index(drop=True)[sorted(frame.columns)]


def without_stamp(table: pa.Table) -> pa.Table:
    """A base model's `_staged_by` names the dbt invocation that checked a row: each build has its own."""
    return table.drop_columns(["_staged_by"]) if "_staged_by" in table.column_names else table


def assert_same_rows(on_spark: pa.Table, on_duckdb: pa.Table, name: str) -> None:
    pd.testing.assert_frame_equal(comparable(on_spark), comparable(on_duckdb), check_dtype=False,
                                  check_exact=False, rtol=1e-9, atol=1e-9, obj=name)


def test_every_model_on_spark_equals_the_duckdb_build(tmp_path: Path) -> None:
    from orchestration.config import DEFAULT_STRATEGIES, DEFAULT_VERTICAL
    from orchestration.ingestion import load_landing_range
    from orchestration.measurement.readers import read_journeys
    from orchestration.recall import load_strategy_library
    from orchestration.recall.readers import read_day_inputs
    from orchestration.simulator import SimulationConfig, simulate, write_world
    from orchestration.warehouse.engine import DuckDBEngine, SparkEngine
    from orchestration.warehouse.spark import copy_raw_feeds, local_session
    from tests.test_dbt_models import load_hand_made_world

    config = SimulationConfig(n_users=300, n_days=20, seed=5, late_event_share=0.05, duplicate_share=0.01,
                              invalid_share=0.01)
    world = simulate(config)
    write_world(world, tmp_path / "landing", tmp_path / "truth")
    days = [config.start_date + timedelta(days=i) for i in range(config.n_days)]
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        load_landing_range(con, days, tmp_path / "landing")
        # then the hand-made rows, landed as a CSV lands text: unparseable times and amounts, bad JSON,
        # missing and odd ids, duplicates, late events, recall touches
        load_hand_made_world(con)

    started = time.perf_counter()
    relations = built_relations(dbt_build("dev", tmp_path, warehouse))
    duckdb_seconds = time.perf_counter() - started
    assert {"main.event_taxonomy", "main.stg_events", "main.int_user_recency", "main.user_daily_labels",
            "main.user_risk_tiers", "restricted.user_contacts"} <= set(relations)

    spark = local_session(tmp_path / "spark-warehouse")
    try:
        with duckdb.connect(str(warehouse)) as con:
            copy_raw_feeds(con, spark)
        started = time.perf_counter()
        assert built_relations(dbt_build("spark", tmp_path, warehouse)) == relations
        spark_seconds = time.perf_counter() - started

        with duckdb.connect(str(warehouse)) as con:
            for relation in relations:
                on_duckdb = con.sql(f"select * from {relation}").to_arrow_table()
                assert on_duckdb.num_rows > 0, f"{relation} is empty: the comparison would prove nothing"
                assert_same_rows(without_stamp(spark.table(relation).toArrow()), without_stamp(on_duckdb), relation)

            # the Python steps' reads through the Spark engine: the same rows, the same frames
            duck, on_spark = DuckDBEngine(con), SparkEngine(spark)
            for table in ("user_risk_tiers", "user_daily_labels", "int_user_daily_activity", "stg_events"):
                assert_same_rows(on_spark.read_days(table, days[5], days[9]), duck.read_days(table, days[5], days[9]),
                                 f"engine {table}")
            # the rows the measurement reads: a key action, an order or revenue
            money = ["key_actions", "orders", "revenue"]
            kept = duck.read_days("int_user_daily_activity", days[0], days[-1], nonzero=money)
            assert 0 < kept.num_rows < duck.read_days("int_user_daily_activity", days[0], days[-1]).num_rows
            assert_same_rows(on_spark.read_days("int_user_daily_activity", days[0], days[-1], nonzero=money), kept,
                             "engine int_user_daily_activity, nonzero")
            library = load_strategy_library(DEFAULT_STRATEGIES)
            by_duckdb, _ = read_day_inputs(con, days[-1], library, DEFAULT_VERTICAL)
            by_spark, _ = read_day_inputs(con, days[-1], library, DEFAULT_VERTICAL, on_spark)
            assert len(by_duckdb.tiers) > 0
            pd.testing.assert_frame_equal(by_spark.tiers.sort_values("user_id").reset_index(drop=True),
                                          by_duckdb.tiers.sort_values("user_id").reset_index(drop=True))
            journeys_duckdb = read_journeys(con, days[0], days[-1])
            journeys_spark = read_journeys(con, days[0], days[-1], on_spark)
            assert len(journeys_duckdb.touches) > 0  # the hand-made delivery log's journeys (without orders)
            for part in ("activity", "redemptions"):
                key = ["user_id", "activity_date"] if part == "activity" else ["user_id", "coupon_code", "redeemed_date"]
                pd.testing.assert_frame_equal(
                    getattr(journeys_spark, part).sort_values(key).reset_index(drop=True),
                    getattr(journeys_duckdb, part).sort_values(key).reset_index(drop=True), obj=part)
        print(f"\nspark equality: {len(relations)} relations equal; dbt build {duckdb_seconds:.1f} s on DuckDB, "
              f"{spark_seconds:.1f} s on local Spark")
    finally:
        spark.stop()
