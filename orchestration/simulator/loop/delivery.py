"""The simulated delivery system's side of the contract: it reads the pipeline's export files as a real one would
(`<outbox>/<day>.parquet`, the steps to send; `<outbox>/holdout/<day>.parquet`, the control journeys to log) and
writes its delivery log in the recall_touches landing contract (docs/contracts.md).

Mapping from the export to the log: `touch_id` = outbox `action_id` (one per step), `action_id` = `journey_id`
(one per journey, the id that runs through outbox, holdout export and log), `step`, `channel`, `strategy_id`,
`arm` are copied, `scheduled_at` = outbox `scheduled_at`, `cost` = outbox `cost` when delivered (0 when not),
`coupon_code` and `coupon_value` are copied for steps with a benefit. A control journey becomes one row with
`touch_id` = the holdout row's `action_id`, step 0, status `holdout`, `scheduled_at` = `journey_started_at`.
`sent_at` is set for delivered messages only; opens and clicks are reported when the log is exported, at 06:00 UTC
the next morning (before the daily run); a later one is never reported (a real gateway's daily log has the same gap).
"""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from ..touches import TOUCH_SCHEMA
from .response import BENEFIT_KINDS, LOOP_CHANNELS, US_PER_HOUR, Contacts, Resolved

OUTBOX_NEEDS = ["action_id", "journey_id", "step", "user_id", "channel", "scheduled_at", "strategy_id", "arm", "cost",
                "coupon_code", "coupon_value", "benefit_kind"]
HOLDOUT_NEEDS = ["action_id", "journey_id", "user_id", "strategy_id", "arm", "holdout", "journey_started_at",
                 "avg_order_value"]
EXPORT_DELAY_US = 30 * US_PER_HOUR  # the day's log is exported at 06:00 UTC the next day


def _read(path: Path, needs: list[str]) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the pipeline has not exported that day (run it first)")
    frame = pd.read_parquet(path)
    missing = [c for c in needs if c not in frame.columns]
    if missing:
        raise ValueError(f"{path} lacks the columns {', '.join(missing)} the delivery system reads")
    return frame


def _micros(values: pd.Series) -> np.ndarray:
    """UTC microseconds of timestamps (tz-aware or naive UTC)."""
    stamps = pd.to_datetime(values, utc=True)
    return stamps.dt.tz_convert(None).astype("datetime64[us]").astype(np.int64).to_numpy()


def due_steps(outbox_dir: Path, day: datetime.date) -> pd.DataFrame:
    """Outbox rows to send on `day`: exported on the day before (or two, when quiet hours moved a step), sorted by
    touch id so that every re-run draws the same way."""
    frames = []
    for back in (1, 2):
        path = outbox_dir / f"{(day - datetime.timedelta(days=back)).isoformat()}.parquet"
        if back == 2 and not path.is_file():
            continue
        frames.append(_read(path, OUTBOX_NEEDS))
    steps = pd.concat(frames, ignore_index=True)
    if (steps["arm"] != "treatment").any():
        raise ValueError(f"the outbox for {day} holds rows of control journeys: they must never be contacted")
    steps["scheduled_us"] = _micros(steps["scheduled_at"])
    today = pd.to_datetime(steps["scheduled_at"], utc=True).dt.date == day
    return steps.loc[today.to_numpy()].sort_values("action_id").reset_index(drop=True)


def starting_controls(outbox_dir: Path, day: datetime.date) -> pd.DataFrame:
    """Control journeys whose (never sent) first step falls on `day`."""
    path = outbox_dir / "holdout" / f"{(day - datetime.timedelta(days=1)).isoformat()}.parquet"
    controls = _read(path, HOLDOUT_NEEDS)
    controls["journey_started_us"] = _micros(controls["journey_started_at"])
    today = pd.to_datetime(controls["journey_started_at"], utc=True).dt.date == day
    return controls.loc[today.to_numpy()].sort_values("journey_id").reset_index(drop=True)


