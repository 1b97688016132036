"""Recall-touch landing rows (delivery log plus control assignments) and the action ids and coupon codes of journeys."""

from __future__ import annotations

import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import params as P
from .campaigns import Journeys
from .strings import concat, padded

TOUCH_SCHEMA = pa.schema([
    ("touch_id", pa.string()), ("action_id", pa.string()), ("user_id", pa.string()),
    ("strategy_id", pa.string()), ("arm", pa.string()), ("step", pa.int64()), ("channel", pa.string()),
    ("scheduled_at", pa.timestamp("us")), ("sent_at", pa.timestamp("us")), ("status", pa.string()),
    ("opened_at", pa.timestamp("us")), ("clicked_at", pa.timestamp("us")), ("cost", pa.float64()),
    ("coupon_code", pa.string()), ("coupon_value", pa.float64()),
])


def _day_stamp(start_date: datetime.date, day: int) -> str:
    return (start_date + datetime.timedelta(days=day)).strftime("%Y%m%d")


def action_ids(journeys: Journeys, start_date: datetime.date) -> pa.Array:
    """One id per journey: a<yyyymmdd>-<n>."""
    return concat(f"a{_day_stamp(start_date, journeys.day)}-", padded(np.arange(1, len(journeys) + 1), 6))


def coupon_codes(journeys: Journeys, start_date: datetime.date) -> pa.Array:
    """The recall coupon code of each journey, null when its strategy has no coupon."""
    codes = concat(f"WB{_day_stamp(start_date, journeys.day)}", padded(np.arange(1, len(journeys) + 1), 6))
    return pc.if_else(pa.array(journeys.coupon_cents > 0), codes, pa.scalar(None, pa.string()))


def touches_table(journeys: Journeys, user_ids: pa.Array, start_date: datetime.date, end_us: int) -> pa.Table:
    """Control rows (step 0, holdout) and one row per attempted treatment step, ordered by action and step.

    The world ends at end_us (exclusive): steps scheduled later are not in the log yet, and sends, opens and
    clicks after it are not observed.
    """
    n = len(journeys)
    if n == 0:
        return TOUCH_SCHEMA.empty_table()
    actions, codes = action_ids(journeys, start_date), coupon_codes(journeys, start_date)
    control = np.flatnonzero(~journeys.treated)
    treat_j, treat_k = np.nonzero(journeys.attempted & journeys.treated[:, None] & (journeys.scheduled_us < end_us))
    jidx = np.concatenate([control, treat_j])
    step = np.concatenate([np.zeros(len(control), np.int64), treat_k + 1])
    order = np.lexsort((step, jidx))
    jidx, step = jidx[order], step[order]
    is_treat = step > 0
    k = np.maximum(step - 1, 0)

    def stamp(values: np.ndarray, valid: np.ndarray) -> pa.Array:
        return pa.array(values[jidx, k], pa.timestamp("us"), mask=~valid)

    delivered = journeys.delivered[jidx, k] & is_treat & (journeys.sent_us[jidx, k] < end_us)
    opened = journeys.opened[jidx, k] & delivered & (journeys.opened_us[jidx, k] < end_us)
    clicked = journeys.clicked[jidx, k] & opened & (journeys.clicked_us[jidx, k] < end_us)
    status = np.where(~is_treat, 2, np.where(delivered, 0, 1))
    has_coupon = is_treat & (journeys.coupon_cents[jidx] > 0)
    take = pa.array(jidx)
    return pa.table({
        "touch_id": concat(actions.take(take), "-", pc.cast(pa.array(step), pa.string())),
        "action_id": actions.take(take),
        "user_id": user_ids.take(pa.array(journeys.users[jidx])),
        "strategy_id": pa.array(np.array(P.STRATEGIES, dtype=object)[journeys.strategy[jidx]], pa.string()),
        "arm": pa.array(np.where(is_treat, "treatment", "control").astype(object), pa.string()),
        "step": pa.array(step),
        "channel": pa.array(np.array(P.CHANNELS, dtype=object)[k], pa.string(), mask=~is_treat),
        "scheduled_at": stamp(journeys.scheduled_us, np.ones(len(jidx), bool)),
        "sent_at": stamp(journeys.sent_us, delivered),
        "status": pa.array(np.array(["delivered", "failed", "holdout"], dtype=object)[status], pa.string()),
        "opened_at": stamp(journeys.opened_us, opened),
        "clicked_at": stamp(journeys.clicked_us, clicked),
        "cost": pa.array(np.where(delivered, P.CHANNEL_COST[k], 0.0)),
        "coupon_code": pc.if_else(pa.array(has_coupon), codes.take(take), pa.scalar(None, pa.string())),
        "coupon_value": pa.array(journeys.coupon_cents[jidx] / 100.0, mask=~has_coupon),
    }, schema=TOUCH_SCHEMA)
