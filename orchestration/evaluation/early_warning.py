"""Early-warning evaluation: how well four scores of day D predict that a user takes no key action on days
D+1..D+H, and how early each flags the users who churn.

The four scores: the churn probability (user_churn_scores), the rules-only score
(user_risk_tiers.rules_risk_score), days since the last key action (recency; a user without one ranks above
everyone), and a BG/NBD baseline fitted on the key-action log as of each week's Monday like the model
(orchestration/evaluation/bgnbd.py). Every score of D uses data up to D only; the outcome comes from the
label row of D+H, so only days with D+H on or before the last labelled day are evaluated, and only days
the model scored (once it exists), so that the four are compared on the same user-days.

Per score: ROC AUC and PR AUC (pooled over user-days); precision of each day's top decile and its lift
over the base rate; Brier score and calibration error where the score is a probability; and the lead:
a user is flagged on the days it sits in the day's top decile; a churner is caught when flagged the day
before its churn date (the simulator's true churn date, or on real data the day after a key action that
no other follows within H days), and the lead is the churn date minus the first day of that flagged run.
The at_risk stage is judged the same way: its share of the day's users and its precision over the base rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from orchestration.scoring.model import calibration_error
from orchestration.segments.cadence import refresh_day

from .bgnbd import fit_bgnbd, key_action_days, p_no_key_action, rfm_summary

SCORERS: dict[str, bool] = {"model": True, "rules": False, "recency": False, "bgnbd": True}  # name: is a probability
TOP_SHARE = 0.10
# days since the last key action of a user who never took one: above any real recency, ordered by tenure
NEVER = 100_000


@dataclass
class Evaluation:
    """The figures of one warehouse: a row per scorer, the at_risk stage's figures and what was evaluated."""

    name: str
    horizon_days: int
    first_day: date | None
    last_day: date | None
    user_days: int
    scorers: pd.DataFrame
    at_risk: dict[str, float] = field(default_factory=dict)
    note: str = ""


def evaluation_frame(con: duckdb.DuckDBPyConnection, horizon_days: int, first_partition: date,
                     day_step: int = 1) -> pd.DataFrame:
    """One row per evaluated user-day: the four scores, the stage and the outcome `churned`."""
    bounds = con.execute("""
        select min(tier_date) filter (where scored_by = 'model'), min(tier_date),
               (select max(label_date) from user_daily_labels)
        from user_risk_tiers""").fetchall()[0]
    first_model_day, first_tier_day, last_label_day = bounds
    if last_label_day is None or first_tier_day is None:
        return pd.DataFrame()
    first = first_model_day or first_tier_day
    last = last_label_day - timedelta(days=horizon_days)
    frame = con.execute("""
        select tiers.user_id, tiers.tier_date as day, tiers.lifecycle_stage, tiers.scored_by,
               tiers.churn_probability as model, tiers.rules_risk_score as rules,
               coalesce(tiers.days_since_last_key_action, ? + tiers.days_since_signup) as recency,
               (later.last_key_action_date is null or later.last_key_action_date <= tiers.tier_date) as churned
        from user_risk_tiers as tiers
        join user_daily_labels as later
            on later.user_id = tiers.user_id and later.label_date = tiers.tier_date + cast(? as integer)
        where tiers.tier_date between ? and ? and datediff('day', cast(? as date), tiers.tier_date) % ? = 0
        order by tiers.tier_date, tiers.user_id""",
        [NEVER, horizon_days, first, last, first, day_step]).df()
    if frame.empty:
        return frame
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    frame["bgnbd"] = bgnbd_scores(con, frame, horizon_days, first_partition)
    return frame


