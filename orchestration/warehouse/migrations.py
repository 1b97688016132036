"""Versioned schema migrations of the warehouse, run at the start of every run and logged in
`schema_migrations` (version, description, applied_at), so that an upgrade of the code keeps the
history that caps, cool-downs and holdouts depend on instead of needing `make clean`.

How it works: every migration not yet logged runs once, in version order, each in its own
transaction with its log row; then the Python tables still missing are created at the current
schema (orchestration/warehouse/tables.py). So a new warehouse gets the current schema directly,
and an existing one is brought to it step by step. A warehouse written before this module existed
(no `schema_migrations` table) holds its tables as of version 1.

Writing a migration: when a table of tables.py changes (or a dbt incremental table changes in a way
`on_schema_change: append_new_columns` does not cover: a rename, a type change, a dropped column),
append a Migration with the next version whose function takes the table from the previous schema to
the new one. It must be a no-op when the table does not exist yet (the helpers below are), and it
must not read tables.py (that describes the newest schema, not the one the migration was written
for). tests/test_migrations.py fails until the migrations reproduce tables.py exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import duckdb

from orchestration.warehouse.io import table_exists
from orchestration.warehouse.tables import TABLES, create_table_sql

LOG_TABLE = "schema_migrations"


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[duckdb.DuckDBPyConnection], None]


@dataclass(frozen=True)
class MigrationReport:
    """What a call to `migrate` did: the versions it applied now, the tables it created, the version reached."""

    applied: tuple[int, ...]
    created_tables: tuple[str, ...]
    version: int


class MigrationError(RuntimeError):
    """A migration failed; its transaction was rolled back and later migrations were not tried."""


def _baseline(con: duckdb.DuckDBPyConnection) -> None:
    """Version 1 is the schema of the Python tables as main a320aea created them (recall_actions,
    recall_outbox, recall_outcomes, recall_metrics, user_segments): nothing to change."""


def _messages_apart(con: duckdb.DuckDBPyConnection) -> None:
    """Rendered messages name the user: move them from recall_actions to restricted.recall_messages
    and drop the column in recall_actions and recall_outbox (the exported files keep theirs)."""
    if table_exists(con, "recall_actions") and "message" in table_columns(con, "recall_actions"):
        con.execute("create schema if not exists restricted")
        con.execute("create table if not exists restricted.recall_messages "
                    "(action_id VARCHAR, action_date DATE, message VARCHAR)")
        con.execute("insert into restricted.recall_messages select action_id, action_date, message "
                    "from recall_actions where message is not null "
                    "and action_id not in (select action_id from restricted.recall_messages)")
    drop_column(con, "recall_actions", "message")
    drop_column(con, "recall_outbox", "message")


def _closed_loop_columns(con: duckdb.DuckDBPyConnection) -> None:
    """The closed loop's columns: the benefit's kind on actions and outbox (null on older rows: the kind
    was not recorded), and on outcomes where a journey was known from (older rows were all measured from
    the delivery log) with the holdout and first-journey flags that only decisions give (null there)."""
    for table in ("recall_actions", "recall_outbox"):
        add_column(con, table, "benefit_kind", "VARCHAR")
    add_column(con, "recall_outcomes", "holdout", "VARCHAR")
    add_column(con, "recall_outcomes", "source", "VARCHAR", "'delivery_log'")
    add_column(con, "recall_outcomes", "first_journey", "BOOLEAN")


def _decision_columns(con: duckdb.DuckDBPyConnection) -> None:
    """recall_actions records what decided each journey (the uplift wiring): the planner reads these
    columns back from the history, so an older table gets them (null: decided by the rules)."""
    for column, type_ in (("treatment_key", "VARCHAR"), ("basis", "VARCHAR"), ("decision_reason", "VARCHAR"),
                          ("expected_profit", "DOUBLE"), ("uplift_revenue", "DOUBLE"), ("uplift_wake_up", "DOUBLE"),
                          ("uplift_model_version", "VARCHAR")):
        add_column(con, "recall_actions", column, type_)


def _design_columns(con: duckdb.DuckDBPyConnection) -> None:
    """recall_actions records the design each journey was assigned under (holdout shares, variant share), and
    recall_outcomes carries it to the sample-ratio check; older rows stay null (not recorded)."""
    for table in ("recall_actions", "recall_outcomes"):
        for column in ("design_holdout_share", "design_global_holdout_share", "design_variant_share"):
            add_column(con, table, column, "DOUBLE")


def _labels_inlined(con: duckdb.DuckDBPyConnection) -> None:
    """int_user_signals and int_user_value_checks are CTEs of user_daily_labels now (ephemeral dbt models), which
    carries their columns: their tables would only go stale. Nothing reads them; their rows are in the labels."""
    for table in ("int_user_signals", "int_user_value_checks"):
        con.execute(f"drop table if exists main.{table}")


def _scores_inputs_hash(con: duckdb.DuckDBPyConnection) -> None:
    """user_churn_scores keeps the hash of each model-scored row's inputs, so that a day scored again predicts only the
    rows whose inputs changed; older rows stay null (predicted again once)."""
    add_column(con, "user_churn_scores", "inputs_hash", "BIGINT")


def _landed_ids_once(con: duckdb.DuckDBPyConnection) -> None:
    """base_events keeps each landed id once (landed_event_id and landed_user_id only where they differ from the
    clean ids). It is a work table, emptied by every run: dropped here, dbt creates it again with its new columns."""
    con.execute("drop table if exists main.base_events")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "baseline: the Python tables as created before schema versioning (main a320aea)", _baseline),
    Migration(2, "rendered messages moved to restricted.recall_messages (personal data out of main)", _messages_apart),
    Migration(3, "closed loop: benefit_kind on actions and outbox; holdout, source, first_journey on outcomes",
              _closed_loop_columns),
    Migration(4, "recall_actions records the decision of each journey (treatment key, basis, reason, expected "
                 "profit, uplifts, uplift model version)", _decision_columns),
    Migration(5, "recall_actions and recall_outcomes record the design each journey was assigned under (strategy "
                 "and global holdout shares, variant share)", _design_columns),
    Migration(6, "int_user_signals and int_user_value_checks inlined into user_daily_labels: their stale tables "
                 "dropped", _labels_inlined),
    Migration(7, "base_events (a work table) keeps each landed id once: dropped, dbt creates it with its new "
                 "columns", _landed_ids_once),
    Migration(8, "user_churn_scores keeps the hash of each model-scored row's inputs (inputs_hash)", _scores_inputs_hash),
)


# -------------------------------------------------------------------------------- helpers for migrations


def add_column(con: duckdb.DuckDBPyConnection, table: str, column: str, type_: str, default_sql: str | None = None) -> None:
    """Add a column (filled with `default_sql` for existing rows, else null); no-op without the table."""
    if table_exists(con, table):
        con.execute(f"alter table {table} add column if not exists {column} {type_}")
        if default_sql is not None:
            con.execute(f"update {table} set {column} = {default_sql} where {column} is null")


def rename_column(con: duckdb.DuckDBPyConnection, table: str, old: str, new: str) -> None:
    """Rename a column when the table still has it; no-op without the table."""
    if table_exists(con, table) and old in table_columns(con, table):
        con.execute(f"alter table {table} rename column {old} to {new}")


def drop_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> None:
    if table_exists(con, table):
        con.execute(f"alter table {table} drop column if exists {column}")


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Column name -> DuckDB type of a table (`name` in main, or `schema.name`), in table order."""
    schema, _, name = table.rpartition(".")
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema or "main", name],
    ).fetchall()
    return {name: type_ for name, type_ in rows}


