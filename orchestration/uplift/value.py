"""A value beyond 90 days: each customer's predicted revenue over the next 12 months, from a purchase
model (BG/NBD: how many purchase days to expect, given how often and how recently the customer bought)
times a spend model (Gamma-Gamma: the expected revenue of a purchase day, shrunk from the customer's
own average towards everyone's). Pure functions over an order log; the fit is point in time (orders
up to `as_of` only).

Both models come from the `lifetimes` package, the choice the churn-probability work (issue 10) made
for its BG/NBD baseline: the reference implementation, which reproduces the published CDNOW
parameters, installs in seconds with the pinned stack, and ships the CDNOW log it is validated on.
It is no longer developed (last release 2020); its `summary_data_from_transaction_data` breaks on
pandas 3 (recency above T), so the summary is computed here. Time is counted in days and repeat
purchases in distinct purchase days, as lifetimes expects."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

with warnings.catch_warnings():  # lifetimes sets a pandas option pandas 3 deprecates, at import
    warnings.simplefilter("ignore")
    from lifetimes import BetaGeoFitter, GammaGammaFitter

# No penalty by default: on CDNOW a penalty of 0.001 (what keeps BG/NBD finite on simulated logs where
# everyone repeats daily) overstates the next year's revenue by 14% instead of 5%; raise it when a fit
# on such a log does not converge.
PENALIZER = 0.0
HORIZON_DAYS = 365


def purchase_summary(orders: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Per customer with a purchase on or before `as_of`, indexed by user_id: frequency (repeat
    purchase days), recency (days from the first to the last purchase day), T (days from the first
    purchase day to as_of) and monetary_value (mean revenue of the repeat purchase days; 0 without one).

    orders: user_id, order_date, revenue (one row per order; several a day are summed)."""
    missing = [c for c in ("user_id", "order_date", "revenue") if c not in orders.columns]
    if missing:
        raise ValueError(f"orders lack required columns: {', '.join(missing)}")
    known = orders.loc[pd.to_datetime(orders["order_date"]) <= pd.Timestamp(as_of)]
    if (pd.to_numeric(known["revenue"], errors="coerce") < 0).any():
        raise ValueError("orders have negative revenue (refunds must be netted before the value model)")
    days = known.assign(order_date=pd.to_datetime(known["order_date"]).dt.normalize(),
                        revenue=pd.to_numeric(known["revenue"], errors="coerce").fillna(0.0))
    days = days.groupby(["user_id", "order_date"], as_index=False)["revenue"].sum().sort_values(["user_id", "order_date"])
    grouped = days.groupby("user_id")
    first, last = grouped["order_date"].min(), grouped["order_date"].max()
    repeat = days.loc[grouped.cumcount().to_numpy() > 0]
    return pd.DataFrame({
        "frequency": grouped.size() - 1,
        "recency": (last - first).dt.days,
        "T": (pd.Timestamp(as_of) - first).dt.days,
        "monetary_value": repeat.groupby("user_id")["revenue"].mean().reindex(first.index).fillna(0.0),
    })


@dataclass(frozen=True)
class ValueModel:
    """The fitted purchase and spend models and the last day they saw."""

    purchases: BetaGeoFitter
    spend: GammaGammaFitter
    fitted_through: date


def fit_value_model(summary: pd.DataFrame, fitted_through: date, penalizer: float = PENALIZER) -> ValueModel:
    """Fit BG/NBD on every customer and Gamma-Gamma on those with a repeat purchase of positive value."""
    if len(summary) < 10:
        raise ValueError(f"the value model needs a purchase history of at least 10 customers, got {len(summary)}")
    purchases = BetaGeoFitter(penalizer_coef=penalizer).fit(
        summary["frequency"].to_numpy(), summary["recency"].to_numpy(), summary["T"].to_numpy())
    repeaters = summary.loc[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    if len(repeaters) < 10:
        raise ValueError(f"the spend model needs at least 10 customers with a repeat purchase, got {len(repeaters)}")
    spend = GammaGammaFitter(penalizer_coef=penalizer).fit(repeaters["frequency"], repeaters["monetary_value"])
    return ValueModel(purchases, spend, fitted_through)


def predict_value(model: ValueModel, summary: pd.DataFrame, horizon_days: int = HORIZON_DAYS) -> pd.Series:
    """Expected revenue per customer over the next `horizon_days` (undiscounted): expected purchase
    days x expected revenue per purchase day. A customer without a repeat purchase gets the spend
    model's population mean per purchase day."""
    expected_days = model.purchases.conditional_expected_number_of_purchases_up_to_time(
        horizon_days, summary["frequency"].to_numpy(), summary["recency"].to_numpy(), summary["T"].to_numpy())
    per_day = model.spend.conditional_expected_average_profit(summary["frequency"], summary["monetary_value"].where(summary["frequency"] > 0, 0.0))
    return pd.Series(np.asarray(expected_days) * np.asarray(per_day), index=summary.index, name="predicted_value_12m")
