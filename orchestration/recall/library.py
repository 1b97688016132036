"""The strategy library (召回策略库): pydantic models of strategies.yml — strategies, benefits,
message templates, guardrails and economics — and a loader that reports every problem with the
file name, the field path and the YAML line."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from orchestration.config.verticals import YAML_LOADER, vertical_names
from orchestration.recall.guardrails import CHANNELS, Guardrails
from orchestration.recall.templates import template_problems

LIFECYCLE_STAGES: tuple[str, ...] = (
    "new", "active", "at_risk", "dormant_light", "dormant_medium", "dormant_severe", "churned", "reactivated",
)
RISK_LEVELS: tuple[str, ...] = ("none", "low", "medium", "high", "lost")
VALUE_TIERS: tuple[str, ...] = ("high", "medium", "low")
SEGMENTS: tuple[str, ...] = ("price_sensitive", "feature_dependent", "social_driven", "unclassified")
SPECIAL_TIERS: tuple[str, ...] = ("partial_churn", "large_withdrawal")
# Early-warning signals as named in user_daily_labels.signals_fired (carried into user_risk_tiers).
SIGNALS: tuple[str, ...] = (
    "login_drop", "depth_drop", "spend_drop", "core_feature_drop", "no_core_sessions", "payment_interruption",
    "social_zero", "device_change", "large_withdrawal", "partial_churn",
)
# The three-dimension value check of user_daily_labels (depth, duration, decision point).
VALUE_CHECKS: tuple[str, ...] = ("value_depth", "value_duration", "value_decision")


def _one_of(value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Variant(_Model):
    """One arm of a step's A/B test: overrides the step's channel, template or benefit."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    share: float = Field(gt=0, le=1)
    channel: str | None = None
    template: str | None = None
    benefit: str | None = None

    @field_validator("channel", mode="before")
    @classmethod
    def _channel_known(cls, value: Any) -> Any:
        return value if value is None else _one_of(value, CHANNELS)


class Step(_Model):
    """One rung of a journey's ladder: which channel, how long after the start, what it says."""

    channel: str
    delay_hours: int = Field(ge=0)
    template: str = Field(min_length=1)
    benefit: str | None = None
    variants: list[Variant] = Field(default_factory=list)

    @field_validator("channel", mode="before")
    @classmethod
    def _channel_known(cls, value: Any) -> str:
        return _one_of(value, CHANNELS)

    @field_validator("delay_hours")
    @classmethod
    def _whole_days(cls, value: int) -> int:
        # The pipeline plans one business day at a time: a journey moves at most one rung per day.
        if value % 24:
            raise ValueError(f"delay_hours must be a multiple of 24 (the daily run plans whole days), got {value}")
        return value

    @model_validator(mode="after")
    def _variant_shares(self) -> "Step":
        if self.variants:
            total = sum(v.share for v in self.variants)
            if abs(total - 1) > 1e-9:
                raise ValueError(f"variant shares must add up to 1, got {total:g}")
            if len({v.id for v in self.variants}) != len(self.variants):
                raise ValueError("variant ids must be unique within a step")
        return self

    def arms(self) -> list[Variant]:
        """The step's variants with every field filled in (one 'default' variant when not A/B tested)."""
        if not self.variants:
            return [Variant(id="default", share=1.0, channel=self.channel, template=self.template, benefit=self.benefit)]
        return [
            Variant(id=v.id, share=v.share, channel=v.channel or self.channel, template=v.template or self.template,
                    benefit=v.benefit if "benefit" in v.model_fields_set else self.benefit)
            for v in self.variants
        ]


class Match(_Model):
    """Which users a strategy targets; an empty list or null means "any".

    signals: at least one of these early-warning signals fired on the day (one is enough to act).
    min_value_checks: the user passes at least this many of the three value checks (depth, duration,
    decision point; recall/eligibility.py), so costly offers go to users worth them."""

    lifecycle_stage: list[str] = Field(default_factory=list)
    risk_level: list[str] = Field(default_factory=list)
    value_tier: list[str] = Field(default_factory=list)
    segment: list[str] = Field(default_factory=list)
    special_tier: list[str] = Field(default_factory=list)
    signals: list[str] = Field(default_factory=list)
    high_value_dormant: bool | None = None
    min_value_checks: int | None = Field(default=None, ge=1, le=len(VALUE_CHECKS))

    @model_validator(mode="after")
    def _values_known(self) -> "Match":
        for name, allowed in (("lifecycle_stage", LIFECYCLE_STAGES), ("risk_level", RISK_LEVELS),
                              ("value_tier", VALUE_TIERS), ("segment", SEGMENTS), ("special_tier", SPECIAL_TIERS),
                              ("signals", SIGNALS)):
            for value in getattr(self, name):
                if value not in allowed:
                    raise ValueError(f"{name}: {value!r} is not one of {', '.join(allowed)}")
        return self