# -------------------------------------------------------------------------------- running them


def applied_versions(con: duckdb.DuckDBPyConnection) -> list[int]:
    if not table_exists(con, LOG_TABLE):
        return []
    return [v for (v,) in con.execute(f"select version from {LOG_TABLE} order by version").fetchall()]


def pending(con: duckdb.DuckDBPyConnection, migrations: Sequence[Migration] = MIGRATIONS) -> list[Migration]:
    done = set(applied_versions(con))
    return [m for m in _ordered(migrations) if m.version not in done]


def migrate(
    con: duckdb.DuckDBPyConnection,
    migrations: Sequence[Migration] = MIGRATIONS,
    tables: Sequence[str] | None = None,
) -> MigrationReport:
    """Apply the pending migrations in version order (one transaction each, logged with its
    description and time), then create the missing Python tables at the current schema."""
    ordered = _ordered(migrations)
    con.execute(
        f"create table if not exists {LOG_TABLE} (version integer primary key, description varchar not null, "
        "applied_at timestamptz not null)"
    )
    applied: list[int] = []
    for migration in pending(con, ordered):
        con.execute("begin transaction")
        try:
            migration.apply(con)
            con.execute(f"insert into {LOG_TABLE} values (?, ?, ?)",
                        [migration.version, migration.description, datetime.now(timezone.utc)])
            con.execute("commit")
        except Exception as exc:
            con.execute("rollback")
            raise MigrationError(
                f"schema migration {migration.version} ({migration.description}) failed and was rolled back: {exc}"
            ) from exc
        applied.append(migration.version)
    created = []
    for table in tables if tables is not None else TABLES:
        if not table_exists(con, table):
            con.execute(create_table_sql(table))
            created.append(table)
    version = max((m.version for m in ordered), default=0)
    return MigrationReport(applied=tuple(applied), created_tables=tuple(created), version=version)


def _ordered(migrations: Sequence[Migration]) -> list[Migration]:
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate migration versions: {sorted(versions)}")
    return sorted(migrations, key=lambda m: m.version)
