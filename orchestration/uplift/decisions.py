"""Choose each eligible user's treatment by expected incremental profit, under the day's budgets.

For every user and every treatment the strategy library allows them (treatments.allowed_treatments):

    expected profit = uplift in revenue x margin rate - contact cost - expected benefit cost

(money.py has the costs; the uplift is the model's for the objective's window, 90 days, or 30 days
while the 90-day model is not mature). Then, per user, in this order:
1. **service**: a matching service strategy (security check, service call) is applied by priority;
2. **exploration**: a keyed hash of (user, day) puts `exploration_share` of the users on one of
   their allowed treatments drawn at random, whatever the model thinks, so that every treatment
   keeps randomized evidence;
3. **model**: the treatment with the highest expected profit, or none when no treatment is expected
   to earn more than `min_expected_profit`;
4. **rules**: without a mature model for any of the user's treatments, the first matching strategy by
   priority, exactly as the rules planner chooses (its variants drawn by the planner's hash).
Model choices then fill the send day's channel budgets and capacities by profit per unit of the scarcest limit,
after what continuing journeys, service and exploration choices use (and the rules' choices while no
model is mature); a user who does not fit gets their next best treatment on a channel with room left,
or none (`over_budget` / `over_capacity`). Once a model exists, the rules' choices for treatments it
does not cover yet (`treatment_not_modelled`) get what the model's choices leave, by priority.
Only contacts count against a budget: control-arm users (strategy and global holdout, by the same
keyed hashes as the planner) and users who cannot be reached on the first step's channel do not.

The choice is made before the guardrails, which stay absolute: the planner still applies consent,
quiet hours, frequency caps, the channels' limits and the holdouts to whatever is chosen."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from orchestration.config.threads import fitting_threads
from orchestration.ids import is_in, positions
from orchestration.recall.assignment import CONTROL, TREATMENT, assign_arm, hash_key, in_global_holdout, stable_hash, unit_interval
from orchestration.recall.guardrails import CONSENT_COLUMNS, ChannelLimits, fill_channel_limits
from orchestration.recall.library import StrategyLibrary
from orchestration.uplift.money import treatment_costs
from orchestration.uplift.training import OBJECTIVE_OUTCOMES, UpliftScorer
from orchestration.uplift.treatments import Treatment, allowed_treatments, journey_treatment_keys, parse_treatment_key

TREAT, NO_TREATMENT = "treat", "none"
SERVICE, EXPLORATION, MODEL, RULES, RISK = "service", "exploration", "model", "rules", "risk"
HIGHEST_RISK_FIRST = "highest_risk_first"
SERVICE_STRATEGY = "service_strategy"
EXPLORATION_DRAW = "exploration"
BEST_EXPECTED_PROFIT = "best_expected_profit"
NO_PROFITABLE_TREATMENT = "no_profitable_treatment"
NO_MATURE_MODEL = "no_mature_model"
TREATMENT_NOT_MODELLED = "treatment_not_modelled"
WAKE_UP = "woke_up"
# Cost floor for the profit-per-cost ratio (a treatment is never free: the smallest channel cost counts).
_MIN_COST = 1e-6

DECISION_COLUMNS: list[str] = [
    "user_id", "decision", "basis", "reason", "strategy_id", "treatment_key", "arm", "expected_profit",
    "expected_margin", "uplift_revenue", "uplift_wake_up", "objective", "contact_cost", "benefit_cost",
    "profit_per_cost", "treatments_considered", "uplift_model_version",
]


@dataclass
class DecisionInputs:
    """What one day's decision reads.

    day: the planning day D (journeys start on D + 1).
    tiers: one row per user who may start a journey (not busy): the day's user_risk_tiers columns
      the strategies match on, the features the model reads, orders_90d and revenue_90d.
    users: user_id and the channels' opt-in flags (users unknown here cannot be contacted); None
      counts every user as reachable when filling budgets.
    committed: channel and cost of the steps of running journeys due on the send day, which are
      served first (the journey's 48-hour window is not broken for a new one).
    """

    day: date
    tiers: pd.DataFrame
    vertical: str
    users: pd.DataFrame | None = None
    committed: pd.DataFrame | None = None


def _avg_order_value(tiers: pd.DataFrame) -> pd.Series:
    orders = pd.to_numeric(tiers.get("orders_90d"), errors="coerce") if "orders_90d" in tiers else pd.Series(np.nan, index=tiers.index)
    revenue = pd.to_numeric(tiers.get("revenue_90d"), errors="coerce") if "revenue_90d" in tiers else pd.Series(np.nan, index=tiers.index)
    return (revenue / orders.where(orders > 0)).astype(float).reset_index(drop=True)


def _first_per_row(rows: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Positions (into the pair arrays) of the first pair of each row in `order`."""
    ranked = rows[order]
    first = np.r_[True, ranked[1:] != ranked[:-1]] if len(ranked) else np.array([], dtype=bool)
    return order[first]


def _treatment(key: str, library: StrategyLibrary) -> Treatment:
    strategy_id, variants = parse_treatment_key(key)
    return Treatment(key, library.get(strategy_id), variants)


def decide(inputs: DecisionInputs, library: StrategyLibrary, scorer: UpliftScorer | None = None) -> pd.DataFrame:
    """One row per user of `inputs.tiers` with at least one allowed treatment, in DECISION_COLUMNS:
    the chosen strategy and treatment (or none), the basis and reason, the expected profit and its
    parts, the arm the holdout hashes give and the model version."""
    # Predictions on the allowed threads (one by default): OpenMP threads competing with the other steps of a
    # run (or other processes on the machine) made scoring 6x slower than one thread, not faster.
    with fitting_threads():
        return _decide(inputs, library, scorer)


def decide_by_risk(inputs: DecisionInputs, library: StrategyLibrary, score_column: str = "churn_probability") -> pd.DataFrame:
    """Targeting by churn risk, the policy the profit decision is compared with: each user gets the
    rules' strategy (service strategies first), and the send day's budgets are filled by
    `score_column` (highest first) instead of by profit; no exploration, no second
    chance. Same columns as `decide` (basis `risk`, reason `highest_risk_first`; no profit figures)."""
    with fitting_threads():
        tiers = inputs.tiers.reset_index(drop=True)
        if score_column not in tiers.columns:
            raise ValueError(f"tiers lack the risk score column {score_column!r}")
        if not tiers["user_id"].is_unique:
            raise ValueError("tiers must hold one row per user")
        policy = library.economics.decision
        pairs = allowed_treatments(tiers, library, inputs.day + timedelta(days=1), inputs.vertical, policy.choose_variants)
        if pairs.empty:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in DECISION_COLUMNS})
        pairs, _, _ = _price(pairs, tiers, library, library.economics.margin_for(inputs.vertical), None, policy.objective)
        chosen = _choose(pairs, library, None, inputs.day, policy.min_expected_profit, exploration_share=0.0)
        by_rules = (chosen["basis"] == RULES).to_numpy()
        chosen.loc[by_rules, "basis"], chosen.loc[by_rules, "reason"] = RISK, HIGHEST_RISK_FIRST
        chosen["risk"] = pd.to_numeric(tiers[score_column], errors="coerce").to_numpy(dtype=float)[chosen["row"].to_numpy()]
        chosen = _fill_budgets(_arms(chosen, library, inputs.day + timedelta(days=1)), pairs, inputs, library, policy.min_expected_profit,
                               contending_basis=RISK, rank="risk", second_chance=False)
        chosen["uplift_model_version"] = None
        return chosen[DECISION_COLUMNS].sort_values("user_id", kind="stable").reset_index(drop=True)


