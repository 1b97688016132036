"""Plan one day of recall: advance running journeys, start new ones for matched users, personalise
each due step (A/B variant, coupon, rendered message) and apply the guardrails. Every decision is a
row of recall_actions (the outbox history); the queued rows are the outbox.

Partition day D decides on data through the end of D; its steps are sent on D + 1."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from orchestration.config.verticals import DEFAULT_VERTICAL
from orchestration.ids import is_in, looked_up, positions, take_rows
from orchestration.recall import cadence
from orchestration.recall.assignment import CONTROL, TREATMENT, assign_arm, assign_variant, hash_key, hex16, in_global_holdout, stable_hash
from orchestration.recall.benefits import benefit_text, coupon_codes, coupon_value, expected_benefit_cost
from orchestration.recall.eligibility import any_signal, value_checks_passed
from orchestration.recall.guardrails import CONSENT_COLUMNS, cap_blocked, fill_channel_limits, known_timezones, shift_out_of_quiet_hours
from orchestration.recall.library import Strategy, StrategyLibrary
from orchestration.recall.templates import render_bulk

QUEUED, HOLDOUT, CANCELLED, SKIPPED = "queued", "holdout", "cancelled", "skipped"
# The recommendation looks at the core features used over this many days up to the planning day.
RECOMMENDATION_DAYS = 28
LOW_EXPECTED_VALUE, NO_CONSENT, FREQUENCY_CAP = "low_expected_value", "no_consent", "frequency_cap"

ACTION_COLUMNS: list[str] = [
    "action_id", "journey_id", "action_date", "user_id", "strategy_id", "library_revision", "arm", "holdout",
    "step", "variant", "channel", "template", "benefit", "benefit_kind", "coupon_code", "coupon_value", "message",
    "journey_started_at", "due_at", "scheduled_at", "timezone", "priority", "expected_value", "cost",
    "avg_order_value", "lifecycle_stage", "risk_level", "value_tier", "segment", "special_tier", "risk_score",
    "status", "reason", *cadence.DECISION_ATTRIBUTES, *cadence.DESIGN_ATTRIBUTES, "design_variant_share",
]
OUTBOX_COLUMNS: list[str] = [
    "action_id", "journey_id", "step", "action_date", "user_id", "channel", "scheduled_at", "timezone",
    "message", "template", "benefit", "benefit_kind", "coupon_code", "coupon_value", "strategy_id", "variant", "arm",
    "journey_started_at", "cost", "library_revision",
]
TIER_COLUMNS = ["user_id", "lifecycle_stage", "risk_level", "value_tier", "is_high_value_dormant", "risk_score"]
OPTIONAL_TIER_COLUMNS = ["segment", "special_tier", "orders_90d", "revenue_90d", "signals_fired"]
USER_COLUMNS = ["user_id", "nickname", "timezone", "push_opt_in", "sms_opt_in", "call_opt_in"]


@dataclass
class DayInputs:
    """What one day's plan reads. history: recall_actions rows of the last
    cadence.history_days(library) days before `day`; responses: user_id, responded_at."""

    day: date
    tiers: pd.DataFrame
    users: pd.DataFrame
    history: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ACTION_COLUMNS))
    responses: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["user_id", "responded_at"]))
    vertical: str = DEFAULT_VERTICAL
    known_until: pd.Timestamp | None = None


def _require(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks required columns: {', '.join(missing)}")


def match_mask(tiers: pd.DataFrame, strategy: Strategy) -> pd.Series:
    """Boolean mask of the tier rows a strategy's match targets (empty list / null = any): tier
    values, at least one of the listed signals fired, and the value check when the match asks for it."""
    rule = strategy.match
    mask = pd.Series(True, index=tiers.index)
    for column in ("lifecycle_stage", "risk_level", "value_tier", "segment", "special_tier"):
        allowed = getattr(rule, column)
        if allowed:
            mask &= is_in(tiers[column], allowed)
    if rule.high_value_dormant is not None:
        mask &= tiers["is_high_value_dormant"].fillna(False).astype(bool) == rule.high_value_dormant
    if rule.signals:
        mask &= any_signal(tiers, rule.signals)
    if rule.min_value_checks is not None:
        mask &= value_checks_passed(tiers) >= rule.min_value_checks
    return mask


def match_strategies(tiers: pd.DataFrame, library: StrategyLibrary, day: date, vertical: str) -> pd.Series:
    """Strategy id per tier row: the first active match in priority order, or NaN for no match."""
    chosen = pd.Series(np.nan, index=tiers.index, dtype=object)
    for strategy in library.ordered():
        if strategy.is_active(day, vertical):
            chosen[chosen.isna() & match_mask(tiers, strategy)] = strategy.id
    return chosen


def contact_cost(strategy: Strategy, library: StrategyLibrary, avg_order_value: pd.Series) -> np.ndarray:
    """Expected cost of running the whole ladder for each user: every step's channel cost (weighted
    by variant share) plus the costliest benefit expected to be redeemed."""
    channel_cost = sum(v.share * library.guardrails.channels[v.channel].cost for s in strategy.steps for v in s.arms())
    benefit_cost = np.zeros(len(avg_order_value))
    for step in strategy.steps:
        for v in step.arms():
            if v.benefit is not None:
                benefit = library.benefits[v.benefit]
                cost = expected_benefit_cost(benefit, coupon_value(benefit, avg_order_value), library.economics.coupon_redemption_rate)
                benefit_cost = np.maximum(benefit_cost, cost)
    return channel_cost + benefit_cost


# A decision per free user: (tiers of the users not busy, channel and cost of the running journeys' steps due on
# the send day) -> rows of orchestration/uplift/decisions.py::DECISION_COLUMNS. The recall package does not import
# the uplift package (which builds on it): the caller passes the policy in.
Decider = Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]
RULES_BASIS, RULES_POLICY = "rules", "rules_policy"
NO_TREATMENT = "none"
_DECISION_FIELDS = {"treatment_key": "treatment_key", "basis": "basis", "decision_reason": "reason",
                    "expected_profit": "expected_profit", "uplift_revenue": "uplift_revenue",
                    "uplift_wake_up": "uplift_wake_up", "uplift_model_version": "uplift_model_version"}


def _with_decisions(users: pd.DataFrame, decisions: pd.DataFrame | None, library: StrategyLibrary, send_day: date,
                    vertical: str) -> pd.DataFrame:
    """The free users who get a decision: with a decider, those it decided on (a strategy, or none with its
    reason); without one, the rules' first match by priority (basis rules, reason rules_policy)."""
    if decisions is None:
        users["strategy_id"] = match_strategies(users, library, send_day, vertical)
        users = users.loc[users["strategy_id"].notna()].reset_index(drop=True)
        return users.assign(decision="treat", treatment_key=None, basis=RULES_BASIS, decision_reason=RULES_POLICY,
                            expected_profit=np.nan, uplift_revenue=np.nan, uplift_wake_up=np.nan, uplift_model_version=None)
    if not decisions["user_id"].is_unique:
        raise ValueError("decisions must hold one row per user")
    at = positions(users["user_id"], decisions["user_id"])  # each free user's decision, -1: none
    stray = np.ones(len(decisions), dtype=bool)
    stray[at[at >= 0]] = False
    if stray.any():
        raise ValueError(f"decisions for users who may not start a journey (busy or unknown): "
                         f"{decisions.loc[stray, 'user_id'].head(5).tolist()}")
    picked = decisions[["decision", "strategy_id", *_DECISION_FIELDS.values()]].rename(
        columns={v: k for k, v in _DECISION_FIELDS.items() if k != v})
    decided = at >= 0  # the users in their order, each with its decision (an inner join on user_id)
    return pd.concat([users.loc[decided].reset_index(drop=True), take_rows(picked, at[decided])], axis=1)


