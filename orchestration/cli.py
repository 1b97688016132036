"""Command line: `churn-recall demo` simulates the embedded app (if needed), runs every day through
the pipeline as one run and prints the result; `simulate`, `run`, `summary`, `benchmark` and `benchmark-recall` do one part."""

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
    from orchestration.runner import failure_messages, persistent_instance, run_days

    started = time.perf_counter()
    print(f"running {first}..{last} as one run (dbt, recall, measurement, checks)...", flush=True)
    result = run_days(settings, first, last, instance=persistent_instance(), progress=True, raise_on_error=False)
    print(f"pipeline run {first}..{last}: {'success' if result.success else 'FAILED'} "
          f"in {time.perf_counter() - started:.1f}s")
    if not result.success:
        for message in failure_messages(result):
            print(message, file=sys.stderr)
        sys.exit(1)


# Libraries whose INFO lines would drown ours: dbt, Dagster (and dagster-dbt, which logs through it),
# Great Expectations (whose modules set their own levels, hence the handler filter below too).
LIBRARY_LOGGERS = ("dbt", "dagster", "dagster_dbt", "great_expectations")


def _configure_logging() -> None:
    """Our progress (loggers under `orchestration`) at INFO; anything else only from WARNING up."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    logging.getLogger("orchestration").setLevel(logging.INFO)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    ours = logging.Filter("orchestration")
    for handler in logging.getLogger().handlers:
        handler.addFilter(lambda record: record.levelno >= logging.WARNING or ours.filter(record))


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
    bench = commands.add_parser("benchmark", help="time a backfill and daily partitions on a large world against a "
                                "hand-written reference query; fixed cost and peak memory")
    bench.add_argument("--users", type=int, default=100_000)
    bench.add_argument("--days", type=int, default=120)
    bench.add_argument("--home", type=Path, default=None, help="scratch folder (default: a new temporary folder)")
    recall_bench = commands.add_parser("benchmark-recall", help="time the recall engine on N synthetic at-risk users")
    recall_bench.add_argument("--users", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    _configure_logging()
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
        print(f"For BI tools (docs/bi.md): {settings.bi_dir / 'bi.duckdb'} (open it read-only), or the Parquet "
              f"folders of {settings.bi_dir / 'current'}; never the warehouse.")
    elif args.command == "run":
        _run(settings, args.first, args.last or args.first)
    elif args.command == "summary":
        from orchestration.reporting.summary import summarize

        print(summarize(settings.warehouse))
    elif args.command == "benchmark":
        from orchestration.benchmarks.pipeline import run_benchmark

        run_benchmark(args.users, args.days, args.home)
    elif args.command == "benchmark-recall":
        from orchestration.recall import load_strategy_library
        from orchestration.recall.benchmark import run_recall_benchmark

        run_recall_benchmark(load_strategy_library(settings.strategies), args.users)


if __name__ == "__main__":
    main()
