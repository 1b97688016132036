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
    if steps.empty:
        return effects, _no_clicks()
    ghost = bool(steps["ghost"].iloc[0])
    known = (steps["user"] >= 0).to_numpy()
    steps = steps.loc[known].reset_index(drop=True)
    if "start_day" in steps:
        start = steps["start_day"].to_numpy(np.int32)
    else:
        start = (delivery._micros(steps["journey_started_at"]) // US_PER_DAY - epoch_day).astype(np.int32)
    coupon_cents = np.where(steps["benefit_kind"].to_numpy() == "coupon", np.round(
        pd.to_numeric(steps["coupon_value"], errors="coerce").fillna(0).to_numpy() * 100), 0).astype(np.int32)
    flag = {name: getattr(resolved, name)[known] for name in
            ("delivered", "opened", "opened_us", "clicked", "clicked_us", "boost", "moves", "harms")}

    # One record per journey touched today, appended when the journey is new.
    ids = steps["journey_id"].to_numpy(dtype=object)
    journeys, first_row = np.unique(ids, return_index=True)
    index = pd.Index(effects["journey_id"].to_numpy(dtype=object))
    at = index.get_indexer(journeys) if len(index) else np.full(len(journeys), -1)
    new = at < 0
    if new.any():
        rows = first_row[new]
        fresh = pd.DataFrame({
            "journey_id": journeys[new], "user": steps["user"].to_numpy(np.int32)[rows],
            "strategy_id": steps["strategy_id"].to_numpy(dtype=object)[rows], "arm": steps["arm"].to_numpy(dtype=object)[rows],
            "ghost": ghost, "start_day": start[rows], "contacted": False, "response_day": NO_START,
            "boost": np.float32(0.0), "click_day": NO_START, "coupon_start": NO_START, "coupon_end": NO_START,
            "coupon_cents": 0, "coupon_code": None, "coupon_redeemed_day": NO_START, "harm_day": NO_START,
        }).astype(EFFECT_COLUMNS)
        at[new] = len(effects) + np.arange(new.sum())
        effects = pd.concat([effects, fresh], ignore_index=True) if len(effects) else fresh
    position = at[np.searchsorted(journeys, ids)]  # each contact's row in `effects`
    columns = {name: effects[name].to_numpy(copy=True) for name in (
        "contacted", "response_day", "boost", "click_day", "coupon_start", "coupon_end", "coupon_cents", "coupon_code",
        "harm_day")}
    np.logical_or.at(columns["contacted"], position, flag["delivered"])
    harm = flag["harms"] & (columns["harm_day"][position] == NO_START)
    columns["harm_day"][position[harm]] = d
    # The journey's first response today, if it had none before: the earliest open.
    answering = np.flatnonzero(flag["opened"] & (columns["response_day"][position] == NO_START))
    answering = answering[np.lexsort((flag["opened_us"][answering], position[answering]))]
    answering = answering[np.r_[True, position[answering][1:] != position[answering][:-1]]] if len(answering) else answering
    rows = position[answering]
    response_day = flag["opened_us"][answering] // US_PER_DAY - epoch_day
    columns["response_day"][rows] = response_day
    columns["boost"][rows] = flag["boost"][answering]
    clicked = flag["clicked"][answering]
    columns["click_day"][rows] = np.where(clicked, flag["clicked_us"][answering] // US_PER_DAY - epoch_day, NO_START)
    # A coupon in the answered message, taken up unless the user is a lost cause.
    taken = (coupon_cents[answering] > 0) & flag["moves"][answering]
    columns["coupon_start"][rows[taken]] = response_day[taken]
    columns["coupon_end"][rows[taken]] = response_day[taken] + P.COUPON_VALID_DAYS
    columns["coupon_cents"][rows[taken]] = coupon_cents[answering][taken]
    columns["coupon_code"][rows[taken]] = steps["coupon_code"].to_numpy(dtype=object)[answering][taken]
    effects = effects.assign(**columns)  # the arrays keep their columns' types
    if ghost or not clicked.any():
        return effects, _no_clicks()
    chosen = answering[clicked]
    return effects, pd.DataFrame({"user": steps["user"].to_numpy(np.int32)[chosen],
                                  "time_us": flag["clicked_us"][chosen].astype(np.int64),
                                  "journey_id": ids[chosen]})


def _no_clicks() -> pd.DataFrame:
    return pd.DataFrame({"user": pd.Series(dtype=np.int32), "time_us": pd.Series(dtype=np.int64),
                         "journey_id": pd.Series(dtype=object)})


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