def start_journeys(tiers: pd.DataFrame, library: StrategyLibrary, day: date, vertical: str, busy: np.ndarray,
                   decisions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Step 1 of a journey for every decided user who is not busy (treatment or control), and a
    'skipped' row for users the decision left out (its reason) and for low-value users the rules
    chose whose expected return is below the cost of contact.

    decisions: one row per free user with an allowed treatment (uplift.decisions.decide or
    decide_by_risk); None: the rules alone."""
    send_day = day + timedelta(days=1)
    users = tiers.loc[~cadence.is_busy(tiers["user_id"], busy)].copy()
    users = _with_decisions(users, decisions, library, send_day, vertical)
    orders = pd.to_numeric(users["orders_90d"], errors="coerce")
    users["avg_order_value"] = (pd.to_numeric(users["revenue_90d"], errors="coerce") / orders.where(orders > 0)).astype(float)
    monthly_value = pd.to_numeric(users["revenue_90d"], errors="coerce").fillna(0).to_numpy(dtype=float) / 3
    wake = looked_up(users["lifecycle_stage"], library.economics.wake_probability, 0.0)
    users["expected_value"] = wake * monthly_value
    # Per-strategy work on plain arrays, assigned to the frame once (1M-row frames are slow to .loc into).
    n = len(users)
    user_ids = users["user_id"].astype(object)
    cost, priority, holdout_share = np.zeros(n), np.zeros(n, dtype=np.int64), np.full(n, np.nan)
    arm = np.full(n, TREATMENT, dtype=object)
    journey_ids = np.empty(n, dtype="<U16")
    none = (users["decision"] == NO_TREATMENT).to_numpy()
    codes, matched = pd.factorize(users["strategy_id"])  # -1 (no group) for decisions of none
    groups = pd.Series(np.arange(n)).groupby(codes).indices if n else {}
    for code, strategy_id in enumerate(matched):
        strategy, rows = library.get(strategy_id), groups[code]
        subset = user_ids.iloc[rows]
        cost[rows] = contact_cost(strategy, library, users["avg_order_value"].iloc[rows])
        priority[rows], holdout_share[rows] = strategy.priority, strategy.holdout_share
        # A fresh draw per journey: a per-user arm would compare, at a user's second journey, treated users who
        # stayed at risk with controls who were never helped (docs/recall.md, Holdouts).
        arm[rows] = assign_arm(subset, strategy.id, strategy.holdout_share, library.salt, send_day.isoformat()).to_numpy()
        journey_ids[rows] = hex16(stable_hash(subset, hash_key("journey", send_day.isoformat(), strategy.id)))
    holdout = np.where(arm == CONTROL, "strategy", None).astype(object)
    global_holdout = in_global_holdout(user_ids, library.global_holdout_share, library.salt)
    arm[global_holdout], holdout[global_holdout] = CONTROL, "global"
    # The expected-value gate is the rules' own: a choice by expected profit has already priced the contact.
    low_value = (users["basis"] == RULES_BASIS).to_numpy() & users["value_tier"].isin(library.economics.skip_below_cost_tiers).to_numpy() \
        & (users["expected_value"].to_numpy() < cost)
    skip = none | low_value
    started = cadence.day_start(send_day) + pd.Timedelta(hours=library.send_hour_utc)
    control = arm == CONTROL
    return users.assign(
        priority=pd.array(np.where(none, None, priority), dtype="Int64"),
        arm=np.where(skip, None, arm),
        holdout=np.where(skip, None, holdout),
        journey_id=np.where(skip, None, np.char.add("j_", journey_ids).astype(object)),
        journey_started_at=pd.Series(started, index=users.index).where(~skip),
        step=pd.array(np.where(skip, None, 1), dtype="Int64"),
        # The design in force at assignment, carried by every step of the journey (cadence.DESIGN_ATTRIBUTES).
        design_holdout_share=np.where(skip, np.nan, holdout_share),
        design_global_holdout_share=np.where(skip, np.nan, library.global_holdout_share),
        status=np.where(skip, SKIPPED, np.where(control, HOLDOUT, None)),
        reason=np.select([none, low_value, holdout == "global", control],
                         [users["decision_reason"].to_numpy(dtype=object), LOW_EXPECTED_VALUE, "global_holdout", "strategy_holdout"], None),
    ).assign(due_at=lambda f: f["journey_started_at"]).drop(columns=["decision"])


def committed_steps(continuing: pd.DataFrame, library: StrategyLibrary) -> pd.DataFrame:
    """channel and cost of the running journeys' steps due on the send day that will be sent (treatment arm,
    not stopped): what they take of the channels' budgets before any new journey."""
    live = continuing.loc[(continuing["arm"] == TREATMENT).to_numpy() & continuing["status"].isna().to_numpy()]
    channel = _step_fields(live, library)["channel"] if len(live) else pd.Series(dtype=object)
    costs = {c: limits.cost for c, limits in library.guardrails.channels.items()}
    return pd.DataFrame({"channel": channel.to_numpy(dtype=object),
                         "cost": looked_up(channel, costs, 0.0)})


