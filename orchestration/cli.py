"""Command line: `churn-recall demo` simulates the embedded app's history, runs it through the pipeline as one run,
then closes the loop for the last weeks (each day the simulated app answers the pipeline's outbox and the pipeline
runs that day) and prints the result; the other commands do one part (simulate, run, advance, summary), measure
(benchmarks) or judge (evaluations of the measurement, the early warning and the uplift learner)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import warnings
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO

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
    """The daily job for first..last as one run, then the model refits the next day's run would otherwise do."""
    from orchestration.runner import failure_messages, persistent_instance, run_days, run_refits

    instance = persistent_instance()
    started = time.perf_counter()
    print(f"running {first}..{last} as one run (dbt, recall, measurement, checks)...", flush=True)
    result = run_days(settings, first, last, instance=instance, progress=True, raise_on_error=False)
    print(f"pipeline run {first}..{last}: {'success' if result.success else 'FAILED'} "
          f"in {time.perf_counter() - started:.1f}s")
    if result.success:
        started = time.perf_counter()
        result = run_refits(settings, last, instance=instance, log_level="WARNING", raise_on_error=False)
        print(f"models for {last + timedelta(days=1)} (model_refits): {'ready' if result.success else 'FAILED'} "
              f"in {time.perf_counter() - started:.1f}s")
    if not result.success:
        for message in failure_messages(result):
            print(message, file=sys.stderr)
        sys.exit(1)


# Libraries whose INFO lines would drown ours: dbt, Dagster (and dagster-dbt, which logs through it),
# Great Expectations (whose modules set their own levels, hence the handler filter below too).
LIBRARY_LOGGERS = ("dbt", "dagster", "dagster_dbt", "great_expectations")


def _terminal() -> TextIO:
    """stderr as it is now, for good: with a persistent Dagster instance a run's output goes to a file that
    `tail -F` echoes each second, and the tail is stopped when the run ends, losing its last lines
    (dagster-io/dagster#23336); a copy of the descriptor taken before the run is not redirected."""
    try:
        return os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1)
    except (AttributeError, OSError, ValueError):  # no descriptor (an in-memory stream): nothing redirects it
        return sys.stderr


def _configure_logging() -> None:
    """Our progress (loggers under `orchestration`) at INFO; anything else only from WARNING up."""
    if not logging.getLogger().handlers:  # basicConfig would leave a second call's stream unused
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", stream=_terminal())
    logging.getLogger("orchestration").setLevel(logging.INFO)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    ours = logging.Filter("orchestration")
    for handler in logging.getLogger().handlers:
        handler.addFilter(lambda record: record.levelno >= logging.WARNING or ours.filter(record))


def _live(settings: Settings) -> Settings:
    """In a closed-loop world, recall goes live on the last day of its history (that day's outbox is the first
    the simulated app answers), unless CHURN_RECALL_RECALL_FROM says otherwise."""
    from orchestration.simulator.loop import ClosedLoop

    if settings.recall_from is not None or not ClosedLoop.exists(settings.simulator_home):
        return settings
    return settings.model_copy(update={"recall_from": ClosedLoop.history_end(settings.simulator_home)})


def _start_loop(settings: Settings, n_users: int, n_days: int, loop_days: int, seed: int):
    """Simulate the open-loop history (with the pre-made campaigns), write it, and start the closed loop after it."""
    from orchestration.simulator import SimulationConfig, simulate, write_world
    from orchestration.simulator.loop import ClosedLoop, LoopSettings

    if settings.landing_days():
        raise SystemExit(f"churn-recall: {settings.landing} holds landing files but no closed-loop world "
                         f"({settings.simulator_home}): remove them, or set CHURN_RECALL_HOME to a new folder")
    config = SimulationConfig(n_users=n_users, n_days=n_days, start_date=settings.start_date, seed=seed,
                              vertical=settings.vertical, closed_loop_days=loop_days)
    started = time.perf_counter()
    world = simulate(config)
    write_world(world, settings.landing, settings.truth)
    wake_up_days, churn_days = settings.measurement_windows
    loop = ClosedLoop.start(world, settings.simulator_home, LoopSettings(settings.strategies, wake_up_days, churn_days))
    print(f"simulated the {settings.vertical} app's history: {n_users:,} users, {config.history_days} days "
          f"({config.start_date}..{config.history_end_date}) in {time.perf_counter() - started:.1f}s, "
          f"{world.events.num_rows:,} events; the last {loop_days} days will answer the pipeline day by day")
    return loop


