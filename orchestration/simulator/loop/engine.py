"""The closed loop: a simulated world that keeps its state and advances one day at a time, answering the pipeline.

Each day D the simulated delivery system sends the steps the pipeline exported for D (its outbox of D-1) and logs
the control journeys starting on D; users respond by their latent effect (response.py); the day's activity, orders
and events follow, with the late, duplicate and invalid rows of any real feed. Landing folder D receives the day's
events, users and delivery log; the truth folder the potential outcomes of the pipeline's journeys (truth.py),
which the pipeline never reads. The world's state is saved after every day (state.py), so any day can be simulated
again from the day before and gives the same files.
"""

from __future__ import annotations

import datetime
import json
import logging
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.recall.library import StrategyLibrary, load_strategy_library

from .. import params as P
from ..activity import NO_START
from ..config import SimulationConfig
from ..defects import delivered_events
from ..events import Continuation, WorldPaths, build_events
from ..population import US_PER_DAY
from ..world import SimulatedWorld, WorldCore, world_core
from . import delivery, ghosts, response, truth
from .journeys import fold, member, register, with_clicks
from .paths import Block, order_effects, outcome_path
from .state import LoopState

logger = logging.getLogger(__name__)
TRUTH_FILES = ("pipeline_journeys", "pipeline_campaign_effects")


@dataclass(frozen=True)
class LoopSettings:
    """What the loop needs besides the world's config: the campaign definitions its delivery system runs (the
    strategy library, for the ghosts of control journeys) and the measurement windows of the truth."""

    strategies: Path
    wake_up_days: int
    churn_days: int


@dataclass(frozen=True)
class _Day:
    """A simulated day: the events arriving in its landing folder, and the state after it (before the day's
    journeys, ghosts and consent changes are added)."""

    arriving: pa.Table
    state: LoopState


@dataclass(frozen=True)
class DayReport:
    """What one simulated day produced."""

    day: datetime.date
    steps: int
    delivered: int
    opened: int
    controls: int
    events: int
    seconds: float


def _config_json(config: SimulationConfig) -> dict:
    values = asdict(config)
    values["start_date"] = config.start_date.isoformat()
    return values


