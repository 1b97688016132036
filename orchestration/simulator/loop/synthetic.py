"""Stand-in export files for running the closed loop without the pipeline (its tests and benchmark): each day a
random draw of users gets a one-step journey in the outbox (random channel, a coupon now and then) or a control
journey in the holdout file, in the columns the real export writes (recall/actions.py OUTBOX_COLUMNS and
HOLDOUT_COLUMNS)."""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import pandas as pd

CHANNELS = ("push", "sms", "call")
COSTS = {"push": 0.001, "sms": 0.04, "call": 1.2}


def write_export(outbox_dir: Path, planning_day: datetime.date, user_ids: np.ndarray, journeys: int,
                 rng: np.random.Generator, strategy_id: str = "dormant_medium_coupon", holdout_share: float = 0.2,
                 global_share: float = 0.05) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write `<outbox>/<day>.parquet` and `holdout/<day>.parquet` for sends on the day after `planning_day`."""
    send = planning_day + datetime.timedelta(days=1)
    users = rng.choice(user_ids, min(journeys, len(user_ids)), replace=False)
    n = len(users)
    held_global = rng.random(n) < global_share
    control = held_global | (rng.random(n) < holdout_share)
    started = pd.Timestamp(send, tz="UTC") + pd.Timedelta(hours=10)
    journey_id = np.array([f"j_{planning_day:%Y%m%d}{i:06d}" for i in range(n)], dtype=object)
    channel = rng.choice(CHANNELS, n, p=[0.6, 0.3, 0.1])
    coupon = rng.random(n) < 0.5
    value = rng.choice([5.0, 10.0, 15.0], n)
    outbox = pd.DataFrame({
        "action_id": journey_id + "_1", "journey_id": journey_id, "step": 1, "action_date": planning_day,
        "user_id": users, "channel": channel, "scheduled_at": started, "timezone": "Asia/Shanghai",
        "message": "hello", "template": "t", "benefit": np.where(coupon, "personal_coupon", None),
        "benefit_kind": np.where(coupon, "coupon", None), "coupon_code": np.where(coupon, "CR-" + journey_id, None),
        "coupon_value": np.where(coupon, value, np.nan), "strategy_id": strategy_id, "variant": "default",
        "arm": "treatment", "journey_started_at": started, "cost": [COSTS[c] for c in channel],
        "library_revision": "synthetic",
    }).loc[~control].reset_index(drop=True)
    holdout = pd.DataFrame({
        "action_id": journey_id + "_1", "journey_id": journey_id, "action_date": planning_day, "user_id": users,
        "strategy_id": strategy_id, "arm": "control", "holdout": np.where(held_global, "global", "strategy"),
        "journey_started_at": started, "avg_order_value": 60.0, "library_revision": "synthetic",
    }).loc[control].reset_index(drop=True)
    (outbox_dir / "holdout").mkdir(parents=True, exist_ok=True)
    outbox.to_parquet(outbox_dir / f"{planning_day.isoformat()}.parquet", index=False)
    holdout.to_parquet(outbox_dir / "holdout" / f"{planning_day.isoformat()}.parquet", index=False)
    return outbox, holdout
