"""The BI snapshot on a hand-made warehouse: only allow-listed columns are published, personal data
never; a run rewrites the days it changed and shares the others with the previous version (hard
links); a first publication or a changed column list rewrites a table whole; a failed publication
leaves the previous version and owes its days to the next; old versions are pruned unless a reader
holds them; a reader that holds the file keeps its version while new readers get the next one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.bi import (
    BI_TABLES, CURRENT, DATABASE, SNAPSHOT_TABLE, VERSIONS, BiSchemaError, BiTable, Changes, RunChanges, publish_snapshot,
)
from orchestration.bi import snapshot as snapshot_module
from orchestration.bi.snapshot import STORAGE_VERSION
from orchestration.bi.versions import PENDING, held_files, read_latest
from orchestration.warehouse.tables import TABLES as DOCUMENTED

SECRETS = {"phone": "+8613912345678", "nickname": "xiaoming_0042", "message": "xiaoming_0042, come back!",
           "coupon_code": "CR-SECRET-CODE", "timezone": "Asia/Shanghai"}
DAY_ONE = date(2026, 1, 1)
TABLES = {table.name: table for table in BI_TABLES}


def day(n: int) -> date:
    return DAY_ONE + timedelta(days=n - 1)


def build_warehouse(path: Path, days: int = 3, tag: str = "") -> None:
    """Every source table of the snapshot with its published columns, plus every withheld column; one
    row a day (day columns typed DATE), each value naming its day and `tag` (which tells runs apart)."""
    with duckdb.connect(str(path)) as con:
        for table in BI_TABLES:
            columns = [*table.columns, *[c for c in SECRETS if c not in table.columns]]
            dated = {table.day_column, "tier_date"}
            con.execute(f"create or replace table {table.source} "
                        f"({', '.join(f'{c} date' if c in dated else f'{c} varchar' for c in columns)})")
            for n in range(1, days + 1):
                values = [day(n) if c in dated else SECRETS.get(c, f"{c}_{n}{tag}") for c in columns]
                con.execute(f"insert into {table.source} values ({', '.join('?' for _ in columns)})", values)


def publish(warehouse: Path, bi: Path, changes: RunChanges | None = None, **options):
    with duckdb.connect(str(warehouse)) as con:
        return publish_snapshot(con, bi, changes, **options)


def daily(n: int, lookback: int = 0, horizon: int = 1) -> RunChanges:
    """The changes of a daily run of day n."""
    return RunChanges.of_run([day(k) for k in range(n - lookback, n + 1)], day(n), horizon)


def bi_rows(bi: Path, table: str) -> pd.DataFrame:
    with duckdb.connect(str(bi / DATABASE), read_only=True) as con:
        return con.execute(f'select * from "{table}"').df()


def bi_values(bi: Path, table: str, *columns: str) -> list[tuple]:
    """Values as DuckDB returns them (dates as dates), sorted."""
    with duckdb.connect(str(bi / DATABASE), read_only=True) as con:
        return sorted(con.execute(f'select {", ".join(columns)} from "{table}"').fetchall())


def warehouse_rows(warehouse: Path, table: BiTable) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f"select {', '.join(table.columns)} from {table.source}").df()


def same_rows(left: pd.DataFrame, right: pd.DataFrame) -> bool:
    def key(frame: pd.DataFrame) -> list[tuple]:
        return sorted(tuple(str(v) for v in row) for row in frame.itertuples(index=False))
    return list(left.columns) == list(right.columns) and key(left) == key(right)


def partition_files(version: Path, table: str, day_column: str, n: int) -> list[Path]:
    return sorted((version / table / f"{day_column}={day(n).isoformat()}").glob("*.parquet"))


def snapshot_id_seen_by_a_new_process(bi: Path) -> str:
    probe = (f"import duckdb; con = duckdb.connect({str(bi / DATABASE)!r}, read_only=True); "
             f"print(con.execute('select any_value(snapshot_id) from {SNAPSHOT_TABLE}').fetchall()[0][0])")
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()


# ----------------------------------------------------------------------------------- what is published


def test_only_allowed_columns_reach_bi_and_personal_data_never(tmp_path):
    build_warehouse(tmp_path / "warehouse.duckdb")
    snapshot = publish(tmp_path / "warehouse.duckdb", tmp_path / "bi")
    assert snapshot.rows == {table.name: 3 for table in BI_TABLES}
    assert snapshot.latest_day == day(3)
    with duckdb.connect(str(tmp_path / "bi" / DATABASE), read_only=True) as con:
        for table in BI_TABLES:
            published = con.execute(f"select * from {table.name}").df()
            assert list(published.columns) == list(table.columns)
            assert not set(published.astype(str).to_numpy().ravel()) & set(SECRETS.values()), table.name
            assert same_rows(published, warehouse_rows(tmp_path / "warehouse.duckdb", table))
        listed = con.execute(f"select table_name, row_count, snapshot_id, location from {SNAPSHOT_TABLE}").fetchall()
    assert sorted(t for t, *_ in listed) == sorted(TABLES)
    assert {sid for _, _, sid, _ in listed} == {snapshot.snapshot_id}
    for path in (tmp_path / "bi").rglob("*"):
        if path.suffix == ".parquet":
            cells = duckdb.sql(f"select * from read_parquet('{path}')").df().astype(str).to_numpy().ravel()
            assert not set(cells) & set(SECRETS.values()), path
        elif path.suffix == ".json":
            assert not [s for s in SECRETS.values() if s in path.read_text()], path
    # bi/ holds the database, the link to the current version and the versions: no log, no partial file.
    assert sorted(p.name for p in (tmp_path / "bi").iterdir()) == sorted([DATABASE, CURRENT, VERSIONS])
    assert [p.name for p in (tmp_path / "bi" / VERSIONS).iterdir()] == [snapshot.snapshot_id]


@pytest.mark.parametrize("column", sorted(SECRETS))
def test_a_personal_or_secret_column_cannot_be_allow_listed(column):
    with pytest.raises(ValueError, match="must never be published"):
        BiTable("users", "stg_users", ("user_id", column), "users", day_column="user_id")


def test_a_table_is_partitioned_exactly_when_it_is_not_rewritten_whole():
    with pytest.raises(ValueError, match="partitioned by a day column exactly when"):
        BiTable("t", "t", ("a", "d"), "t", day_column=None, changes=Changes.WINDOW)
    with pytest.raises(ValueError, match="partitioned by a day column exactly when"):
        BiTable("t", "t", ("a", "d"), "t", day_column="d", changes=Changes.WHOLE)
    with pytest.raises(ValueError, match="day column x is not published"):
        BiTable("t", "t", ("a", "d"), "t", day_column="x")


def test_each_table_follows_the_days_its_run_changes():
    changes = RunChanges.of_run([day(8), day(9), day(10)], day(10), measurement_horizon_days=4)
    assert changes.days_for(TABLES["risk_tiers"]) == {day(8), day(9), day(10)}
    assert changes.days_for(TABLES["recall_decisions"]) == {day(8), day(9), day(10)}
    assert changes.days_for(TABLES["recall_outcomes"]) == {day(7), day(8), day(9), day(10)}
    late_only = RunChanges.of_run([day(10)], day(10), 1, lookback_days=[day(8), day(9), day(10)])
    assert late_only.days_for(TABLES["risk_tiers"]) == {day(10)}
    assert late_only.days_for(TABLES["recall_metrics"]) == {day(8), day(9), day(10)}  # late delivery records
    assert changes.days_for(TABLES["churn_health_monthly"]) is None
    assert changes.days_for(TABLES["churn_health_daily"]) is None
    # The segments and the recall plan are written for the run's own days only: its late rows' days stand.
    own = RunChanges.of_run([day(8), day(9), day(10)], day(10), 4, run_days=[day(10)])
    assert own.days_for(TABLES["segments"]) == own.days_for(TABLES["recall_decisions"]) == {day(10)}
    assert own.days_for(TABLES["risk_tiers"]) == own.days_for(TABLES["daily_labels"]) == {day(8), day(9), day(10)}
    with pytest.raises(ValueError, match="own days are among"):
        RunChanges.of_run([day(9), day(10)], day(10), 4, run_days=[day(11)])


# --------------------------------------------------------------------------------- incremental versions


def test_a_run_rewrites_the_days_it_changed_and_shares_the_others(tmp_path):
    warehouse, bi = tmp_path / "warehouse.duckdb", tmp_path / "bi"
    build_warehouse(warehouse, days=4)
    first = publish(warehouse, bi)
    build_warehouse(warehouse, days=5, tag="-second")  # every day differs in the warehouse now
    second = publish(warehouse, bi, daily(5, lookback=1, horizon=3))

    tiers, outcomes = TABLES["risk_tiers"], TABLES["recall_outcomes"]
    assert second.rewritten["risk_tiers"] == 2 and second.rewritten["recall_outcomes"] == 3
    assert set(second.whole) == {"churn_health_daily", "churn_health_monthly"}
    # Days 4 and 5 come from this run, days 1 to 3 are the previous version's files, not copied again.
    assert bi_values(bi, "risk_tiers", "tier_date", "lifecycle_stage") == [
        (day(1), "lifecycle_stage_1"), (day(2), "lifecycle_stage_2"), (day(3), "lifecycle_stage_3"),
        (day(4), "lifecycle_stage_4-second"), (day(5), "lifecycle_stage_5-second")]
    assert set(bi_rows(bi, "recall_outcomes").set_index("assignment_date")["arm"]) == {
        "arm_1", "arm_2", "arm_3-second", "arm_4-second", "arm_5-second"}
    assert bi_rows(bi, "churn_health_monthly")["journeys"].str.endswith("-second").all()
    for n, shared in ((1, True), (3, True), (4, False)):
        [old] = partition_files(first.version, "risk_tiers", tiers.day_column, n)
        [new] = partition_files(second.version, "risk_tiers", tiers.day_column, n)
        assert (os.stat(old).st_ino == os.stat(new).st_ino) is shared, n
    assert partition_files(second.version, "recall_outcomes", outcomes.day_column, 2)[0].name.startswith(first.snapshot_id)
    assert second.rows == {name: 5 for name in TABLES}


def test_a_day_gone_from_the_warehouse_is_gone_from_the_next_version(tmp_path):
    warehouse, bi = tmp_path / "warehouse.duckdb", tmp_path / "bi"
    build_warehouse(warehouse, days=3)
    publish(warehouse, bi)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from user_risk_tiers where tier_date = ?", [day(3)])
    snapshot = publish(warehouse, bi, daily(3))
    assert bi_values(bi, "risk_tiers", "tier_date") == [(day(1),), (day(2),)]
    assert snapshot.rows["risk_tiers"] == 2 and snapshot.latest_day == day(2)


def test_rows_without_a_day_are_one_partition_counted_with_the_others(tmp_path):
    warehouse, bi = tmp_path / "warehouse.duckdb", tmp_path / "bi"
    build_warehouse(warehouse, days=2)
    with duckdb.connect(str(warehouse)) as con:  # a second row on day 2, and one without a day
        con.execute("insert into user_risk_tiers by name select * replace (null as tier_date) from user_risk_tiers "
                    "where tier_date = ? union all by name select * from user_risk_tiers where tier_date = ?",
                    [day(1), day(2)])
    snapshot = publish(warehouse, bi)
    partitions = {p.day: p.rows for p in read_latest(bi)[1].tables["risk_tiers"].partitions}
    assert partitions == {day(1): 1, day(2): 2, None: 1}
    published = bi_rows(bi, "risk_tiers")
    assert snapshot.rows["risk_tiers"] == len(published) == 4 and published["tier_date"].isna().sum() == 1
    assert snapshot.bytes_written == sum(f.stat().st_size for f in snapshot.version.rglob("*.parquet"))


def test_a_changed_column_list_or_type_rewrites_that_table_whole(tmp_path):
    warehouse, bi = tmp_path / "warehouse.duckdb", tmp_path / "bi"
    build_warehouse(warehouse, days=3)
    publish(warehouse, bi)
    fewer = tuple(replace(t, columns=t.columns[:-1]) if t.name == "segments" else t for t in BI_TABLES)
    snapshot = publish(warehouse, bi, daily(3), tables=fewer)
    assert snapshot.whole == {"segments": "its columns changed", "churn_health_daily": "rewritten whole on every "
                              "publication", "churn_health_monthly": "rewritten whole on every publication"}
    assert snapshot.rewritten["segments"] == 3 and snapshot.rewritten["risk_tiers"] == 1
    assert list(bi_rows(bi, "segments").columns) == list(TABLES["segments"].columns[:-1])

    with duckdb.connect(str(warehouse)) as con:
        con.execute("alter table user_risk_tiers alter risk_score type double using 0.5")
    retyped = publish(warehouse, bi, daily(3), tables=fewer)
    assert retyped.whole["risk_tiers"] == "its columns changed" and retyped.rewritten["risk_tiers"] == 3
    with duckdb.connect(str(bi / DATABASE), read_only=True) as con:
        assert con.execute("select typeof(risk_score), count(*) from risk_tiers group by 1").fetchall() == [("DOUBLE", 3)]


def test_an_empty_table_is_published_as_an_empty_typed_view(tmp_path):
    warehouse, bi = tmp_path / "warehouse.duckdb", tmp_path / "bi"
    build_warehouse(warehouse, days=2)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from recall_metrics")
        con.execute("delete from churn_health_monthly")
    snapshot = publish(warehouse, bi)
    assert snapshot.rows["recall_metrics"] == 0 and snapshot.rows["churn_health_monthly"] == 0
    with duckdb.connect(str(bi / DATABASE), read_only=True) as con:
        assert con.execute("select count(*), typeof(any_value(as_of_date)) from recall_metrics").fetchall() == [
            (0, "DATE")]
        assert con.execute("select count(*) from churn_health_monthly").fetchall()[0][0] == 0
    build_warehouse(warehouse, days=2)
    publish(warehouse, bi, daily(2, lookback=1))
    assert len(bi_rows(bi, "recall_metrics")) == 2


def test_a_failed_publication_keeps_the_previous_version_and_owes_its_days_to_the_next(tmp_path, monkeypatch):
    warehouse, bi = tmp_path / "warehouse.duckdb", tmp_path / "bi"
    build_warehouse(warehouse, days=3)
    first = publish(warehouse, bi)
    build_warehouse(warehouse, days=5, tag="-later")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(snapshot_module, "_build_database", broken)
        with pytest.raises(OSError, match="disk full"):
            publish(warehouse, bi, daily(4))
    assert snapshot_id_seen_by_a_new_process(bi) == first.snapshot_id
    assert [p.name for p in (bi / VERSIONS).iterdir()] == [first.snapshot_id]  # nothing half written stays
    assert not [p for p in bi.rglob(".*")]
    assert json.loads((bi / PENDING).read_text())["tables"]["risk_tiers"] == [day(4).isoformat()]

    publish(warehouse, bi, daily(5))  # rewrites day 5, and day 4 which the failed one owed
    assert sorted(bi_rows(bi, "risk_tiers")["lifecycle_stage"]) == [
        "lifecycle_stage_1", "lifecycle_stage_2", "lifecycle_stage_3", "lifecycle_stage_4-later",
        "lifecycle_stage_5-later"]
    assert not (bi / PENDING).exists()


def test_a_column_gone_from_the_warehouse_fails_clearly_and_keeps_the_previous_version(tmp_path):
    warehouse, bi = tmp_path / "warehouse.duckdb", tmp_path / "bi"
    build_warehouse(warehouse)
    first = publish(warehouse, bi)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("alter table user_risk_tiers drop column risk_score")
    with pytest.raises(BiSchemaError, match=r"risk_tiers: \['risk_score'\] not in user_risk_tiers"):
        publish(warehouse, bi, daily(3))
    assert snapshot_id_seen_by_a_new_process(bi) == first.snapshot_id
    assert not [p for p in bi.rglob("*") if p.name.startswith(".")]
    # Once the allow-list is fixed, the days of the runs that could not publish are published too.
    assert json.loads((bi / PENDING).read_text())["tables"]["segments"] == [day(3).isoformat()]


def test_the_first_publication_replaces_the_single_file_layout(tmp_path):
    warehouse, bi = tmp_path / "warehouse.duckdb", tmp_path / "bi"
    bi.mkdir()
    for table in BI_TABLES:  # what the first version of the snapshot left: one file per table
        (bi / f"{table.name}.parquet").write_bytes(b"PAR1")
    build_warehouse(warehouse)
    snapshot = publish(warehouse, bi, daily(3))
    assert set(snapshot.whole) == set(TABLES) and not list(bi.glob("*.parquet"))


# ------------------------------------------------------------------------------------ readers, retention


HOLDER = """
import duckdb, sys
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("select any_value(snapshot_id) from bi_snapshot").fetchall()[0][0], flush=True)
sys.stdin.read()
print(con.execute("select count(*) from risk_tiers").fetchall()[0][0], flush=True)
"""


def test_old_versions_are_pruned_unless_a_reader_holds_them(tmp_path):
    warehouse, bi = tmp_path / "warehouse.duckdb", tmp_path / "bi"
    build_warehouse(warehouse, days=2)
    first = publish(warehouse, bi, keep_versions=2)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(bi / DATABASE)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == first.snapshot_id
        ids = [first.snapshot_id]
        for n in (3, 4, 5):
            build_warehouse(warehouse, days=n)
            ids.append(publish(warehouse, bi, daily(n), keep_versions=2).snapshot_id)
        if held_files():  # Linux: the held version stays; the one nobody holds is gone
            assert sorted(p.name for p in (bi / VERSIONS).iterdir()) == [ids[0], ids[2], ids[3]]
        out, _ = holder.communicate("\n", timeout=60)
        assert int(out) == 2  # the held reader still reads its whole version
    finally:
        holder.kill()
    build_warehouse(warehouse, days=6)
    last = publish(warehouse, bi, daily(6), keep_versions=2)
    assert sorted(p.name for p in (bi / VERSIONS).iterdir()) == [ids[3], last.snapshot_id]
    # The days first published by pruned versions live on through their links in the newer ones.
    assert bi_values(bi, "risk_tiers", "tier_date") == [(day(n),) for n in range(1, 7)]


def test_a_held_reader_keeps_its_version_and_new_readers_get_the_next(tmp_path):
    warehouse, bi = tmp_path / "warehouse.duckdb", tmp_path / "bi"
    build_warehouse(warehouse, days=2)
    first = publish(warehouse, bi)
    held = duckdb.connect(str(bi / DATABASE), read_only=True)
    build_warehouse(warehouse, days=3)
    second = publish(warehouse, bi, daily(3))  # the held file is not in the way
    assert held.execute(f"select any_value(snapshot_id), sum(row_count) from {SNAPSHOT_TABLE}").fetchall()[0] == (
        first.snapshot_id, 2 * len(BI_TABLES))
    assert held.execute("select count(*) from risk_tiers").fetchall()[0][0] == 2
    assert snapshot_id_seen_by_a_new_process(bi) == second.snapshot_id != first.snapshot_id
    held.close()
    current = (bi / CURRENT).resolve()
    assert current == second.version
    assert duckdb.sql(f"select count(*) from read_parquet('{current}/risk_tiers/*/*.parquet')").fetchall()[0][0] == 3


def test_the_file_is_readable_by_older_duckdb_versions(tmp_path):
    build_warehouse(tmp_path / "warehouse.duckdb")
    publish(tmp_path / "warehouse.duckdb", tmp_path / "bi")
    with duckdb.connect() as con:
        con.execute(f"attach '{tmp_path / 'bi' / DATABASE}' as bi (read_only)")
        tags = con.execute("select tags from duckdb_databases() where database_name = 'bi'").fetchall()[0][0]
    assert tags["storage_version"].startswith(STORAGE_VERSION.rsplit(".", 1)[0])


def test_a_copy_of_bi_that_followed_the_link_publishes_on(tmp_path):
    """`cp -r` or shutil.copytree turn bi/current into a folder and the hard links into copies: the
    next publication still builds on the newest version and restores the link."""
    import shutil

    warehouse = tmp_path / "warehouse.duckdb"
    build_warehouse(warehouse, days=3)
    publish(warehouse, tmp_path / "bi")
    shutil.copytree(tmp_path / "bi", tmp_path / "copy")
    assert not (tmp_path / "copy" / CURRENT).is_symlink()
    build_warehouse(warehouse, days=4)
    snapshot = publish(warehouse, tmp_path / "copy", daily(4))
    assert snapshot.rewritten["risk_tiers"] == 1 and (tmp_path / "copy" / CURRENT).resolve() == snapshot.version
    assert bi_values(tmp_path / "copy", "risk_tiers", "tier_date") == [(day(n),) for n in range(1, 5)]


def test_a_run_changes_its_days_with_their_lookback_and_the_measurement_horizon(tmp_path):
    from orchestration.config import Settings
    from orchestration.defs.bi.assets import run_changes
    from orchestration.measurement import outcome_horizon_days

    settings = Settings.under(tmp_path, lookback_days=2, start_date="2026-01-01")
    horizon = outcome_horizon_days(settings.measurement_windows[1])
    con = duckdb.connect()
    con.execute("create table raw_events (event_time varchar, event_time_ts timestamp, _landing_date date)")
    con.execute("insert into raw_events values (null, '2026-03-10 09:00:00', '2026-03-10')")
    daily_run = run_changes({"dagster/partition": "2026-03-10"}, settings, con)
    assert daily_run.window_days == {date(2026, 3, 10)}  # nothing landed late: the earlier days stand
    assert daily_run.lookback_days == {date(2026, 3, 8), date(2026, 3, 9), date(2026, 3, 10)}  # recall_metrics
    con.execute("insert into raw_events values (null, '2026-03-09 23:00:00', '2026-03-10')")
    late = run_changes({"dagster/partition": "2026-03-10"}, settings, con)
    assert late.window_days == {date(2026, 3, 9), date(2026, 3, 10)} and late.run_days == {date(2026, 3, 10)}
    assert min(daily_run.measured_days) == date(2026, 3, 10) - timedelta(days=horizon - 1)
    assert max(daily_run.measured_days) == date(2026, 3, 10) and len(daily_run.measured_days) == horizon
    backfill = run_changes({"dagster/asset_partition_range_start": "2026-01-01",
                            "dagster/asset_partition_range_end": "2026-01-05"}, settings, con)
    assert backfill.lookback_days == {date(2026, 1, n) for n in range(1, 6)}  # no lookback before the first day
    assert run_changes({}, settings, con) is None  # materialized alone: everything is published


def test_the_benchmark_publishes_in_full_then_daily_and_counts_shared_files_once(tmp_path):
    from orchestration.bi.benchmark import disk_bytes, run_bi_benchmark
    from orchestration.config import Settings

    (tmp_path / "home").mkdir()
    build_warehouse(tmp_path / "home" / "warehouse.duckdb", days=4)
    lines = run_bi_benchmark(Settings.under(tmp_path / "home", lookback_days=0), tmp_path / "scratch", runs=2)
    assert lines[-1].startswith("bi benchmark: full ") and "after 2 daily runs" in lines[-1]
    versions = sorted((tmp_path / "scratch" / "bi" / VERSIONS).iterdir())
    assert len(versions) == 3
    # The daily versions share the days they did not rewrite: together far less than three copies.
    assert disk_bytes(tmp_path / "scratch" / "bi") < sum(disk_bytes(v) for v in versions)


@pytest.mark.parametrize("name, model", [("risk_tiers", "user_risk_tiers"), ("daily_labels", "user_daily_labels")])
def test_tiers_and_labels_publish_every_column_of_their_model(name: str, model: str) -> None:
    """docs/bi.md promises every column of these two marts: the allow-list follows the model's YAML (its contract)."""
    import yaml

    document = yaml.safe_load((Path(__file__).parents[1] / "dbt_project/models/marts" / f"{model}.yml").read_text())
    [spec] = [m for m in document["models"] if m["name"] == model]
    documented = [column["name"] for column in spec["columns"]]
    table = TABLES[name]
    assert sorted(table.columns) == sorted(c for c in documented if c not in table.withheld)


@pytest.mark.parametrize("name", [t.name for t in BI_TABLES if t.source in DOCUMENTED])
def test_python_tables_publish_every_documented_column_but_the_withheld(name: str) -> None:
    """docs/bi.md promises every column of the Python tables but the withheld ones: a column added to a table's
    documentation (orchestration/warehouse/tables.py) is published, or withheld with its reason."""
    table = TABLES[name]
    documented = [column.name for column in DOCUMENTED[table.source][1]]
    assert sorted(table.columns) == sorted(c for c in documented if c not in table.withheld)