def _decide(inputs: DecisionInputs, library: StrategyLibrary, scorer: UpliftScorer | None) -> pd.DataFrame:
    tiers = inputs.tiers.reset_index(drop=True)
    if "user_id" not in tiers.columns:
        raise ValueError("tiers lack required column: user_id")
    if not tiers["user_id"].is_unique:
        raise ValueError("tiers must hold one row per user")
    policy = library.economics.decision
    margin = library.economics.margin_for(inputs.vertical)
    send_day = inputs.day + timedelta(days=1)
    pairs = allowed_treatments(tiers, library, send_day, inputs.vertical, policy.choose_variants)
    if pairs.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in DECISION_COLUMNS})
    pairs, prepared, local = _price(pairs, tiers, library, margin, scorer, policy.objective)
    chosen = _choose(pairs, library, scorer, inputs.day, policy.min_expected_profit, policy.exploration_share)
    chosen = _arms(chosen, library, send_day)
    chosen = _fill_budgets(chosen, pairs, inputs, library, policy.min_expected_profit)
    if scorer is not None:  # the wake-up uplift of what was chosen (recorded, not part of the profit)
        rows = local[chosen["row"].to_numpy()]
        for key, index in chosen.index[chosen["treatment_key"].notna()].groupby(chosen["treatment_key"].dropna()).items():
            if key in scorer.mature_keys(WAKE_UP):
                chosen.loc[index, "uplift_wake_up"] = scorer.predict(prepared, rows[index], key, WAKE_UP)
    chosen["uplift_model_version"] = scorer.version if scorer is not None else None
    return chosen[DECISION_COLUMNS].sort_values("user_id", kind="stable").reset_index(drop=True)