class Strategy(_Model):
    """A row of the library: who gets which ladder, when, with which priority and holdout share."""

    id: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    description: str = ""
    verticals: list[str] = Field(default_factory=list)
    match: Match
    priority: int
    holdout_share: float = Field(ge=0, lt=1)
    active_from: date | None = None
    active_to: date | None = None
    # A service message (security check, service call): applied by priority whatever the uplift
    # models say, never judged on profit (decisions.py gives it precedence over the model's choice).
    service: bool = False
    steps: list[Step] = Field(min_length=1)

    @field_validator("verticals", mode="after")
    @classmethod
    def _verticals_known(cls, values: list[str]) -> list[str]:
        return [_one_of(v, vertical_names()) for v in values]

    @model_validator(mode="after")
    def _ladder_and_dates(self) -> "Strategy":
        if self.steps[0].delay_hours != 0:
            raise ValueError("steps[0].delay_hours must be 0 (a journey starts with its first step)")
        for i in range(1, len(self.steps)):
            if self.steps[i].delay_hours <= self.steps[i - 1].delay_hours:
                raise ValueError(f"steps[{i}].delay_hours ({self.steps[i].delay_hours}) must be greater than "
                                 f"steps[{i - 1}].delay_hours ({self.steps[i - 1].delay_hours})")
        if self.active_from and self.active_to and self.active_to < self.active_from:
            raise ValueError(f"active_to ({self.active_to}) is before active_from ({self.active_from})")
        return self

    def is_active(self, day: date, vertical: str) -> bool:
        """Whether the strategy applies on `day` (inclusive date range) to `vertical`."""
        return ((not self.verticals or vertical in self.verticals)
                and (self.active_from is None or self.active_from <= day)
                and (self.active_to is None or day <= self.active_to))

    @property
    def span_hours(self) -> int:
        return self.steps[-1].delay_hours


class Benefit(_Model):
    """What a step offers. A coupon's value is `share_of_order` of the user's average order,
    bounded by min/max and rounded to `round_to`; a gift pack or points have a fixed value."""

    kind: Literal["coupon", "gift_pack", "points"]
    label: str = Field(min_length=1)
    share_of_order: float | None = Field(default=None, gt=0, lt=1)
    min_value: float | None = Field(default=None, gt=0)
    max_value: float | None = Field(default=None, gt=0)
    round_to: float = Field(default=1, gt=0)
    value: float | None = Field(default=None, ge=0)
    unit_cost: float = Field(default=0, ge=0, description="Cost to the business per benefit handed out (gift packs, points).")
    valid_days: int = Field(default=7, ge=1)

    @model_validator(mode="after")
    def _sized(self) -> "Benefit":
        if self.kind == "coupon":
            if None in (self.share_of_order, self.min_value, self.max_value):
                raise ValueError("a coupon needs share_of_order, min_value and max_value")
            if self.max_value < self.min_value:
                raise ValueError(f"max_value ({self.max_value:g}) is below min_value ({self.min_value:g})")
        elif self.value is None:
            raise ValueError(f"a {self.kind} needs a value")
        return self


class DecisionPolicy(_Model):
    """How the uplift models choose treatments (orchestration/uplift/decisions.py).

    exploration_share: share of eligible users, drawn each day by a keyed hash, who get one of their
    allowed treatments at random instead of the model's choice, so that every treatment keeps
    randomized evidence (the strategy holdouts still split them into treatment and control).
    objective: the incremental margin the choice maximises, over 90 days (default) or 30 days; a
    treatment whose 90-day model is not mature yet is judged on 30 days.
    min_expected_profit: a treatment is chosen only when its expected profit exceeds this (per user).
    choose_variants: the decision may pick the variant of an A/B-tested step per user (a treatment is a
    ladder with its variants fixed); false keeps the variants drawn at random, as in the rules, so
    that an experiment the operators run stays a clean A/B test.
    refit_every_days: the cadence of the uplift models' refit.
    min_treated_journeys / min_control_journeys: a treatment's model is used (mature) once the training
    side of its randomized journeys holds this many treated and control journeys with the outcome known."""

    exploration_share: float = Field(default=0.05, ge=0, le=0.5)
    objective: Literal["margin_90d", "margin_30d"] = "margin_90d"
    min_expected_profit: float = Field(default=0.0, ge=0)
    choose_variants: bool = True
    refit_every_days: int = Field(default=7, ge=1, le=90)
    min_treated_journeys: int = Field(default=300, ge=2)
    min_control_journeys: int = Field(default=100, ge=2)


