"""Ground truth of the pipeline's own journeys: both potential outcomes of every journey the world saw, by replay.

A journey's own arm is the world as it happened (replayed from the same random numbers, so it equals what the
events show). The other arm replays the same cells with the journey's effects removed (treatment: as if it had
been held out) or with its ghost effects added (control: the ladder the strategy would have sent, see ghosts.py).
Every other journey of the user keeps the effects it had. Outcomes follow docs/contracts.md from the assignment day
A: wake-up (a key action on A..A+W-1), 30-day repurchase and revenue, 90-day revenue, and second churn (a return by
A+29, then T days without a key action after one within 60 days of the return). A value is null until it is final by
the last simulated day.

Treatment journeys whose every step was cancelled never reach the delivery system, so the world does not know them;
nothing touched their users, so their effect is exactly zero (the evaluation counts them from the warehouse).
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pyarrow as pa

from ..activity import NO_START
from ..population import Population
from .paths import Block, order_effects, outcome_path

REPURCHASE_DAYS, LTV_DAYS, RETURN_DAYS, SECOND_CHURN_WITHIN_DAYS = 30, 90, 30, 60
OUTCOMES: tuple[str, ...] = ("woke_up", "repurchased_30d", "revenue_30d", "revenue_90d", "second_churned")
JOURNEY_COLUMNS = ["journey_id", "user", "strategy_id", "arm", "holdout", "start_day"]


def horizon_days(churn_days: int) -> int:
    """Days after A within which every outcome is decided (the 90-day revenue or the latest second churn)."""
    return max(LTV_DAYS, RETURN_DAYS + SECOND_CHURN_WITHIN_DAYS + churn_days)


def potential_outcomes(
    pop: Population, draws, first_weekday: int, journeys: pd.DataFrame, effects: pd.DataFrame, last_day: int,
    wake_up_days: int, churn_days: int,
) -> pd.DataFrame:
    """journeys (JOURNEY_COLUMNS) with y0_<outcome> and y1_<outcome> (float, NaN until final), contacted, responded."""
    out = journeys.reset_index(drop=True).copy()
    if out.empty:
        return out.assign(contacted=pd.Series(dtype=bool), responded=pd.Series(dtype=bool),
                          **{f"{arm}_{name}": pd.Series(dtype=float) for arm in ("y0", "y1") for name in OUTCOMES})
    start = out["start_day"].to_numpy(np.int64)
    users = out["user"].to_numpy(np.int32)
    length = int(min(horizon_days(churn_days), last_day - start.min() + 1))
    days = start[None, :] + np.arange(length, dtype=np.int64)[:, None]
    block = Block(days=days, users=users, inside=days <= last_day)

    real = effects.loc[~effects["ghost"]]
    own = effects.set_index("journey_id")
    placed = out[["user"]].reset_index(names="col").merge(real, on="user", how="inner")
    treated = out["arm"].to_numpy() == "treatment"
    # The other arm: a treatment journey without its own effects, a control journey with its ghost's.
    is_own = placed["journey_id"].to_numpy() == out["journey_id"].to_numpy()[placed["col"].to_numpy()]
    ghosts = out.reset_index(names="col").loc[~treated, ["col", "journey_id"]].merge(
        effects.loc[effects["ghost"]], on="journey_id", how="inner")
    other = pd.concat([placed.loc[~is_own], ghosts], ignore_index=True)

    results = {}
    for name, rows in (("realized", placed), ("other", other)):
        frame, col = order_effects(rows.drop(columns=["col"]), rows["col"].to_numpy())
        # Before a journey starts both arms are the world as it was: a coupon already used then stays used.
        redeemed = frame["coupon_redeemed_day"].to_numpy(np.int64)
        before = (redeemed != NO_START) & (redeemed < start[col])
        path = outcome_path(pop, draws, block, frame, col, first_weekday, redeemed_before=before)
        results[name] = _outcomes(path, block, start, last_day, wake_up_days, churn_days, pop.behaviour.key_action_is_session)
    for outcome in OUTCOMES:
        realized, counterfactual = results["realized"][outcome], results["other"][outcome]
        out[f"y1_{outcome}"] = np.where(treated, realized, counterfactual)
        out[f"y0_{outcome}"] = np.where(treated, counterfactual, realized)
    mine = own.reindex(out["journey_id"])
    out["contacted"] = mine["contacted"].fillna(False).astype(bool).to_numpy()
    out["responded"] = (mine["response_day"].fillna(NO_START).to_numpy() != NO_START)
    return out


def _outcomes(path, block: Block, start: np.ndarray, last_day: int, wake_up_days: int, churn_days: int,
              key_is_session: bool) -> dict[str, np.ndarray]:
    """Per column: each outcome as a float (booleans 0/1), NaN where it is not final by last_day."""
    length = block.days.shape[0]
    offset = np.arange(length)[:, None]
    ordered = path.n_orders > 0
    key = ordered | path.active if key_is_session else ordered
    revenue = path.revenue_cents() / 100.0
    seen = last_day - start  # last offset simulated

    def window(values: np.ndarray, days: int, reduce) -> np.ndarray:
        inside = offset < days
        value = reduce(np.where(inside, values, 0), axis=0).astype(float)
        return np.where(seen >= days - 1, value, np.nan)

    out = {
        "woke_up": window(key, wake_up_days, np.any),
        "repurchased_30d": window(ordered, REPURCHASE_DAYS, np.any),
        "revenue_30d": window(revenue, REPURCHASE_DAYS, np.sum),
        "revenue_90d": window(revenue, LTV_DAYS, np.sum),
    }
    out["second_churned"] = _second_churn(key, seen, churn_days)
    return out


def _second_churn(key: np.ndarray, seen: np.ndarray, churn_days: int) -> np.ndarray:
    """Came back (a key action on A..A+29), then at least churn_days days without a key action after a key action
    on R..R+60; NaN until known (the silence seen, a key action after R+60, or no return by A+29)."""
    length, n = key.shape
    offset = np.arange(length)[:, None]
    observed = np.minimum(seen, length - 1)[None, :]
    returns = key & (offset < RETURN_DAYS) & (offset <= observed)
    returned = returns.any(axis=0)
    r = np.where(returned, np.argmax(returns, axis=0), length)[None, :]
    never = np.iinfo(np.int64).max
    following = np.full((length, n), never, np.int64)
    nxt = np.full(n, never, np.int64)
    for o in range(length - 1, -1, -1):
        following[o] = nxt
        nxt = np.where(key[o], o, nxt)
    silent = np.where(following == never, observed - offset, following - offset - 1)
    seen_key = key & (offset <= observed) & (offset >= r)
    counts = seen_key & (offset <= r + SECOND_CHURN_WITHIN_DAYS)
    churned = (counts & (silent >= churn_days)).any(axis=0)
    settled = (seen_key & (offset > r + SECOND_CHURN_WITHIN_DAYS)).any(axis=0)
    known = np.where(returned, churned | settled, seen >= RETURN_DAYS - 1)
    return np.where(known, (churned & returned).astype(float), np.nan)


def journeys_table(outcomes: pd.DataFrame, user_ids: pa.Array, start_date: datetime.date, wake_up_days: int,
                   churn_days: int) -> pd.DataFrame:
    """The truth file's rows: one per journey with user id, assignment date and both potential outcomes."""
    table = outcomes.copy()
    table.insert(1, "user_id", user_ids.take(pa.array(table["user"].to_numpy(np.int64))).to_numpy(zero_copy_only=False)
                 if len(table) else pd.Series(dtype=object))
    table["assignment_date"] = [start_date + datetime.timedelta(days=int(d)) for d in table["start_day"]]
    table["wake_up_window_days"], table["churn_threshold_days"] = wake_up_days, churn_days
    columns = ["journey_id", "user_id", "strategy_id", "arm", "holdout", "assignment_date", "contacted", "responded",
               *(f"{arm}_{name}" for name in OUTCOMES for arm in ("y0", "y1")), "wake_up_window_days",
               "churn_threshold_days"]
    return table[columns].sort_values(["assignment_date", "strategy_id", "journey_id"]).reset_index(drop=True)