def _price(pairs: pd.DataFrame, tiers: pd.DataFrame, library: StrategyLibrary, margin: float,
           scorer: UpliftScorer | None, objective: str) -> tuple[pd.DataFrame, Any, np.ndarray | None]:
    """Costs, predicted uplifts and expected profit of every (user, treatment) pair; also the
    scorer's prepared features and each tier row's position in them (for scoring the choice later)."""
    n = len(pairs)
    contact, benefit = np.zeros(n), np.zeros(n)
    uplift_revenue, uplift_wake = np.full(n, np.nan), np.full(n, np.nan)  # wake-up: for the chosen pairs only
    window = np.full(n, None, dtype=object)
    avg_order = _avg_order_value(tiers)
    rows = pairs["row"].to_numpy()
    groups = pairs.groupby("treatment_key", sort=False).indices
    prepared, local = None, None
    if scorer is not None:
        used = np.unique(rows)
        prepared = scorer.prepare(tiers.iloc[used])
        local = np.full(len(tiers), -1, dtype=np.int64)
        local[used] = np.arange(len(used))
    for key, positions in groups.items():
        treatment = _treatment(key, library)
        contact[positions], benefit[positions] = treatment_costs(treatment, library, avg_order.iloc[rows[positions]], margin)
        if scorer is None:
            continue
        for outcome in OBJECTIVE_OUTCOMES[objective]:
            if key in scorer.mature_keys(outcome):
                uplift_revenue[positions] = scorer.predict(prepared, local[rows[positions]], key, outcome)
                window[positions] = "margin_" + outcome.split("_")[1]
                break
    expected_margin = uplift_revenue * margin
    profit = expected_margin - contact - benefit
    priced = pairs.assign(contact_cost=contact, benefit_cost=benefit, uplift_revenue=uplift_revenue, uplift_wake_up=uplift_wake,
                          expected_margin=expected_margin, expected_profit=profit, objective=window,
                          profit_per_cost=profit / np.maximum(contact + benefit, _MIN_COST))
    return priced, prepared, local


