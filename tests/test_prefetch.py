"""prefetched: a loop's next item computed in a thread while the caller works on this one, in order, one ahead at
most, its errors raised to the caller."""

from __future__ import annotations

import threading
import time

import pytest

from orchestration.prefetch import prefetched


def test_the_next_item_is_computed_while_the_caller_works_on_this_one() -> None:
    # prefetched: results in order, the next item's computation under way (in a thread) before the caller is done
    # with the current one's, and never more than one ahead (memory holds one more result, not a range's).
    started: list[int] = []
    next_started = threading.Event()

    def compute(item: int) -> int:
        started.append(item)
        if item == 1:
            next_started.set()
        return item * 10

    results = []
    for result in prefetched(range(4), compute):
        if result == 0:  # item 1 starts without the caller asking for it; item 2 waits until it does
            assert next_started.wait(timeout=10), "the next item was not computed in the background"
            time.sleep(0.2)  # time enough for a prefetcher that ran further ahead to start item 2
        assert len(started) <= result // 10 + 2  # this one and at most one ahead
        results.append(result)
    assert results == [0, 10, 20, 30]
    assert list(prefetched([], compute)) == []


def test_an_error_in_the_background_reaches_the_caller() -> None:
    def compute(item: int) -> int:
        if item == 2:
            raise ValueError("day 2 failed")
        return item

    seen = []
    with pytest.raises(ValueError, match="day 2 failed"):
        for result in prefetched(range(4), compute):
            seen.append(result)
    assert seen == [0, 1]
