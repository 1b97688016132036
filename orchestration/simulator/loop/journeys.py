"""The pipeline's journeys as the simulated world sees them (from the outbox and the holdout export), and what their
contacts did: each journey's effect record (carry.EFFECT_COLUMNS): contacted, its first response (the boost, the
click, the coupon it carried) and the first harm; plus the recall clicks its first responses made."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from .. import params as P
from ..activity import NO_START
from ..carry import EFFECT_COLUMNS
from ..events import EventColumns
from ..population import US_PER_DAY
from ..strings import concat
from . import delivery, response

def register(journeys: pd.DataFrame, steps: pd.DataFrame, controls: pd.DataFrame, epoch_day: int) -> pd.DataFrame:
    """The pipeline's journeys seen so far, with today's new ones (treatment from the outbox, control from the
    holdout export); a journey's first day is the day of its journey_started_at."""
    fresh = []
    for frame, arm in ((steps, "treatment"), (controls, "control")):
        if frame.empty:
            continue
        rows = frame.loc[frame["user"] >= 0].drop_duplicates("journey_id")
        started = delivery._micros(rows["journey_started_at"]) // US_PER_DAY - epoch_day
        fresh.append(pd.DataFrame({
            "journey_id": rows["journey_id"].to_numpy(), "user": rows["user"].to_numpy(np.int32),
            "strategy_id": rows["strategy_id"].to_numpy(), "arm": arm,
            "holdout": rows["holdout"].to_numpy() if arm == "control" else None,
            "start_day": started.astype(np.int32),
        }))
    if not fresh:
        return journeys
    new = pd.concat(fresh, ignore_index=True).astype({"journey_id": object, "strategy_id": object, "holdout": object})
    new = new.loc[~member(new["journey_id"], journeys["journey_id"])]
    return pd.concat([journeys, new], ignore_index=True) if len(journeys) else new.reset_index(drop=True)


