"""The training set of a refit, point in time: label rows of matured days only, each with its outcome.

A refit as of the cut-off day R reads nothing dated after R. Day D is matured when its whole outcome
window D+1..D+H lies on or before R and is settled: the last days before R, which the lookback recomputes when late
events arrive, are left out (`unsettled_days`), so that a refit reads the same rows in a backfill as in daily runs.
Its outcome (churned: no key action in D+1..D+H) is read from the label row of D+H, whose last_key_action_date is
after D exactly when a key action happened in between.
The matured days are split by date into train, test and calibration slices (oldest to newest): the
reported quality is measured on days neither the boosting nor the calibration saw, and the calibration
uses the newest outcomes, the closest to the days the model will score (on a simulated app whose users
age, calibrating on the newest week instead of the one before halved the calibration error of later
scores: 0.024 against 0.050).

Even the newest matured day is H days older than the cut-off, and an app whose users age drifts in that
time. So a refit also reads the recent slice: the week of label days whose next SHIFT_OUTCOME_DAYS (7)
days are known and settled by the cut-off (R-13..R-7, minus the unsettled days), each with that shorter outcome (`quiet_next_days`: no key
action on D+1..D+7; the calibration slice gets it too). orchestration/scoring/model.py turns the
difference into a shift of the probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pandas as pd

from .features import feature_select

# Recency baselines (uncapped label columns) a refit reports its test days' ROC AUC against.
BASELINES = ("days_since_last_key_action", "silent_days")
# 12 weeks of matured days at most: enough for the weekly rhythm, recent enough to follow the app.
TRAINING_WINDOW_DAYS = 84
CALIBRATION_DAYS = 7
TEST_DAYS = 7
MIN_TRAIN_DAYS = 14
MIN_MATURED_DAYS = MIN_TRAIN_DAYS + CALIBRATION_DAYS + TEST_DAYS
# each class needs this many rows in every slice for a fit and its metrics to mean anything
MIN_CLASS_ROWS = 30
# rows are sampled (deterministically, by user and day) above these sizes: a user's consecutive days
# carry much the same information, and the refit must stay within a minute on 20,000 users x 120 days
# (on a simulated 5,000-user app, 40,000 training rows ranked as well as 150,000: ROC AUC 0.786 vs 0.783)
MAX_TRAIN_ROWS = 100_000
MAX_HOLDOUT_ROWS = 50_000
# the short outcome of the recent slice and the calibration slice (a week: the apps' weekly rhythm, and
# the newest week with it known ends 7 days before the cut-off)
SHIFT_OUTCOME_DAYS = 7
RECENT_DAYS = 7


@dataclass(frozen=True)
class TrainingWindow:
    """The matured label days of a refit as of `cutoff`, split by date."""

    cutoff: date
    horizon_days: int
    first: date      # first matured day used
    train_end: date  # last day of the train slice
    test_end: date   # last day of the test slice
    last: date       # last matured day (cutoff - horizon - unsettled days), the end of the calibration slice
    unsettled_days: int = 0  # the label days before the cut-off that later runs may still recompute

    @property
    def recent(self) -> tuple[date, date]:
        """The recent slice: the newest RECENT_DAYS label days whose short outcome is known by the cut-off."""
        last = self.cutoff - timedelta(days=SHIFT_OUTCOME_DAYS + self.unsettled_days)
        return last - timedelta(days=RECENT_DAYS - 1), last

    @property
    def matured_days(self) -> int:
        return (self.last - self.first).days + 1

    def slices(self) -> dict[str, tuple[date, date]]:
        one = timedelta(days=1)
        return {
            "train": (self.first, self.train_end),
            "test": (self.train_end + one, self.test_end),
            "calibration": (self.test_end + one, self.last),
        }


def training_window(cutoff: date, horizon_days: int, first_label_day: date | None,
                    unsettled_days: int = 0) -> TrainingWindow | str:
    """The window of a refit as of `cutoff`, or why there is none yet (the cold-start reason)."""
    last = cutoff - timedelta(days=horizon_days + unsettled_days)
    if first_label_day is None:
        return "no labels yet"
    matured = (last - first_label_day).days + 1
    if matured < MIN_MATURED_DAYS:
        return (f"cold start: {max(matured, 0)} matured label days as of {cutoff} (a day matures {horizon_days} "
                f"days later, settled {unsettled_days} days after that), {MIN_MATURED_DAYS} needed")
    first = max(first_label_day, last - timedelta(days=TRAINING_WINDOW_DAYS - 1))
    test_end = last - timedelta(days=CALIBRATION_DAYS)
    train_end = test_end - timedelta(days=TEST_DAYS)
    return TrainingWindow(cutoff, horizon_days, first, train_end, test_end, last, unsettled_days)


def first_label_day(con: duckdb.DuckDBPyConnection) -> date | None:
    return con.execute("select min(label_date) from user_daily_labels").fetchall()[0][0]


def labelled_rows(
    con: duckdb.DuckDBPyConnection, first: date, last: date, horizon_days: int | None, max_rows: int,
    short_outcome: bool = False,
) -> pd.DataFrame:
    """Feature rows of label days first..last with the recency baselines (`baseline_<column>`), their
    outcome `churned` (no key action on D+1..D+H; left out when horizon_days is None) and, with
    `short_outcome`, `quiet_next_days` (none on D+1..D+SHIFT_OUTCOME_DAYS); sampled down to about
    `max_rows` by a hash of (user, day) so that a rerun reads the same rows. Each outcome is read from the
    label row of D+H (D+7), whose last_key_action_date is after D exactly when a key action happened in
    between; a day without that row is left out."""
    users = con.execute(
        "select count(*) from user_daily_labels where label_date between ? and ?", [first, last]
    ).fetchall()[0][0]
    keep = min(1.0, max_rows / users) if users else 1.0
    outcomes = {name: days for name, days in (("churned", horizon_days),
                                               ("quiet_next_days", SHIFT_OUTCOME_DAYS if short_outcome else None))
                if days is not None}
    selects = "".join(
        f",\n            ({name}.last_key_action_date is null or {name}.last_key_action_date <= labels.label_date)"
        f" as {name}" for name in outcomes)
    joins = "".join(f"""
        join user_daily_labels as {name}
            on {name}.user_id = labels.user_id
            and {name}.label_date = labels.label_date + cast({days} as integer)
            and {name}.label_date between ? and ?""" for name, days in outcomes.items())
    sql = f"""
        select {feature_select()},
            {", ".join(f"labels.{name} as baseline_{name}" for name in BASELINES)}{selects}
        from user_daily_labels as labels{joins}
        where labels.label_date between ? and ?
          and hash(labels.user_id, labels.label_date) % 1000000 < ?
        -- a fixed row order: the booster's early-stopping split depends on it, and a refit of the same rows
        -- must give the same model (a backfill and daily runs refit independently)
        order by labels.label_date, labels.user_id
    """
    params: list[object] = []
    for days in outcomes.values():
        params += [first + timedelta(days=days), last + timedelta(days=days)]
    params += [first, last, int(keep * 1_000_000)]
    return con.execute(sql, params).df()


def training_rows(con: duckdb.DuckDBPyConnection, window: TrainingWindow) -> dict[str, pd.DataFrame]:
    """The train, test and calibration slices of the window (with `churned`), the calibration slice also
    with `quiet_next_days`, and the recent slice with `quiet_next_days` only."""
    sizes = {"train": MAX_TRAIN_ROWS, "calibration": MAX_HOLDOUT_ROWS, "test": MAX_HOLDOUT_ROWS}
    slices = {
        name: labelled_rows(con, first, last, window.horizon_days, sizes[name], short_outcome=name == "calibration")
        for name, (first, last) in window.slices().items()
    }
    slices["recent"] = labelled_rows(con, *window.recent, None, MAX_HOLDOUT_ROWS, short_outcome=True)
    return slices


def too_few(slices: dict[str, pd.DataFrame]) -> str | None:
    """Why the slices cannot support a fit (a class too rare in a slice), or None."""
    for name, rows in slices.items():
        if "churned" not in rows:
            continue  # the recent slice: without enough rows the model is not shifted (model.prior_shift)
        churned = int(rows["churned"].sum())
        stayed = len(rows) - churned
        if min(churned, stayed) < MIN_CLASS_ROWS:
            return (f"cold start: the {name} slice has {churned} churned and {stayed} retained user-days, "
                    f"{MIN_CLASS_ROWS} of each needed")
    return None