def _choose(pairs: pd.DataFrame, library: StrategyLibrary, scorer: UpliftScorer | None, day: date,
            min_profit: float, exploration_share: float) -> pd.DataFrame:
    """One pair (or none) per user: service, exploration, model or rules, as the module says."""
    rows = pairs["row"].to_numpy()
    n_pairs = len(pairs)
    position = np.arange(n_pairs)  # pairs come in the library's priority order
    first = _first_per_row(rows, np.lexsort((position, rows)))
    users = pairs.iloc[first][["row", "user_id"]].reset_index(drop=True)
    n_users = len(users)
    considered = np.bincount(rows)[users["row"].to_numpy()]
    # Service strategies first, by priority.
    service_pairs = np.flatnonzero(pairs["service"].to_numpy())
    service_first = _first_per_row(rows, service_pairs[np.lexsort((service_pairs, rows[service_pairs]))])
    pick = np.full(n_users, -1, dtype=np.int64)
    basis = np.full(n_users, None, dtype=object)
    reason = np.full(n_users, None, dtype=object)
    user_of_row = np.full(rows.max() + 1, -1, dtype=np.int64)
    user_of_row[users["row"].to_numpy()] = np.arange(n_users)
    at = user_of_row[rows[service_first]]
    pick[at], basis[at], reason[at] = service_first, SERVICE, SERVICE_STRATEGY
    open_users = basis == None  # noqa: E711 (elementwise on an object array)
    # Exploration: a keyed hash of the user and the day, then a uniform draw among the user's treatments.
    ids = users["user_id"].astype(str)
    explore = open_users & (unit_interval(stable_hash(ids, hash_key(library.salt, "explore", day.isoformat()))) < exploration_share)
    if explore.any():
        draw = unit_interval(stable_hash(ids[explore], hash_key(library.salt, "explore-pick", day.isoformat())))
        offset = np.minimum((draw * considered[explore]).astype(np.int64), considered[explore] - 1)
        starts = np.r_[0, np.cumsum(np.bincount(rows, minlength=rows.max() + 1))][users["row"].to_numpy()[explore]]
        by_row = np.lexsort((position, rows))  # pairs grouped by row, in priority order
        pick[explore], basis[explore], reason[explore] = by_row[starts + offset], EXPLORATION, EXPLORATION_DRAW
    # The model's choice among the user's scored treatments.
    profit = pairs["expected_profit"].to_numpy()
    scored = ~np.isnan(profit)
    open_users &= ~explore
    if scored.any():
        scored_pairs = np.flatnonzero(scored)
        best = _first_per_row(rows, scored_pairs[np.lexsort((-profit[scored_pairs], rows[scored_pairs]))])
        at = user_of_row[rows[best]]
        take = open_users[at]
        at, best = at[take], best[take]
        profitable = profit[best] > min_profit
        pick[at[profitable]], basis[at], reason[at] = best[profitable], MODEL, np.where(profitable, BEST_EXPECTED_PROFIT, NO_PROFITABLE_TREATMENT)
        open_users[at] = False
    # The rules for everyone left: the first matching strategy by priority.
    has_model = scorer is not None and any(scorer.mature_keys(o) for o in ("revenue_90d", "revenue_30d"))
    pick[open_users] = first[open_users]
    basis[open_users], reason[open_users] = RULES, TREATMENT_NOT_MODELLED if has_model else NO_MATURE_MODEL
    out = users.assign(basis=basis, reason=reason, treatments_considered=considered, pick=pick)
    picked = pick >= 0
    take = pairs.iloc[np.where(picked, pick, 0)].reset_index(drop=True)
    for column in ("strategy_id", "treatment_key", "expected_profit", "expected_margin", "uplift_revenue", "uplift_wake_up",
                   "objective", "contact_cost", "benefit_cost", "profit_per_cost"):
        if pd.api.types.is_numeric_dtype(take[column]):
            out[column] = np.where(picked, take[column].to_numpy(dtype=float), np.nan)
        else:
            out[column] = np.where(picked, take[column].to_numpy(dtype=object), None)
    out["decision"] = np.where(picked, TREAT, NO_TREATMENT)
    # Rules and service choices serve the variants the planner's hash draws, recorded as their key.
    hashed = picked & np.isin(basis, [RULES, SERVICE])
    if hashed.any():
        out.loc[hashed, "treatment_key"] = journey_treatment_keys(
            out.loc[hashed, ["user_id", "strategy_id"]].assign(arm=TREATMENT), library,
            library.economics.decision.choose_variants).to_numpy()
    return out


