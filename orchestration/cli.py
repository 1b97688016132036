"""Command line: `churn-recall demo` simulates the embedded app (if needed), runs every day through
the pipeline as one run and prints the result; `simulate`, `run`, `summary`, `benchmark`, `benchmark-recall`
and `benchmark-scoring` do one part; `evaluate-early-warning` judges the early warning."""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from datetime import date
from pathlib import Path

from orchestration.config.settings import Settings


def _simulate(settings: Settings, n_users: int, n_days: int, seed: int) -> None:
    from orchestration.simulator import SimulationConfig, simulate, write_world

    config = SimulationConfig(
        n_users=n_users, n_days=n_days, start_date=settings.start_date, seed=seed, vertical=settings.vertical
    )
    started = time.perf_counter()
    world = simulate(config)
    summary = write_world(world, settings.landing, settings.truth)
    print(f"simulated the {settings.vertical} app: {n_users:,} users over {n_days} days in "
          f"{time.perf_counter() - started:.1f}s, {summary.rows.get('events', 0):,} events in {summary.landing_dir}")


def _run(settings: Settings, first: date, last: date) -> None:
    from orchestration.runner import persistent_instance, run_days

    started = time.perf_counter()
    print(f"running {first}..{last} as one run (dbt, recall, measurement, checks)...", flush=True)
    result = run_days(settings, first, last, instance=persistent_instance(), log_level="WARNING", raise_on_error=False)
    print(f"pipeline run {first}..{last}: {'success' if result.success else 'FAILED'} "
          f"in {time.perf_counter() - started:.1f}s")
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                print(f"{event.step_key} failed: {event.step_failure_data.error.to_string()}", file=sys.stderr)
        sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="churn-recall", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="simulate (if the landing folder is empty), run all days, print the result")
    simulate_cmd = commands.add_parser("simulate", help="write a simulated app's landing files and ground truth")
    for sub in (demo, simulate_cmd):
        sub.add_argument("--users", type=int, default=20_000)
        sub.add_argument("--days", type=int, default=120)
        sub.add_argument("--seed", type=int, default=7)
    run = commands.add_parser("run", help="run the pipeline for a range of days as one run")
    run.add_argument("first", type=date.fromisoformat)
    run.add_argument("last", type=date.fromisoformat, nargs="?")
    commands.add_parser("summary", help="print the latest tiers, outbox and campaign lifts")
    bench = commands.add_parser("benchmark", help="time generation and daily partitions on a larger world")
    bench.add_argument("--users", type=int, default=50_000)
    bench.add_argument("--days", type=int, default=120)
    recall_bench = commands.add_parser("benchmark-recall", help="time the recall engine on N synthetic at-risk users")
    recall_bench.add_argument("--users", type=int, default=1_000_000)
    scoring_bench = commands.add_parser(
        "benchmark-scoring", help="time one churn-model refit on a simulated world and scoring 1 million users")
    scoring_bench.add_argument("--users", type=int, default=20_000, help="users of the simulated world (refit)")
    scoring_bench.add_argument("--days", type=int, default=120)
    scoring_bench.add_argument("--score-users", type=int, default=1_000_000, help="label rows scored at once")
    scoring_bench.add_argument("--home", type=Path, help="reuse (or keep) the benchmark world in this folder")
    evaluate = commands.add_parser(
        "evaluate-early-warning",
        help="ROC/PR AUC, top-decile precision, Brier and lead time of the churn probability, the rules, recency "
             "and BG/NBD on the current warehouse and a simulated world per preset")
    evaluate.add_argument("--users", type=int, default=2_000, help="users of each simulated world")
    evaluate.add_argument("--days", type=int, default=120, help="days of each simulated world")
    evaluate.add_argument("--presets", nargs="*", default=["ecommerce", "game", "finance"])
    evaluate.add_argument("--no-current", action="store_true", help="skip the current warehouse")
    evaluate.add_argument("--cdnow", action="store_true", help="also the real CDNOW purchase log (slow)")
    evaluate.add_argument("--home", type=Path, help="folder for the simulated worlds (default: a temporary one)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    logging.getLogger("orchestration").setLevel(logging.INFO)  # our progress, not the libraries' chatter
    warnings.filterwarnings("ignore", message=".*(beta|preview).*", category=Warning)

    settings = Settings.from_env()
    if args.command == "simulate":
        _simulate(settings, args.users, args.days, args.seed)
    elif args.command == "demo":
        if not settings.landing_days():
            _simulate(settings, args.users, args.days, args.seed)
        days = settings.landing_days()
        _run(settings, days[0], days[-1])
        from orchestration.reporting.summary import summarize

        print(summarize(settings.warehouse))
    elif args.command == "run":
        _run(settings, args.first, args.last or args.first)
    elif args.command == "summary":
        from orchestration.reporting.summary import summarize

        print(summarize(settings.warehouse))
    elif args.command == "benchmark":
        from orchestration.benchmark import run_benchmark

        run_benchmark(args.users, args.days)
    elif args.command == "benchmark-recall":
        from orchestration.recall import load_strategy_library
        from orchestration.recall.benchmark import run_recall_benchmark

        run_recall_benchmark(load_strategy_library(settings.strategies), args.users)
    elif args.command == "benchmark-scoring":
        from orchestration.scoring.benchmark import run_scoring_benchmark

        run_scoring_benchmark(args.users, args.days, args.score_users, args.home)
    elif args.command == "evaluate-early-warning":
        from orchestration.evaluation.early_warning_command import run_command

        run_command(settings, args.presets, args.users, args.days, not args.no_current, args.cdnow, args.home)


if __name__ == "__main__":
    main()
