"""The churn model's features: what user_daily_labels knows about a user as of day D, read with one SQL
select for training and scoring alike, so the two can never drift apart.

Every feature is a column (or a ratio of columns) of the label row of day D, which reads only events up
to the end of D: nothing here looks past D. Features are relative to the user (recency, counts, own
baselines, signals, tenure) rather than calendar dates, so a model fitted on earlier weeks applies to
later ones, and the same list serves every vertical (a column a vertical never fills is constant).

Built so that a model fitted on a young history behaves on the older users it will score. Boosted trees
do not extrapolate: a game's first model, fitted on silences of at most ~19 days, gave users silent for
30-60 days P = 0.003 (they had a baseline of zero and null drops, which in its training data meant brand
new users), and ranked worse than recency alone (ROC AUC 0.86 against 0.97 a week on). So:
- the recency features (RECENCY) are capped where the training history stops (orchestration/scoring/
  model.py: the silence most training rows stay under, at least H), and a user never active or without
  the event counts as silent that long: silences longer than any the model learned from rank with the
  longest it knows;
- the model is monotone: more silence never lowers the probability, more recent activity never raises it;
- ratios that are null both for a brand-new user and for a long-gone one (the drops against the baseline,
  events per session, the purchase cycle overdue ratio, days since a comeback) are left out; the signals
  built on them stay.
"""

from __future__ import annotations

# name -> (SQL expression over the label row `labels`; monotone direction: +1 the probability never falls as
# it grows, -1 never rises, 0 free)
FEATURES: dict[str, tuple[str, int]] = {
    # recency (null: never, or no purchase in 90 days), capped by the model
    "silent_days": ("labels.silent_days", 1),
    "days_since_last_active": ("labels.days_since_last_active", 1),
    "days_since_last_key_action": ("labels.days_since_last_key_action", 1),
    "days_since_last_purchase": ("labels.days_since_last_purchase", 1),
    # recent activity
    "active_days_30d": ("labels.active_days_30d", -1),
    "logins_7d": ("labels.logins_7d", -1),
    "core_feature_7d": ("labels.core_feature_7d", -1),
    "spend_7d": ("labels.spend_7d", -1),
    "social_events_7d": ("labels.social_events_7d", -1),
    "social_events_30d": ("labels.social_events_30d", -1),
    "investments_7d": ("labels.investments_7d", -1),
    # frequency and monetary value (RFM)
    "orders_30d": ("labels.orders_30d", -1),
    "revenue_30d": ("labels.revenue_30d", -1),
    "orders_90d": ("labels.orders_90d", -1),
    "revenue_90d": ("labels.revenue_90d", -1),
    "purchase_days_90d": ("labels.purchase_days_90d", -1),
    "purchase_cycle_days": ("labels.purchase_cycle_days", 0),
    "coupon_orders_90d": ("labels.coupon_orders_90d", 0),
    "rfm_recency_score": ("labels.rfm_recency_score", 0),
    "rfm_frequency_score": ("labels.rfm_frequency_score", 0),
    "rfm_monetary_score": ("labels.rfm_monetary_score", 0),
    "value_check_score": ("labels.value_check_score", 0),
    # tenure and the user's own baselines (D-34..D-7, per 7 days)
    "days_since_signup": ("labels.days_since_signup", 0),
    "logins_baseline_7d": ("labels.logins_baseline_7d", 0),
    "spend_baseline_7d": ("labels.spend_baseline_7d", 0),
    "core_feature_baseline_7d": ("labels.core_feature_baseline_7d", 0),
    "social_events_baseline_28d": ("labels.social_events_baseline_28d", 0),
    "no_core_session_streak": ("labels.no_core_session_streak", 0),
    "device_changes_30d": ("labels.device_changes_30d", 0),
    # finance: money moving out
    "withdrawals_7d": ("labels.withdrawals_7d", 0),
    "withdrawals_30d": ("labels.withdrawals_30d", 0),
    "balance_to_peak": ("labels.current_balance / nullif(labels.peak_balance_90d, 0)", 0),
    # the rule signals (also the explanation of a flag)
    "signal_count": ("labels.signal_count", 0),
    **{
        f"signal_{name}": (f"labels.signal_{name}", 0)
        for name in ("login_drop", "depth_drop", "spend_drop", "core_feature_drop", "no_core_sessions",
                     "payment_interruption", "social_zero", "device_change", "large_withdrawal", "partial_churn")
    },
}
FEATURE_NAMES: tuple[str, ...] = tuple(FEATURES)
MONOTONE: tuple[int, ...] = tuple(direction for _, direction in FEATURES.values())
RECENCY: tuple[str, ...] = ("silent_days", "days_since_last_active", "days_since_last_key_action",
                            "days_since_last_purchase")


def feature_select() -> str:
    """The select list: user_id, label_date, then every feature as a double (booleans as 0/1)."""
    columns = ",\n    ".join(f"cast({sql} as double) as {name}" for name, (sql, _) in FEATURES.items())
    return f"labels.user_id, labels.label_date,\n    {columns}"
