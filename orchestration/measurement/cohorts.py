"""Cohort membership for recall_metrics: each journey is copied once per cohort it belongs to, with the stratum (a
randomization unit) its comparison is made in, the side it takes in that comparison and its sample-ratio group.

Strategy cohorts (campaign, lifecycle stage, value tier, segment, step variant, first channel, assignment week,
overall) compare a strategy's treatment journeys with its own holdout; journeys of the global holdout take no side
there (they are not exchangeable with the strategy's journeys at a user's later journeys: recall never touched them)
but their users' first journeys are counted by the campaign's sample-ratio check (metrics._srm_design). Programme cohorts compare users' first journeys outside the
global holdout with those inside it. Variant contrasts compare the variants of a strategy's A/B steps inside its
treatment arm.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd
import pyarrow as pa

from orchestration.measurement.atoms import combination_ids
from orchestration.measurement.outcomes import LTV_DAYS, REPURCHASE_DAYS

ALL = "all"
COHORT_KEYS = ["cohort_level", "period", "strategy_id", "lifecycle_stage", "cohort_value"]
STRATUM_KEYS = ["s_date", "s_strategy", "s_value"]
CAMPAIGN = ["_as_of", "s_date", "s_strategy"]  # one campaign as measured on one day
OUTPUT = ["_as_of", *COHORT_KEYS, *STRATUM_KEYS, "_side", "_srm", "_row", "step_variant"]
# Sides of a comparison, and the sample-ratio groups a campaign's journeys fall in.
TREATED, CONTROL, NO_SIDE = 1, 0, -1
SRM_TREATMENT, SRM_HOLDOUT, SRM_GLOBAL = 0, 1, 2
# Which control a level's treatment rows are compared with (documented in tables.py).
CONTROL_BASIS = {
    "campaign": "same_cohort",
    "lifecycle_stage": "same_cohort",
    "value_tier": "same_cohort",
    "segment": "same_cohort",
    # Variants and first-step channels are drawn or set before anyone responds, and control users were offered
    # nothing: each is compared with the campaign's whole holdout.
    "step_variant": "whole_campaign",
    "channel": "whole_campaign",
    "variant_contrast": "reference_variant",
    "week": "same_cohort",
    "overall": "same_cohort",
    "overall_wake_up": "same_cohort",
    "variant_contrast_overall": "reference_variant",
    "programme_week": "global_holdout",
    "programme_overall": "global_holdout",
}
# The kind of design a level's sample-ratio check tests.
KIND = {level: "strategy" for level in CONTROL_BASIS} | {
    "variant_contrast": "variant", "variant_contrast_overall": "variant",
    "programme_week": "programme", "programme_overall": "programme",
}
LEVELS = list(CONTROL_BASIS)
# Pooled cohorts hold the campaigns assigned in the last 90 days: a fixed span, however long the vertical's second
# churn keeps older campaigns in the measurement.
OVERALL_DAYS = LTV_DAYS
OPTIONAL_LEVELS = ("value_tier", "segment", "step_variant", "channel")
TEXT = pd.StringDtype(na_value=np.nan)  # pandas' own text dtype (a missing value reads as NaN, as pandas 3 reads text)
TEXT_OUTPUT = ["cohort_level", "strategy_id", "lifecycle_stage", "cohort_value", "s_strategy", "s_value"]
# The journeys' own text a level copies or takes a cohort value from.
JOURNEY_TEXT = ["strategy_id", "lifecycle_stage", "value_tier", "segment", "step_variant", "channel"]


class _Rows:
    """The long table under construction: per cohort level, the journeys' rows it copies (positions in the frame) and
    the values it sets on them (a scalar, or one per copied row); every other OUTPUT column is the journey's own.
    Copying by position once per column at the end replaces a frame built, filtered and merged per level (a third of
    a 100,000-user day's cohort metrics). Text is held as positions in one Arrow array of every text a row can take
    (`texts`: the journeys' own, by column): Arrow copies it without a Python object per row."""

    def __init__(self, frame: pd.DataFrame, own: dict[str, np.ndarray]) -> None:
        self.own, self.parts, self.pieces, self.size, self.constants = own, [], [], 0, {}
        self.texts = {name: self.text(frame[name]) for name in JOURNEY_TEXT if name in frame.columns}
        self.texts["s_strategy"] = self.texts["strategy_id"]

    def text(self, values: pd.Series | np.ndarray) -> np.ndarray:
        """The positions of `values` (text, one per row), added to the text array."""
        array = pa.array(values, type=pa.large_string(), from_pandas=True)
        if isinstance(array, pa.ChunkedArray):  # a text column of several chunks (read in parts, concatenated)
            array = array.combine_chunks()
        self.pieces.append(array)
        self.size += len(array)
        return np.arange(self.size - len(array), self.size)

    def constant(self, value: str) -> int:
        """The position of a text every row of a level takes."""
        if value not in self.constants:
            self.constants[value] = int(self.text(np.array([value], dtype=object))[0])
        return self.constants[value]

    def add(self, level: str, rows: np.ndarray, value: str | np.ndarray = ALL, stage: str | np.ndarray = ALL,
            **sets: object) -> None:
        """Copies of `rows` in cohort `level`, with its value and lifecycle stage (a text for all of them, or text
        positions, one per row) and the other OUTPUT columns it sets (a text column: a text for all)."""
        if len(rows):
            sets |= {"cohort_level": level, "lifecycle_stage": stage, "cohort_value": value, "s_value": value}
            self.parts.append((rows, {name: self.constant(v) if name in TEXT_OUTPUT and isinstance(v, str) else v
                                      for name, v in sets.items()}))

    def column(self, name: str) -> np.ndarray:
        """The column's values (text: positions) over the levels' rows, in order."""
        own = self.texts if name in TEXT_OUTPUT else self.own
        pieces = []
        for rows, sets in self.parts:
            value = sets[name] if name in sets else own[name][rows]
            pieces.append(np.broadcast_to(value, len(rows)) if np.ndim(value) == 0 else np.asarray(value))
        return np.concatenate(pieces)

    def frame(self) -> pd.DataFrame:
        text = pa.concat_arrays(self.pieces)
        long = {name: pd.array(text.take(pa.array(self.column(name))), dtype=TEXT) if name in TEXT_OUTPUT
                else self.column(name) for name in OUTPUT}
        long["period"] = long["period"].astype("datetime64[ns]")
        long["step_variant"] = pd.Series(long["step_variant"], dtype=object)  # as the journeys' frame holds it
        return pd.DataFrame(long)


def _each_of(rows: np.ndarray, groups: np.ndarray, members: np.ndarray, member_groups: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """An inner join in the order pandas' merge gives: each of `rows` (in order, of group groups[k]) once per member
    of its group (members, of groups member_groups, in their order). The joined rows and members."""
    order = np.argsort(member_groups, kind="stable")
    size = int(max(groups.max(initial=-1), member_groups.max(initial=-1))) + 1
    counts = np.bincount(member_groups, minlength=size)
    starts = np.cumsum(counts) - counts
    repeat = counts[groups]
    joined = np.repeat(rows, repeat)
    within = np.arange(repeat.sum()) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    return joined, members[order[np.repeat(starts[groups], repeat) + within]]


def _first_of_each(rows: np.ndarray, campaign: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The first of `rows` of each (campaign, value), in order (drop_duplicates)."""
    ids, _ = combination_ids([campaign, values])
    return rows[np.unique(ids, return_index=True)[1]]  # numbered in order of appearance: first rows ascending


def _sliced(out: _Rows, treated: np.ndarray, control: np.ndarray, campaign: np.ndarray, column: str) -> None:
    """Treatment journeys by `column`, each value against the campaign's whole holdout (copied per value)."""
    treated = treated[pd.notna(out.own[column][treated])]
    if not len(treated):
        return
    pairs = _first_of_each(treated, campaign[treated], out.own[column][treated])
    joined, value_rows = _each_of(control, campaign[control], pairs, campaign[pairs])
    rows, valued = np.concatenate([treated, joined]), np.concatenate([treated, value_rows])
    sets = {"step_variant": out.own[column][valued]} if column == "step_variant" else {}
    out.add(column, rows, out.texts[column][valued], **sets)


def _contrasts(out: _Rows, treated: np.ndarray, campaign: np.ndarray, level: str, **sets: object) -> None:
    """Within each campaign's treatment arm, every variant against the campaign's reference variant (the first by
    name): the variant takes the treatment side, the reference (copied per variant) the control side."""
    variants = out.own["step_variant"]
    treated = treated[pd.notna(variants[treated])]
    if not len(treated):
        return
    names = variants[treated]
    reference = pd.Series(names).groupby(campaign[treated]).transform("min").to_numpy(dtype=object)
    own = names != reference
    if not own.any():
        return
    mine, theirs = treated[own], treated[~own]
    pairs = _first_of_each(mine, campaign[mine], variants[mine])
    joined, variant_rows = _each_of(theirs, campaign[theirs], pairs, campaign[pairs])
    label = np.concatenate([names[own] + " vs " + reference[own], variants[variant_rows] + " vs " + variants[joined]])
    side = np.repeat([TREATED, CONTROL], [len(mine), len(joined)])
    srm = np.repeat([SRM_TREATMENT, SRM_HOLDOUT], [len(mine), len(joined)])
    out.add(level, np.concatenate([mine, joined]), out.text(label), _side=side, _srm=srm, **sets)


def _monday(days: np.ndarray) -> np.ndarray:
    day = days.astype("datetime64[D]")
    return (day - ((day.astype(np.int64) + 3) % 7)).astype(days.dtype)  # 1970-01-01 was a Thursday


def expand_cohorts(frame: pd.DataFrame, levels: Collection[str] = LEVELS) -> pd.DataFrame:
    """Every (journey, cohort) pair (OUTPUT): COHORT_KEYS, STRATUM_KEYS, `_side` (TREATED, CONTROL or NO_SIDE),
    `_srm` (the journey's sample-ratio group in its stratum), and the journey's `_row` and `step_variant`.

    `frame` has one row per journey and day it is measured as of (`_as_of`, a timestamp) with assignment_date,
    strategy_id, arm, lifecycle_stage, holdout ('strategy', 'global' or null), first_journey, the elapsed-day flag
    `_wake_closed`, and the optional attributes value_tier, segment, step_variant, channel (levels whose attribute
    is null everywhere are left out). Pooled cohorts (week, overall, programme) pool strata. `levels`: the cohort
    levels to expand to.
    """
    is_global = (frame["holdout"] == "global").to_numpy(dtype=bool)
    treated_arm = (frame["arm"] == "treatment").to_numpy(dtype=bool)
    assigned = pd.to_datetime(frame["assignment_date"]).to_numpy()
    side = np.where(treated_arm, TREATED, np.where(is_global, NO_SIDE, CONTROL))
    own = {"_as_of": frame["_as_of"].to_numpy(), "period": assigned, "s_date": assigned, "_side": side,
           "_srm": np.where(treated_arm, SRM_TREATMENT, np.where(is_global, SRM_GLOBAL, SRM_HOLDOUT)),
           "_row": frame["_row"].to_numpy(), "s_strategy": frame["strategy_id"].to_numpy(dtype=object)}
    for column in ("value_tier", "segment", "step_variant", "channel"):
        own[column] = frame[column].to_numpy(dtype=object) if column in frame.columns \
            else np.full(len(frame), None, dtype=object)
    out, every, as_of = _Rows(frame, own), np.arange(len(frame)), own["_as_of"]
    if "campaign" in levels:
        out.add("campaign", every)
    if "lifecycle_stage" in levels:
        out.add("lifecycle_stage", every, out.texts["lifecycle_stage"], out.texts["lifecycle_stage"])
    for level in ("value_tier", "segment"):
        if level in frame.columns and level in levels:  # on the days that know the attribute of some journey
            known = pd.notna(own[level])
            rows = np.flatnonzero(np.isin(as_of, as_of[known]))
            out.add(level, rows, np.where(known[rows], out.texts[level][rows], out.constant("unknown")))
    campaign, _ = combination_ids([own[name] for name in CAMPAIGN])  # a number per campaign
    treated, control = np.flatnonzero(side == TREATED), np.flatnonzero(side == CONTROL)
    for column in ("step_variant", "channel"):
        if column in frame.columns and column in levels:
            _sliced(out, treated, control, campaign, column)
    if "variant_contrast" in levels:
        _contrasts(out, treated, campaign, "variant_contrast")
    if "week" in levels:
        monday = _monday(assigned)
        out.add("week", every, period=monday)
        out.add("week", every, period=monday, strategy_id=ALL)
    elapsed = (as_of - assigned).astype("timedelta64[D]").astype(np.int64)
    recent, no_period = elapsed < OVERALL_DAYS, np.datetime64("NaT", "ns")
    if "overall" in levels:
        closed = np.flatnonzero((elapsed >= REPURCHASE_DAYS - 1) & recent)
        out.add("overall", closed, period=no_period)
        out.add("overall", closed, period=no_period, strategy_id=ALL)
    woken = np.flatnonzero(frame["_wake_closed"].to_numpy(dtype=bool) & recent)
    if "overall_wake_up" in levels:
        out.add("overall_wake_up", woken, period=no_period)
        out.add("overall_wake_up", woken, period=no_period, strategy_id=ALL)
    if "variant_contrast_overall" in levels:
        _contrasts(out, woken[side[woken] == TREATED], campaign, "variant_contrast_overall", period=no_period)
    if is_global.any() and {"programme_week", "programme_overall"} & set(levels):
        # The programme: users' first journeys, outside the global holdout against inside it, by assignment week
        # (on the days that measured a global holdout).
        first_journey = frame["first_journey"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        first = np.flatnonzero(first_journey & np.isin(as_of, as_of[is_global]))
        held, monday = is_global[first], _monday(assigned[first])
        programme = {"s_date": monday, "period": monday, "_side": np.where(held, CONTROL, TREATED),
                     "_srm": np.where(held, SRM_GLOBAL, SRM_TREATMENT)}
        if "programme_week" in levels:
            out.add("programme_week", first, strategy_id=ALL, s_strategy=ALL, **programme)
        if "programme_overall" in levels:
            pooled = frame["_wake_closed"].to_numpy(dtype=bool)[first] & (elapsed[first] < OVERALL_DAYS)
            out.add("programme_overall", first[pooled], strategy_id=ALL, s_strategy=ALL,
                    **{name: value[pooled] for name, value in programme.items()} | {"period": no_period})
    if not out.parts:  # the columns' types, when no level has a row
        out.parts.append((every[:0], dict.fromkeys(TEXT_OUTPUT, out.constant(ALL))))
    # Only what the metrics group and look up by: the long table is the measurement's largest frame. Its text columns
    # are pandas strings: as Python objects they cost the demo's last day a fifth of its metrics time.
    return out.frame()