def _arms(chosen: pd.DataFrame, library: StrategyLibrary, send_day: date) -> pd.DataFrame:
    """The arm the planner's keyed hashes will give each chosen user (strategy holdout drawn per journey's
    send day, then global)."""
    arm = np.full(len(chosen), None, dtype=object)
    treat = (chosen["decision"] == TREAT).to_numpy()
    for strategy_id, index in chosen.index[treat].groupby(chosen.loc[treat, "strategy_id"]).items():
        strategy = library.get(strategy_id)
        arm[index] = assign_arm(chosen.loc[index, "user_id"], strategy.id, strategy.holdout_share, library.salt,
                                send_day.isoformat()).to_numpy()
    held = treat & in_global_holdout(chosen["user_id"], library.global_holdout_share, library.salt)
    arm[held] = CONTROL
    return chosen.assign(arm=arm)


def _reachable(chosen: pd.DataFrame, channels: np.ndarray, users: pd.DataFrame | None) -> np.ndarray:
    """Whether each chosen user may be contacted on `channels` (the consent rule of the planner)."""
    if users is None:
        return np.ones(len(chosen), dtype=bool)
    position = positions(chosen["user_id"], users["user_id"], last=True)  # each user's last row
    known = position >= 0
    ok = np.zeros(len(chosen), dtype=bool)
    for channel, column in CONSENT_COLUMNS.items():
        rows = channels == channel
        if column is None:
            ok |= rows & known
        elif column in users.columns:
            opted = users[column].astype("boolean").fillna(False).to_numpy(dtype=bool)
            ok |= rows & known & opted[np.where(known, position, 0)]
    return ok


def _usage(chosen: pd.DataFrame, library: StrategyLibrary, users: pd.DataFrame | None) -> pd.DataFrame:
    """Per chosen user: `channel` and `cost` of the first step the chosen treatment would send on the send day
    (null channel without a treatment, or when its first step's channel is left to an A/B draw), and whether it
    `sends` (treatment arm and reachable on that channel). Only sends use a budget; the budget cut applies to
    every choice on the channel whatever its arm (guardrails.fill_channel_limits)."""
    # A few distinct treatments among a million choices: each key's channel and cost looked up once.
    keys, treatments = pd.factorize(chosen["treatment_key"])  # -1 (no treatment): the tables' last entry
    first_channels = [_treatment(key, library).first_channel for key in treatments]
    channels = np.array([*first_channels, None], dtype=object)[keys]
    costs = {c: limits.cost for c, limits in library.guardrails.channels.items()}
    channel_costs = np.array([*(costs.get(c, 0.0) for c in first_channels), 0.0])[keys]
    treat = (chosen["decision"] == TREAT).to_numpy()
    sends = treat & (chosen["arm"] == TREATMENT).to_numpy() & _reachable(chosen, channels, users)
    return pd.DataFrame({"channel": np.where(treat, channels, None), "cost": np.where(treat, channel_costs, 0.0),
                         "sends": sends}, index=chosen.index)


def _remaining(limits: dict[str, ChannelLimits], used: pd.DataFrame) -> dict[str, ChannelLimits]:
    """The channels' limits minus what the sends of `used` (channel, cost, sends) already take."""
    sent = used.loc[used["sends"].astype(bool)] if "sends" in used.columns else used
    spent = sent.dropna(subset=["channel"]).groupby("channel")["cost"].agg(["sum", "size"])
    out = {}
    for channel, limit in limits.items():
        total, count = (spent.at[channel, "sum"], int(spent.at[channel, "size"])) if channel in spent.index else (0.0, 0)
        out[channel] = ChannelLimits(
            cost=limit.cost,
            daily_budget=None if limit.daily_budget is None else max(limit.daily_budget - total, 0.0),
            daily_capacity=None if limit.daily_capacity is None else max(limit.daily_capacity - count, 0))
    return out


