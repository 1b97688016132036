"""The warehouse's Python tables as main a320aea created them (schema version 1, before migrations
existed), written out explicitly: the upgrade tests build a warehouse of the previous version from
this, never from orchestration/warehouse/tables.py (which describes the newest schema)."""

from __future__ import annotations

import duckdb

PREVIOUS_VERSION = 1
PREVIOUS_SCHEMA: dict[str, str] = {
    "recall_actions": (
        "action_id VARCHAR, journey_id VARCHAR, step INTEGER, action_date DATE, user_id VARCHAR, channel "
        "VARCHAR, scheduled_at TIMESTAMPTZ, timezone VARCHAR, message VARCHAR, template VARCHAR, benefit "
        "VARCHAR, coupon_code VARCHAR, coupon_value DOUBLE, strategy_id VARCHAR, variant VARCHAR, arm "
        "VARCHAR, journey_started_at TIMESTAMPTZ, cost DOUBLE, library_revision VARCHAR, holdout VARCHAR, "
        "due_at TIMESTAMPTZ, priority INTEGER, expected_value DOUBLE, avg_order_value DOUBLE, lifecycle_stage "
        "VARCHAR, risk_level VARCHAR, value_tier VARCHAR, segment VARCHAR, special_tier VARCHAR, risk_score "
        "DOUBLE, status VARCHAR, reason VARCHAR"
    ),
    "recall_outbox": (
        "action_id VARCHAR, journey_id VARCHAR, step INTEGER, action_date DATE, user_id VARCHAR, channel "
        "VARCHAR, scheduled_at TIMESTAMPTZ, timezone VARCHAR, message VARCHAR, template VARCHAR, benefit "
        "VARCHAR, coupon_code VARCHAR, coupon_value DOUBLE, strategy_id VARCHAR, variant VARCHAR, arm "
        "VARCHAR, journey_started_at TIMESTAMPTZ, cost DOUBLE, library_revision VARCHAR"
    ),
    "recall_outcomes": (
        "action_id VARCHAR, user_id VARCHAR, strategy_id VARCHAR, arm VARCHAR, assignment_date DATE, "
        "lifecycle_stage VARCHAR, value_tier VARCHAR, segment VARCHAR, channel VARCHAR, step_variant VARCHAR, "
        "coupon_code VARCHAR, sent BOOLEAN, delivered BOOLEAN, opened BOOLEAN, clicked BOOLEAN, responded "
        "BOOLEAN, cost DOUBLE, pre_period_revenue DOUBLE, measured_through DATE, days_observed INTEGER, "
        "wake_up_window_days INTEGER, woke_up BOOLEAN, woke_up_mature BOOLEAN, repurchased_30d BOOLEAN, "
        "repurchased_30d_mature BOOLEAN, revenue_30d DOUBLE, revenue_30d_mature BOOLEAN, revenue_90d DOUBLE, "
        "revenue_90d_mature BOOLEAN, coupon_redeemed BOOLEAN, coupon_redeemed_mature BOOLEAN, return_date "
        "DATE, churn_threshold_days INTEGER, second_churned BOOLEAN, second_churned_mature BOOLEAN"
    ),
    "recall_metrics": (
        "assignment_date DATE, strategy_id VARCHAR, lifecycle_stage VARCHAR, arm VARCHAR, as_of_date DATE, "
        "cohort_level VARCHAR, cohort_value VARCHAR, assignment_end_date DATE, control_basis VARCHAR, "
        "campaigns BIGINT, users BIGINT, sends BIGINT, deliveries BIGINT, opens BIGINT, clicks BIGINT, "
        "responses BIGINT, conversions BIGINT, coupon_journeys BIGINT, second_churn_users BIGINT, cost "
        "DOUBLE, wake_up_rate DOUBLE, repurchase_30d_rate DOUBLE, revenue_per_user_30d DOUBLE, "
        "revenue_per_user_90d DOUBLE, second_churn_rate DOUBLE, coupon_redemption_rate DOUBLE, wake_up_mature "
        "BOOLEAN, is_mature BOOLEAN, second_churn_mature BOOLEAN, ltv_mature BOOLEAN, wake_up_window_days "
        "INTEGER, churn_threshold_days INTEGER, control_users DOUBLE, wake_up_lift DOUBLE, "
        "wake_up_lift_ci_low DOUBLE, wake_up_lift_ci_high DOUBLE, wake_up_relative_lift DOUBLE, "
        "wake_up_relative_lift_ci_low DOUBLE, wake_up_relative_lift_ci_high DOUBLE, wake_up_p_value DOUBLE, "
        "wake_up_lift_cuped DOUBLE, wake_up_lift_cuped_ci_low DOUBLE, wake_up_lift_cuped_ci_high DOUBLE, "
        "repurchase_lift DOUBLE, repurchase_lift_ci_low DOUBLE, repurchase_lift_ci_high DOUBLE, "
        "repurchase_relative_lift DOUBLE, repurchase_relative_lift_ci_low DOUBLE, "
        "repurchase_relative_lift_ci_high DOUBLE, repurchase_p_value DOUBLE, repurchase_lift_cuped DOUBLE, "
        "repurchase_lift_cuped_ci_low DOUBLE, repurchase_lift_cuped_ci_high DOUBLE, revenue_lift DOUBLE, "
        "revenue_lift_ci_low DOUBLE, revenue_lift_ci_high DOUBLE, revenue_relative_lift DOUBLE, "
        "revenue_relative_lift_ci_low DOUBLE, revenue_relative_lift_ci_high DOUBLE, revenue_p_value DOUBLE, "
        "revenue_lift_cuped DOUBLE, revenue_lift_cuped_ci_low DOUBLE, revenue_lift_cuped_ci_high DOUBLE, "
        "ltv_90d_lift DOUBLE, ltv_90d_lift_ci_low DOUBLE, ltv_90d_lift_ci_high DOUBLE, ltv_90d_relative_lift "
        "DOUBLE, ltv_90d_relative_lift_ci_low DOUBLE, ltv_90d_relative_lift_ci_high DOUBLE, ltv_90d_p_value "
        "DOUBLE, ltv_90d_lift_cuped DOUBLE, ltv_90d_lift_cuped_ci_low DOUBLE, ltv_90d_lift_cuped_ci_high "
        "DOUBLE, incremental_revenue_30d DOUBLE, roi_30d DOUBLE, incremental_revenue_90d DOUBLE, roi_90d "
        "DOUBLE, srm_p_value DOUBLE, srm_alarm BOOLEAN, trustworthy BOOLEAN, small_cohort BOOLEAN"
    ),
    "user_segments": (
        "segment_date DATE, user_id VARCHAR, segment VARCHAR, cluster INTEGER, refreshed_on DATE, window_days "
        "INTEGER, active_days BIGINT, coupon_share DOUBLE, core_feature_share DOUBLE, social_share DOUBLE, "
        "centroid_distance DOUBLE"
    ),
}


