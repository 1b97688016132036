"""Ghost ladders: what a control journey would have been sent, so that its potential outcome under treatment is
known (the ghost-ads idea: log the intended treatment of the held-out).

A delivery platform holds the campaign definitions it runs; here they are the pipeline's strategy library, read
with its own validated model. A control journey's ghost follows its strategy's ladder from its start: each rung's
A/B variant drawn by the variants' shares, the coupon sized from the user's average order (as the holdout export
records it), skipped on a channel the user has not consented to, and stopped by the first response (a ghost opened,
or the user active in the world since the journey began). Budgets, caps and quiet hours are not replayed, so a
ghost is the ladder as planned: the truth of control journeys is the effect of the strategy as designed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from orchestration.recall.benefits import coupon_value
from orchestration.recall.library import StrategyLibrary

from .response import BENEFIT_KINDS, LOOP_CHANNELS

GHOST_STEP_COLUMNS = ["journey_id", "user", "step", "due_day", "due_us", "channel", "benefit", "coupon_cents"]
US_PER_HOUR = 3_600_000_000


def plan_ghost_steps(controls: pd.DataFrame, library: StrategyLibrary, epoch_day: int,
                     rng: np.random.Generator) -> pd.DataFrame:
    """GHOST_STEP_COLUMNS for control journeys (journey_id, user, strategy_id, journey_started_us, avg_order_value);
    journeys of a strategy the library no longer has get no ghost (their effect is taken as none)."""
    parts = []
    strategies = {s.id: s for s in library.strategies}
    for strategy_id, group in controls.groupby("strategy_id", sort=True):
        strategy = strategies.get(strategy_id)
        if strategy is None:
            continue
        group = group.sort_values("journey_id")
        for number, step in enumerate(strategy.steps, start=1):
            arms = step.arms()
            pick = np.searchsorted(np.cumsum([a.share for a in arms])[:-1], rng.random(len(group)), side="right")
            channel = np.array([LOOP_CHANNELS.index(a.channel) for a in arms], np.int8)[pick]
            kinds = [library.benefits[a.benefit].kind if a.benefit else "none" for a in arms]
            benefit = np.array([BENEFIT_KINDS.index(k) for k in kinds], np.int8)[pick]
            cents = np.zeros(len(group), np.int32)
            for i, arm in enumerate(arms):
                chosen = (pick == i) & (kinds[i] == "coupon")
                if chosen.any():
                    values = coupon_value(library.benefits[arm.benefit], group["avg_order_value"][chosen])
                    cents[chosen] = np.round(np.asarray(values, float) * 100).astype(np.int32)
            due = group["journey_started_us"].to_numpy(np.int64) + step.delay_hours * US_PER_HOUR
            parts.append(pd.DataFrame({
                "journey_id": group["journey_id"].to_numpy(), "user": group["user"].to_numpy(np.int32),
                "step": number, "due_day": (due // (24 * US_PER_HOUR) - epoch_day).astype(np.int32), "due_us": due,
                "channel": channel, "benefit": benefit, "coupon_cents": cents,
            }))
    if not parts:
        return empty_ghost_steps()
    return pd.concat(parts, ignore_index=True).sort_values(["due_day", "journey_id", "step"]).reset_index(drop=True)


def empty_ghost_steps() -> pd.DataFrame:
    return pd.DataFrame({
        "journey_id": pd.Series(dtype=object), "user": pd.Series(dtype=np.int32), "step": pd.Series(dtype=np.int64),
        "due_day": pd.Series(dtype=np.int32), "due_us": pd.Series(dtype=np.int64), "channel": pd.Series(dtype=np.int8),
        "benefit": pd.Series(dtype=np.int8), "coupon_cents": pd.Series(dtype=np.int32),
    })
