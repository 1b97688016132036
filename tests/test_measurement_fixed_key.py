"""A JourneyLog's days number each journey's fixed cohort attributes (atoms.FIXED_KEY) and hand measure_outcomes
attributes already typed: the atoms and outcomes must be exactly those of the same journeys without either shortcut."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from orchestration.measurement.atoms import FIXED_COLUMNS, FIXED_KEY, atoms_of
from orchestration.measurement.journeys import JourneyLog
from orchestration.measurement.outcomes import measure_outcomes

START = pd.Timestamp("2026-03-01")
WINDOWS = {"wake_up_days": 7, "churn_days": 30}


def _world(seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Decisions varied on every fixed attribute, and a delivery log whose journeys it alone knows change their first
    values as later rows are scheduled (several rows per journey, attributes missing or differing between rows)."""
    rng = np.random.default_rng(seed)
    n, m = 300, 160

    def pick(values: list, size: int) -> list:
        return [values[k] for k in rng.integers(0, len(values), size)]

    arm = pick(["treatment", "control"], n)
    decisions = pd.DataFrame({
        "action_id": [f"d{i:03d}" for i in range(n)], "user_id": [f"u{i % 90}" for i in range(n)],
        "strategy_id": pick(["s1", "s2"], n), "arm": arm, "holdout": pick([None, "strategy", "global"], n),
        "assignment_date": (START + pd.to_timedelta(rng.integers(0, 12, n), unit="D")).date,
        "lifecycle_stage": pick(["at_risk", "dormant_light"], n), "value_tier": pick(["high", "low", None], n),
        "segment": pick(["loyal", "bargain", None], n), "channel": pick(["push", "sms", None], n),
        "step_variant": pick(["coupon_5", "no_coupon", None], n), "first_journey": pick([True, False, None], n),
        "design_holdout_share": pick([0.1, 0.2, np.nan], n), "design_global_holdout_share": pick([0.05, np.nan], n),
        "design_variant_share": pick([0.5, np.nan], n),
    })
    scheduled = START + pd.to_timedelta(rng.integers(0, 12 * 24, m), unit="h")
    touches = pd.DataFrame({
        "action_id": pick([f"t{i:02d}" for i in range(50)] + [f"d{i:03d}" for i in range(20)], m),
        "user_id": [f"u{i}" for i in rng.integers(0, 120, m)], "strategy_id": pick(["legacy", "s1"], m),
        "arm": pick(["treatment", "control"], m), "lifecycle_stage": pick(["dormant_light", "at_risk"], m),
        "scheduled_at": scheduled, "sent_at": scheduled + pd.Timedelta(hours=1),
        "opened_at": pd.NaT, "clicked_at": pd.NaT, "cost": rng.random(m),
        "channel": pick(["push", "sms", None], m), "coupon_code": pick(["C1", None], m),
        "coupon_value": pick([5.0, 10.0, np.nan], m),
        "value_tier": pick(["high", "low", None], m), "segment": pick(["loyal", None], m),
    })
    activity = pd.DataFrame({"user_id": [f"u{i}" for i in rng.integers(0, 120, 3000)],
                             "activity_date": START + pd.to_timedelta(rng.integers(-40, 14, 3000), unit="D")})
    activity = activity.drop_duplicates().reset_index(drop=True)
    activity["key_actions"], activity["orders"] = rng.integers(0, 2, len(activity)), rng.integers(0, 2, len(activity))
    activity["revenue"] = rng.random(len(activity)) * 50 * activity["orders"]
    return decisions, touches, activity


@pytest.mark.parametrize("log_only", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_the_fixed_key_and_the_typed_attributes_change_no_atom_and_no_outcome(seed: int, log_only: bool) -> None:
    decisions, touches, activity = _world(seed)
    if not log_only:  # the decided journeys' rows alone
        touches = touches.loc[touches["action_id"].str.startswith("d")]
    log = JourneyLog.of(touches, decisions)
    for k in (2, 6, 13):
        day = (START + timedelta(days=k)).date()
        journeys = log.as_of(day)
        assert (journeys["source"] == "delivery_log").any() == log_only and (journeys["source"] == "decisions").any()
        # one number per combination of the fixed columns, and one combination per number
        combos = journeys[FIXED_COLUMNS].astype(object).where(journeys[FIXED_COLUMNS].notna(), None).astype(str)
        pairs = combos.assign(key=journeys[FIXED_KEY]).drop_duplicates()
        assert pairs["key"].is_unique and len(pairs) == len(combos.drop_duplicates())

        typed = measure_outcomes(journeys, activity, day, typed=True, **WINDOWS)
        plain = measure_outcomes(journeys, activity, day, **WINDOWS)
        pd.testing.assert_frame_equal(typed, plain, check_exact=True)

        keyed, unkeyed = atoms_of({day: typed}), atoms_of({day: typed.drop(columns=FIXED_KEY)})
        pd.testing.assert_frame_equal(keyed.frame, unkeyed.frame, check_exact=True)
        np.testing.assert_array_equal(keyed.totals, unkeyed.totals)
        assert len(keyed.frame) > 10


def test_atoms_key_on_a_fixed_key_only_when_every_day_has_one() -> None:
    """Days measured apart (one with the key, one without) still make the atoms of their columns."""
    decisions, touches, activity = _world(0)
    log = JourneyLog.of(touches, decisions)
    days = [(START + timedelta(days=k)).date() for k in (5, 9)]
    outcomes = {day: measure_outcomes(log.as_of(day), activity, day, typed=True, **WINDOWS) for day in days}
    mixed = {days[0]: outcomes[days[0]], days[1]: outcomes[days[1]].drop(columns=FIXED_KEY)}
    plain = {day: frame.drop(columns=FIXED_KEY) for day, frame in outcomes.items()}
    pd.testing.assert_frame_equal(atoms_of(mixed).frame, atoms_of(plain).frame, check_exact=True)