def propose(inputs: DayInputs, library: StrategyLibrary, state: pd.DataFrame | None = None,
            decide: Decider | None = None) -> pd.DataFrame:
    """Continuing steps of running journeys and first steps of new ones, before personalisation.

    state: cadence.journey_state of inputs.history, when the caller has already folded it.
    decide: the targeting policy for the users who are not busy (see Decider); None: the rules."""
    tiers = inputs.tiers
    _require(tiers, TIER_COLUMNS, "tiers")
    if "tier_date" in tiers.columns and tiers["tier_date"].nunique() > 1:
        raise ValueError("tiers must hold a single tier_date")
    if not tiers["user_id"].is_unique:
        raise ValueError(f"tiers has duplicate user_id rows (e.g. {tiers.loc[tiers['user_id'].duplicated(), 'user_id'].head(5).tolist()})")
    tiers = tiers.assign(**{c: None for c in OPTIONAL_TIER_COLUMNS if c not in tiers.columns})
    if state is None:
        state = cadence.journey_state(inputs.history, library, inputs.day)
    continuing = cadence.due_steps(state, library, inputs.day, inputs.responses, inputs.known_until)
    busy = cadence.busy_users(state, library, inputs.day)
    decisions = None
    if decide is not None:
        decisions = decide(tiers.loc[~cadence.is_busy(tiers["user_id"], busy)].reset_index(drop=True),
                           committed_steps(continuing, library))
    fresh = start_journeys(tiers, library, inputs.day, inputs.vertical, busy, decisions)
    columns = cadence.JOURNEY_ATTRIBUTES + ["step", "due_at", "status", "reason"]
    # An empty part would turn every column of the result into objects (pandas counts its dtypes too): at 1M new
    # journeys and no running one, that conversion cost 1.6-3.5 s and left floats as objects for the next steps.
    parts = [part for part in (continuing[columns], fresh[columns]) if len(part)] or [fresh[columns]]
    return pd.concat(parts, ignore_index=True)


