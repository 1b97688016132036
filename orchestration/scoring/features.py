"""The churn model's features: what user_daily_labels knows about a user as of day D, read with one SQL
select for training and scoring alike, so the two can never drift apart.

Every feature is a column of the label row of day D, which reads only events up to the end of D:
nothing here looks past D. Features are relative to the user (recency, recent activity, frequency and
value) rather than calendar dates, so a model fitted on earlier weeks applies to later ones, and the same
list serves every vertical (a column a vertical never fills is constant).

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
  events per session, the purchase cycle overdue ratio, days since a comeback) are left out;
- so is every column without a monotone direction: tenure, the users' own baselines, the RFM and value
  check scores, coupon orders, the purchase cycle, streaks, device changes, withdrawals, the balance
  against its peak and the rule signals. On apps whose users age they carried what held in the training
  weeks and not later (a long-gone user has a zero baseline and no signal, as a new one has; a drifting
  user fires signals): in `churn-recall evaluate-early-warning` (2,000 users x 120 days per preset)
  leaving them out raised the scored days' ROC AUC from 0.726 to 0.748 (ecommerce), 0.710 to 0.735
  (finance) and 0.984 to 0.987 (game), and the top decile's precision from 0.806 to 0.835, 0.651 to
  0.735 and 0.905 to 0.958 (the game's with ties ordered by silence, model.py). The signals stay the
  explanation of a flag (signals_fired) and the rules' score.
"""

from __future__ import annotations

# name -> (SQL expression over the label row `labels`; monotone direction: +1 the probability never falls as
# it grows, -1 never rises)
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
    # frequency and monetary value
    "orders_30d": ("labels.orders_30d", -1),
    "revenue_30d": ("labels.revenue_30d", -1),
    "orders_90d": ("labels.orders_90d", -1),
    "revenue_90d": ("labels.revenue_90d", -1),
    "purchase_days_90d": ("labels.purchase_days_90d", -1),
}
FEATURE_NAMES: tuple[str, ...] = tuple(FEATURES)
MONOTONE: tuple[int, ...] = tuple(direction for _, direction in FEATURES.values())
RECENCY: tuple[str, ...] = ("silent_days", "days_since_last_active", "days_since_last_key_action",
                            "days_since_last_purchase")


def feature_select() -> str:
    """The select list: user_id, label_date, then every feature as a double (booleans as 0/1)."""
    columns = ",\n    ".join(f"cast({sql} as double) as {name}" for name, (sql, _) in FEATURES.items())
    return f"labels.user_id, labels.label_date,\n    {columns}"
