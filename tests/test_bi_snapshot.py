"""The BI snapshot on a hand-made warehouse: only allow-listed columns are published, personal data
never, a column gone from the warehouse fails clearly and keeps the previous version, a reader that
holds the file keeps its version while new readers get the next one, and nothing half written stays."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.bi import BI_TABLES, DATABASE, SNAPSHOT_TABLE, BiSchemaError, BiTable, publish_snapshot
from orchestration.bi.snapshot import STORAGE_VERSION

SECRETS = {"phone": "+8613912345678", "nickname": "xiaoming_0042", "message": "xiaoming_0042, come back!",
           "coupon_code": "CR-SECRET-CODE", "timezone": "Asia/Shanghai"}


def build_warehouse(path: Path, days: int = 3) -> None:
    """Every source table of the snapshot with its published columns, plus every withheld column."""
    with duckdb.connect(str(path)) as con:
        for table in BI_TABLES:
            columns = [*table.columns, *[c for c in SECRETS if c not in table.columns]]
            con.execute(f"create or replace table {table.source} ({', '.join(f'{c} varchar' for c in columns)})")
            for n in range(1, days + 1):
                values = [f"2026-01-0{n}" if c == "tier_date" else SECRETS.get(c, f"{c}_{n}") for c in columns]
                con.execute(f"insert into {table.source} values ({', '.join('?' for _ in columns)})", values)


def publish(warehouse: Path, bi: Path):
    with duckdb.connect(str(warehouse)) as con:
        return publish_snapshot(con, bi)


def snapshot_id_seen_by_a_new_process(bi: Path) -> str:
    probe = (f"import duckdb; con = duckdb.connect({str(bi / DATABASE)!r}, read_only=True); "
             f"print(con.execute('select any_value(snapshot_id) from {SNAPSHOT_TABLE}').fetchall()[0][0])")
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()


def test_only_allowed_columns_reach_bi_and_personal_data_never(tmp_path):
    build_warehouse(tmp_path / "warehouse.duckdb")
    snapshot = publish(tmp_path / "warehouse.duckdb", tmp_path / "bi")
    assert snapshot.rows == {table.name: 3 for table in BI_TABLES}
    assert str(snapshot.latest_day) == "2026-01-03"
    with duckdb.connect(str(tmp_path / "bi" / DATABASE), read_only=True) as con:
        for table in BI_TABLES:
            published = con.execute(f"select * from {table.name}").df()
            assert list(published.columns) == list(table.columns)
            assert not set(published.astype(str).to_numpy().ravel()) & set(SECRETS.values()), table.name
            parquet = pd.read_parquet(tmp_path / "bi" / f"{table.name}.parquet")
            pd.testing.assert_frame_equal(parquet, published)
        listed = con.execute(f"select table_name, row_count, snapshot_id from {SNAPSHOT_TABLE}").fetchall()
    assert sorted(t for t, _, _ in listed) == sorted(table.name for table in BI_TABLES)
    assert {sid for _, _, sid in listed} == {snapshot.snapshot_id}
    assert sorted(p.name for p in (tmp_path / "bi").iterdir()) == sorted(
        [DATABASE, *[f"{table.name}.parquet" for table in BI_TABLES]])  # no log, no partial file


@pytest.mark.parametrize("column", sorted(SECRETS))
def test_a_personal_or_secret_column_cannot_be_allow_listed(column):
    with pytest.raises(ValueError, match="must never be published"):
        BiTable("users", "stg_users", ("user_id", column), "users")


def test_a_column_gone_from_the_warehouse_fails_clearly_and_keeps_the_previous_version(tmp_path):
    warehouse, bi = tmp_path / "warehouse.duckdb", tmp_path / "bi"
    build_warehouse(warehouse)
    first = publish(warehouse, bi)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("alter table user_risk_tiers drop column risk_score")
    with pytest.raises(BiSchemaError, match=r"risk_tiers: \['risk_score'\] not in user_risk_tiers"):
        publish(warehouse, bi)
    assert snapshot_id_seen_by_a_new_process(bi) == first.snapshot_id
    assert not [p for p in bi.iterdir() if p.name.startswith(".")]


def test_a_held_reader_keeps_its_version_and_new_readers_get_the_next(tmp_path):
    warehouse, bi = tmp_path / "warehouse.duckdb", tmp_path / "bi"
    build_warehouse(warehouse, days=2)
    first = publish(warehouse, bi)
    held = duckdb.connect(str(bi / DATABASE), read_only=True)
    build_warehouse(warehouse, days=3)
    second = publish(warehouse, bi)  # the held file is not in the way
    assert held.execute(f"select any_value(snapshot_id), sum(row_count) from {SNAPSHOT_TABLE}").fetchall()[0] == (
        first.snapshot_id, 2 * len(BI_TABLES))
    assert held.execute("select count(*) from risk_tiers").fetchall()[0][0] == 2
    assert snapshot_id_seen_by_a_new_process(bi) == second.snapshot_id != first.snapshot_id
    held.close()
    assert len(pd.read_parquet(bi / "risk_tiers.parquet")) == 3


def test_the_file_is_readable_by_older_duckdb_versions(tmp_path):
    build_warehouse(tmp_path / "warehouse.duckdb")
    publish(tmp_path / "warehouse.duckdb", tmp_path / "bi")
    with duckdb.connect() as con:
        con.execute(f"attach '{tmp_path / 'bi' / DATABASE}' as bi (read_only)")
        tags = con.execute("select tags from duckdb_databases() where database_name = 'bi'").fetchall()[0][0]
    assert tags["storage_version"].startswith(STORAGE_VERSION.rsplit(".", 1)[0])