class Economics(_Model):
    """What a recall is expected to bring back and what it costs: the margin earned on revenue, the
    benefits' redemption, the rule that skips users not worth the contact, and the decision policy."""

    # Share of users expected to come back after a recall, by stage (operators' prior; the rules'
    # estimate of value until the uplift models are mature).
    wake_probability: dict[str, float]
    # Value tiers to which the "expected return below the cost of contact: do not recall" rule applies.
    skip_below_cost_tiers: list[str] = Field(default_factory=lambda: ["low"])
    coupon_redemption_rate: float = Field(default=0.3, ge=0, le=1)
    # Gross margin earned per unit of the vertical's revenue (what purchase_events amount to), by
    # vertical name or 'default'. Revenue means different things per vertical (an order, an in-app
    # purchase, a deposit), hence the map; operators set their own business's margin here.
    margin_rate: dict[str, float] = Field(default_factory=lambda: {"default": 0.3})
    # Whether order amounts are what the user paid after a coupon (true for the simulated app):
    # then a redeemed coupon already lowered revenue and costs only (1 - margin) x its value more.
    revenue_net_of_coupons: bool = True
    decision: DecisionPolicy = DecisionPolicy()

    @field_validator("margin_rate")
    @classmethod
    def _margins(cls, values: dict[str, float]) -> dict[str, float]:
        for key, rate in values.items():
            if key != "default":
                _one_of(key, vertical_names())
            if not 0 < rate <= 1:
                raise ValueError(f"margin_rate[{key}] must be in (0, 1], got {rate}")
        return values

    def margin_for(self, vertical: str) -> float:
        """The margin rate of a vertical: its own entry, else 'default'; a clear error without either."""
        if vertical in self.margin_rate:
            return self.margin_rate[vertical]
        if "default" in self.margin_rate:
            return self.margin_rate["default"]
        raise ValueError(f"economics.margin_rate has no entry for vertical {vertical!r} and no 'default'")

    @field_validator("wake_probability")
    @classmethod
    def _stages(cls, values: dict[str, float]) -> dict[str, float]:
        for stage, p in values.items():
            _one_of(stage, LIFECYCLE_STAGES)
            if not 0 <= p <= 1:
                raise ValueError(f"wake_probability[{stage}] must be in [0, 1], got {p}")
        return values


class StrategyLibrary(_Model):
    """The whole library; `ordered()` gives strategies in matching order."""

    version: Literal[2]
    revision: str = Field(min_length=1)
    salt: str = Field(min_length=1)
    cooldown_days: int = Field(default=14, ge=0)
    global_holdout_share: float = Field(default=0.0, ge=0, lt=1)
    send_hour_utc: int = Field(default=10, ge=0, le=23)
    default_recommendation: str = Field(min_length=1)
    # The personal recommendation: a phrase per core feature the user used most in the last 28 days.
    recommendations_by_feature: dict[str, str] = Field(default_factory=dict)
    link_base: str = Field(min_length=1)
    currency_symbol: str = "$"
    coupon_prefix: str = Field(default="CR", pattern=r"^[A-Z0-9]{1,6}$")
    economics: Economics
    guardrails: Guardrails
    benefits: dict[str, Benefit] = Field(default_factory=dict)
    templates: dict[str, str] = Field(min_length=1)
    strategies: list[Strategy] = Field(min_length=1)

    def ordered(self) -> list[Strategy]:
        """Lower priority number first; ties keep file order (sorted() is stable)."""
        return sorted(self.strategies, key=lambda s: s.priority)

    def get(self, strategy_id: str) -> Strategy:
        for strategy in self.strategies:
            if strategy.id == strategy_id:
                return strategy
        raise KeyError(strategy_id)

    @property
    def longest_journey_days(self) -> int:
        return max(s.span_hours for s in self.strategies) // 24