def fold(effects: pd.DataFrame, steps: pd.DataFrame, resolved: response.Resolved, d: int,
          epoch_day: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Today's contacts folded into their journeys' effects: contacted, the first response (its boost, its click,
    the coupon it carried), the first harm. Returns the effects and the recall clicks the first responses made."""
    empty_clicks = pd.DataFrame({"user": pd.Series(dtype=np.int32), "time_us": pd.Series(dtype=np.int64),
                                 "journey_id": pd.Series(dtype=object)})
    if steps.empty:
        return effects, empty_clicks
    ghost = bool(steps["ghost"].iloc[0])
    frame = pd.DataFrame({
        "journey_id": steps["journey_id"].to_numpy(), "user": steps["user"].to_numpy(np.int32),
        "strategy_id": steps["strategy_id"].to_numpy(), "arm": steps["arm"].to_numpy(),
        "delivered": resolved.delivered, "opened": resolved.opened, "opened_us": resolved.opened_us,
        "clicked": resolved.clicked, "clicked_us": resolved.clicked_us, "boost": resolved.boost, "moves": resolved.moves,
        "harms": resolved.harms,
        "coupon_cents": np.where(steps["benefit_kind"].to_numpy() == "coupon",
                                 np.round(pd.to_numeric(steps["coupon_value"], errors="coerce").fillna(0).to_numpy() * 100),
                                 0).astype(np.int32),
        "coupon_code": steps["coupon_code"].to_numpy(dtype=object),
    })
    frame = frame.loc[frame["user"] >= 0]
    if "start_day" in steps:
        start = steps.loc[frame.index, "start_day"].to_numpy(np.int32)
    else:
        start = (delivery._micros(steps.loc[frame.index, "journey_started_at"]) // US_PER_DAY - epoch_day).astype(np.int32)
    frame = frame.assign(start_day=start)
    current = effects.drop(columns="journey_id").set_index(pd.Index(effects["journey_id"].to_numpy(dtype=object)))
    had_response = frame["journey_id"].map(current["response_day"]).fillna(NO_START).to_numpy() != NO_START
    had_harm = frame["journey_id"].map(current["harm_day"]).fillna(NO_START).to_numpy() != NO_START
    # The journey's first response today, if it had none before.
    responding = frame.loc[frame["opened"].to_numpy() & ~had_response].sort_values(["journey_id", "opened_us"])
    first = responding.drop_duplicates("journey_id").set_index("journey_id")
    per_journey = frame.groupby("journey_id", sort=True).agg(
        user=("user", "first"), strategy_id=("strategy_id", "first"), arm=("arm", "first"),
        start_day=("start_day", "first"), contacted=("delivered", "any"), harms=("harms", "any"))
    harmed_now = per_journey["harms"] & ~per_journey.index.to_series().map(
        dict(zip(frame["journey_id"], had_harm))).astype(bool)
    response_day = first["opened_us"] // US_PER_DAY - epoch_day
    click_day = np.where(first["clicked"], first["clicked_us"] // US_PER_DAY - epoch_day, NO_START)
    coupon = (first["coupon_cents"] > 0) & first["moves"].astype(bool)  # a lost cause leaves the coupon unused
    update = pd.DataFrame({
        "user": per_journey["user"], "strategy_id": per_journey["strategy_id"], "arm": per_journey["arm"],
        "ghost": ghost, "start_day": per_journey["start_day"], "contacted": per_journey["contacted"],
    })
    fresh = update.loc[~member(update.index, current.index)].assign(
        response_day=NO_START, boost=np.float32(0.0), click_day=NO_START, coupon_start=NO_START, coupon_end=NO_START,
        coupon_cents=0, coupon_code=None, coupon_redeemed_day=NO_START, harm_day=NO_START)
    table = pd.concat([current, fresh]) if len(current) else fresh
    table.loc[update.index, "contacted"] = table.loc[update.index, "contacted"].astype(bool) | update["contacted"]
    table.loc[harmed_now.index[harmed_now.to_numpy()], "harm_day"] = d
    if len(first):
        table.loc[first.index, "response_day"] = response_day.to_numpy()
        table.loc[first.index, "boost"] = first["boost"].to_numpy(np.float32)
        table.loc[first.index, "click_day"] = np.asarray(click_day)
        with_coupon = first.index[coupon.to_numpy()]
        table.loc[with_coupon, "coupon_start"] = response_day[coupon].to_numpy()
        table.loc[with_coupon, "coupon_end"] = response_day[coupon].to_numpy() + P.COUPON_VALID_DAYS
        table.loc[with_coupon, "coupon_cents"] = first.loc[with_coupon, "coupon_cents"].to_numpy()
        table.loc[with_coupon, "coupon_code"] = first.loc[with_coupon, "coupon_code"].to_numpy()
    effects = table.reset_index(names="journey_id")[list(EFFECT_COLUMNS)].astype(EFFECT_COLUMNS)
    clicked = first.loc[first["clicked"].astype(bool)] if not ghost and len(first) else first.iloc[:0]
    clicks = pd.DataFrame({"user": clicked["user"].to_numpy(np.int32), "time_us": clicked["clicked_us"].to_numpy(np.int64),
                           "journey_id": clicked.index.to_numpy(dtype=object)})
    return effects, clicks if len(clicks) else empty_clicks


def member(values: pd.Series | pd.Index | np.ndarray, pool: pd.Series | pd.Index | np.ndarray) -> np.ndarray:
    """Whether each value is in pool (hash lookup on plain Python strings: Arrow-backed isin loops in Python)."""
    index = pd.Index(np.asarray(pool, dtype=object))
    return index.get_indexer(pd.Index(np.asarray(values, dtype=object))) >= 0 if len(index) else np.zeros(len(values), bool)


def with_clicks(columns: EventColumns, clicks: pd.DataFrame, code: int) -> EventColumns:
    """The day's events plus a recall_click event (opening the app from the message) per first click."""
    if clicks.empty:
        return columns
    props = concat('{"journey_id":"', pa.array(clicks["journey_id"].astype(str).to_numpy(), pa.string()), '"}')
    return EventColumns(
        user=np.concatenate([columns.user, clicks["user"].to_numpy(np.int32)]),
        code=np.concatenate([columns.code, np.full(len(clicks), code, np.int8)]),
        time_us=np.concatenate([columns.time_us, clicks["time_us"].to_numpy(np.int64)]),
        properties=pa.concat_arrays([columns.properties, props]),
    )