def bgnbd_scores(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, horizon_days: int,
                 first_partition: date) -> np.ndarray:
    """P(no key action in H days) per row of `frame` from a BG/NBD fitted as of the row's week's Monday."""
    actions = key_action_days(con, max(frame["day"]))
    out = np.ones(len(frame))
    fitted: dict[date, object] = {}
    for day, rows in frame.groupby("day").indices.items():
        cutoff = refresh_day(day, first_partition)
        if cutoff not in fitted:
            history = rfm_summary(actions, cutoff)
            fitted[cutoff] = fit_bgnbd(history) if len(history) >= 10 else None
        if fitted[cutoff] is None:
            out[rows] = np.nan
            continue
        probability = p_no_key_action(fitted[cutoff], rfm_summary(actions, day), horizon_days)
        out[rows] = frame["user_id"].iloc[rows].map(probability).fillna(1.0).to_numpy()
    return out


def top_share_flags(frame: pd.DataFrame, score: str, share: float = TOP_SHARE) -> pd.Series:
    """True for the rows in their day's top `share` by `score` (ties broken by a hash of the user, never
    by the outcome)."""
    tie_break = pd.util.hash_pandas_object(frame["user_id"], index=False).astype("float64")
    ordered = frame.assign(_score=frame[score], _tie=tie_break).sort_values(
        ["day", "_score", "_tie"], ascending=[True, False, True], kind="stable")
    rank = ordered.groupby("day").cumcount() + 1
    size = ordered.groupby("day")["user_id"].transform("size")
    flags = rank <= np.ceil(share * size)
    return flags.reindex(frame.index)


def churn_dates_observed(con: duckdb.DuckDBPyConnection, horizon_days: int) -> pd.Series:
    """On real data: per user, the churn dates seen - the day after each key action that no other key
    action follows within H days (judged only where those H days are labelled)."""
    last_label_day = con.execute("select max(label_date) from user_daily_labels").fetchall()[0][0]
    rows = con.execute("""
        select user_id, activity_date + 1 as churn_date
        from (
            select user_id, activity_date,
                   lead(activity_date) over (partition by user_id order by activity_date) as next_date
            from int_user_daily_activity where key_actions > 0
        )
        where coalesce(next_date, cast(? as date) + 1) - activity_date > ? and activity_date + ? <= ?""",
        [last_label_day, horizon_days, horizon_days, last_label_day]).df()
    return rows.set_index("user_id")["churn_date"]


def lead_times(frame: pd.DataFrame, flags: pd.Series, churn_dates: pd.Series) -> tuple[float, float]:
    """(median lead in days of the caught churners, share of churners caught) for one scorer's flags."""
    t = frame[["user_id", "day"]].assign(flag=flags.to_numpy())
    t = t.sort_values(["user_id", "day"], kind="stable").reset_index(drop=True)
    day = pd.to_datetime(t["day"])
    continues = t["flag"] & t["flag"].shift(fill_value=False) & t["user_id"].eq(t["user_id"].shift()) & (
        day.diff().dt.days == 1)
    run_id = (t["flag"] & ~continues).cumsum().where(t["flag"])
    t["run_start"] = day.groupby(run_id).transform("min")
    dates = pd.to_datetime(churn_dates.rename("churn_date")).rename_axis("user_id").reset_index()
    eves = dates.assign(day=dates["churn_date"] - pd.Timedelta(days=1))
    merged = eves.merge(t.assign(day=day), on=["user_id", "day"], how="inner")
    if merged.empty:
        return float("nan"), float("nan")
    caught = merged[merged["flag"]]
    lead = (caught["churn_date"] - caught["run_start"]).dt.days
    return (float(lead.median()) if len(lead) else float("nan")), float(len(caught) / len(merged))