class ClosedLoop:
    """A world under `home` (…/simulator): world.json, and a snapshot per simulated day in days/."""

    def __init__(self, home: Path, config: SimulationConfig, settings: LoopSettings, state: LoopState,
                 core: WorldCore | None = None):
        self.home, self.config, self.settings, self.state = Path(home), config, settings, state
        self.core = core or world_core(config)
        self.traits = response.Traits.draw(self.core.pop, np.random.default_rng(
            np.random.SeedSequence(config.seed, spawn_key=(6,))))
        self.library: StrategyLibrary = load_strategy_library(settings.strategies)
        ids = self.core.pop.user_ids.to_numpy(zero_copy_only=False)
        self.user_index = {u: i for i, u in enumerate(ids)}
        self.first_weekday = config.start_date.weekday()

    # --- life cycle ------------------------------------------------------------------------------------------

    @classmethod
    def start(cls, world: SimulatedWorld, home: Path, settings: LoopSettings) -> ClosedLoop:
        """Begin the loop where an open-loop history (simulate() with closed_loop_days) ended."""
        if world.history_end is None:
            raise ValueError("the world has no closed-loop days: simulate it with closed_loop_days > 0")
        home = Path(home)
        if home.exists():
            shutil.rmtree(home)
        home.mkdir(parents=True)
        (home / "world.json").write_text(json.dumps({
            "config": _config_json(world.config), "strategies": str(settings.strategies),
            "wake_up_days": settings.wake_up_days, "churn_days": settings.churn_days,
        }, indent=1))
        loop = cls(home, world.config, settings, LoopState.from_history(world.history_end))
        loop.state.save(loop._snapshot(loop.state.day - 1))
        return loop

    @classmethod
    def open(cls, home: Path) -> ClosedLoop:
        """The loop saved under `home`, at its latest snapshot."""
        home = Path(home)
        if not (home / "world.json").is_file():
            raise FileNotFoundError(f"no closed-loop world in {home} (start one with `churn-recall demo`)")
        saved = json.loads((home / "world.json").read_text())
        values = saved["config"] | {"start_date": datetime.date.fromisoformat(saved["config"]["start_date"])}
        config = SimulationConfig(**values)
        settings = LoopSettings(Path(saved["strategies"]), saved["wake_up_days"], saved["churn_days"])
        days = sorted((home / "days").iterdir())
        return cls(home, config, settings, LoopState.load(days[-1]))

    @staticmethod
    def exists(home: Path) -> bool:
        return (Path(home) / "world.json").is_file()

    @staticmethod
    def history_end(home: Path) -> datetime.date:
        """The last day of the saved world's open-loop history (without re-creating the world)."""
        config = json.loads((Path(home) / "world.json").read_text())["config"]
        start = datetime.date.fromisoformat(config["start_date"])
        return start + datetime.timedelta(days=config["n_days"] - config["closed_loop_days"] - 1)

    def _snapshot(self, day: int) -> Path:
        return self.home / "days" / self.date_of(day).isoformat()

    def date_of(self, day: int) -> datetime.date:
        return self.config.start_date + datetime.timedelta(days=day)

    @property
    def next_day(self) -> datetime.date:
        return self.date_of(self.state.day)

    @property
    def finished(self) -> bool:
        return self.state.day >= self.config.n_days

    # --- one day ---------------------------------------------------------------------------------------------

    def advance(self, outbox_dir: Path, landing_dir: Path, truth_dir: Path, day: datetime.date | None = None,
                write_truth: bool = True) -> DayReport:
        """Simulate `day` (default: the next one) from the snapshot of the day before; a day simulated again
        discards the later snapshots (the world after it is simulated anew). The truth folder is rewritten
        unless write_truth is false (a loop of many days writes it once, at the end)."""
        began = time.perf_counter()
        d = self.state.day if day is None else (day - self.config.start_date).days
        if not self.config.history_days <= d < self.config.n_days:
            raise ValueError(f"{self.date_of(d)} is outside the closed loop "
                             f"({self.date_of(self.config.history_days)}..{self.config.end_date})")
        if d > self.state.day:
            raise ValueError(f"simulate {self.next_day} first: the world is at {self.next_day}")
        if d < self.state.day:
            self.state = LoopState.load(self._snapshot(d - 1))
        state, core = self.state, self.core
        date = self.date_of(d)
        rng_contacts, rng_plan, rng_ghosts, rng_events, rng_vertical, rng_defects = (
            np.random.default_rng(s) for s in np.random.SeedSequence(self.config.seed, spawn_key=(7, d)).spawn(6))

        # The delivery system: today's steps and control journeys, as exported by the pipeline.
        steps = delivery.due_steps(Path(outbox_dir), date)
        controls = delivery.starting_controls(Path(outbox_dir), date)
        steps["user"] = steps["user_id"].map(self.user_index).fillna(-1).astype(np.int32)
        controls["user"] = controls["user_id"].map(self.user_index).fillna(-1).astype(np.int32)
        decay_start, decays = self._decay(state.effects)
        resolved = response.resolve(delivery.contacts_of(steps, self.user_index), core.pop, self.traits, state.consent,
                                     d, decay_start, decays, rng_contacts)
        effects, clicks = fold(state.effects, steps.assign(ghost=False), resolved, d, core.epoch_day)
        journeys = register(state.journeys, steps, controls, core.epoch_day)
        known = controls.loc[controls["user"] >= 0]
        planned = ghosts.plan_ghost_steps(known, self.library, core.epoch_day, rng_plan)
        ghost_steps = pd.concat([state.ghost_steps, planned], ignore_index=True) if len(planned) else state.ghost_steps
        effects, ghost_steps = self._ghosts(effects, ghost_steps, journeys, state, d, rng_ghosts)
        log = delivery.delivery_log(steps, resolved, controls, (core.epoch_day + d) * US_PER_DAY)

        day = self._live_day(state, effects, clicks, d, rng_events, rng_vertical, rng_defects)
        consent, users = self._users_today(state.consent, steps, resolved, d)

        self._write_landing(Path(landing_dir) / date.isoformat(), {
            "events": day.arriving.sort_by([("received_at", "ascending"), ("event_id", "ascending")]),
            "users": users, "recall_touches": log})
        self.state = day.state.evolve(journeys=journeys, ghost_steps=ghost_steps, consent=consent)
        for later in sorted((self.home / "days").iterdir()):
            if later.name > date.isoformat():
                shutil.rmtree(later)
        self.state.save(self._snapshot(d))
        if write_truth:
            self.write_truth(Path(truth_dir))
        report = DayReport(date, len(steps), int(resolved.delivered.sum()), int(resolved.opened.sum()), len(controls),
                           day.arriving.num_rows, time.perf_counter() - began)
        logger.info("simulated %s: %d steps (%d delivered, %d opened), %d control journeys, %d events in %.1fs",
                    date, report.steps, report.delivered, report.opened, report.controls, report.events, report.seconds)
        return report

    def _live_day(self, state: LoopState, effects: pd.DataFrame, clicks: pd.DataFrame, d: int,
                  rng_events: np.random.Generator, rng_vertical: np.random.Generator,
                  rng_defects: np.random.Generator) -> _Day:
        """The day in the world: activity and orders under every real journey's effects (a coupon in force paying
        the first order), the events they make, the feed's defects, and the state carried to the next day."""
        core, pop = self.core, self.core.pop
        real = effects.loc[~effects["ghost"]]
        ordered, col = order_effects(real, real["user"].to_numpy())
        n = len(pop.base)
        block = Block(days=np.full((1, n), d, np.int64), users=np.arange(n, dtype=np.int32), inside=np.ones((1, n), bool))
        path = outcome_path(pop, core.draws, block, ordered, col, self.first_weekday,
                            redeemed_before=(ordered["coupon_redeemed_day"] != NO_START).to_numpy())
        redeemed = np.flatnonzero(path.coupon_effect[0] >= 0)
        rows = path.coupon_effect[0, redeemed]
        coupon_journey = np.full((1, n), -1, np.int32)
        coupon_journey[0, redeemed] = np.arange(len(redeemed))
        codes = pa.array(ordered["coupon_code"].to_numpy()[rows], pa.string()) if len(rows) else pa.array([], pa.string())
        spent = ordered["journey_id"].to_numpy()[rows]
        effects = effects.copy()  # the day before's state keeps its own records
        effects.loc[member(effects["journey_id"], spent) & ~effects["ghost"].to_numpy(), "coupon_redeemed_day"] = d
        world = WorldPaths(path.engagement, path.active, path.n_orders, path.paid_cents1, path.paid_cents2, coupon_journey)
        continuation = Continuation(d, state.device_changes, state.next_order_id, state.next_withdrawal_id, state.ledger)
        columns, ledger = build_events(pop, world, codes, core.epoch_day, rng_events,
                                       rng_vertical if self.config.vertical != "ecommerce" else None, continuation)
        clicks = pd.concat([state.pending_clicks, clicks], ignore_index=True)
        click_day = clicks["time_us"].to_numpy(np.int64) // US_PER_DAY - core.epoch_day
        columns = with_clicks(columns, clicks.loc[click_day == d], pop.behaviour.code(P.RECALL_CLICK))
        events, stats = delivered_events(columns, self.config, core.epoch_day, rng_defects,
                                         first_id=state.next_event_id, last_day=self.config.n_days - 1)
        # Today's events that arrive today, and those of earlier days that arrive today; the rest wait.
        travelling = pa.concat_tables([state.pending_events, events])
        arrival = travelling["received_at"].cast(pa.int64()).to_numpy() // US_PER_DAY - core.epoch_day
        arriving = travelling.filter(pa.array(arrival == d))
        b = pop.behaviour
        payments = np.isin(columns.code, [b.code(e) for e in {*b.payment_events, b.second_payment_event}]).sum()
        withdrawals = (columns.code == b.code("withdraw")).sum() if "withdraw" in b.event_names else 0
        last_active = state.last_active_day.copy()
        last_active[path.active[0]] = d
        carried = state.evolve(
            day=d + 1, effects=effects, last_active_day=last_active,
            device_changes=state.device_changes + np.bincount(
                columns.user[columns.code == b.code("device_change")], minlength=n).astype(np.int16),
            next_event_id=state.next_event_id + stats["valid_events"] + stats["invalid_events"],
            next_order_id=state.next_order_id + int(payments), next_withdrawal_id=state.next_withdrawal_id + int(withdrawals),
            ledger=ledger.end if ledger is not None else None,
            pending_events=travelling.filter(pa.array(arrival > d)), pending_clicks=clicks.loc[click_day > d],
        )
        return _Day(arriving=arriving, state=carried)

    def _decay(self, effects: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Each user's decay start and whether they decay: their own, or a contact that pushed them away."""
        pop = self.core.pop
        start = np.where(pop.decays, pop.decay_start_day, np.iinfo(np.int32).max).astype(np.int64)
        harmed = effects.loc[~effects["ghost"] & (effects["harm_day"] != NO_START)]
        np.minimum.at(start, harmed["user"].to_numpy(np.int64), harmed["harm_day"].to_numpy(np.int64))
        decays = pop.decays.copy()
        decays[harmed["user"].to_numpy(np.int64)] = True
        return start, decays

    def _ghosts(self, effects: pd.DataFrame, ghost_steps: pd.DataFrame, journeys: pd.DataFrame, state: LoopState,
                d: int, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Resolve the ghost steps due today of control journeys that have not responded yet."""
        due = ghost_steps.loc[ghost_steps["due_day"] == d].sort_values(["journey_id", "step"]).reset_index(drop=True)
        remaining = ghost_steps.loc[ghost_steps["due_day"] > d].reset_index(drop=True)
        if due.empty:
            return effects, remaining
        # The ladder stops at the first response: a ghost opened, or the user active since the journey began.
        answered = effects.loc[effects["ghost"] & (effects["response_day"] != NO_START), "journey_id"]
        row = pd.Index(journeys["journey_id"].to_numpy(dtype=object)).get_indexer(due["journey_id"].to_numpy(dtype=object))
        start = journeys["start_day"].to_numpy(np.int64)[row]
        active_since = state.last_active_day[due["user"].to_numpy(np.int64)] >= start
        keep = ~member(due["journey_id"], answered) & ~active_since
        due, start, row = due.loc[keep].reset_index(drop=True), start[keep], row[keep]
        contacts = response.Contacts(user=due["user"].to_numpy(np.int32), channel=due["channel"].to_numpy(np.int8),
                                     benefit=due["benefit"].to_numpy(np.int8), scheduled_us=due["due_us"].to_numpy(np.int64))
        decay_start, decays = self._decay(effects)
        resolved = response.resolve(contacts, self.core.pop, self.traits, state.consent, d, decay_start, decays, rng)
        steps = due.assign(strategy_id=journeys["strategy_id"].to_numpy(dtype=object)[row],
                           arm=journeys["arm"].to_numpy(dtype=object)[row], ghost=True, coupon_code=None,
                           coupon_value=due["coupon_cents"] / 100.0, start_day=start.astype(np.int32),
                           benefit_kind=np.asarray(response.BENEFIT_KINDS, object)[due["benefit"].to_numpy(np.intp)])
        effects, _ = fold(effects, steps, resolved, d, self.core.epoch_day)
        return effects, remaining

    def _users_today(self, consent: np.ndarray, steps: pd.DataFrame, resolved: response.Resolved,
                     d: int) -> tuple[np.ndarray, pa.Table]:
        """Consent after today's changes (in force from tomorrow) and the users rows landing today: signups,
        planned consent changes and STOP replies, each row showing the user's consent after the change."""
        pop = self.core.pop
        table = pop.users_table
        n = len(pop.base)
        consent = consent.copy()
        changed = np.flatnonzero(pop.consent_change_day >= 0)
        change_row = np.full(n, -1, np.int64)
        change_row[changed] = n + np.arange(len(changed))
        today = np.flatnonzero(pop.consent_change_day == d)
        consent[today, pop.consent_change_channel[today]] = False
        stopped, first_stop = np.unique(steps.loc[resolved.stop, "user"].to_numpy(np.int64), return_index=True)
        stop_at = np.minimum(resolved.sent_us[resolved.stop][first_stop] + 5 * 60 * 1_000_000,
                             (self.core.epoch_day + d + 1) * US_PER_DAY - 1)
        consent[stopped, 1] = False
        signups = np.flatnonzero(pop.signup_day == d)
        # Each row copies the user's signup row (or planned change row) and updates consent and updated_at.
        source = np.concatenate([signups, change_row[today], stopped]).astype(np.int64)
        base = table.take(pa.array(source))
        stamps = base["updated_at"].cast(pa.int64()).to_numpy().copy()
        stamps[len(signups) + len(today):] = stop_at
        # A signup shows the consent given at signup; a change shows the state after all of today's changes.
        state = np.concatenate([pop.consent0[signups], consent[today], consent[stopped]])
        users = base.set_column(base.schema.get_field_index("push_opt_in"), "push_opt_in", pa.array(state[:, 0])) \
            .set_column(base.schema.get_field_index("sms_opt_in"), "sms_opt_in", pa.array(state[:, 1])) \
            .set_column(base.schema.get_field_index("call_opt_in"), "call_opt_in", pa.array(state[:, 2])) \
            .set_column(base.schema.get_field_index("updated_at"), "updated_at", pa.array(stamps, pa.timestamp("us")))
        return consent, users.sort_by([("updated_at", "ascending"), ("user_id", "ascending")])

    @staticmethod
    def _write_landing(folder: Path, tables: dict[str, pa.Table]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, table in tables.items():
            path = folder / f"{name}.parquet"
            if table.num_rows:
                pq.write_table(table, path, compression="zstd")
            elif path.exists():
                path.unlink()

    # --- truth -----------------------------------------------------------------------------------------------

    def truth(self) -> pd.DataFrame:
        """Both potential outcomes of every pipeline journey the world has seen, as of the last simulated day."""
        core = self.core
        outcomes = truth.potential_outcomes(core.pop, core.draws, self.first_weekday, self.state.journeys,
                                            self.state.effects, self.state.day - 1, self.settings.wake_up_days,
                                            self.settings.churn_days)
        return truth.journeys_table(outcomes, core.pop.user_ids, self.config.start_date, self.settings.wake_up_days,
                                    self.settings.churn_days)

    def write_truth(self, truth_dir: Path) -> None:
        journeys = self.truth()
        truth_dir.mkdir(parents=True, exist_ok=True)
        journeys.to_parquet(truth_dir / "pipeline_journeys.parquet", index=False)
        truth.campaign_effects(journeys).to_parquet(truth_dir / "pipeline_campaign_effects.parquet", index=False)
