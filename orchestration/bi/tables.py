"""The tables of the BI snapshot: for each, the warehouse table it copies, an explicit allow-list of
the columns published, and the day column it is partitioned by with the days a run can change.
Nothing else reaches bi/: a column added to a warehouse table stays out until it is listed here (and
documented in docs/bi.md). Personal data and secrets never do: phone numbers, nicknames, rendered
messages (they contain the nickname), coupon codes (redeemable) and the user's timezone are withheld,
and a listed column of that kind is refused when the module loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

# Columns that must never be published, whatever table they come from.
WITHHELD_EVERYWHERE: dict[str, str] = {
    "phone": "personal data (delivery only)",
    "nickname": "personal data (delivery only)",
    "message": "the rendered message, which contains the nickname",
    "coupon_code": "a redeemable code (a secret of the user it was given to)",
    "timezone": "the user's location, not needed for analysis",
}


class Changes(Enum):
    """Which rows of a table a daily run can change, hence which partitions a publication rewrites."""

    RUN = "the run's days"  # the steps that write those only: the segments and the recall plan
    WINDOW = "the run's days and the earlier days its late rows are dated"  # the daily models and the scores
    LOOKBACK = "the run's days and its whole lookback"  # recall_metrics: late delivery records re-measure days too
    MEASUREMENT = "the assignment days of the journeys the run re-measured"  # recall_outcomes
    WHOLE = "any row"  # small tables, rewritten whole on every publication


@dataclass(frozen=True)
class BiTable:
    name: str  # table (and folder) name in bi/
    source: str  # warehouse table (a dbt model or a Python table)
    columns: tuple[str, ...]  # published columns, in this order
    description: str
    withheld: dict[str, str] = field(default_factory=dict)  # source columns left out, with the reason
    day_column: str | None = None  # the Parquet files are partitioned by it (one folder per day)
    changes: Changes = Changes.WINDOW

    def __post_init__(self) -> None:
        forbidden = sorted(set(self.columns) & set(WITHHELD_EVERYWHERE))
        if forbidden:
            raise ValueError(f"bi table {self.name}: {forbidden} must never be published ({WITHHELD_EVERYWHERE[forbidden[0]]})")
        if len(set(self.columns)) != len(self.columns):
            raise ValueError(f"bi table {self.name}: a column is listed twice")
        if (self.day_column is None) != (self.changes is Changes.WHOLE):
            raise ValueError(f"bi table {self.name}: a table is partitioned by a day column exactly when it is not "
                             "rewritten whole")
        if self.day_column is not None and self.day_column not in self.columns:
            raise ValueError(f"bi table {self.name}: its day column {self.day_column} is not published")


def _cols(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _lift_columns(*metrics: str) -> tuple[str, ...]:
    suffixes = ("lift", "lift_ci_low", "lift_ci_high", "relative_lift", "relative_lift_ci_low", "relative_lift_ci_high",
                "p_value", "lift_cuped", "lift_cuped_ci_low", "lift_cuped_ci_high")
    return tuple(f"{metric}_{suffix}" for metric in metrics for suffix in suffixes)


BI_TABLES: tuple[BiTable, ...] = (
    BiTable(
        "risk_tiers", "user_risk_tiers",
        _cols("""user_id tier_date lifecycle_stage risk_level value_tier r_score f_score m_score is_high_value_dormant
                 risk_score signals_fired special_tier signal_count silence_grade silent_days days_since_signup
                 days_since_last_key_action last_reactivated_date orders_90d revenue_90d value_depth value_duration
                 value_decision value_decision_point value_check_score churn_probability scored_by model_version
                 rules_risk_score at_risk_silence_days churned_silence_days stage_thresholds_source
                 activity_silent_days"""),
        "One row per user and day: lifecycle stage, risk level, RFM value tier, risk score and the signals behind it.",
        day_column="tier_date",
    ),
    BiTable(
        "daily_labels", "user_daily_labels",
        _cols("""user_id label_date signup_date days_since_signup last_active_date days_since_last_active silent_days
                 silence_grade last_key_action_date days_since_last_key_action last_reactivated_date
                 activity_silent_days activity_silence_grade key_action_days first_key_action_date key_action_gap_days
                 usual_key_action_gap_days at_risk_silence_days active_days_30d
                 orders_30d revenue_30d orders_90d revenue_90d coupon_orders_90d social_events_30d device_changes_30d
                 logins_7d logins_baseline_7d login_drop events_per_session_7d events_per_session_baseline depth_drop
                 spend_7d spend_baseline_7d spend_drop core_feature_7d core_feature_baseline_7d core_feature_drop
                 signal_login_drop signal_depth_drop signal_spend_drop signal_core_feature_drop social_events_7d
                 social_events_baseline_28d device_changes_7d no_core_session_streak purchase_days_90d
                 last_purchase_date_90d days_since_last_purchase purchase_cycle_days withdrawals_7d withdrawals_30d
                 max_withdrawal_7d mean_withdrawal_history investments_7d current_balance peak_balance_90d
                 signal_no_core_sessions signal_payment_interruption signal_social_zero signal_device_change
                 signal_large_withdrawal signal_partial_churn signal_count signals_fired signals_unavailable
                 rfm_recency_score
                 rfm_frequency_score rfm_monetary_score meets_high_value_rule value_depth value_duration
                 value_decision_point value_decision value_check_score"""),
        "One row per user and day: the label system (silence, activity, spend, early-warning signals, RFM).",
        day_column="label_date",
    ),
    BiTable(
        "segments", "user_segments",
        _cols("""segment_date user_id segment cluster refreshed_on window_days active_days coupon_share
                 core_feature_share social_share centroid_distance"""),
        "One row per active user and day: behaviour segment (price-sensitive, feature-dependent, social-driven).",
        day_column="segment_date", changes=Changes.RUN,
    ),
    BiTable(
        "recall_decisions", "recall_actions",
        _cols("""action_id journey_id step action_date user_id channel scheduled_at template benefit coupon_value
                 strategy_id variant arm journey_started_at cost library_revision holdout due_at priority
                 expected_value avg_order_value lifecycle_stage risk_level value_tier segment special_tier risk_score
                 status reason benefit_kind treatment_key basis decision_reason expected_profit uplift_revenue
                 uplift_wake_up uplift_model_version design_holdout_share design_global_holdout_share
                 design_variant_share"""),
        "Every recall decision of a day (the outbox history): queued, holdout, cancelled with the reason, skipped.",
        withheld={"message": WITHHELD_EVERYWHERE["message"], "coupon_code": WITHHELD_EVERYWHERE["coupon_code"],
                  "timezone": WITHHELD_EVERYWHERE["timezone"]},
        day_column="action_date", changes=Changes.RUN,
    ),
    BiTable(
        "recall_outcomes", "recall_outcomes",
        _cols("""action_id user_id strategy_id arm assignment_date lifecycle_stage value_tier segment channel
                 step_variant sent delivered opened clicked responded cost pre_period_revenue measured_through
                 days_observed wake_up_window_days woke_up woke_up_mature repurchased_30d repurchased_30d_mature
                 revenue_30d revenue_30d_mature revenue_90d revenue_90d_mature coupon_redeemed coupon_redeemed_mature
                 return_date churn_threshold_days second_churned second_churned_mature holdout source first_journey
                 design_holdout_share design_global_holdout_share design_variant_share"""),
        "One row per journey (treatment and control) with its outcome windows: wake-up, repurchase, revenue, second churn.",
        withheld={"coupon_code": WITHHELD_EVERYWHERE["coupon_code"]},
        day_column="assignment_date", changes=Changes.MEASUREMENT,
    ),
    BiTable(
        "recall_metrics", "recall_metrics",
        _cols("""assignment_date strategy_id lifecycle_stage arm as_of_date cohort_level cohort_value
                 assignment_end_date control_basis campaigns users sends deliveries opens clicks responses conversions
                 coupon_journeys second_churn_users cost wake_up_rate repurchase_30d_rate revenue_per_user_30d
                 revenue_per_user_90d second_churn_rate coupon_redemption_rate wake_up_mature is_mature
                 second_churn_mature ltv_mature wake_up_window_days churn_threshold_days control_users""")
        + _lift_columns("wake_up", "repurchase", "revenue", "ltv_90d")
        + _cols("incremental_revenue_30d roi_30d incremental_revenue_90d roi_90d srm_p_value srm_alarm trustworthy "
                "small_cohort"),
        "Per cohort and arm as of each day: rates, lifts with 95% intervals, ROI, sample-ratio check.",
        day_column="as_of_date", changes=Changes.LOOKBACK,
    ),
    BiTable(
        "churn_health_daily", "churn_health_daily",
        _cols("""report_date users engaged_users at_risk_or_dormant_users churned_users churn_base_users
                 newly_churned_users churn_rate returned_from_churn_users treatment_journeys_started
                 control_journeys_started steps_queued contact_cost coupons_offered coupon_journeys coupons_redeemed
                 coupon_redemption_rate coupon_redemption_mature"""),
        "One row per day: users, churn rate, comebacks, recall decisions planned, coupon use.",
        # One row a day, but each reads the day before and the journeys measured since: rewritten whole.
        changes=Changes.WHOLE,
    ),
    BiTable(
        "churn_health_stages", "churn_health_stages",
        _cols("report_date lifecycle_stage risk_level users high_value_dormant_users share_of_users"),
        "Users per lifecycle stage and risk level per day.",
        day_column="report_date",  # a day's rows read that day's tiers only
    ),
    BiTable(
        "churn_health_monthly", "churn_health_monthly",
        _cols("""assignment_month arm journeys wake_up_measured_journeys woke_up_journeys wake_up_rate
                 coupon_measured_journeys coupons_redeemed coupon_redemption_rate returned_journeys
                 second_churn_known_journeys second_churned_journeys second_churn_rate"""),
        "Per month of assignment and arm: recall (wake-up) rate, coupon redemption, second churn.",
        changes=Changes.WHOLE,
    ),
)
