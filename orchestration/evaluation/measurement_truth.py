"""The measured lifts of the pipeline's own strategies against the simulator's true effects (the truth folder of a
closed-loop world, which the pipeline never reads): how many mature cohorts have the true effect inside their 95%
interval, and the mean error in standard errors.

The true effect of a campaign (one strategy on one assignment day) is the effect of the assignment on its treatment
journeys: the sum over them of y1 - y0, divided by all of its treatment journeys in the warehouse (those never sent
touched nobody: their effect is zero). A pooled cohort's is weighted like its estimate (by treatment journeys, over
the campaigns with an interval), which makes it the sum of the effects over the sum of the journeys.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from orchestration.measurement.lift import Z_95

# recall_metrics lift prefix -> (truth outcome, maturity flag of the row)
METRICS = {"wake_up": ("woke_up", "wake_up_mature"), "repurchase": ("repurchased_30d", "is_mature"),
           "revenue": ("revenue_30d", "is_mature"), "ltv_90d": ("revenue_90d", "ltv_mature")}
LEVELS = ("campaign", "week", "overall_wake_up", "overall")
CAMPAIGN_EFFECTS = "pipeline_campaign_effects.parquet"


def read_campaign_truth(truth_dir: Path) -> pd.DataFrame:
    path = Path(truth_dir) / CAMPAIGN_EFFECTS
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the truth of a closed-loop world is written by the simulator "
                                "(`churn-recall demo`); an open-loop or real warehouse has none")
    truth = pd.read_parquet(path)
    truth["assignment_date"] = pd.to_datetime(truth["assignment_date"]).dt.date
    return truth


def true_effects(metrics: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Treatment rows of the strategy cohorts (LEVELS) of the strategies in `truth`, as of one day, with
    true_<prefix> for every lifted metric (NaN when some journey's outcome is not final, or no campaign of the
    cohort has an interval) and the truth's and the warehouse's journey counts of the campaigns."""
    rows = metrics.loc[(metrics["arm"] == "treatment") & metrics["cohort_level"].isin(LEVELS)
                       & metrics["strategy_id"].isin(set(truth["strategy_id"]))].copy()
    for column in ("assignment_date", "assignment_end_date"):
        rows[column] = pd.to_datetime(rows[column]).dt.date
    campaigns = rows.loc[rows["cohort_level"] == "campaign",
                         ["strategy_id", "assignment_date", "users", "control_users"]]
    campaigns = campaigns.merge(truth, on=["strategy_id", "assignment_date"], how="left")
    campaigns["usable"] = (campaigns["users"] >= 2) & (campaigns["control_users"] >= 2)
    campaigns["week"] = [d - pd.Timedelta(days=d.weekday()) for d in pd.to_datetime(campaigns["assignment_date"])]
    campaigns["week"] = pd.to_datetime(campaigns["week"]).dt.date
    out = []
    for row in rows.itertuples(index=False):
        mine = campaigns["strategy_id"] == row.strategy_id
        if row.cohort_level == "week":
            mine &= campaigns["week"] == row.assignment_date
        else:
            mine &= (campaigns["assignment_date"] >= row.assignment_date) & (
                campaigns["assignment_date"] <= row.assignment_end_date)
        everyone, members = campaigns.loc[mine], campaigns.loc[mine & campaigns["usable"]]
        values = {"n_treatment_seen": everyone["n_treatment_seen"].sum(), "n_control_truth": everyone["n_control"].sum()}
        for prefix, (outcome, _) in METRICS.items():
            sums = members[f"effect_sum_treatment_{outcome}"]
            values[f"true_{prefix}"] = (sums.sum() / members["users"].sum()
                                        if len(members) and sums.notna().all() else np.nan)
        out.append(values)
    return pd.concat([rows.reset_index(drop=True), pd.DataFrame(out, index=range(len(rows)))], axis=1)


@dataclass(frozen=True)
class MetricCoverage:
    metric: str
    cohorts: int
    inside: int
    mean_error_in_se: float


def coverage(rows: pd.DataFrame, levels: tuple[str, ...] = ("campaign", "week"),
             include_small: bool = True) -> list[MetricCoverage]:
    """Per lifted metric: mature cohorts of `levels` with an interval and a known truth, how many hold the truth,
    and the mean of (estimate - truth) / SE."""
    out = []
    chosen = rows.loc[rows["cohort_level"].isin(levels)]
    if not include_small:
        chosen = chosen.loc[~chosen["small_cohort"].astype(bool)]
    for prefix, (_, mature) in METRICS.items():
        low, high = chosen[f"{prefix}_lift_ci_low"], chosen[f"{prefix}_lift_ci_high"]
        truth, lift = chosen[f"true_{prefix}"], chosen[f"{prefix}_lift"]
        ok = chosen[mature].astype(bool) & low.notna() & high.notna() & truth.notna() & (high > low)
        se = (high - low) / (2 * Z_95)
        inside = (low <= truth) & (truth <= high)
        error = ((lift - truth) / se)[ok]
        out.append(MetricCoverage(prefix, int(ok.sum()), int((inside & ok).sum()),
                                  float(error.mean()) if len(error) else float("nan")))
    return out


def sample_check(rows: pd.DataFrame) -> tuple[int, int]:
    """(campaigns whose strategy-holdout count agrees between truth and warehouse, campaigns that disagree):
    every control journey of the decisions must have reached the world through the holdout export."""
    campaigns = rows.loc[rows["cohort_level"] == "campaign"]
    agree = campaigns["control_users"].fillna(0).astype(int) == campaigns["n_control_truth"].fillna(0).astype(int)
    seen_ok = campaigns["n_treatment_seen"].fillna(0) <= campaigns["users"]
    good = agree & seen_ok
    return int(good.sum()), int((~good).sum())