def _catch_up(settings: Settings, loop) -> None:
    """Run the pipeline up to the day before the loop's next day, if its outbox is not there yet (a first start,
    or a demo interrupted between the app's day and the pipeline's)."""
    before = loop.next_day - timedelta(days=1)
    if (settings.outbox / f"{before.isoformat()}.parquet").is_file():
        return
    first = settings.start_date if before == loop.config.history_end_date else before
    _run(settings, first, before)


def _load_pipeline_code() -> None:
    """What the demo's first run would load anyway: the code location (Dagster, dagster-dbt, the definitions'
    modules) and the parsed dbt project. Loaded while the simulator writes the history, it overlaps that numpy
    and Parquet work: 16.7-17.7 s for both against 19.6-21.1 s one after the other (with Great Expectations
    then, which the run no longer imports)."""
    import orchestration.runner  # noqa: F401
    from orchestration.defs.dbt.project import dbt_project

    dbt_project()


def _show_day(day) -> None:
    """One line per closed-loop day: what the simulated app did, then the pipeline's run."""
    s = day.simulated
    print(f"  {s.day}  app: {s.steps:,} steps ({s.delivered:,} delivered, {s.opened:,} opened), "
          f"{s.controls:,} control journeys, {s.events:,} events in {s.seconds:.1f}s | pipeline "
          f"{'ran' if day.success else 'FAILED'} in {day.pipeline_seconds:.1f}s ({day.slowest()}); "
          f"next day's models {day.refit_seconds:.1f}s", flush=True)


def _demo(settings: Settings, args: argparse.Namespace) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from orchestration.config.threads import model_threads
    from orchestration.operations import slowest_steps
    from orchestration.simulator.loop import ClosedLoop

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as pool:
        loading = pool.submit(_load_pipeline_code)
        if ClosedLoop.exists(settings.simulator_home):
            loop = ClosedLoop.open(settings.simulator_home)
            print(f"continuing the closed-loop world in {settings.simulator_home} at {loop.next_day}")
        else:
            loop = _start_loop(settings, args.users, args.days, args.loop_days, args.seed)
        loading.result()  # its error, if any, here
    from orchestration.runner import persistent_instance, run_closed_loop

    settings = _live(settings)
    # The demo runs its steps one at a time and alone: the model fits may use every core it has.
    with model_threads(len(os.sched_getaffinity(0))):
        _catch_up(settings, loop)
        if not loop.finished:
            print(f"closing the loop, {loop.next_day}..{loop.config.end_date}: each day the app answers yesterday's "
                  "outbox, then the pipeline runs the day", flush=True)
        days = run_closed_loop(settings, loop, instance=persistent_instance(), on_day=_show_day)
    if days and not days[-1].success:
        sys.exit(f"churn-recall: the pipeline run of {days[-1].simulated.day} failed; `churn-recall demo` resumes")
    if days:
        pipeline, refits = sum(d.pipeline_seconds for d in days), sum(d.refit_seconds for d in days)
        print(f"closed loop: {len(days)} days in {sum(d.simulated.seconds for d in days) + pipeline + refits:.0f}s "
              f"(pipeline {pipeline / len(days):.1f}s a day, model refits {refits / len(days):.1f}s a day, "
              f"simulated app {sum(d.simulated.seconds for d in days) / len(days):.1f}s a day)")
        totals: Counter[str] = Counter()
        for day in days:
            totals.update(day.step_seconds)
        print(f"  the loop's slowest steps, seconds over all {len(days)} days: {slowest_steps(totals, 6)}")
    from orchestration.reporting.summary import publish_with_truth, summarize

    print(summarize(settings.warehouse, settings.truth))
    report = publish_with_truth(settings.warehouse, settings.truth, settings.reports_dir)
    if report is not None:
        print(f"report (measured lifts next to the simulator's true effects): {report}")
    print(f"For BI tools (docs/bi.md): {settings.bi_dir / 'bi.duckdb'} (open it read-only), or the Parquet "
          f"folders of {settings.bi_dir / 'current'}; never the warehouse.")
    print(f"demo wall time: {time.perf_counter() - began:.0f}s")


