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


def _level(frame: pd.DataFrame, level: str, value: pd.Series | str, stage: pd.Series | str = ALL) -> pd.DataFrame:
    out = frame.assign(cohort_level=level, lifecycle_stage=stage, cohort_value=value)
    out["s_value"] = out["cohort_value"]
    return out


def _monday(days: pd.Series) -> pd.Series:
    return days - pd.to_timedelta(days.dt.weekday, unit="D")


def _sliced(treated: pd.DataFrame, control: pd.DataFrame, column: str, level: str) -> pd.DataFrame | None:
    """Treatment journeys by `column`, each value against the campaign's whole holdout (copied per value)."""
    treated = treated.loc[treated[column].notna()]
    if treated.empty:
        return None
    values = treated[[*CAMPAIGN, column]].drop_duplicates()
    control = control.drop(columns=[column]).merge(values, on=CAMPAIGN, how="inner")
    both = pd.concat([treated, control], ignore_index=True)
    return _level(both, level, both[column])


def _contrasts(treated: pd.DataFrame, level: str) -> pd.DataFrame | None:
    """Within each campaign's treatment arm, every variant against the campaign's reference variant (the first by
    name): the variant takes the treatment side, the reference (copied per variant) the control side."""
    treated = treated.loc[treated["step_variant"].notna()]
    if treated.empty:
        return None
    keys = CAMPAIGN
    treated = treated.assign(_reference=treated.groupby(keys)["step_variant"].transform("min"))
    own = treated.loc[treated["step_variant"] != treated["_reference"]]
    if own.empty:
        return None
    pairs = own[[*keys, "step_variant"]].drop_duplicates().rename(columns={"step_variant": "_variant"})
    reference = treated.loc[treated["step_variant"] == treated["_reference"]].merge(pairs, on=keys)
    own = own.assign(_variant=own["step_variant"], _side=TREATED, _srm=SRM_TREATMENT)
    reference = reference.assign(_side=CONTROL, _srm=SRM_HOLDOUT)
    pair = pd.concat([own, reference], ignore_index=True)
    return _level(pair, level, pair["_variant"] + " vs " + pair["_reference"])


def expand_cohorts(frame: pd.DataFrame, levels: Collection[str] = LEVELS) -> pd.DataFrame:
    """Every (journey, cohort) pair (OUTPUT): COHORT_KEYS, STRATUM_KEYS, `_side` (TREATED, CONTROL or NO_SIDE),
    `_srm` (the journey's sample-ratio group in its stratum), and the journey's `_row` and `step_variant`.

    `frame` has one row per journey and day it is measured as of (`_as_of`, a timestamp) with assignment_date, strategy_id, arm, lifecycle_stage, holdout
    ('strategy', 'global' or null), first_journey, the elapsed-day flags `_wake_closed` and `_closed`, and the
    optional attributes value_tier, segment, step_variant, channel (levels whose attribute is null everywhere are
    left out). Pooled cohorts (week, overall, programme) pool strata. `levels`: the cohort levels to expand to.
    """
    is_global = (frame["holdout"] == "global").to_numpy()
    treated_arm = (frame["arm"] == "treatment").to_numpy()
    base = frame.assign(
        period=pd.to_datetime(frame["assignment_date"]),
        s_date=pd.to_datetime(frame["assignment_date"]),
        s_strategy=frame["strategy_id"],
        _side=np.where(treated_arm, TREATED, np.where(is_global, NO_SIDE, CONTROL)),
        _srm=np.where(treated_arm, SRM_TREATMENT, np.where(is_global, SRM_GLOBAL, SRM_HOLDOUT)),
    )
    parts = [_level(base.iloc[:0], "campaign", ALL)]  # the columns' types, when no level has a row
    if "campaign" in levels:
        parts.append(_level(base, "campaign", ALL))
    if "lifecycle_stage" in levels:
        parts.append(_level(base, "lifecycle_stage", base["lifecycle_stage"], base["lifecycle_stage"]))
    for level in ("value_tier", "segment"):
        if level in base.columns and level in levels:  # on the days that know the attribute of some journey
            known = base.loc[base[level].notna().groupby(base["_as_of"]).transform("any").to_numpy()]
            parts.append(_level(known, level, known[level].fillna("unknown")))
    treated = base.loc[base["_side"] == TREATED]
    control = base.loc[base["_side"] == CONTROL]
    for column in ("step_variant", "channel"):
        if column in base.columns and column in levels:
            sliced = _sliced(treated, control, column, column)
            if sliced is not None:
                parts.append(sliced)
    contrast = _contrasts(treated, "variant_contrast") if "variant_contrast" in levels else None
    if contrast is not None:
        parts.append(contrast)
    if "week" in levels:
        week = base.assign(period=_monday(base["period"]))
        parts += [_level(week, "week", ALL), _level(week.assign(strategy_id=ALL), "week", ALL)]
    elapsed = (base["_as_of"] - base["s_date"]).dt.days
    recent = elapsed < OVERALL_DAYS
    if "overall" in levels:
        closed = base.loc[(elapsed >= REPURCHASE_DAYS - 1) & recent].assign(period=pd.NaT)
        parts += [_level(closed, "overall", ALL), _level(closed.assign(strategy_id=ALL), "overall", ALL)]
    woken = base.loc[base["_wake_closed"].to_numpy() & recent].assign(period=pd.NaT)
    if "overall_wake_up" in levels:
        parts += [_level(woken, "overall_wake_up", ALL), _level(woken.assign(strategy_id=ALL), "overall_wake_up", ALL)]
    contrast = _contrasts(woken.loc[woken["_side"] == TREATED], "variant_contrast_overall") \
        if "variant_contrast_overall" in levels else None
    if contrast is not None:
        parts.append(contrast)
    if is_global.any() and {"programme_week", "programme_overall"} & set(levels):
        # The programme: users' first journeys, outside the global holdout against inside it, by assignment week
        # (on the days that measured a global holdout).
        with_global = base["_as_of"].isin(base.loc[is_global, "_as_of"].unique()).to_numpy()
        first = base.loc[base["first_journey"].fillna(False).astype(bool).to_numpy() & with_global]
        first = first.assign(
            strategy_id=ALL, s_strategy=ALL, s_date=_monday(first["s_date"]), period=_monday(first["period"]),
            _side=np.where(first["holdout"] == "global", CONTROL, TREATED),
            _srm=np.where(first["holdout"] == "global", SRM_GLOBAL, SRM_TREATMENT),
        )
        if "programme_week" in levels:
            parts.append(_level(first, "programme_week", ALL))
        if "programme_overall" in levels:
            pooled = first.loc[first["_wake_closed"].to_numpy() & (elapsed.loc[first.index] < OVERALL_DAYS)]
            parts.append(_level(pooled.assign(period=pd.NaT), "programme_overall", ALL))
    # Only what the metrics group and look up by: the long table is the measurement's largest frame. Its text columns
    # stay pandas strings: converted to Python objects they cost the demo's last day a fifth of its metrics time.
    parts = [part[OUTPUT].astype({"s_value": TEXT, "cohort_value": TEXT, "lifecycle_stage": TEXT}) for part in parts]
    return pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else parts[0]
