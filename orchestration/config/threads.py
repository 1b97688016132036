"""How many OpenMP threads the model fits and predictions (scikit-learn's boosting) use.

One by default: a pipeline shares its cores with dbt, DuckDB and other runs, and OpenMP threads competing with
them thrash (a 40,000-row churn fit took 115 s instead of 8.8 s, a 5,000-row uplift fit 14 s instead of 0.5 s, on
a loaded 2-core machine). A process that runs its steps one at a time on an otherwise idle machine (`churn-recall
demo`) allows its cores with `model_threads`: a 100,000-row churn fit then took 0.73-0.78 s on 2 threads against
1.18-1.46 s on one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
from threadpoolctl import threadpool_limits

_allowed: ContextVar[int] = ContextVar("model_threads", default=1)
# Python threads that fit or predict side by side: scikit-learn's boosting releases the GIL in its loops, so two
# calls at once keep two cores busy without OpenMP's threads (which spin while they wait, and thrash when the cores
# are shared).
SIDE_BY_SIDE = 2
# Fewer rows than this are predicted in one call: splitting them costs more than it saves.
SPLIT_FROM_ROWS = 20_000


@contextmanager
def model_threads(threads: int) -> Iterator[None]:
    """Fits and predictions inside this block (in this thread: Dagster's in-process runs) use `threads`."""
    token = _allowed.set(max(1, int(threads)))
    try:
        yield
    finally:
        _allowed.reset(token)


def fitting_threads(threads: int | None = None) -> threadpool_limits:
    """The context every fit and prediction runs in: `threads` OpenMP threads, by default those allowed (one unless
    `model_threads` says otherwise). Entered once per refit or decision (it costs ~10 ms). It holds for the thread
    that enters it: OpenMP keeps the setting per thread."""
    return threadpool_limits(limits=threads or _allowed.get(), user_api="openmp")


def worker_threads(workers: int) -> int:
    """The OpenMP threads each of `workers` fits run side by side may use: the allowed ones shared, at least one (so
    that workers x threads never oversubscribe the cores `model_threads` allowed, beyond one per worker)."""
    return max(1, _allowed.get() // workers)


def predict_side_by_side(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """predict(x), its rows in SIDE_BY_SIDE blocks predicted at once, each on its share of the allowed OpenMP
    threads: the same values (a row's prediction does not depend on the others), on two cores."""
    if len(x) < SPLIT_FROM_ROWS:
        with fitting_threads():
            return predict(x)
    threads = worker_threads(SIDE_BY_SIDE)

    def block(rows: np.ndarray) -> np.ndarray:
        with fitting_threads(threads):  # a worker thread starts with OpenMP's default: every core
            return predict(rows)

    with ThreadPoolExecutor(max_workers=SIDE_BY_SIDE, thread_name_prefix="predict") as pool:
        return np.concatenate(list(pool.map(block, np.array_split(x, SIDE_BY_SIDE))))
