"""Which churn model is in force on a day: the one fitted as of that week's Monday (the refit cadence of
the segments, for the same reason: a model that moves every day moves users across the at-risk cut on
noise alone), taken from the registry when it is there, fitted and registered otherwise; or none, with
the reason, while the matured history is too short (cold start: the rules stand in).

"Too short" has two tests: a fixed minimum of matured days and rows of each outcome, then the fitted
model itself: it takes over only when it ranks the held-out test days better than both recency
baselines (days since the last key action, days since any activity), which the rules build on (on
CDNOW, a model whose recency was capped at 30 days did not: test ROC AUC 0.726 against 0.758). The
registry keeps such a model with its card, marked not accepted, and the rules go on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd
import sklearn
from sklearn.metrics import roc_auc_score

from orchestration.segments.cadence import refresh_day

from .features import FEATURE_NAMES
from .model import BOOSTING, churn_probability, fit_model, quality
from .registry import ModelCard, has_model, load_card, model_version, registry_root, save_model
from .training import BASELINES, first_label_day, too_few, training_rows, training_window

if TYPE_CHECKING:
    from orchestration.config import Settings


@dataclass(frozen=True)
class ModelInForce:
    """The model of one day: its version and card, or the cold-start reason; `refitted` when this call fit it."""

    day: date
    cutoff: date
    version: str | None
    card: ModelCard | None
    reason: str
    refitted: bool = False


@dataclass(frozen=True)
class ScoringContext:
    """What a refit depends on besides the warehouse's rows."""

    vertical: str
    horizon_days: int
    home: Path
    warehouse: Path
    first_partition: date
    # the label days before a cut-off that a refit leaves out (`unsettled_days`): later daily runs may still
    # recompute them, so reading none of them makes a backfill and daily runs refit alike
    unsettled_days: int = 0

    @property
    def registry(self) -> Path:
        return registry_root(self.home)

    @classmethod
    def of(cls, settings: Settings) -> ScoringContext:
        """The context of a deployment's settings (its vertical's horizon, its home's registry, its lookback)."""
        return cls(vertical=settings.vertical, horizon_days=settings.preset.churn_horizon_days, home=settings.home,
                   warehouse=settings.warehouse, first_partition=settings.start_date,
                   unsettled_days=unsettled_days(settings.lookback_days))


def unsettled_days(lookback_days: int) -> int:
    """The label days before a cut-off R that a refit leaves out: the `lookback_days` that R's own run recomputes,
    and one more, the oldest day of the run before R's. So the refit reads only days no run from R - 1 on recomputes,
    and can run the evening before R, after R - 1's run (the model_refits job), reading what a fit in R's run would."""
    return lookback_days + 1


def version_of_day(ctx: ScoringContext, day: date) -> tuple[date, str]:
    """The refit cut-off of `day` (its week's Monday, or the first partition) and the model version fitted as of it."""
    cutoff = refresh_day(day, ctx.first_partition)
    return cutoff, model_version(ctx.vertical, ctx.horizon_days, cutoff, ctx.unsettled_days)


def model_in_force(con: duckdb.DuckDBPyConnection, day: date, ctx: ScoringContext) -> ModelInForce:
    """The model used to score `day`: refit as of its week's cut-off day unless already registered."""
    cutoff, version = version_of_day(ctx, day)
    refitted = not has_model(ctx.registry, version)
    card = refit(con, cutoff, version, ctx) if refitted else load_card(ctx.registry, version)
    if isinstance(card, str):
        return ModelInForce(day, cutoff, None, None, card)
    if not card.accepted:
        return ModelInForce(day, cutoff, None, None, _rejected_reason(card), refitted=refitted)
    return ModelInForce(day, cutoff, version, card, _in_force_reason(card), refitted=refitted)


def refit(con: duckdb.DuckDBPyConnection, cutoff: date, version: str, ctx: ScoringContext) -> ModelCard | str:
    """Fit, evaluate and register the model as of `cutoff` (reading no label dated after it), accepted when
    it beats the recency baselines on the test days; the cold-start reason instead when the matured
    history cannot support a fit."""
    window = training_window(cutoff, ctx.horizon_days, first_label_day(con), ctx.unsettled_days)
    if isinstance(window, str):
        return window
    started = time.perf_counter()
    slices = training_rows(con, window)
    problem = too_few(slices)
    if problem:
        return problem
    model = fit_model(slices["train"], slices["calibration"], ctx.horizon_days, slices["recent"])
    test = slices["test"]
    outcome = test["churned"].to_numpy(dtype=bool)
    held_out = quality(churn_probability(model, test, shifted=False), outcome)
    baselines = {name: baseline_auc(test, name) for name in BASELINES}
    card = ModelCard(
        version=version, vertical=ctx.vertical, horizon_days=ctx.horizon_days, cutoff=cutoff,
        training_window={**window.slices(), "recent": window.recent}, features=list(FEATURE_NAMES),
        rows={name: len(rows) for name, rows in slices.items()}, test=held_out.as_dict(),
        baseline_roc_auc=baselines, accepted=held_out.roc_auc > max(baselines.values()), boosting=BOOSTING,
        recency_cap_days=model.recency_cap, prior_shift_logit=round(model.prior_shift, 6),
        library={"scikit-learn": sklearn.__version__}, warehouse=str(ctx.warehouse),
        fitted_at=datetime.now(timezone.utc), fit_seconds=round(time.perf_counter() - started, 3),
    )
    save_model(ctx.registry, model, card)
    return card


def baseline_auc(rows: pd.DataFrame, column: str) -> float:
    """ROC AUC of a recency baseline for `churned` (a user without the event ranks first, silent since ever)."""
    score = rows[f"baseline_{column}"].to_numpy(dtype=float)
    return float(roc_auc_score(rows["churned"].to_numpy(dtype=bool), np.nan_to_num(score, nan=1e12)))


def _rejected_reason(card: ModelCard) -> str:
    best = max(card.baseline_roc_auc, key=card.baseline_roc_auc.get)
    return (f"cold start: the model fitted as of {card.cutoff} ({card.version}, test ROC AUC "
            f"{card.test['roc_auc']:.3f}) does not beat {best} ({card.baseline_roc_auc[best]:.3f}) on held-out "
            "days yet")


def _in_force_reason(card: ModelCard) -> str:
    return (f"model {card.version}: fitted as of {card.cutoff} on {card.rows['train']:,} matured user-days, "
            f"test ROC AUC {card.test['roc_auc']:.3f}")