def scorer_table(frame: pd.DataFrame, churn_dates: pd.Series) -> pd.DataFrame:
    """A row of figures per scorer over the frame's user-days."""
    outcome = frame["churned"].to_numpy(dtype=bool)
    base = float(outcome.mean())
    rows = []
    for name, is_probability in SCORERS.items():
        score = frame[name].to_numpy(dtype=float)
        row: dict[str, object] = {"scorer": name}
        if np.isnan(score).any() or len(np.unique(outcome)) < 2:
            rows.append(row)
            continue
        flags = top_share_flags(frame, name)
        precision = float(outcome[flags.to_numpy()].mean())
        lead, caught = lead_times(frame, flags, churn_dates)
        row.update(roc_auc=roc_auc_score(outcome, score), pr_auc=average_precision_score(outcome, score),
                   top_decile_precision=precision, top_decile_lift=precision / base if base else float("nan"),
                   brier=brier_score_loss(outcome, score) if is_probability else float("nan"),
                   calibration_error=(calibration_error(score, outcome.astype(float)) if is_probability
                                      else float("nan")),
                   median_lead_days=lead, churners_caught=caught)
        rows.append(row)
    return pd.DataFrame(rows).set_index("scorer")


def at_risk_figures(frame: pd.DataFrame, truth_churn: pd.Series | None, horizon_days: int) -> dict[str, float]:
    """The at_risk stage: mean share of the day's users, precision against the outcome and the base rate (over
    all users, and over the users not labelled churned: `open_`); with the simulator's truth also against true
    churn within H days among users not churned yet."""
    at_risk = frame["lifecycle_stage"].eq("at_risk")
    churned = frame["churned"].astype(bool)
    figures = {
        "share": float(at_risk.groupby(frame["day"]).mean().mean()),
        "precision": float(churned[at_risk].mean()) if at_risk.any() else float("nan"),
        "base_rate": float(churned.mean()),
    }
    figures["lift"] = figures["precision"] / figures["base_rate"] if figures["base_rate"] else float("nan")
    # 1 / base rate caps any flag's lift, and the base rate over all users counts the long gone. The flag never
    # picks a user labelled churned, so the base rate of the others is the one it competes with.
    open_users = frame["lifecycle_stage"].ne("churned")
    figures["open_base_rate"] = float(churned[open_users].mean()) if open_users.any() else float("nan")
    figures["open_lift"] = (figures["precision"] / figures["open_base_rate"]
                            if figures["open_base_rate"] else float("nan"))
    if truth_churn is not None:
        churn = pd.to_datetime(frame["user_id"].map(truth_churn))
        day = pd.to_datetime(frame["day"])
        alive = ~(churn <= day)
        soon = (churn > day) & (churn <= day + pd.Timedelta(days=horizon_days))
        figures["true_precision"] = float(soon[alive & at_risk].mean()) if (alive & at_risk).any() else float("nan")
        figures["true_base_rate"] = float(soon[alive].mean())
        figures["true_lift"] = (figures["true_precision"] / figures["true_base_rate"]
                                if figures["true_base_rate"] else float("nan"))
    return figures


def evaluate_warehouse(
    con: duckdb.DuckDBPyConnection, name: str, horizon_days: int, first_partition: date,
    truth_users: pd.DataFrame | None = None, day_step: int = 1,
) -> Evaluation:
    """Every figure of the early warning for one warehouse (truth_users: the simulator's truth/users, with
    churn_date, when there is one)."""
    frame = evaluation_frame(con, horizon_days, first_partition, day_step)
    if frame.empty:
        return Evaluation(name, horizon_days, None, None, 0, pd.DataFrame(),
                          note="nothing to evaluate: no tier day whose next H days are labelled")
    truth = None
    if truth_users is not None:
        truth = truth_users.dropna(subset=["churn_date"]).set_index("user_id")["churn_date"]
    churn_dates = truth if truth is not None else churn_dates_observed(con, horizon_days)
    notes = []
    if not frame["scored_by"].eq("model").all():
        notes.append("no model-scored day with a known outcome yet: the model column is empty")
    if frame["bgnbd"].isna().any():
        notes.append("BG/NBD: no converged fit for some weeks, its figures are left out")
    note = "; ".join(notes)
    return Evaluation(name, horizon_days, min(frame["day"]), max(frame["day"]), len(frame),
                      scorer_table(frame, churn_dates), at_risk_figures(frame, truth, horizon_days), note)