def contacts_of(steps: pd.DataFrame, user_index: dict[str, int]) -> Contacts:
    """The outbox rows as contacts (unknown recipients get user -1: their delivery fails)."""
    kinds = steps["benefit_kind"].fillna("none").map({k: i for i, k in enumerate(BENEFIT_KINDS)}).fillna(0)
    return Contacts(
        user=steps["user_id"].map(user_index).fillna(-1).to_numpy(np.int32),
        channel=steps["channel"].map({c: i for i, c in enumerate(LOOP_CHANNELS)}).to_numpy(np.int8),
        benefit=kinds.to_numpy(np.int8),
        scheduled_us=steps["scheduled_us"].to_numpy(np.int64),
    )


def _text(values: pd.Series) -> pa.Array:
    """A string column, nulls where the value is missing."""
    return pa.array(values.astype(object).where(values.notna(), None).to_numpy(dtype=object), pa.string())


def delivery_log(steps: pd.DataFrame, resolved: Resolved, controls: pd.DataFrame, day_start_us: int) -> pa.Table:
    """The day's recall_touches rows: one per step sent (or failed) and one per control journey started."""
    reported = day_start_us + EXPORT_DELAY_US
    opened = resolved.opened & (resolved.opened_us < reported)
    clicked = resolved.clicked & opened & (resolved.clicked_us < reported)
    has_benefit = steps["coupon_code"].notna().to_numpy()
    ts = pa.timestamp("us")
    treatment = pa.table({
        "touch_id": _text(steps["action_id"]),
        "action_id": _text(steps["journey_id"]),
        "user_id": _text(steps["user_id"]),
        "strategy_id": _text(steps["strategy_id"]),
        "arm": pa.array(["treatment"] * len(steps), pa.string()),
        "step": pa.array(steps["step"].astype(np.int64).to_numpy()),
        "channel": _text(steps["channel"]),
        "scheduled_at": pa.array(steps["scheduled_us"].to_numpy(np.int64), ts),
        "sent_at": pa.array(resolved.sent_us, ts, mask=~resolved.delivered),
        "status": pa.array(np.where(resolved.delivered, "delivered", "failed").astype(object), pa.string()),
        "opened_at": pa.array(resolved.opened_us, ts, mask=~opened),
        "clicked_at": pa.array(resolved.clicked_us, ts, mask=~clicked),
        "cost": pa.array(np.where(resolved.delivered, steps["cost"].astype(float).to_numpy(), 0.0)),
        "coupon_code": _text(steps["coupon_code"]),
        "coupon_value": pa.array(steps["coupon_value"].astype(float).to_numpy(), pa.float64(), mask=~has_benefit),
    }, schema=TOUCH_SCHEMA)
    n = len(controls)
    control = pa.table({
        "touch_id": _text(controls["action_id"]),
        "action_id": _text(controls["journey_id"]),
        "user_id": _text(controls["user_id"]),
        "strategy_id": _text(controls["strategy_id"]),
        "arm": pa.array(["control"] * n, pa.string()),
        "step": pa.array(np.zeros(n, np.int64)),
        "channel": pa.nulls(n, pa.string()),
        "scheduled_at": pa.array(controls["journey_started_us"].to_numpy(np.int64), ts),
        "sent_at": pa.nulls(n, ts),
        "status": pa.array(["holdout"] * n, pa.string()),
        "opened_at": pa.nulls(n, ts),
        "clicked_at": pa.nulls(n, ts),
        "cost": pa.array(np.zeros(n)),
        "coupon_code": pa.nulls(n, pa.string()),
        "coupon_value": pa.nulls(n, pa.float64()),
    }, schema=TOUCH_SCHEMA)
    return pa.concat_tables([treatment, control]).sort_by([("scheduled_at", "ascending"), ("touch_id", "ascending")])