def _step_fields(candidates: pd.DataFrame, library: StrategyLibrary) -> pd.DataFrame:
    """Variant, channel, template and benefit of each treatment row's step (null for control and skipped rows), and
    design_variant_share: the share the library gives the variant of an A/B-tested step (null for untested steps)."""
    # Filled as plain arrays per (strategy, step) and framed once: label-based .loc writes of a million rows took
    # 1.2-1.5 s here, the arrays 0.5-0.7 s.
    n = len(candidates)
    fields = {c: np.full(n, np.nan, dtype=object) for c in ("variant", "channel", "template", "benefit")}
    shares = np.full(n, np.nan)
    treated = np.flatnonzero((candidates["arm"] == TREATMENT).to_numpy(dtype=bool))
    live = candidates.iloc[treated]
    groups = live.groupby(["strategy_id", "step"], sort=False).indices
    user_ids = candidates["user_id"]
    for strategy in library.strategies:
        for number, step in enumerate(strategy.steps, start=1):
            members = groups.get((strategy.id, number))
            if members is None:
                continue
            at = treated[members]
            arms = step.arms()
            chosen = assign_variant(user_ids.iloc[at], strategy.id, number, [a.id for a in arms], [a.share for a in arms], library.salt)
            if step.variants and "treatment_key" in candidates.columns:  # a decision that fixed the variant is served it
                fixed = candidates["treatment_key"].iloc[at].map(lambda key: _fixed_variant(key, number))
                chosen = np.where(fixed.notna().to_numpy(), fixed.to_numpy(dtype=object), chosen)
            fields["variant"][at] = chosen
            for column in ("channel", "template", "benefit"):
                lookup = {a.id: getattr(a, column) for a in arms}
                fields[column][at] = [lookup.get(v, np.nan) for v in chosen] if len(arms) > 1 else lookup[arms[0].id]
            if step.variants:
                share_of = {a.id: a.share for a in arms}
                shares[at] = [share_of.get(v, np.nan) for v in chosen]
    columns = {c: pd.Series(values, index=candidates.index, dtype=object) for c, values in fields.items()}
    return pd.DataFrame({**columns, "design_variant_share": shares}, index=candidates.index)


