"""Cohort membership for recall_metrics: each journey is copied once per cohort level it belongs to
(campaign, lifecycle stage, value tier, segment, step variant, channel, assignment week, overall),
with the stratum (one campaign's randomization unit) its treatment-control comparison is made in."""

from __future__ import annotations

from datetime import date

import pandas as pd

from orchestration.measurement.outcomes import LTV_DAYS, REPURCHASE_DAYS

ALL = "all"
COHORT_KEYS = ["cohort_level", "period", "strategy_id", "lifecycle_stage", "cohort_value"]
STRATUM_KEYS = ["s_date", "s_strategy", "s_value"]
# Which control a level's treatment rows are compared with (documented in tables.py).
CONTROL_BASIS = {
    "campaign": "same_cohort",
    "lifecycle_stage": "same_cohort",
    "value_tier": "same_cohort",
    "segment": "same_cohort",
    "week": "same_cohort",
    "overall": "same_cohort",
    # Variants are drawn at random inside the treatment arm; control users were offered nothing, so
    # each variant is compared with the campaign's whole control.
    "step_variant": "whole_campaign",
    # The rung a journey reached depends on whether the user responded earlier (a post-treatment
    # outcome), and control users have no channel: no lift is estimated.
    "channel": "none",
}
LEVELS = list(CONTROL_BASIS)
# The overall cohort pools the campaigns assigned in the last 90 days: a fixed span, however long
# the vertical's second churn keeps older campaigns in the measurement.
OVERALL_DAYS = LTV_DAYS
OPTIONAL_LEVELS = ("value_tier", "segment", "step_variant", "channel")


def _level(frame: pd.DataFrame, level: str, value: pd.Series | str, stage: pd.Series | str = ALL) -> pd.DataFrame:
    out = frame.assign(cohort_level=level, lifecycle_stage=stage, cohort_value=value)
    out["s_value"] = out["cohort_value"]
    return out


def expand_cohorts(frame: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Every (journey, cohort) pair with COHORT_KEYS and STRATUM_KEYS columns.

    `frame` has one row per journey with assignment_date, strategy_id, arm, lifecycle_stage and
    the optional attributes value_tier, segment, step_variant, channel (levels whose attribute is
    null everywhere are left out). Week and overall cohorts pool campaigns (strata); overall holds
    only campaigns assigned in the OVERALL_DAYS up to `as_of` whose 30-day window has closed.
    """
    base = frame.assign(
        period=pd.to_datetime(frame["assignment_date"]),
        s_date=pd.to_datetime(frame["assignment_date"]),
        s_strategy=frame["strategy_id"],
    )
    parts = [
        _level(base, "campaign", ALL),
        _level(base, "lifecycle_stage", base["lifecycle_stage"], base["lifecycle_stage"]),
    ]
    for level in ("value_tier", "segment"):
        if level in base.columns and base[level].notna().any():
            parts.append(_level(base, level, base[level].fillna("unknown")))
    treated = base.loc[base["arm"] == "treatment"]
    if "step_variant" in base.columns and treated["step_variant"].notna().any():
        variants = treated.loc[treated["step_variant"].notna(), ["s_date", "s_strategy", "step_variant"]].drop_duplicates()
        control = base.loc[base["arm"] == "control"].drop(columns=["step_variant"])
        control = control.merge(variants, on=["s_date", "s_strategy"], how="inner")
        parts.append(_level(pd.concat([treated, control], ignore_index=True), "step_variant",
                            pd.concat([treated["step_variant"], control["step_variant"]], ignore_index=True)))
    if "channel" in base.columns and treated["channel"].notna().any():
        parts.append(_level(treated, "channel", treated["channel"].fillna("none")))
    week = base.assign(period=base["period"] - pd.to_timedelta(base["period"].dt.weekday, unit="D"))
    parts += [_level(week, "week", ALL), _level(week.assign(strategy_id=ALL), "week", ALL)]
    elapsed = (pd.Timestamp(as_of) - base["s_date"]).dt.days
    closed = base.loc[(elapsed >= REPURCHASE_DAYS - 1) & (elapsed < OVERALL_DAYS)].assign(period=pd.NaT)
    parts += [_level(closed, "overall", ALL), _level(closed.assign(strategy_id=ALL), "overall", ALL)]
    for part in parts:
        part["s_value"] = part["s_value"].astype(object)
        part["cohort_value"] = part["cohort_value"].astype(object)
        part["lifecycle_stage"] = part["lifecycle_stage"].astype(object)
    return pd.concat(parts, ignore_index=True)