def _profit_per_limit(chosen: pd.DataFrame, usage: pd.DataFrame, limits: dict[str, ChannelLimits]) -> pd.Series:
    """Expected profit per unit of the scarcest daily limit of the choice's channel: a contact takes 1 / capacity of
    a capacity and cost / budget of a budget, and the larger share is what it uses up (the greedy rule for several
    limits). A binding capacity ranks by profit per contact, a binding budget by profit per unit of its cost (by
    profit per unit of cost alone, near-free messages took every in-app slot from a coupon earning 40% more)."""
    share = np.full(len(chosen), _MIN_COST)
    channel = usage["channel"].to_numpy(dtype=object)
    cost = usage["cost"].to_numpy(dtype=float)
    for name, limit in limits.items():
        on = channel == name
        if limit.daily_capacity is not None:
            share[on] = np.maximum(share[on], 1.0 / max(limit.daily_capacity, 1))
        if limit.daily_budget is not None:
            share[on] = np.maximum(share[on], cost[on] / max(limit.daily_budget, _MIN_COST))
    return pd.Series(chosen["expected_profit"].to_numpy(dtype=float) / share, index=chosen.index)


def _fill_budgets(chosen: pd.DataFrame, pairs: pd.DataFrame, inputs: DecisionInputs, library: StrategyLibrary,
                  min_profit: float, contending_basis: str = MODEL, rank: str | None = None,
                  second_chance: bool = True) -> pd.DataFrame:
    """Cut the choices on `contending_basis` (the model's) to the send day's budgets, highest `rank` first
    (default: profit per unit of the channel's scarcest limit, `_profit_per_limit`), after what the continuing
    journeys and every other choice use; a user who does not fit gets one second chance on a channel with room left.

    Every choice on a channel takes part in its cut, control-arm and unreachable ones included (they use nothing,
    but are cut where a contact would not have fitted): whether a choice is kept never depends on its own arm,
    so the arms of the journeys that start keep the design's shares (the sample-ratio check expects them)."""
    usage = _usage(chosen, library, inputs.users)
    on_channel = usage["channel"].notna().to_numpy()
    contending = (chosen["basis"] == contending_basis).to_numpy() & on_channel
    # Rules choices for treatments no model covers yet get what the model's choices leave: a choice with
    # randomized evidence of profit comes before one without (they are then served by priority).
    deferred = (chosen["reason"] == TREATMENT_NOT_MODELLED).to_numpy() & on_channel if contending_basis == MODEL \
        else np.zeros(len(chosen), dtype=bool)
    # Exploration takes at most its share of each channel's limits (a random subset of the explorers when they
    # would need more): drawn per user, its cost to today's profit stays the price of learning the operators set.
    exploring = (chosen["basis"] == EXPLORATION).to_numpy() & on_channel if contending_basis == MODEL \
        else np.zeros(len(chosen), dtype=bool)
    committed = inputs.committed[["channel", "cost"]] if inputs.committed is not None and len(inputs.committed) else \
        pd.DataFrame({"channel": pd.Series(dtype=object), "cost": pd.Series(dtype=float)})
    limits = _remaining(library.guardrails.channels,
                        pd.concat([committed.assign(sends=True), usage.loc[~contending & ~deferred & ~exploring]],
                                  ignore_index=True))

    def cut(index: pd.Index, order: pd.Series, within: dict[str, ChannelLimits], priority: object = 0) -> pd.Series:
        return fill_channel_limits(usage.loc[index].assign(priority=priority, expected_value=order.loc[index].astype(float),
                                                           user_id=chosen.loc[index, "user_id"]), within)

    explore_rejected = pd.Series(dtype=object)
    if exploring.any():
        share = library.economics.decision.exploration_share
        explore_order = pd.Series(unit_interval(stable_hash(chosen["user_id"].astype(str), hash_key(
            library.salt, "explore-order", inputs.day.isoformat()))), index=chosen.index)
        quota = {c: ChannelLimits(cost=limit.cost,
                                  daily_budget=None if limit.daily_budget is None else limit.daily_budget * share,
                                  daily_capacity=None if limit.daily_capacity is None else max(1, math.ceil(limit.daily_capacity * share)))
                 for c, limit in limits.items()}
        explored = cut(chosen.index[exploring], explore_order, quota)
        explore_rejected = explored.loc[explored.notna()]
        limits = _remaining(limits, usage.loc[explored.index[explored.isna()]])
    before_model = limits

    def order() -> pd.Series:
        return chosen[rank] if rank is not None else _profit_per_limit(chosen, usage, limits)

    first = cut(chosen.index[contending], order(), limits)
    limits = _remaining(limits, usage.loc[first.index[first.isna()]])
    rejected = first.loc[first.notna()]
    if len(rejected) and second_chance:
        retry = _second_choice(chosen.loc[rejected.index], pairs, library, set(usage.loc[rejected.index, "channel"].dropna()),
                               min_profit, inputs.day + timedelta(days=1))
        if len(retry):
            chosen.loc[retry.index, retry.columns] = retry
            usage.loc[retry.index] = _usage(chosen.loc[retry.index], library, inputs.users)
            again = cut(retry.index[usage.loc[retry.index, "channel"].notna().to_numpy()], order(), limits)
            rejected = pd.concat([rejected.drop(retry.index), again.loc[again.notna()]])
    rejected = pd.concat([rejected, explore_rejected])
    if deferred.any():
        served = (chosen["basis"] == contending_basis).to_numpy() & usage["channel"].notna().to_numpy() \
            & ~chosen.index.isin(rejected.index)
        waiting = chosen.index[deferred]
        priority = chosen.loc[waiting, "strategy_id"].map({s.id: s.priority for s in library.strategies})
        late = cut(waiting, pd.Series(0.0, index=chosen.index), _remaining(before_model, usage.loc[served]),
                   priority=priority.to_numpy())
        rejected = pd.concat([rejected, late.loc[late.notna()]])
    if len(rejected):
        chosen.loc[rejected.index, "decision"] = NO_TREATMENT
        chosen.loc[rejected.index, "reason"] = rejected.to_numpy()
        chosen.loc[rejected.index, ["strategy_id", "treatment_key", "arm"]] = None
    return chosen