def _fixed_variant(key: object, step: int) -> str | None:
    """The variant a treatment key (`strategy/1=a/2=b`) fixes for `step`, or None."""
    if not isinstance(key, str):
        return None
    for part in key.split("/")[1:]:
        number, _, variant = part.partition("=")
        if number == str(step):
            return variant
    return None


def personalise(candidates: pd.DataFrame, users: pd.DataFrame, top_features: pd.DataFrame | None,
                library: StrategyLibrary) -> pd.DataFrame:
    """Fill variant, benefit, coupon, message, timezone and cost; cancel rows lacking a template variable."""
    frame = candidates.reset_index(drop=True)
    frame = pd.concat([frame, _step_fields(frame, library)], axis=1)
    # Each row's user profile (the user's last row; nulls for a user the table lacks): a left join on user_id.
    profile = users.loc[:, USER_COLUMNS[1:]]
    frame = pd.concat([frame, take_rows(profile, positions(frame["user_id"], users["user_id"], last=True))], axis=1)
    # The recommendation: the library's phrase for the core feature the user used most lately.
    if top_features is not None and not top_features.empty:
        frame = frame.merge(top_features[["user_id", "feature"]].drop_duplicates("user_id"), on="user_id", how="left")
        frame["recommendation"] = frame.pop("feature").map(library.recommendations_by_feature)
    else:
        frame["recommendation"] = None
    frame["recommendation"] = frame["recommendation"].fillna(library.default_recommendation)
    # Consent first: a user who may not be contacted on the channel needs no message.
    refused = frame["status"].isna() & frame["channel"].notna() & ~consent_for_channel(frame)
    frame.loc[refused, ["status", "reason"]] = (CANCELLED, NO_CONSENT)
    frame["timezone"] = known_timezones(frame["timezone"], library.guardrails.default_timezone)
    frame["coupon_value"], frame["coupon_code"], frame["benefit_text"], frame["countdown"] = np.nan, None, None, None
    for name, benefit in library.benefits.items():
        rows = frame.index[(frame["benefit"] == name).to_numpy()]
        if len(rows):
            values = coupon_value(benefit, frame.loc[rows, "avg_order_value"])
            frame.loc[rows, "coupon_value"] = values
            frame.loc[rows, "coupon_code"] = coupon_codes(frame.loc[rows, "journey_id"], frame.loc[rows, "benefit"], library.coupon_prefix, library.salt)
            frame.loc[rows, "benefit_text"] = benefit_text(benefit, values, library.currency_symbol)
            started = pd.to_datetime(frame.loc[rows, "journey_started_at"], utc=True)
            left = benefit.valid_days - ((frame.loc[rows, "due_at"] - started).dt.days)
            frame.loc[rows, "countdown"] = np.where(left == 1, "1 day", left.astype(str) + " days")
    frame["link"] = library.link_base.rstrip("/") + "/" + frame["journey_id"].astype(str)
    pending = frame["status"].isna() & frame["template"].notna()
    values = frame.loc[pending, ["nickname", "recommendation", "coupon_code", "countdown", "link"]].assign(
        benefit=frame.loc[pending, "benefit_text"])
    messages, missing = render_bulk(frame.loc[pending, "template"], values, library.templates)
    frame["message"] = None
    frame.loc[pending, "message"] = messages
    lacking = pending & frame.index.isin(missing.index[missing.notna()])
    frame.loc[lacking, "status"] = CANCELLED
    frame.loc[lacking, "reason"] = "missing_variable:" + missing[missing.notna()]
    kinds = frame["benefit"].map({name: b.kind for name, b in library.benefits.items()}).astype(object)
    frame["benefit_kind"] = kinds.where(kinds.notna(), None)
    costs = {c: limits.cost for c, limits in library.guardrails.channels.items()}
    frame["cost"] = looked_up(frame["channel"], costs, 0.0)
    return frame


