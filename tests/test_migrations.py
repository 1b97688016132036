"""Schema migrations: a new warehouse gets the documented schema, a warehouse of the previous version
is brought to it with its rows kept, pending migrations run once and in order, a failing one is rolled
back and stops the upgrade."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.warehouse.migrations import (
    LOG_TABLE,
    MIGRATIONS,
    Migration,
    MigrationError,
    add_column,
    applied_versions,
    migrate,
    rename_column,
    table_columns,
)
from orchestration.warehouse.tables import TABLES, create_table_sql
from tests.previous_schema import PREVIOUS_SCHEMA, PREVIOUS_VERSION, create_previous_schema


# raw_landing_log (what arrived per feed and day) and the churn model's tables (churn_model, user_churn_scores)
# are new; restricted.recall_messages comes out of recall_actions by migration 2.
TABLES_NEW_SINCE_PREVIOUS = {"raw_landing_log", "churn_model", "user_churn_scores", "partition_writes"}


def documented(table: str) -> dict[str, str]:
    """The columns of tables.py as DuckDB spells their types."""
    scratch = duckdb.connect()
    scratch.execute(create_table_sql(table))
    return table_columns(scratch, table)


def test_a_new_warehouse_gets_the_documented_schema_and_every_version_logged():
    con = duckdb.connect()
    report = migrate(con)
    for table in TABLES:
        assert table_columns(con, table) == documented(table), table
    assert applied_versions(con) == [m.version for m in MIGRATIONS] == list(report.applied)
    assert set(report.created_tables) == set(TABLES)
    # A second run has nothing to do.
    again = migrate(con)
    assert again.applied == () and again.created_tables == ()


def test_a_warehouse_of_the_previous_version_is_brought_to_the_documented_schema_with_its_rows():
    # Fails when tables.py changes without a migration that takes the previous schema there.
    con = duckdb.connect()
    create_previous_schema(con)
    con.execute("insert into recall_actions (action_id, action_date, user_id, status) "
                "values ('j_1_1', '2026-01-03', 'u1', 'queued')")
    report = migrate(con)
    assert [v for v in report.applied if v <= PREVIOUS_VERSION] == list(range(1, PREVIOUS_VERSION + 1))
    # Tables that did not exist in the previous version are created; every other one is migrated.
    assert set(report.created_tables) == TABLES_NEW_SINCE_PREVIOUS
    for table in TABLES:
        assert table_columns(con, table) == documented(table), f"{table}: add a migration from the previous schema"
    assert con.execute("select action_id, user_id, status from recall_actions").fetchall() == [("j_1_1", "u1", "queued")]
    assert set(PREVIOUS_SCHEMA) | TABLES_NEW_SINCE_PREVIOUS | {"restricted.recall_messages"} == set(TABLES)


def test_the_design_columns_come_to_a_version_4_warehouse_with_its_history_unrecorded():
    # A warehouse upgraded from version 4 keeps its decisions and outcomes; the shares their journeys were assigned
    # under were not recorded, so they stay null (the sample-ratio check then falls back to the library's).
    con = duckdb.connect()
    create_previous_schema(con)
    migrate(con, [m for m in MIGRATIONS if m.version <= 4])
    con.execute("insert into recall_actions (action_id, journey_id, step, action_date, user_id, arm, status) "
                "values ('j_1_1', 'j_1', 1, '2026-01-03', 'u1', 'control', 'holdout')")
    con.execute("insert into recall_outcomes (action_id, user_id, arm, assignment_date) "
                "values ('j_1', 'u1', 'control', '2026-01-04')")
    assert migrate(con, [m for m in MIGRATIONS if m.version <= 5]).applied == (5,)
    design = "design_holdout_share, design_global_holdout_share, design_variant_share"
    for table in ("recall_actions", "recall_outcomes"):
        assert table_columns(con, table) == documented(table), table
        assert con.execute(f"select user_id, {design} from {table}").fetchall() == [("u1", None, None, None)]


def test_pending_migrations_run_once_in_version_order_and_are_logged():
    con = duckdb.connect()
    con.execute("create table user_segments (segment_date date, user_id varchar, segment varchar)")
    con.execute("insert into user_segments values ('2026-01-05', 'u1', 'social_driven')")
    calls = []

    def add_source(c):
        calls.append(2)
        add_column(c, "user_segments", "source", "VARCHAR", "'kmeans'")

    def rename_segment(c):
        calls.append(3)
        rename_column(c, "user_segments", "segment", "behaviour_segment")

    migrations = [Migration(3, "rename segment", rename_segment), Migration(1, "baseline", lambda c: None),
                  Migration(2, "add source", add_source)]
    first = migrate(con, migrations, tables=[])
    assert first.applied == (1, 2, 3) and calls == [2, 3] and first.version == 3
    assert con.execute("select behaviour_segment, source from user_segments").fetchall() == [("social_driven", "kmeans")]
    log = con.execute(f"select version, description, applied_at is not null from {LOG_TABLE} order by 1").fetchall()
    assert log == [(1, "baseline", True), (2, "add source", True), (3, "rename segment", True)]
    assert migrate(con, migrations, tables=[]).applied == () and calls == [2, 3]


def test_the_tables_of_the_inlined_label_models_are_dropped_and_the_labels_kept():
    con = duckdb.connect()
    for table in ("int_user_signals", "int_user_value_checks", "user_daily_labels"):
        con.execute(f"create table {table} as select 'u1' as user_id, date '2026-03-01' as label_date")
    migrate(con, [m for m in MIGRATIONS if m.version < 6], tables=[])
    assert migrate(con, [m for m in MIGRATIONS if m.version <= 6], tables=[]).applied == (6,)
    tables = {name for (name,) in con.execute("select table_name from information_schema.tables").fetchall()}
    assert {"int_user_signals", "int_user_value_checks"}.isdisjoint(tables)
    assert con.execute("select count(*) from user_daily_labels").fetchone() == (1,)


def test_the_events_work_table_is_dropped_for_dbt_to_create_again_and_the_staged_events_kept():
    con = duckdb.connect()
    for table in ("base_events", "stg_events"):
        con.execute(f"create table {table} as select 'e1' as event_id, ' u1' as user_id")
    migrate(con, [m for m in MIGRATIONS if m.version < 7], tables=[])
    assert migrate(con, [m for m in MIGRATIONS if m.version <= 7], tables=[]).applied == (7,)
    tables = {name for (name,) in con.execute("select table_name from information_schema.tables").fetchall()}
    assert "base_events" not in tables
    assert con.execute("select count(*) from stg_events").fetchone() == (1,)


def test_a_migration_is_a_no_op_for_a_table_that_does_not_exist_yet():
    con = duckdb.connect()
    migrate(con, [Migration(1, "add", lambda c: add_column(c, "recall_outbox", "x", "INTEGER"))], tables=[])
    assert table_columns(con, "recall_outbox") == {}


def test_a_failing_migration_is_rolled_back_and_stops_the_upgrade():
    con = duckdb.connect()
    con.execute("create table recall_outbox (action_id varchar)")

    def half_done(c):
        add_column(c, "recall_outbox", "channel_code", "INTEGER")
        raise ValueError("cannot map channel 'pigeon'")

    later = []
    migrations = [Migration(1, "baseline", lambda c: None), Migration(2, "channel codes", half_done),
                  Migration(3, "later", lambda c: later.append(3))]
    with pytest.raises(MigrationError, match=r"schema migration 2 \(channel codes\) failed and was rolled back"):
        migrate(con, migrations, tables=[])
    assert table_columns(con, "recall_outbox") == {"action_id": "VARCHAR"}
    assert applied_versions(con) == [1] and later == []


def test_duplicate_versions_are_refused():
    with pytest.raises(ValueError, match="duplicate migration versions"):
        migrate(duckdb.connect(), [Migration(1, "a", lambda c: None), Migration(1, "b", lambda c: None)], tables=[])