def _second_choice(rejected: pd.DataFrame, pairs: pd.DataFrame, library: StrategyLibrary, full: set[str],
                   min_profit: float, send_day: date) -> pd.DataFrame:
    """For users whose choice did not fit: their most profitable other treatment whose first step
    uses a channel that still has room (rows indexed like `rejected`, only those that have one)."""
    options = pairs.loc[is_in(pairs["user_id"], rejected["user_id"]) & (pairs["expected_profit"] > min_profit).to_numpy()]
    if options.empty:
        return pd.DataFrame()
    first_channel = {key: _treatment(key, library).first_channel for key in options["treatment_key"].unique()}
    options = options.loc[~options["treatment_key"].map(first_channel).isin(full)]
    options = options.loc[~options.set_index(["user_id", "treatment_key"]).index.isin(
        rejected.set_index(["user_id", "treatment_key"]).index)]
    if options.empty:
        return pd.DataFrame()
    best = options.sort_values(["user_id", "expected_profit"], ascending=[True, False], kind="stable").drop_duplicates("user_id")
    columns = ["strategy_id", "treatment_key", "expected_profit", "expected_margin", "uplift_revenue", "uplift_wake_up",
               "objective", "contact_cost", "benefit_cost", "profit_per_cost"]
    index_of = pd.Series(rejected.index, index=rejected["user_id"].to_numpy())
    retry = best[columns].set_axis(index_of.loc[best["user_id"]].to_numpy())
    strategies = {s.id: s for s in library.strategies}
    arms = pd.Series(None, index=retry.index, dtype=object)
    for strategy_id, index in retry.index.groupby(retry["strategy_id"]).items():
        s = strategies[strategy_id]
        arms.loc[index] = assign_arm(rejected.loc[index, "user_id"], s.id, s.holdout_share, library.salt,
                                     send_day.isoformat()).to_numpy()
    held = in_global_holdout(rejected.loc[retry.index, "user_id"], library.global_holdout_share, library.salt)
    arms[held] = CONTROL
    return retry.assign(arm=arms)