def _advance(settings: Settings) -> None:
    from orchestration.simulator.loop import ClosedLoop

    loop = ClosedLoop.open(settings.simulator_home)
    if loop.finished:
        sys.exit(f"churn-recall: the simulated world ended on {loop.config.end_date}")
    day = loop.advance(settings.outbox, settings.landing, settings.truth)
    print(f"simulated {day.day}: {day.steps:,} steps sent ({day.delivered:,} delivered, {day.opened:,} opened), "
          f"{day.controls:,} control journeys logged, {day.events:,} events in {day.seconds:.1f}s; "
          f"run the pipeline for {day.day} next")


def _evaluate_measurement(settings: Settings) -> None:
    import duckdb
    import pandas as pd

    from orchestration.evaluation.measurement_truth import coverage, read_campaign_truth, sample_check, true_effects

    try:
        truth = read_campaign_truth(settings.truth)
    except FileNotFoundError as exc:
        sys.exit(f"churn-recall: {exc}")
    _require_warehouse(settings)
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        metrics = con.execute("select * from recall_metrics where as_of_date = (select max(as_of_date) "
                              "from recall_metrics)").df()
    if metrics.empty:
        sys.exit("churn-recall: recall_metrics is empty: run the pipeline first")
    rows = true_effects(metrics, truth)
    as_of = pd.Timestamp(metrics["as_of_date"].iloc[0]).date()
    print(f"the pipeline's strategies against the simulator's truth ({settings.truth}), measured as of {as_of}:")
    print("  (cohorts: campaign and week cohorts of each strategy whose window has closed, with an interval; small "
          "ones, under 100 journeys in an arm, in brackets)")
    total = inside = 0
    for every, large in zip(coverage(rows), coverage(rows, include_small=False), strict=True):
        total, inside = total + every.cohorts, inside + every.inside
        share = f"{every.inside / every.cohorts:.0%}" if every.cohorts else "n/a"
        print(f"  {every.metric:<11} {every.inside:>4} of {every.cohorts:<4} inside ({share}), mean error "
              f"{every.mean_error_in_se:+.2f} SE   [not small: {large.inside} of {large.cohorts}]")
    agree, disagree = sample_check(rows)
    print(f"  intent-to-treat: the truth and the warehouse agree on the holdout of {agree} campaigns"
          + (f", disagree on {disagree}" if disagree else ""))
    print(f"measurement coverage: {inside} of {total} cohorts")


def _compare_policies(args: argparse.Namespace) -> None:
    """The policy comparison (orchestration/evaluation/policies.py), its Dagster runs in-process."""
    import tempfile

    from orchestration.evaluation.policies import ComparisonConfig, ratio_line
    from orchestration.runner import compare_policies_in_process

    given = {"users": args.users, "seed": args.seed, "learn_days": args.learn_days, "eval_days": args.eval_days,
             "daily_capacity": args.daily_capacity}
    config = ComparisonConfig(**{name: value for name, value in given.items() if value is not None})
    home = args.home or Path(tempfile.mkdtemp(prefix="compare-policies-"))
    began = time.perf_counter()
    results = compare_policies_in_process(home, config, say=lambda line: print(line, flush=True))
    print(f"compared in {time.perf_counter() - began:.0f}s under {home} (daily capacity per channel {config.capacity})")
    for result in results.values():
        print(result.line())
    print(ratio_line(results))