def consent_for_channel(frame: pd.DataFrame) -> np.ndarray:
    """Whether each row's user may be contacted on the row's channel: opted in to it (unknown users
    and missing flags: no); a channel that needs no opt-in (in_app) only needs a known user."""
    # A user missing from the users table has null flags on every channel (the merge found no row).
    known_user = frame[[c for c in CONSENT_COLUMNS.values() if c]].notna().any(axis=1).to_numpy()
    consent = np.zeros(len(frame), dtype=bool)
    for channel, column in CONSENT_COLUMNS.items():
        allowed = known_user if column is None else frame[column].astype("boolean").fillna(False).to_numpy(dtype=bool)
        consent |= (frame["channel"] == channel).to_numpy() & allowed
    return consent


def apply_guardrails(frame: pd.DataFrame, history: pd.DataFrame, library: StrategyLibrary) -> pd.DataFrame:
    """Quiet hours, frequency caps and the channels' daily budget and capacity, in that order (consent
    was checked when personalising); the rows that pass are queued."""
    rails = library.guardrails
    frame["scheduled_at"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    pending = frame["status"].isna()
    frame.loc[pending, "scheduled_at"] = shift_out_of_quiet_hours(frame.loc[pending, "due_at"], frame.loc[pending, "timezone"], rails.quiet_hours)
    sent = history.loc[history["status"] == QUEUED, ["user_id", "channel", "scheduled_at"]] if not history.empty else history
    if not sent.empty:
        sent = sent.assign(scheduled_at=pd.to_datetime(sent["scheduled_at"], utc=True))
    capped = cap_blocked(frame.loc[pending], sent, rails.frequency_caps)
    frame.loc[frame.index[pending][capped], ["status", "reason"]] = (CANCELLED, FREQUENCY_CAP)
    pending = frame["status"].isna()
    over = fill_channel_limits(frame.loc[pending], rails.channels)
    frame.loc[over.index[over.notna()], "status"] = CANCELLED
    frame.loc[over.index[over.notna()], "reason"] = over[over.notna()]
    frame.loc[frame["status"].isna(), "status"] = QUEUED
    return frame


def finalize(candidates: pd.DataFrame, inputs: DayInputs, library: StrategyLibrary,
             top_features: pd.DataFrame | None = None) -> pd.DataFrame:
    """Personalise and guard the proposed rows; one row per decision in ACTION_COLUMNS, sorted."""
    _require(inputs.users, USER_COLUMNS, "users")
    # A skipped row gets no message and passes no guardrail: only the others are personalised and guarded (on the
    # 1M world's day 8, 503,111 of 545,722 rows are skipped). What the two add is null on a skipped row.
    skipped = (candidates["status"] == SKIPPED).to_numpy()
    frame = apply_guardrails(personalise(candidates.loc[~skipped], inputs.users, top_features, library),
                             inputs.history, library)
    frame = pd.concat([frame, candidates.loc[skipped]], ignore_index=True)
    frame["action_date"] = inputs.day
    frame["library_revision"] = library.revision
    in_journey = frame["journey_id"].notna().to_numpy()
    action_ids = np.empty(len(frame), dtype=object)
    steps = frame.loc[in_journey, "step"].astype("int64").to_numpy().astype("U3")
    action_ids[in_journey] = np.char.add(np.char.add(frame.loc[in_journey, "journey_id"].to_numpy().astype("U18"), "_"), steps)
    skipped = frame.loc[~in_journey, "user_id"]
    action_ids[~in_journey] = np.char.add("s_", hex16(stable_hash(skipped, hash_key("skip", inputs.day.isoformat()))))
    frame["action_id"] = action_ids
    frame["step"] = frame["step"].astype("Int64")
    for column in ("expected_profit", "uplift_revenue", "uplift_wake_up", *cadence.DESIGN_ATTRIBUTES, "design_variant_share"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["priority"] = frame["priority"].astype("Int64")
    frame.loc[frame["status"] != QUEUED, "scheduled_at"] = pd.NaT
    frame.loc[frame["status"].isin([HOLDOUT, SKIPPED]), ["timezone", "message", "cost"]] = (None, None, 0.0)
    # A user has one decision a day (one journey at a time); action_id keeps the order total all the same.
    # numpy's lexsort of the two id columns: pandas factorizes both first (1 s more at a million rows).
    order = np.lexsort((frame["action_id"].to_numpy(dtype=str), frame["user_id"].to_numpy(dtype=str)))
    return frame[ACTION_COLUMNS].take(order).reset_index(drop=True)


def plan_day(inputs: DayInputs, library: StrategyLibrary, top_features: pd.DataFrame | None = None) -> pd.DataFrame:
    """propose + finalize: the whole day's decisions (recall_actions rows for `inputs.day`).

    top_features: user_id, feature (the core feature each user used most in the last
    RECOMMENDATION_DAYS days), for the {recommendation} of the messages."""
    return finalize(propose(inputs, library), inputs, library, top_features)


def outbox(actions: pd.DataFrame) -> pd.DataFrame:
    """The steps to send: queued treatment rows, in OUTBOX_COLUMNS, by action_id (the same file whatever order the
    rows were read in)."""
    due = actions[(actions["status"] == QUEUED) & (actions["arm"] == TREATMENT)]
    return due[OUTBOX_COLUMNS].sort_values("action_id", kind="stable").reset_index(drop=True)


HOLDOUT_COLUMNS: list[str] = [
    "action_id", "journey_id", "action_date", "user_id", "strategy_id", "arm", "holdout", "journey_started_at",
    "avg_order_value", "library_revision",
]


def holdout_assignments(actions: pd.DataFrame) -> pd.DataFrame:
    """Control journeys started that day, for the delivery system's log (never to be contacted): the journey id
    its log must carry as action_id, the kind of holdout, and the average order a coupon would have been sized
    from (what the treatment would have offered, for a simulation's ground truth)."""
    control = actions[actions["status"] == HOLDOUT]
    return control[HOLDOUT_COLUMNS].sort_values("action_id", kind="stable").reset_index(drop=True)
