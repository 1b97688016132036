"""The id lookups the planner uses instead of pandas' merges and isin give what those give."""

from __future__ import annotations

import numpy as np
import pandas as pd

from orchestration.ids import is_in, looked_up, positions, take_rows


def test_positions_are_the_first_or_last_occurrence_and_minus_one_for_absent_or_missing_ids() -> None:
    among = pd.Series(["a", "b", None, "a", "c"])
    values = pd.Series(["a", "x", None, "c", "b", "a"])
    assert positions(values, among).tolist() == [0, -1, -1, 4, 1, 0]
    assert positions(values, among, last=True).tolist() == [3, -1, -1, 4, 1, 3]
    assert positions(pd.Series([], dtype=object), among).tolist() == []
    assert positions(values, pd.Series([], dtype=object)).tolist() == [-1] * 6


def test_positions_agree_with_an_index_lookup_on_many_ids() -> None:
    rng = np.random.default_rng(3)
    among = pd.Series([f"u{i:06d}" for i in rng.permutation(50_000)], dtype="str")
    values = pd.Series([f"u{i:06d}" for i in rng.integers(0, 80_000, 20_000)], dtype="str")
    assert np.array_equal(positions(values, among), pd.Index(among).get_indexer(values))


def test_is_in_matches_text_only_and_never_a_missing_value() -> None:
    values = pd.Series(["push", None, "sms", np.nan, "call"], dtype=object)
    assert is_in(values, ["push", "call"]).tolist() == [True, False, False, False, True]
    assert is_in(pd.Series(["a", "b"], dtype="str"), np.array(["b"], dtype=object)).tolist() == [False, True]
    assert is_in(pd.Series(["a", None], dtype="str"), pd.Series(["a", None], dtype="str")).tolist() == [True, False]
    # a Series' unique(): an Arrow-backed array, taken as it is
    assert is_in(pd.Series(["a", None, "c"], dtype="str"), pd.Series(["c", None, "c"], dtype="str").unique()).tolist() == [
        False, False, True]
    # A column that is not text (all missing, read as floats) matches nothing, as pandas' isin says.
    assert is_in(pd.Series([np.nan, np.nan]), ["a"]).tolist() == [False, False]


def test_taking_rows_types_the_missing_ones_as_a_left_merge_does() -> None:
    right = pd.DataFrame({"key": [1, 2], "flag": [True, False], "name": ["p", "q"], "count": [1, 2]})
    left = pd.DataFrame({"key": [2, 9, 1]})
    merged = left.merge(right, on="key", how="left")
    taken = take_rows(right.drop(columns="key"), positions(left["key"], right["key"]))
    pd.testing.assert_frame_equal(pd.concat([left, taken], axis=1), merged)


def test_looked_up_reads_each_value_in_the_mapping_and_the_default_elsewhere() -> None:
    values = pd.Series(["push", None, "sms", "fax", "push"], dtype="str")
    assert looked_up(values, {"push": 0.01, "sms": 0.05}, 0.0).tolist() == [0.01, 0.0, 0.05, 0.0, 0.01]
    assert np.isnan(looked_up(values, {"push": 1})[[1, 3]]).all()  # NaN by default
    assert looked_up(pd.Series([], dtype=object), {"push": 1.0}, 0.0).tolist() == []
    assert looked_up(values, {"push": 0.01, "sms": 0.05}, 0.0).tolist() == \
        values.map({"push": 0.01, "sms": 0.05}).fillna(0.0).tolist()


def test_positions_of_ids_that_are_not_text_are_found_too() -> None:
    among = pd.Series([10, 20, 10, 30])
    values = pd.Series([10, 40, 30])
    assert positions(values, among).tolist() == [0, -1, 3]
    assert positions(values, among, last=True).tolist() == [2, -1, 3]


def test_positions_of_object_and_arrow_text_agree() -> None:
    among = pd.Series(["a", None, "b", "a"], dtype=object)
    values = pd.Series(["a", "b", None, "z"], dtype="str")
    assert positions(values, among).tolist() == [0, 2, -1, -1]
    assert positions(values, among, last=True).tolist() == [3, 2, -1, -1]