def _require_warehouse(settings: Settings) -> None:
    if not settings.warehouse.is_file():
        sys.exit(f"churn-recall: no warehouse at {settings.warehouse}: run `churn-recall demo` (or `run`) first")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="churn-recall", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="simulate the history, run it, close the loop day by day, print the result")
    simulate_cmd = commands.add_parser("simulate", help="write a simulated app's landing files and ground truth")
    for sub in (demo, simulate_cmd):
        sub.add_argument("--users", type=int, default=20_000)
        sub.add_argument("--days", type=int, default=120)
        sub.add_argument("--seed", type=int, default=7)
    demo.add_argument("--loop-days", type=int, default=28, help="last days simulated day by day (default 28)")
    run = commands.add_parser("run", help="run the pipeline for a range of days as one run")
    run.add_argument("first", type=date.fromisoformat)
    run.add_argument("last", type=date.fromisoformat, nargs="?")
    commands.add_parser("advance", help="the simulated app answers the outbox: simulate the closed loop's next day")
    commands.add_parser("summary", help="print the latest tiers, outbox, decisions and lifts")
    commands.add_parser("evaluate-measurement", help="measured lifts against the simulator's true effects")
    bench = commands.add_parser("benchmark", help="time a backfill and daily partitions on a large world against a "
                                "hand-written reference query; fixed cost and peak memory")
    bench.add_argument("--users", type=int, default=100_000)
    bench.add_argument("--days", type=int, default=120)
    bench.add_argument("--home", type=Path, default=None,
                       help="a new or empty scratch folder (default: a new temporary one)")
    bench.add_argument("--repeats", type=int, default=1, help="run the late partition this many times, each a first "
                       "run of the day on the world as the backfill left it, and report the median (default 1)")
    bench.add_argument("--with-model", action="store_true", help="score the late day with a churn model in force "
                       "(fitted on a labelled 20,000-user world of its own, not timed) instead of a young world's "
                       "cold-start rules")
    loop_bench = commands.add_parser("benchmark-loop", help="time the closed loop's simulated app per day")
    loop_bench.add_argument("--users", type=int, default=20_000)
    loop_bench.add_argument("--days", type=int, default=5)
    recall_bench = commands.add_parser("benchmark-recall", help="time the recall engine on N synthetic at-risk users")
    recall_bench.add_argument("--users", type=int, default=1_000_000)
    uplift_bench = commands.add_parser("benchmark-uplift", help="time planning with the uplift models (refit, decide, "
                                       "plan) on N synthetic users")
    uplift_bench.add_argument("--users", type=int, default=1_000_000)
    uplift_bench.add_argument("--train-users", type=int, default=40_000)
    hillstrom = commands.add_parser("evaluate-uplift-hillstrom", help="Qini / AUUC with intervals of the uplift "
                                    "learner on the held-out third of the Hillstrom e-mail campaign")
    hillstrom.add_argument("--reps", type=int, default=200, help="bootstrap resamples")
    staging_bench = commands.add_parser(
        "benchmark-staging", help="time one landing day's ingestion, staging and events contract")
    staging_bench.add_argument("--users", type=int, default=100_000)
    staging_bench.add_argument("--days", type=int, default=9, help="the last day is timed, after the others")
    staging_bench.add_argument("--landing", type=Path, default=None, help="an existing landing folder to read")
    scoring_bench = commands.add_parser(
        "benchmark-scoring", help="time one churn-model refit on a simulated world and scoring 1 million users")
    scoring_bench.add_argument("--users", type=int, default=20_000, help="users of the simulated world (refit)")
    scoring_bench.add_argument("--days", type=int, default=120)
    scoring_bench.add_argument("--score-users", type=int, default=1_000_000, help="label rows scored at once")
    scoring_bench.add_argument("--home", type=Path, help="reuse (or keep) the benchmark world in this folder")
    measurement_bench = commands.add_parser(
        "benchmark-measurement", help="time the measurement step's work (read, outcomes, cohort metrics) on the "
        "warehouse of $CHURN_RECALL_HOME, read-only")
    measurement_bench.add_argument("--days", type=int, default=3, help="the last measured days, measured together")
    measurement_bench.add_argument("--repeats", type=int, default=3)
    measurement_bench.add_argument("--carried", action="store_true", help="the path a daily run takes: the rows "
                                   "measured as of the last day carried for the journeys those days did not change")
    compare = commands.add_parser(
        "compare-policies", help="the simulated app under the rules, targeting by churn probability and by expected "
        "incremental profit: true incremental profit with its 95%% interval, contacts, negative-effect share")
    # unset flags take ComparisonConfig's defaults (not imported here: the CLI loads the pipeline lazily); the help
    # states them, and a test checks that it states them right
    compare.add_argument("--users", type=int, help="users of the simulated app (default 6,000)")
    compare.add_argument("--seed", type=int, help="draws another world (default 11)")
    compare.add_argument("--learn-days", type=int, help="days of randomized learning before the pause (default 35)")
    compare.add_argument("--eval-days", type=int, help="days each policy plans (default 7)")
    compare.add_argument("--daily-capacity", type=int, default=None, help="contacts per channel and day (default users/200)")
    compare.add_argument("--home", type=Path, help="scratch folder (default: a new temporary folder)")
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
    _configure_logging()
    logging.getLogger("orchestration.simulator.loop").setLevel(logging.WARNING)  # the demo prints each day itself
    warnings.filterwarnings("ignore", message=".*(beta|preview).*", category=Warning)
    # With the spark extra installed, Great Expectations imports pyspark, which warns about pandas 3 on import.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)

    settings = Settings.from_env()
    if args.command == "simulate":
        _simulate(settings, args.users, args.days, args.seed)
    elif args.command == "demo":
        _demo(settings, args)
    elif args.command == "run":
        _run(_live(settings), args.first, args.last or args.first)
    elif args.command == "advance":
        _advance(settings)
    elif args.command == "summary":
        from orchestration.reporting.summary import summarize

        _require_warehouse(settings)
        print(summarize(settings.warehouse, settings.truth))
    elif args.command == "evaluate-measurement":
        _evaluate_measurement(settings)
    elif args.command == "benchmark":
        from orchestration.benchmarks.pipeline import run_benchmark

        run_benchmark(args.users, args.days, args.home, args.repeats, args.with_model)
    elif args.command == "benchmark-loop":
        from orchestration.benchmarks.loop import run_loop_benchmark

        run_loop_benchmark(args.users, args.days)
    elif args.command == "benchmark-recall":
        from orchestration.recall import load_strategy_library
        from orchestration.recall.benchmark import run_recall_benchmark

        run_recall_benchmark(load_strategy_library(settings.strategies), args.users)
    elif args.command == "benchmark-uplift":
        from orchestration.recall import load_strategy_library
        from orchestration.uplift.benchmark import run_uplift_benchmark

        run_uplift_benchmark(load_strategy_library(settings.strategies), args.users, args.train_users)
    elif args.command == "evaluate-uplift-hillstrom":
        from orchestration.evaluation.hillstrom_uplift import run_hillstrom_uplift

        run_hillstrom_uplift(args.reps)
    elif args.command == "benchmark-staging":
        from orchestration.ingestion.benchmark import run_staging_benchmark

        run_staging_benchmark(args.users, args.days, landing=args.landing)
    elif args.command == "benchmark-scoring":
        from orchestration.scoring.benchmark import run_scoring_benchmark

        run_scoring_benchmark(args.users, args.days, args.score_users, args.home)
    elif args.command == "benchmark-measurement":
        from orchestration.measurement.benchmark import run_measurement_benchmark

        run_measurement_benchmark(Settings.from_env(), args.days, args.repeats, args.carried)
    elif args.command == "compare-policies":
        _compare_policies(args)
    elif args.command == "evaluate-early-warning":
        from orchestration.evaluation.early_warning_command import run_command

        run_command(settings, args.presets, args.users, args.days, not args.no_current, args.cdnow, args.home)


if __name__ == "__main__":
    main()
