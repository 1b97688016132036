"""The strategy library: pydantic models of strategies.yml and a loader that reports every
problem with the file name, the strategy's index and id, the field path and the YAML line."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CHANNELS: tuple[str, ...] = ("push", "sms", "call")
LIFECYCLE_STAGES: tuple[str, ...] = (
    "new",
    "active",
    "at_risk",
    "dormant_light",
    "dormant_medium",
    "dormant_severe",
    "churned",
    "reactivated",
)
RISK_LEVELS: tuple[str, ...] = ("none", "low", "medium", "high", "lost")
VALUE_TIERS: tuple[str, ...] = ("high", "medium", "low")


def _one_of(value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
    return value


class Step(BaseModel):
    """One rung of a journey's ladder: which channel, how long after the start, what it says."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str
    delay_hours: float = Field(ge=0)
    template: str = Field(min_length=1)
    benefit: str | None = None

    @field_validator("channel", mode="before")
    @classmethod
    def _channel_known(cls, value: Any) -> str:
        return _one_of(value, CHANNELS)


class Match(BaseModel):
    """Which users a strategy targets; an empty list or null means "any"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lifecycle_stage: list[str] = Field(default_factory=list)
    risk_level: list[str] = Field(default_factory=list)
    value_tier: list[str] = Field(default_factory=list)
    high_value_dormant: bool | None = None

    @field_validator("lifecycle_stage", mode="after")
    @classmethod
    def _stages_known(cls, values: list[str]) -> list[str]:
        return [_one_of(v, LIFECYCLE_STAGES) for v in values]

    @field_validator("risk_level", mode="after")
    @classmethod
    def _levels_known(cls, values: list[str]) -> list[str]:
        return [_one_of(v, RISK_LEVELS) for v in values]

    @field_validator("value_tier", mode="after")
    @classmethod
    def _tiers_known(cls, values: list[str]) -> list[str]:
        return [_one_of(v, VALUE_TIERS) for v in values]


class Strategy(BaseModel):
    """A row of the library: who gets which ladder, with which holdout share."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    description: str = ""
    match: Match
    priority: int
    holdout_share: float = Field(ge=0, lt=1)
    steps: list[Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _ladder_in_order(self) -> "Strategy":
        # The journey starts on the assignment day, which measurement uses as day A.
        if self.steps[0].delay_hours != 0:
            raise ValueError("steps[0].delay_hours must be 0 (a journey starts on its assignment day)")
        for i in range(1, len(self.steps)):
            if self.steps[i].delay_hours <= self.steps[i - 1].delay_hours:
                raise ValueError(
                    f"steps[{i}].delay_hours ({self.steps[i].delay_hours:g}) must be greater than "
                    f"steps[{i - 1}].delay_hours ({self.steps[i - 1].delay_hours:g})"
                )
        return self


class StrategyLibrary(BaseModel):
    """The whole library; `ordered()` gives strategies in matching order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    # Days after an assignment during which the user gets no new journey (no pestering).
    cooldown_days: int = Field(default=14, ge=0)
    strategies: list[Strategy] = Field(min_length=1)

    def ordered(self) -> list[Strategy]:
        """Lower priority number first; ties keep file order (sorted() is stable)."""
        return sorted(self.strategies, key=lambda s: s.priority)

    def get(self, strategy_id: str) -> Strategy:
        for strategy in self.strategies:
            if strategy.id == strategy_id:
                return strategy
        raise KeyError(strategy_id)


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


def _problems(
    exc: ValidationError, prefix: tuple[Any, ...], root: yaml.Node | None
) -> list[tuple[str, str, int | None]]:
    """(field path, message, YAML line) for each pydantic error; `prefix` locates the model in the file."""
    problems = []
    for err in exc.errors():
        # pydantic inserts union/function tags that are not keys in the file.
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        problems.append((_format_loc(loc), _message(err), _line_of(root, prefix + loc)))
    return problems


def parse_strategy_library(text: str, source: str = "<string>") -> StrategyLibrary:
    """Validate YAML text; `source` names the file in error messages."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise StrategyLibraryError([f"{source}: not valid YAML: {exc}"]) from exc
    if not isinstance(data, dict):
        raise StrategyLibraryError([f"{source}: expected a mapping with 'version' and 'strategies'"])

    problems: list[str] = []

    def report(where: str, loc: str, msg: str, line: int | None) -> None:
        parts = [source, *(p for p in (where, loc) if p), msg]
        problems.append(": ".join(parts) + (f" (line {line})" if line else ""))

    raw_strategies = data.get("strategies")
    strategies: list[Strategy] = []
    if isinstance(raw_strategies, list):
        first_index: dict[str, int] = {}
        for i, raw in enumerate(raw_strategies):
            sid = raw.get("id") if isinstance(raw, dict) else None
            where = f"strategies[{i}] (id={sid})"
            try:
                strategy = Strategy.model_validate(raw)
            except ValidationError as exc:
                for loc, msg, line in _problems(exc, ("strategies", i), root):
                    report(where, loc, msg, line)
                continue
            if strategy.id in first_index:
                line = _line_of(root, ("strategies", i, "id"))
                report(where, "id", f"duplicate id, already used by strategies[{first_index[strategy.id]}]", line)
                continue
            first_index[strategy.id] = i
            strategies.append(strategy)

    # Top-level fields (version, strategies list shape) are checked without the strategies.
    top = {**data, "strategies": [s.model_dump() for s in strategies] or raw_strategies}
    library: StrategyLibrary | None = None
    try:
        library = StrategyLibrary.model_validate(top)
    except ValidationError as exc:
        for loc, msg, line in _problems(exc, (), root):
            if loc.startswith("strategies["):
                continue  # already reported per strategy above
            report("", loc, msg, line)
    if problems or library is None:
        raise StrategyLibraryError(problems or [f"{source}: invalid strategy library"])
    return library


def load_strategy_library(path: str | Path) -> StrategyLibrary:
    """Read and validate a strategy library file; raises StrategyLibraryError listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StrategyLibraryError([f"{path}: cannot read strategy library: {exc}"]) from exc
    return parse_strategy_library(text, source=str(path))
