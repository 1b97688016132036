"""The churn model's features: what user_daily_labels knows about a user as of day D, read with one SQL
select for training and scoring alike, so the two can never drift apart.

Every feature is a column (or a ratio of columns) of the label row of day D, which reads only events up
to the end of D: nothing here looks past D. Features are relative to the user (recency, counts, own
baselines and drops, signals, tenure) rather than calendar dates, so a model fitted on earlier weeks
applies to later ones, and the same list serves every vertical (a column a vertical never fills is
constant and the model ignores it). Gradient boosting handles the nulls (never active, no baseline).
"""

from __future__ import annotations

# name -> SQL expression over the label row `labels`
FEATURES: dict[str, str] = {
    # recency and tenure
    "days_since_signup": "labels.days_since_signup",
    "silent_days": "labels.silent_days",
    "days_since_last_active": "labels.days_since_last_active",
    "days_since_last_key_action": "labels.days_since_last_key_action",
    "days_since_last_purchase": "labels.days_since_last_purchase",
    "days_since_reactivated": "labels.label_date - labels.last_reactivated_date",
    # frequency and monetary value (RFM)
    "active_days_30d": "labels.active_days_30d",
    "orders_30d": "labels.orders_30d",
    "revenue_30d": "labels.revenue_30d",
    "orders_90d": "labels.orders_90d",
    "revenue_90d": "labels.revenue_90d",
    "purchase_days_90d": "labels.purchase_days_90d",
    "purchase_cycle_days": "labels.purchase_cycle_days",
    "purchase_overdue_ratio": "labels.days_since_last_purchase / nullif(labels.purchase_cycle_days, 0)",
    "coupon_orders_90d": "labels.coupon_orders_90d",
    "rfm_recency_score": "labels.rfm_recency_score",
    "rfm_frequency_score": "labels.rfm_frequency_score",
    "rfm_monetary_score": "labels.rfm_monetary_score",
    "value_check_score": "labels.value_check_score",
    # the last 7 days against the user's own baseline
    "logins_7d": "labels.logins_7d",
    "logins_baseline_7d": "labels.logins_baseline_7d",
    "login_drop": "labels.login_drop",
    "events_per_session_7d": "labels.events_per_session_7d",
    "events_per_session_baseline": "labels.events_per_session_baseline",
    "depth_drop": "labels.depth_drop",
    "spend_7d": "labels.spend_7d",
    "spend_baseline_7d": "labels.spend_baseline_7d",
    "spend_drop": "labels.spend_drop",
    "core_feature_7d": "labels.core_feature_7d",
    "core_feature_baseline_7d": "labels.core_feature_baseline_7d",
    "core_feature_drop": "labels.core_feature_drop",
    "no_core_session_streak": "labels.no_core_session_streak",
    "social_events_7d": "labels.social_events_7d",
    "social_events_30d": "labels.social_events_30d",
    "social_events_baseline_28d": "labels.social_events_baseline_28d",
    "device_changes_30d": "labels.device_changes_30d",
    # finance: money moving out
    "withdrawals_7d": "labels.withdrawals_7d",
    "withdrawals_30d": "labels.withdrawals_30d",
    "investments_7d": "labels.investments_7d",
    "withdrawal_to_usual": "labels.max_withdrawal_7d / nullif(labels.mean_withdrawal_history, 0)",
    "balance_to_peak": "labels.current_balance / nullif(labels.peak_balance_90d, 0)",
    # the rule signals (also the explanation of a flag)
    "signal_count": "labels.signal_count",
    **{
        f"signal_{name}": f"labels.signal_{name}"
        for name in ("login_drop", "depth_drop", "spend_drop", "core_feature_drop", "no_core_sessions",
                     "payment_interruption", "social_zero", "device_change", "large_withdrawal", "partial_churn")
    },
}
FEATURE_NAMES: tuple[str, ...] = tuple(FEATURES)


def feature_select() -> str:
    """The select list: user_id, label_date, then every feature as a double (booleans as 0/1)."""
    columns = ",\n    ".join(f"cast({sql} as double) as {name}" for name, sql in FEATURES.items())
    return f"labels.user_id, labels.label_date,\n    {columns}"
