"""`churn-recall benchmark-scoring`: the seconds of one churn-model refit on a simulated world (20,000 users x
120 days by default, labelled by the pipeline) and of scoring one day of 1 million users (the world's last
day of labels, copied under new user ids), each through the code the assets run. Wall time and the
process's CPU time are both printed: on a shared machine the first depends on the load, the second less."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import duckdb

from orchestration.benchmarks.world import labelled_world
from orchestration.warehouse.io import replace_rows

from .cadence import ModelInForce, ScoringContext, refit
from .registry import model_version
from .scores import model_row, write_day_scores


def run_scoring_benchmark(n_users: int, n_days: int, score_users: int, home: Path | None = None) -> dict[str, float]:
    home = Path(home or tempfile.mkdtemp(prefix="churn-recall-scoring-bench-"))
    print(f"benchmark-scoring in {home} (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    settings = labelled_world(home, n_users, n_days)
    ctx = ScoringContext.of(settings)
    with duckdb.connect(str(settings.warehouse)) as con:
        last_day = con.execute("select max(label_date) from user_daily_labels").fetchall()[0][0]
        version = model_version(ctx.vertical, ctx.horizon_days, last_day, ctx.unsettled_days) + "-bench"
        started, cpu = time.perf_counter(), time.process_time()
        card = refit(con, last_day, version, ctx)
        refit_seconds, refit_cpu = time.perf_counter() - started, time.process_time() - cpu
    if isinstance(card, str):
        raise SystemExit(f"no refit possible on this world: {card}")
    print(f"  refit as of {last_day}: {refit_seconds:6.1f} s ({refit_cpu:.1f} s of CPU)  "
          f"({card.rows['train']:,} train, "
          f"{card.rows['calibration']:,} calibration, {card.rows['test']:,} test user-days; test ROC AUC "
          f"{card.test['roc_auc']:.3f}, calibration error {card.test['calibration_error']:.3f})", flush=True)

    scratch = home / "scoring-bench.duckdb"
    scratch.unlink(missing_ok=True)
    with duckdb.connect(str(scratch)) as con:
        con.execute(f"attach '{settings.warehouse}' as world (read_only)")
        copies = con.execute("select count(*) from world.user_daily_labels where label_date = ?", [last_day]
                             ).fetchall()[0][0]
        con.execute("""
            create table user_daily_labels as
            select * replace (labels.user_id || '_' || copy.range as user_id)
            from world.user_daily_labels as labels, range(cast(ceil(? / ?) as bigint)) as copy
            where labels.label_date = ?
            limit ?""", [score_users, copies, last_day, score_users])
        con.execute("detach world")
        in_force = ModelInForce(last_day, last_day, version, card, "benchmark model")
        replace_rows(con, "churn_model", model_row(in_force, ctx.horizon_days), "model_date = ?", [last_day])
        started, cpu = time.perf_counter(), time.process_time()
        scores = write_day_scores(con, last_day, ctx.registry, ctx.horizon_days)
        score_seconds, score_cpu = time.perf_counter() - started, time.process_time() - cpu
    scratch.unlink(missing_ok=True)
    print(f"  scoring {scores.rows:,} users (read labels, predict, write the mart): {score_seconds:6.1f} s "
          f"({score_cpu:.1f} s of CPU)", flush=True)
    return {"refit_seconds": refit_seconds, "refit_cpu_seconds": refit_cpu, "score_seconds": score_seconds,
            "score_cpu_seconds": score_cpu, "scored_users": float(scores.rows)}
