"""Behaviour-mix features of each user over a trailing window of daily activity, as of one business day:
coupon use, core-feature use and social interaction (the named traits) plus depth, breadth and spend."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd

# The trailing window of daily activity the behaviour features cover.
WINDOW_DAYS = 56

TRAITS: tuple[str, ...] = ("coupon_share", "core_feature_share", "social_share")
# Extra clustering features that separate the archetypes without naming them.
EXTRA_FEATURES: tuple[str, ...] = ("feature_breadth", "log_order_value")
TOTAL_COLUMNS: tuple[str, ...] = (
    "active_days", "sessions", "events", "orders", "revenue", "core_feature_events", "distinct_features",
    "social_events", "coupon_orders",
)
# Coupon share is shrunk towards the population's rate with this many pseudo-orders, so that a user with
# one coupon order out of one is not the most price-sensitive user of the app.
COUPON_PRIOR_ORDERS = 3.0

WINDOW_TOTALS_SQL = """
select
    user_id,
    count(*) as active_days,
    sum(sessions) as sessions,
    sum(events) as events,
    sum(orders) as orders,
    sum(revenue) as revenue,
    sum(core_feature_events) as core_feature_events,
    sum(distinct_features) as distinct_features,
    sum(social_events) as social_events,
    sum(coupon_orders) as coupon_orders
from {source}
where activity_date > cast(? as date) - ? and activity_date <= cast(? as date)
group by user_id
order by user_id
"""


def window_totals(
    con: duckdb.DuckDBPyConnection, as_of: date, window_days: int, source: str = "int_user_daily_activity"
) -> pd.DataFrame:
    """Per-user sums of int_user_daily_activity over days as_of-window_days+1 .. as_of, ordered by user_id."""
    frame = con.execute(WINDOW_TOTALS_SQL.format(source=source), [as_of, window_days, as_of]).df()
    for column in TOTAL_COLUMNS:
        frame[column] = frame[column].astype("float64")
    return frame


def window_totals_from_rows(activity: pd.DataFrame, as_of: date, window_days: int) -> pd.DataFrame:
    """The same sums computed with pandas from int_user_daily_activity rows (for callers without a warehouse)."""
    day = pd.to_datetime(activity["activity_date"]).dt.date
    start = pd.Timestamp(as_of) - pd.Timedelta(days=window_days - 1)
    rows = activity[(day >= start.date()) & (day <= as_of)]
    sums = rows.groupby("user_id")[list(TOTAL_COLUMNS[1:])].sum()
    sums.insert(0, "active_days", rows.groupby("user_id").size())
    return sums.astype("float64").sort_index().reset_index()


def behaviour_features(totals: pd.DataFrame) -> pd.DataFrame:
    """Share and intensity features per user from window totals (index user_id)."""
    t = totals.set_index("user_id")
    events = t["events"].clip(lower=1.0)
    prior = float(t["coupon_orders"].sum() / t["orders"].sum()) if t["orders"].sum() > 0 else 0.0
    features = pd.DataFrame(index=t.index)
    features["coupon_share"] = (t["coupon_orders"] + COUPON_PRIOR_ORDERS * prior) / (t["orders"] + COUPON_PRIOR_ORDERS)
    # Shares of the events that are neither a session start nor a purchase: the in-session behaviour mix.
    in_session = (t["events"] - t["sessions"] - t["orders"]).clip(lower=1.0)
    features["core_feature_share"] = t["core_feature_events"] / in_session
    features["social_share"] = t["social_events"] / in_session
    features["feature_breadth"] = t["distinct_features"] / t["active_days"].clip(lower=1.0)
    order_value = np.where(t["orders"] > 0, t["revenue"] / t["orders"].clip(lower=1.0), np.nan)
    features["log_order_value"] = np.log1p(order_value)
    features["active_days"] = t["active_days"].astype("int64")
    features["events"] = events.astype("int64")
    return features
