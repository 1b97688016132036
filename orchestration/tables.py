"""The documented schemas of the tables the Python assets write (the dbt models document theirs in
YAML): each column's type and meaning, used to create the tables and shown in the Dagster UI."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str


def _cols(*rows: tuple[str, str, str]) -> tuple[Column, ...]:
    return tuple(Column(*row) for row in rows)


_ACTION_KEYS = _cols(
    ("action_id", "VARCHAR", "Journey id: a hash of the day, the strategy and the user (primary key)."),
    ("action_date", "DATE", "Business day the user was assigned (the partition)."),
    ("user_id", "VARCHAR", "The user."),
    ("strategy_id", "VARCHAR", "Strategy of the library (strategies.yml) the user matched first by priority."),
)
_STEP = _cols(
    ("step", "INTEGER", "Step of the strategy's ladder (1 = first contact)."),
    ("channel", "VARCHAR", "push, sms or call."),
    ("template", "VARCHAR", "Message template of the step."),
    ("benefit", "VARCHAR", "Benefit offered with the step (coupon, gift pack), null when none."),
    ("scheduled_at", "TIMESTAMPTZ", "When the step is due (UTC)."),
)

TABLES: dict[str, tuple[str, tuple[Column, ...]]] = {
    "recall_actions": (
        "Every user assigned to a recall strategy on a day, treatment and control alike.",
        _ACTION_KEYS
        + _cols(("arm", "VARCHAR", "treatment or control (holdout: assigned and logged, never contacted)."))
        + _STEP
        + _cols(
            ("lifecycle_stage", "VARCHAR", "Stage from user_risk_tiers on action_date."),
            ("risk_level", "VARCHAR", "Risk level from user_risk_tiers on action_date."),
            ("value_tier", "VARCHAR", "RFM value tier from user_risk_tiers on action_date."),
            ("risk_score", "DOUBLE", "Risk score (0-100) from user_risk_tiers on action_date."),
            ("status", "VARCHAR", "queued (in the outbox), holdout (control) or suppressed_no_consent "
             "(treatment, but no consent for the step's channel on that day)."),
        ),
    ),
    "recall_outbox": (
        "The steps due for sending: queued treatment rows of recall_actions, exported per day as Parquet and "
        "CSV for the delivery system, only after the blocking outbox contract check has passed.",
        _ACTION_KEYS + _STEP,
    ),
    "recall_outcomes": (
        "One row per journey of the delivery log (treatment and control) with its outcome windows, "
        "counted in business days from the assignment day A inclusive.",
        _cols(
            ("action_id", "VARCHAR", "Journey id from the delivery log (primary key)."),
            ("user_id", "VARCHAR", "The user."),
            ("strategy_id", "VARCHAR", "Strategy of the campaign."),
            ("arm", "VARCHAR", "treatment or control."),
            ("assignment_date", "DATE", "A: business day of the journey's first scheduled row."),
            ("lifecycle_stage", "VARCHAR", "The user's stage on A-1 (what the campaign could know); 'unknown' without a tier."),
            ("sent", "BOOLEAN", "At least one message was sent (false for control)."),
            ("opened", "BOOLEAN", "At least one message was opened."),
            ("clicked", "BOOLEAN", "At least one message was clicked."),
            ("cost", "DOUBLE", "Sum of the journey's delivery costs (0 for control)."),
            ("measured_through", "DATE", "Last day of activity seen (capped at A+89: later days change nothing)."),
            ("days_observed", "INTEGER", "Days A..measured_through."),
            ("woke_up_7d", "BOOLEAN", "A key action on days A..A+6."),
            ("woke_up_7d_mature", "BOOLEAN", "The 7-day window has closed."),
            ("repurchased_30d", "BOOLEAN", "An order on days A..A+29."),
            ("repurchased_30d_mature", "BOOLEAN", "The 30-day window has closed."),
            ("revenue_30d", "DOUBLE", "Order revenue on days A..A+29."),
            ("revenue_30d_mature", "BOOLEAN", "The 30-day window has closed."),
            ("second_churned", "BOOLEAN", "Woke up, then no activity at all on days A+30..A+59; null until that window closes."),
            ("second_churned_mature", "BOOLEAN", "The second-churn window has closed."),
        ),
    ),
    "recall_metrics": (
        "Per campaign cohort (assignment day, strategy, lifecycle stage incl. 'all', arm) as of each day. "
        "Lifts are treatment minus the same cohort's control, with Welch 95% intervals (mean +/- 1.96 SE).",
        _cols(
            ("assignment_date", "DATE", "Cohort: assignment day A."),
            ("strategy_id", "VARCHAR", "Cohort: strategy."),
            ("lifecycle_stage", "VARCHAR", "Cohort: stage on A-1, or 'all' for the whole campaign."),
            ("arm", "VARCHAR", "treatment or control."),
            ("as_of_date", "DATE", "Day the metrics were measured on (the partition)."),
            ("users", "BIGINT", "Journeys in the cohort and arm (denominator of every rate)."),
            ("sends", "BIGINT", "Journeys with at least one message sent."),
            ("opens", "BIGINT", "Journeys with at least one open."),
            ("clicks", "BIGINT", "Journeys with at least one click."),
            ("cost", "DOUBLE", "Total delivery cost of the cohort."),
            ("wake_up_rate", "DOUBLE", "Share of journeys with a key action on days A..A+6."),
            ("repurchase_30d_rate", "DOUBLE", "Share of journeys with an order on days A..A+29."),
            ("revenue_per_user_30d", "DOUBLE", "Mean order revenue on days A..A+29 per journey."),
            ("second_churn_rate", "DOUBLE", "Among woken-up journeys whose window closed: share silent on days A+30..A+59."),
            ("wake_up_mature", "BOOLEAN", "as_of_date >= A+6."),
            ("is_mature", "BOOLEAN", "as_of_date >= A+29: the 30-day metrics are final."),
            ("second_churn_mature", "BOOLEAN", "as_of_date >= A+59."),
            ("control_users", "DOUBLE", "Treatment rows: size of the matching control cohort."),
            *(
                row
                for prefix, what in (("wake_up", "wake-up rate"), ("repurchase", "30-day repurchase rate"),
                                     ("revenue", "30-day revenue per user"))
                for row in (
                    (f"{prefix}_lift", "DOUBLE", f"Treatment minus control {what}."),
                    (f"{prefix}_lift_ci_low", "DOUBLE", f"Lower end of the 95% interval of the {what} lift."),
                    (f"{prefix}_lift_ci_high", "DOUBLE", f"Upper end of the 95% interval of the {what} lift."),
                    (f"{prefix}_relative_lift", "DOUBLE", f"{what.capitalize()} lift divided by the control value."),
                )
            ),
            ("incremental_revenue_30d", "DOUBLE", "revenue_lift x treatment users."),
            ("roi_30d", "DOUBLE", "(incremental_revenue_30d - cost) / cost; null without cost."),
        ),
    ),
}


def create_table_sql(table: str) -> str:
    _, columns = TABLES[table]
    return f"create table if not exists {table} ({', '.join(f'{c.name} {c.type}' for c in columns)})"
