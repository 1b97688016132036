"""Overlapping a loop's next item with this one: a range run works day by day, and what a day reads or computes
without the previous day's result can be under way in a thread while the caller works on the previous day (DuckDB's
queries and many numpy and pandas calls release the GIL, so the second core gets work)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

Item, Result = TypeVar("Item"), TypeVar("Result")


def prefetched(items: Iterable[Item], compute: Callable[[Item], Result]) -> Iterator[Result]:
    """compute(item) for each item, in order, the next one computed in a thread while the caller works on this
    one's result. One result ahead at most, so memory holds one more item's result. Each item is computed exactly
    as it would be alone; an error in the thread is raised to the caller when it asks for that item."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch") as pool:
        pending: Future[Result] | None = None
        for item in items:
            ahead = pool.submit(compute, item)
            if pending is not None:
                yield pending.result()
            pending = ahead
        if pending is not None:
            yield pending.result()
