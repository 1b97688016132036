"""Compare targeting policies against the simulated app: the same world, the same days and the same
budgets under (a) the rules (risk-only targeting: the first matching strategy by priority), (b)
targeting by churn probability and (c) targeting by expected incremental profit (the uplift models),
each judged by the simulator's truth (both potential outcomes of every journey).

The timeline (closed loop, docs/closed-loop.md), after the open-loop history:
1. **learning**: the pipeline runs day by day under the uplift policy, which before any mature model
   is the rules plus `learning_exploration` of the users on a random allowed treatment, with the
   strategies' holdouts: randomized journeys for every treatment;
2. **waiting**: recall pauses for 30 days (the world goes on, the pipeline measures as one run) until
   the 30-day revenue of the learning journeys is known;
3. **evaluation**: the world and warehouse are copied once per policy; each copy runs `eval_days`
   days of recall under its policy (the uplift models refit through the day before, as in production);
4. **tail**: recall stops and the world runs 30 more days, so every evaluated journey's 30-day
   outcome is final in the truth.

A policy's incremental profit = sum over its treatment journeys planned in the evaluation days of
margin x (y1 - y0) of 30-day revenue - the contact cost of its queued steps - the benefits it
actually cost; the interval is a bootstrap over journeys. Control journeys are never contacted and
add nothing. The Dagster runs come in as callables, so this module stays free of Dagster."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field

from orchestration.config import Settings
from orchestration.ids import is_in
from orchestration.quality.recall_audit import audit_outbox
from orchestration.recall import OUTBOX_COLUMNS, load_strategy_library
from orchestration.recall.actions import HOLDOUT_COLUMNS
from orchestration.recall.export import export_day
from orchestration.recall.library import StrategyLibrary
from orchestration.uplift.money import realized_benefit_cost

POLICY_LABELS = {"rules": "(a) rules, risk-only targeting", "risk": "(b) by churn probability",
                 "uplift": "(c) by expected incremental profit"}
WAIT_DAYS = 30  # the 30-day revenue window: learning outcomes known before evaluation, evaluated ones after
TAIL_DAYS = 30
NO_START = -(2**31)  # the simulator's "never" for a day index (simulator.activity.NO_START)

RunDays = Callable[[Settings, date, date], bool]     # one pipeline run over a range of days; True on success
RunLoop = Callable[[Settings, object, date], bool]   # the closed loop through a day (runner.run_closed_loop)


class ComparisonConfig(BaseModel):
    """The simulated world and the comparison's days and budgets."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # The defaults are the smallest run measured to tell the policies apart (docs/recall.md, "Seeds and the
    # default size": the profit policy earned >= 1.3x the rules in six worlds of six at this size, 1.09x in the
    # one run with 21 learning days; 14 minutes on two cores).
    users: int = Field(default=6000, ge=500, le=100_000)
    seed: int = 11
    history_days: int = Field(default=60, ge=35)
    learn_days: int = Field(default=35, ge=3)
    eval_days: int = Field(default=7, ge=1)
    # Daily contacts each channel may carry, the same for every policy (None: users / 200): budgets that bind
    # are what makes targeting matter.
    daily_capacity: int | None = Field(default=None, ge=1)
    learning_exploration: float = Field(default=0.5, ge=0, le=0.5)
    min_treated_journeys: int = Field(default=60, ge=2)
    min_control_journeys: int = Field(default=20, ge=2)
    bootstrap_reps: int = Field(default=1000, ge=100)

    @property
    def loop_days(self) -> int:
        return self.learn_days + WAIT_DAYS + self.eval_days + TAIL_DAYS

    @property
    def capacity(self) -> int:
        return self.daily_capacity or max(5, self.users // 200)


@dataclass(frozen=True)
class PolicyResult:
    policy: str
    profit: float
    low: float
    high: float
    journeys: int
    contacts: int
    contacted_users: int
    negative_share: float
    violations: int

    def line(self) -> str:
        return (f"{POLICY_LABELS[self.policy]:<38} incremental profit {self.profit:9.2f} "
                f"[{self.low:9.2f}, {self.high:9.2f}]  contacts {self.contacts:6,}  treatment journeys "
                f"{self.journeys:6,}  contacted users with a negative true effect "
                f"{self.negative_share:6.1%}  guardrail violations {self.violations}")


def comparison_library(base: Path, config: ComparisonConfig, exploration: float | None = None) -> dict:
    """The library every policy runs: the operators' library with the comparison's daily capacity on
    every channel, the 30-day objective (the only window the comparison can see close), its maturity
    thresholds and, for learning, a larger exploration share (None: the operators' share)."""
    library = yaml.safe_load(Path(base).read_text())
    for limits in library["guardrails"]["channels"].values():
        limits.pop("daily_budget", None)
        limits["daily_capacity"] = config.capacity
    decision = library.setdefault("economics", {}).setdefault("decision", {})
    decision.update(objective="margin_30d", min_treated_journeys=config.min_treated_journeys,
                    min_control_journeys=config.min_control_journeys)
    if exploration is not None:
        decision["exploration_share"] = exploration
    library["revision"] = f"{library.get('revision', 'library')}+compare-policies"
    return library


def write_library(home: Path, library: dict, name: str) -> Path:
    path = Path(home) / name
    path.write_text(yaml.safe_dump(library, sort_keys=False))
    return path


def export_nothing(settings: Settings, day: date) -> None:
    """An empty outbox and holdout export for `day` (recall paused: the delivery system sends nothing)."""
    if (settings.outbox / f"{day.isoformat()}.parquet").is_file():
        return
    export_day(settings.outbox, day, {day.isoformat(): pd.DataFrame(columns=OUTBOX_COLUMNS),
                                      f"holdout/{day.isoformat()}": pd.DataFrame(columns=HOLDOUT_COLUMNS)})


def run_world_only(settings: Settings, loop, last: date) -> None:
    """Advance the simulated app through `last` with recall paused (empty exports), without the pipeline."""
    while not loop.finished and loop.next_day <= last:
        export_nothing(settings, loop.next_day - timedelta(days=1))
        loop.advance(settings.outbox, settings.landing, settings.truth, write_truth=loop.next_day == last)


def journey_profits(journeys: pd.DataFrame, truth: pd.DataFrame, library: StrategyLibrary, margin: float) -> pd.DataFrame:
    """Per treatment journey: true incremental revenue (30 days), contact cost, realized benefit cost, profit.

    journeys: one row per treatment journey with journey_id, cost (its queued steps' contact cost), benefit,
      coupon_value, sent (a step went out), coupon_redeemed.
    truth: the simulator's journeys (journey_id, y0_revenue_30d, y1_revenue_30d, contacted). A journey
      the world never saw (every step cancelled) touched nobody: its effect is zero."""
    seen = truth.set_index("journey_id")
    effect = (seen["y1_revenue_30d"] - seen["y0_revenue_30d"]).reindex(journeys["journey_id"])
    open_ = is_in(journeys["journey_id"], seen.index) & effect.isna().to_numpy()
    if open_.any():
        raise ValueError(f"{int(open_.sum())} evaluated journeys have no final 30-day outcome in the truth yet")
    out = journeys.assign(effect=effect.fillna(0.0).to_numpy(),
                          contacted=seen["contacted"].reindex(journeys["journey_id"]).fillna(False).astype(bool).to_numpy())
    out["benefit_cost"] = realized_benefit_cost(out, library, margin)
    out["profit"] = margin * out["effect"] - out["cost"] - out["benefit_cost"]
    return out


def summarize(policy: str, profits: pd.DataFrame, contacts: int, violations: int, reps: int, seed: int = 0) -> PolicyResult:
    """The policy's figures; the 95% interval of the total profit is a bootstrap over its journeys."""
    values = profits["profit"].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    if len(values):
        totals = values[rng.integers(0, len(values), size=(reps, len(values)))].sum(axis=1)
        low, high = np.percentile(totals, [2.5, 97.5])
    else:
        low = high = 0.0
    contacted = profits.loc[profits["contacted"]]
    users = contacted.groupby("user_id")["effect"].sum() if len(contacted) else pd.Series(dtype=float)
    return PolicyResult(policy, float(values.sum()), float(low), float(high), len(profits), contacts, len(users),
                        float((users < 0).mean()) if len(users) else 0.0, violations)


def ratio_line(results: dict[str, PolicyResult]) -> str:
    base, uplift = results["rules"].profit, results["uplift"].profit
    ratio = uplift / base if base > 0 else float("nan")
    return f"uplift/risk-only incremental profit ratio: {ratio:.2f}"


JOURNEYS_SQL = """
select journey_id, any_value(user_id) as user_id, any_value(strategy_id) as strategy_id,
       sum(case when status = 'queued' then cost else 0 end) as cost,
       count(*) filter (where status = 'queued') as queued,
       any_value(benefit) filter (where status = 'queued' and benefit is not null) as benefit,
       max(coupon_value) filter (where status = 'queued') as coupon_value,
       any_value(coupon_code) filter (where status = 'queued' and coupon_code is not null) as coupon_code
from recall_actions
where arm = 'treatment' and journey_id is not null
  and journey_id in (select journey_id from recall_actions where step = 1 and action_date between ? and ?)
group by journey_id
"""


def evaluated_journeys(con: duckdb.DuckDBPyConnection, first: date, last: date, redeemed_codes: set[str]) -> pd.DataFrame:
    """Treatment journeys planned on first..last with their spend and whether their coupon was redeemed."""
    frame = con.execute(JOURNEYS_SQL, [first, last]).df()
    return frame.assign(sent=frame["queued"] > 0, coupon_redeemed=is_in(frame["coupon_code"], redeemed_codes))


def copy_home(source: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.tmp", "bi", "reports"))


@dataclass(frozen=True)
class Phases:
    """The days of the comparison (planning days of the pipeline)."""

    history_end: date
    learn_last: date     # last planning day of the learning phase
    wait_last: date      # last day of the pause (its outcomes known)
    eval_first: date
    eval_last: date
    world_last: date

    @classmethod
    def of(cls, start: date, config: ComparisonConfig) -> Phases:
        history_end = start + timedelta(days=config.history_days - 1)
        learn_last = history_end + timedelta(days=config.learn_days)
        wait_last = learn_last + timedelta(days=WAIT_DAYS)
        eval_first = wait_last + timedelta(days=1)
        eval_last = eval_first + timedelta(days=config.eval_days - 1)
        return cls(history_end, learn_last, wait_last, eval_first, eval_last, eval_last + timedelta(days=TAIL_DAYS))


def audit_violations(settings: Settings, first: date, last: date, library: StrategyLibrary) -> int:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        counts = audit_outbox(con, first, last, library)
    return int(sum(v for k, v in counts.items() if k != "outbox_rows"))


def redeemed_codes(loop) -> set[str]:
    """Coupon codes of the pipeline's journeys redeemed in the simulated world."""
    effects = loop.state.effects
    used = effects.loc[~effects["ghost"].to_numpy(dtype=bool) & (effects["coupon_redeemed_day"].to_numpy() != NO_START)]
    return set(used["coupon_code"].dropna().astype(str))


def compare_policies(home: Path, config: ComparisonConfig, run_days: RunDays, run_loop: RunLoop,
                     say: Callable[[str], None] = print, base_library: Path | None = None) -> dict[str, PolicyResult]:
    """Run the comparison under `home` (a scratch folder); the figures per policy (see the module)."""
    from orchestration.simulator import SimulationConfig, simulate, write_world
    from orchestration.simulator.loop import ClosedLoop, LoopSettings

    home = Path(home)
    shared = home / "shared"
    shared.mkdir(parents=True, exist_ok=True)
    probe = Settings.under(shared)
    base_library = base_library or probe.strategies
    phases = Phases.of(probe.start_date, config)
    learn_library = write_library(shared, comparison_library(base_library, config, config.learning_exploration),
                                  "learning-strategies.yml")
    eval_library = write_library(home, comparison_library(base_library, config), "strategies.yml")
    settings = Settings.under(shared, strategies=learn_library, recall_from=phases.history_end,
                              recall_until=phases.learn_last, recall_policy="uplift")
    world_config = SimulationConfig(n_users=config.users, n_days=config.history_days + config.loop_days,
                                    start_date=settings.start_date, seed=config.seed, vertical=settings.vertical,
                                    closed_loop_days=config.loop_days)
    say(f"simulating {config.users:,} users: {config.history_days} days of history, then the closed loop "
        f"{phases.history_end + timedelta(days=1)}..{phases.world_last}")
    world = simulate(world_config, progress=lambda stage, fraction: None)
    write_world(world, settings.landing, settings.truth)
    loop = ClosedLoop.start(world, settings.simulator_home, LoopSettings(settings.strategies, *settings.measurement_windows))
    if not run_days(settings, settings.start_date, phases.history_end):
        raise RuntimeError("the pipeline run of the history failed")
    say(f"learning {phases.history_end}..{phases.learn_last}: rules, {config.learning_exploration:.0%} exploration, holdouts")
    if not run_loop(settings, loop, phases.learn_last):
        raise RuntimeError("a pipeline run of the learning phase failed")
    say(f"waiting {phases.learn_last + timedelta(days=1)}..{phases.wait_last} (recall paused) for the 30-day outcomes")
    run_world_only(settings, loop, phases.wait_last)
    if not run_days(settings, phases.learn_last + timedelta(days=1), phases.wait_last):
        raise RuntimeError("the pipeline run of the waiting days failed")
    library = load_strategy_library(eval_library)
    margin = library.economics.margin_for(settings.vertical)
    results: dict[str, PolicyResult] = {}
    for policy in ("rules", "risk", "uplift"):
        branch = home / policy
        copy_home(shared, branch)
        run = Settings.under(branch, strategies=eval_library, recall_from=phases.history_end,
                             recall_until=phases.eval_last, recall_policy=policy)
        branch_loop = ClosedLoop.open(run.simulator_home)
        say(f"{POLICY_LABELS[policy]}: recall {phases.eval_first}..{phases.eval_last}, then the world to {phases.world_last}")
        if not run_loop(run, branch_loop, phases.eval_last):
            raise RuntimeError(f"a pipeline run under the {policy} policy failed")
        run_world_only(run, branch_loop, phases.world_last)
        with duckdb.connect(str(run.warehouse), read_only=True) as con:
            journeys = evaluated_journeys(con, phases.eval_first, phases.eval_last, redeemed_codes(branch_loop))
            contacts = con.execute("select count(*) from recall_actions where status = 'queued' and arm = 'treatment' "
                                   "and action_date between ? and ?", [phases.eval_first, phases.eval_last]).fetchall()[0][0]
        profits = journey_profits(journeys, branch_loop.truth(), library, margin)
        violations = audit_violations(run, phases.eval_first, phases.eval_last, library)
        results[policy] = summarize(policy, profits, int(contacts), violations, config.bootstrap_reps)
        say(results[policy].line())
    return results