def campaign_effects(journeys: pd.DataFrame) -> pd.DataFrame:
    """Per strategy and assignment day: journeys the world saw by arm, the sum of the true effects (y1 - y0) over
    treatment journeys (divide by all treatment journeys assigned, sent or not, for the effect of the assignment;
    null until every one is final) and their mean over the strategy holdout's journeys (with their ghost ladders)."""
    keys = ["strategy_id", "assignment_date"]
    treated = (journeys["arm"] == "treatment").to_numpy()
    held = ((journeys["arm"] == "control") & (journeys["holdout"] != "global")).to_numpy()
    work = journeys[keys].copy()
    work["n_treatment_seen"], work["n_control"] = treated, held
    work["n_global"] = (journeys["holdout"] == "global").to_numpy()
    aggregations = {"n_treatment_seen": "sum", "n_control": "sum", "n_global": "sum"}
    for name in OUTCOMES:
        effect = (journeys[f"y1_{name}"] - journeys[f"y0_{name}"]).to_numpy(float)
        work[f"_sum_{name}"] = np.where(treated, np.nan_to_num(effect), 0.0)
        work[f"_open_{name}"] = treated & np.isnan(effect)
        work[f"_held_{name}"] = np.where(held, effect, np.nan)
        aggregations |= {f"_sum_{name}": "sum", f"_open_{name}": "any", f"_held_{name}": "mean"}
    grouped = work.groupby(keys, sort=True).agg(aggregations)
    out = grouped[["n_treatment_seen", "n_control", "n_global"]].astype("int64")
    for name in OUTCOMES:
        out[f"effect_sum_treatment_{name}"] = grouped[f"_sum_{name}"].where(~grouped[f"_open_{name}"])
        out[f"effect_mean_control_{name}"] = grouped[f"_held_{name}"]
    return out.reset_index()
