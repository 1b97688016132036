"""Cohort membership (measurement/cohorts.py): which journeys each level copies, and the side and value it gives them."""

from __future__ import annotations

from datetime import date

import pandas as pd

from orchestration.measurement.cohorts import ALL, CONTROL, NO_SIDE, SRM_GLOBAL, TREATED, expand_cohorts

AS_OF = pd.Timestamp("2026-04-30")


def journeys(*rows: tuple) -> pd.DataFrame:
    """(assignment day, strategy, arm, holdout, step variant, channel, first journey) per journey, as of AS_OF."""
    frame = pd.DataFrame(rows, columns=["assignment_date", "strategy_id", "arm", "holdout", "step_variant", "channel",
                                        "first_journey"])
    return frame.assign(_as_of=AS_OF, lifecycle_stage="dormant", value_tier=None, segment=None, _wake_closed=True,
                        first_journey=frame["first_journey"].astype("boolean"), _row=range(len(frame)))


THURSDAY, OTHER_DAY = date(2026, 4, 2), date(2026, 4, 3)
FRAME = journeys(
    (THURSDAY, "s1", "treatment", None, "a", "push", True),
    (THURSDAY, "s1", "treatment", None, "b", "sms", True),
    (THURSDAY, "s1", "treatment", None, "c", "push", False),
    (THURSDAY, "s1", "control", "strategy", None, None, True),
    (THURSDAY, "s1", "control", "global", None, None, True),
    (OTHER_DAY, "s1", "control", "strategy", None, None, True),
)


def level(long: pd.DataFrame, name: str) -> pd.DataFrame:
    return long.loc[long["cohort_level"] == name]


def test_a_variant_is_compared_with_its_campaigns_whole_holdout() -> None:
    sliced = level(expand_cohorts(FRAME), "step_variant")
    # each variant's own journey, and the campaign's strategy holdout copied once per variant; the global holdout
    # takes no side in a strategy's comparison, and another day's campaign lends none of its holdout
    assert sorted(zip(sliced["cohort_value"], sliced["_row"], sliced["_side"])) == [
        ("a", 0, TREATED), ("a", 3, CONTROL), ("b", 1, TREATED), ("b", 3, CONTROL), ("c", 2, TREATED),
        ("c", 3, CONTROL)]
    assert (sliced["cohort_value"] == sliced["step_variant"]).all()  # the holdout's copy carries the variant


def test_a_first_channel_is_compared_with_the_whole_holdout_and_keeps_the_journeys_own_variant() -> None:
    channel = level(expand_cohorts(FRAME), "channel")
    assert sorted(zip(channel["cohort_value"], channel["_row"])) == [("push", 0), ("push", 2), ("push", 3),
                                                                     ("sms", 1), ("sms", 3)]
    assert channel.loc[channel["_row"] == 3, "step_variant"].isna().all()


def test_variants_are_contrasted_with_the_first_by_name() -> None:
    contrast = level(expand_cohorts(FRAME), "variant_contrast")
    assert sorted(zip(contrast["cohort_value"], contrast["_row"], contrast["_side"])) == [
        ("b vs a", 0, CONTROL), ("b vs a", 1, TREATED), ("c vs a", 0, CONTROL), ("c vs a", 2, TREATED)]


def test_weeks_start_on_monday_and_pool_strategies_but_not_strata() -> None:
    week = level(expand_cohorts(FRAME), "week")
    assert set(week["period"]) == {pd.Timestamp("2026-03-30")}  # the Monday before Thursday 2 April
    assert set(week["s_date"]) == {pd.Timestamp(THURSDAY), pd.Timestamp(OTHER_DAY)}  # a stratum per campaign
    assert sorted(week["strategy_id"].value_counts().items()) == [(ALL, len(FRAME)), ("s1", len(FRAME))]


def test_the_programme_compares_first_journeys_with_the_global_holdout() -> None:
    programme = level(expand_cohorts(FRAME), "programme_week")
    assert sorted(programme["_row"]) == [0, 1, 3, 4, 5]  # first journeys only
    held = programme.set_index("_row")
    assert held.at[4, "_side"] == CONTROL and held.at[4, "_srm"] == SRM_GLOBAL
    assert (held.drop(index=4)["_side"] == TREATED).all()
    assert set(programme["strategy_id"]) == {ALL} and set(programme["s_date"]) == {pd.Timestamp("2026-03-30")}
    campaign = level(expand_cohorts(FRAME), "campaign").set_index("_row")
    assert campaign.at[4, "_side"] == NO_SIDE


def test_without_a_global_holdout_there_is_no_programme() -> None:
    assert level(expand_cohorts(FRAME.loc[FRAME["holdout"] != "global"]), "programme_week").empty


def test_no_journey_gives_the_typed_empty_table() -> None:
    empty = expand_cohorts(FRAME.iloc[:0])
    assert empty.empty and str(empty["cohort_value"].dtype) == "str" and empty["_side"].dtype == "int64"


def test_journeys_read_in_parts_expand_as_read_at_once() -> None:
    # concatenated frames hold their text in several Arrow chunks
    parts = pd.concat([FRAME.iloc[:3], FRAME.iloc[3:]], ignore_index=True)
    pd.testing.assert_frame_equal(expand_cohorts(parts), expand_cohorts(FRAME))
