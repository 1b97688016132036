"""`churn-recall evaluate-early-warning`: the early-warning figures of the current warehouse and of a small
simulated world per preset (simulated, run through the pipeline's early-warning chain, judged against the
simulator's truth), optionally CDNOW; the last line sums the ROC AUCs up."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from orchestration.config import Settings

from .early_warning import Evaluation, evaluate_warehouse

SIMULATED_PRESETS = ("ecommerce", "game", "finance")
COLUMNS = {
    "roc_auc": "ROC AUC", "pr_auc": "PR AUC", "top_decile_precision": "top-10% prec", "top_decile_lift": "lift",
    "brier": "Brier", "calibration_error": "calib err", "median_lead_days": "lead (d)", "churners_caught": "caught",
}


def _truth_users(truth_dir: Path) -> pd.DataFrame | None:
    path = truth_dir / "users.parquet"
    return pd.read_parquet(path, columns=["user_id", "churn_date"]) if path.is_file() else None


def evaluate_settings(settings: Settings, name: str) -> Evaluation:
    """The figures of the warehouse of `settings` (with the simulator's truth when it has one)."""
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return evaluate_warehouse(con, name, settings.preset.churn_horizon_days, settings.start_date,
                                  _truth_users(settings.truth))


def simulate_and_evaluate(vertical: str, n_users: int, n_days: int, home: Path, seed: int = 7) -> Evaluation:
    """Simulate a world of the preset under `home`, run the early-warning chain (up to user_risk_tiers) over
    every day with that preset, and evaluate it against the simulator's truth."""
    from orchestration.runner import run_days
    from orchestration.simulator import SimulationConfig, simulate, write_world

    settings = Settings.under(home, vertical=vertical)
    config = SimulationConfig(n_users=n_users, n_days=n_days, seed=seed, vertical=vertical,
                              start_date=settings.start_date)
    write_world(simulate(config), settings.landing, settings.truth)
    run_days(settings, config.start_date, config.end_date, log_level="WARNING", up_to=["user_risk_tiers"])
    return evaluate_settings(settings, f"{vertical} (simulated: {n_users:,} users x {n_days} days)")


def format_evaluation(evaluation: Evaluation) -> str:
    header = f"== {evaluation.name}: "
    if evaluation.scorers.empty:
        return header + evaluation.note + " =="
    lines = [header + f"{evaluation.user_days:,} user-days {evaluation.first_day}..{evaluation.last_day}, "
             f"outcome: no key action in the next {evaluation.horizon_days} days =="]
    table = evaluation.scorers.reindex(columns=list(COLUMNS)).rename(columns=COLUMNS)
    lines.append(table.to_string(float_format=lambda v: f"{v:.3f}", na_rep="n/a"))
    figures = evaluation.at_risk
    # a precision of 1 is the most any flag can reach: 1 / base rate bounds the lift
    ceiling = 1 / figures["base_rate"] if figures["base_rate"] else float("nan")
    line = (f"at_risk: {figures['share']:.1%} of the day's users; precision {figures['precision']:.3f} vs base rate "
            f"{figures['base_rate']:.3f} ({figures['lift']:.1f}x, at most {ceiling:.1f}x); among users not labelled "
            f"churned {figures['open_base_rate']:.3f} ({figures['open_lift']:.1f}x)")
    if "true_precision" in figures:
        line += (f"; true churn within {evaluation.horizon_days} d: {figures['true_precision']:.3f} vs "
                 f"{figures['true_base_rate']:.3f} ({figures['true_lift']:.1f}x)")
    lines.append(line)
    if evaluation.note:
        lines.append(evaluation.note)
    return "\n".join(lines)


def summary_line(evaluations: Sequence[Evaluation]) -> str:
    """`early warning AUC: model X.XXX, rules X.XXX, recency X.XXX`, each the mean over the evaluations."""
    def mean_auc(scorer: str) -> float:
        values = [e.scorers.loc[scorer, "roc_auc"] for e in evaluations
                  if not e.scorers.empty and "roc_auc" in e.scorers and pd.notna(e.scorers.loc[scorer, "roc_auc"])]
        return float(np.mean(values)) if values else float("nan")

    return (f"early warning AUC: model {mean_auc('model'):.3f}, rules {mean_auc('rules'):.3f}, "
            f"recency {mean_auc('recency'):.3f}")


def run_command(settings: Settings, presets: Sequence[str], n_users: int, n_days: int, current: bool,
                cdnow: bool, home: Path | None = None) -> list[Evaluation]:
    """Print the figures of each evaluated warehouse, then the summary line; return the evaluations."""
    evaluations: list[Evaluation] = []
    if current:
        if settings.warehouse.is_file():
            evaluations.append(evaluate_settings(settings, f"current warehouse ({settings.vertical})"))
            print(format_evaluation(evaluations[-1]), flush=True)
        else:
            print(f"== current warehouse: {settings.warehouse} does not exist (run the pipeline first) ==")
    scratch = home or Path(tempfile.mkdtemp(prefix="churn-recall-early-warning-"))
    for vertical in presets:
        evaluations.append(simulate_and_evaluate(vertical, n_users, n_days, scratch / vertical))
        print(format_evaluation(evaluations[-1]), flush=True)
    if cdnow:
        from .cdnow import format_cdnow, run_cdnow_evaluation

        print(format_cdnow(run_cdnow_evaluation(scratch / "cdnow")), flush=True)
    names = ", ".join(e.name.split(" (")[0].split(":")[0] for e in evaluations)
    print(f"(ROC AUC means over: {names})")
    print(summary_line(evaluations))
    return evaluations