def create_previous_schema(con: duckdb.DuckDBPyConnection) -> None:
    """The five Python tables, empty, as main a320aea created them; no schema_migrations table."""
    for table, columns in PREVIOUS_SCHEMA.items():
        con.execute(f"create table {table} ({columns})")


def downgrade_to_previous_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Rewrite a warehouse of the current version as the previous version would have left it: each
    Python table rebuilt with the previous columns (data kept where a column exists in both), and the
    migration log dropped."""
    for table, columns in PREVIOUS_SCHEMA.items():
        names = [part.split()[0] for part in columns.split(", ")]
        current = {name for (name,) in con.execute(
            "select column_name from information_schema.columns where table_name = ?", [table]).fetchall()}
        select = ", ".join(name if name in current else f"null as {name}" for name in names)
        con.execute(f"create table {table}_previous ({columns})")
        if current:
            con.execute(f"insert into {table}_previous select {select} from {table}")
            con.execute(f"drop table {table}")
        con.execute(f"alter table {table}_previous rename to {table}")
    # The previous version kept the rendered messages in recall_actions and recall_outbox.
    if con.execute("select count(*) from information_schema.tables where table_schema = 'restricted' "
                   "and table_name = 'recall_messages'").fetchall()[0][0]:
        for table in ("recall_actions", "recall_outbox"):
            con.execute(f"update {table} set message = m.message from restricted.recall_messages m "
                        f"where m.action_id = {table}.action_id")
        con.execute("drop table restricted.recall_messages")
    con.execute("drop table if exists schema_migrations")
