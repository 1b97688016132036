"""Importer of the Hillstrom e-mail campaign (real, randomized) into the pipeline's input contracts,
and its measurement through the same journeys_as_of -> measure_outcomes -> cohort_metrics path.

Mapping (documented in docs/measurement.md):
- every customer row is a user `h00001`..; the campaign is one assignment day A (nominal date);
- "Mens E-Mail" and "Womens E-Mail" are two strategies, `mens_email` and `womens_email`, each a
  treatment journey with one delivered `email` step; "No E-Mail" customers are the control of
  both strategies (one control journey per strategy, so each strategy's comparison uses the whole
  control arm as in the original analysis; pooled 'all'-strategy rows count them twice);
- Hillstrom's two-week outcome window is the measured window, all on day A: `visit` is a key
  action (woke_up) and, for treatment, an open and click of the e-mail (a response);
  `conversion` is an order (repurchased_30d); `spend` is its revenue (revenue_30d);
- the pre-period covariate for CUPED is `history` (dollars spent in the past year);
- lifecycle_stage is `new` (newbie) or `existing`, value_tier is `history_segment`, segment is the
  customer's past purchase channel (web, phone, multichannel);
- it is measured with the ecommerce preset's windows (orchestration/verticals.yml) as of A+29: the
  30-day windows are closed; the 90-day revenue and the second churn of customers who visited
  (returned) are not observed by the data and stay marked immature (non-visitors never returned,
  so theirs is false).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from orchestration.measurement.journeys import journeys_as_of
from orchestration.measurement.metrics import cohort_metrics
from orchestration.measurement.outcomes import REPURCHASE_DAYS, measure_outcomes
from orchestration.config.verticals import measurement_windows

SHARED_DATA_ENV = "CHURN_RECALL_SHARED_DATA"
RELATIVE_FILE = Path("hillstrom") / "hillstrom.csv"
CAMPAIGN_DAY = date(2008, 3, 3)  # nominal: the data carries no calendar date
VERTICAL = "ecommerce"  # a retailer's e-mail campaign
ARMS = {"Mens E-Mail": "mens_email", "Womens E-Mail": "womens_email"}
CONTROL_ARM = "No E-Mail"
COLUMNS = ["recency", "history_segment", "history", "mens", "womens", "zip_code", "newbie", "channel",
           "segment", "visit", "conversion", "spend"]


def shared_data_dir(env: dict[str, str] | None = None) -> Path:
    """The shared data folder: $CHURN_RECALL_SHARED_DATA, else ../shared/data next to the repository."""
    env = os.environ if env is None else env
    if env.get(SHARED_DATA_ENV):
        return Path(env[SHARED_DATA_ENV])
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


def hillstrom_csv(env: dict[str, str] | None = None) -> Path:
    return shared_data_dir(env) / RELATIVE_FILE


def load_hillstrom(path: Path) -> pd.DataFrame:
    """The CSV as published (64,000 rows); raises on a missing column or an unknown arm."""
    raw = pd.read_csv(path)
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {', '.join(missing)}")
    unknown = set(raw["segment"]) - {*ARMS, CONTROL_ARM}
    if unknown:
        raise ValueError(f"{path}: unknown arms {sorted(unknown)}")
    return raw


@dataclass(frozen=True)
class ContractFrames:
    """Contract-shaped inputs: users, recall_touches (with the per-journey lifecycle_stage, value_tier
    and segment the warehouse would join), daily activity, the pre-period covariate and the as-of day."""

    users: pd.DataFrame
    touches: pd.DataFrame
    activity: pd.DataFrame
    pre_period_revenue: pd.Series  # by user_id
    as_of: date


def to_contracts(raw: pd.DataFrame, day: date = CAMPAIGN_DAY, cost_per_email: float = 0.0) -> ContractFrames:
    """Turn the Hillstrom rows into the pipeline's input contracts (see the module docstring)."""
    user_id = pd.Series([f"h{i:05d}" for i in range(1, len(raw) + 1)], index=raw.index)
    sent = pd.Timestamp(datetime.combine(day, time(10)))
    users = pd.DataFrame({
        "user_id": user_id, "signup_at": pd.NaT, "nickname": None, "phone": None, "timezone": "UTC",
        "push_opt_in": False, "sms_opt_in": False, "call_opt_in": False, "updated_at": sent,
    })
    attributes = pd.DataFrame({
        "user_id": user_id,
        "lifecycle_stage": np.where(raw["newbie"] == 1, "new", "existing"),
        "value_tier": raw["history_segment"].astype(str),
        "segment": raw["channel"].astype(str).str.lower(),
    })
    visit = raw["visit"] == 1
    rows = []
    for arm_name, strategy in ARMS.items():
        for arm, members in (("treatment", raw["segment"] == arm_name), ("control", raw["segment"] == CONTROL_ARM)):
            is_t = arm == "treatment"
            response = pd.Series(np.where(visit[members] & is_t, sent + pd.Timedelta(hours=1), pd.NaT), dtype="datetime64[us]")
            rows.append(attributes.loc[members].reset_index(drop=True).assign(
                action_id=lambda f, s=strategy: f["user_id"] + "-" + s,
                strategy_id=strategy, arm=arm, step=1 if is_t else 0, channel="email" if is_t else None,
                scheduled_at=sent, sent_at=sent if is_t else pd.NaT, status="delivered" if is_t else "holdout",
                opened_at=response, clicked_at=response, cost=cost_per_email if is_t else 0.0,
                coupon_code=None, coupon_value=np.nan,
            ))
    touches = pd.concat(rows, ignore_index=True)
    touches.insert(0, "touch_id", touches["action_id"] + "-" + touches["step"].astype(str))
    touches["sent_at"] = pd.to_datetime(touches["sent_at"])
    active = visit | (raw["conversion"] == 1) | (raw["spend"] > 0)
    activity = pd.DataFrame({
        "user_id": user_id[active], "activity_date": day,
        "sessions": visit[active].astype(int), "events": 1, "key_actions": visit[active].astype(int),
        "orders": raw.loc[active, "conversion"].astype(int), "revenue": raw.loc[active, "spend"].astype(float),
    }).reset_index(drop=True)
    pre = pd.Series(raw["history"].astype(float).to_numpy(), index=user_id.to_numpy(), name="pre_period_revenue")
    return ContractFrames(users, touches, activity, pre, day + timedelta(days=REPURCHASE_DAYS - 1))


def measure_hillstrom(frames: ContractFrames) -> tuple[pd.DataFrame, pd.DataFrame]:
    """recall_outcomes and recall_metrics of the campaign, by the pipeline's own measurement code."""
    journeys = journeys_as_of(frames.touches, frames.as_of)
    journeys["pre_period_revenue"] = journeys["user_id"].map(frames.pre_period_revenue)
    wake_up_days, churn_days = measurement_windows(VERTICAL)
    outcomes = measure_outcomes(journeys, frames.activity, frames.as_of, wake_up_days=wake_up_days, churn_days=churn_days)
    # Each strategy's journeys are half treatment, half control by design (equal thirds of 64,000).
    metrics = cohort_metrics(outcomes, frames.as_of, design_control_share={s: 0.5 for s in ARMS.values()})
    return outcomes, metrics