class StrategyLibraryError(ValueError):
    """Raised with one line per problem found in a strategy file."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid strategy library:\n" + "\n".join(problems))


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at `loc`, or of the deepest ancestor that exists."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for key in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            child = node.value[key]
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(err: dict[str, Any]) -> str:
    if err["type"] == "value_error":
        return str(err["ctx"]["error"])
    if err["type"] == "missing":
        return "required field is missing"
    if err["type"] == "extra_forbidden":
        return "unknown field"
    return f"{err['msg']} (got {err['input']!r})"


def _cross_references(library: StrategyLibrary) -> list[tuple[tuple[Any, ...], str]]:
    """Problems a single model cannot see: unknown templates/benefits, template variables."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    for name, text in library.templates.items():
        problems += [(("templates", name), msg) for msg in template_problems(text)]
    for i, strategy in enumerate(library.strategies):
        for j, step in enumerate(strategy.steps):
            for variant in step.arms():
                loc = ("strategies", i, "steps", j)
                if variant.template not in library.templates:
                    problems.append((loc + ("template",), f"unknown template {variant.template!r}"))
                    continue
                if variant.channel not in library.guardrails.channels:
                    problems.append((loc + ("channel",), f"channel {variant.channel!r} has no limits in guardrails.channels"))
                if variant.benefit is not None and variant.benefit not in library.benefits:
                    problems.append((loc + ("benefit",), f"unknown benefit {variant.benefit!r}"))
                problems += [(loc + ("template",), f"template {variant.template!r}: {msg}")
                             for msg in template_problems(library.templates[variant.template],
                                                          channel=variant.channel, has_benefit=variant.benefit is not None)]
    for stage in library.economics.skip_below_cost_tiers:
        if stage not in VALUE_TIERS:
            problems.append((("economics", "skip_below_cost_tiers"), f"{stage!r} is not one of {', '.join(VALUE_TIERS)}"))
    return problems


def _compose_and_load(text: str) -> tuple[yaml.Node | None, Any]:
    """The document's nodes (the line numbers of messages) and its data, from one parse."""
    loader = YAML_LOADER(text)
    try:
        root = loader.get_single_node()
        return root, (None if root is None else loader.construct_document(root))
    finally:
        loader.dispose()


def parse_strategy_library(text: str, source: str = "<string>") -> StrategyLibrary:
    """Validate YAML text; `source` names the file in error messages."""
    try:
        root, data = _compose_and_load(text)
    except yaml.YAMLError as exc:
        raise StrategyLibraryError([f"{source}: not valid YAML: {exc}"]) from exc
    if not isinstance(data, dict):
        raise StrategyLibraryError([f"{source}: expected a mapping with 'version' and 'strategies'"])

    problems: list[str] = []

    def report(loc: tuple[Any, ...], msg: str) -> None:
        where = _format_loc(loc)
        if len(loc) >= 2 and loc[0] == "strategies" and isinstance(loc[1], int):
            raw = data["strategies"][loc[1]]
            sid = raw.get("id") if isinstance(raw, dict) else None
            where = f"strategies[{loc[1]}] (id={sid})" + (f": {_format_loc(loc[2:])}" if loc[2:] else "")
        line = _line_of(root, loc)
        problems.append(": ".join(p for p in (source, where, msg) if p) + (f" (line {line})" if line else ""))

    library: StrategyLibrary | None = None
    try:
        library = StrategyLibrary.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            # pydantic inserts union/function tags that are not keys in the file.
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
            report(loc, _message(err))
    if library is not None:
        seen: dict[str, int] = {}
        for i, strategy in enumerate(library.strategies):
            if strategy.id in seen:
                report(("strategies", i, "id"), f"duplicate id, already used by strategies[{seen[strategy.id]}]")
            seen.setdefault(strategy.id, i)
        for loc, msg in _cross_references(library):
            report(loc, msg)
    if problems or library is None:
        raise StrategyLibraryError(problems or [f"{source}: invalid strategy library"])
    return library


def load_strategy_library(path: str | Path) -> StrategyLibrary:
    """Read and validate a strategy library file; raises StrategyLibraryError listing every problem.
    A file is parsed once per process until it changes (several steps of a run read it)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StrategyLibraryError([f"{path}: cannot read strategy library: {exc}"]) from exc
    return _parsed_library(text, str(path))


@lru_cache(maxsize=8)
def _parsed_library(text: str, source: str) -> StrategyLibrary:
    return parse_strategy_library(text, source=source)
