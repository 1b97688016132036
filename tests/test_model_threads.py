"""Model fits and predictions use one OpenMP thread unless the process allows more (the demo does)."""

import pytest
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: F401  (loads scikit-learn's OpenMP runtime)
from threadpoolctl import threadpool_info

from orchestration.config.threads import fitting_threads, model_threads


def _openmp_threads() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "openmp"}


def test_fits_use_one_thread_unless_the_process_allows_more() -> None:
    if not _openmp_threads():
        pytest.skip("this scikit-learn build has no OpenMP runtime: nothing to limit")
    with fitting_threads():
        assert _openmp_threads() == {1}
    with model_threads(2), fitting_threads():
        assert _openmp_threads() == {2}
    with model_threads(0), fitting_threads():  # never fewer than one
        assert _openmp_threads() == {1}
    with fitting_threads():  # the allowance ends with its block
        assert _openmp_threads() == {1}


def test_side_by_side_fits_share_the_allowed_threads_each_in_its_own_worker() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from orchestration.config.threads import worker_threads

    assert worker_threads(2) == 1  # one allowed: each worker still fits on one
    with model_threads(4):
        assert worker_threads(2) == 2 and worker_threads(3) == 1
    if not _openmp_threads():
        pytest.skip("this scikit-learn build has no OpenMP runtime: nothing to limit")

    def inside(threads: int) -> set[int]:
        with fitting_threads(threads):
            return _openmp_threads()

    with ThreadPoolExecutor(max_workers=1) as pool:  # the setting holds in the thread that enters it
        assert pool.submit(inside, 1).result() == {1}


def test_large_predictions_run_in_blocks_side_by_side_with_the_same_values() -> None:
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingRegressor

    from orchestration.config.threads import SIDE_BY_SIDE, SPLIT_FROM_ROWS, predict_side_by_side

    rng = np.random.default_rng(0)
    x = rng.normal(size=(SPLIT_FROM_ROWS + 1001, 4))
    model = HistGradientBoostingRegressor(max_iter=20).fit(x[:2000], x[:2000, 0] * 2 + rng.normal(size=2000))
    calls: list[int] = []

    def predict(rows: np.ndarray) -> np.ndarray:
        calls.append(len(rows))
        return model.predict(rows)

    assert np.array_equal(predict_side_by_side(predict, x), model.predict(x))  # the rows back in their order
    assert len(calls) == SIDE_BY_SIDE and sum(calls) == len(x)
    calls.clear()
    assert np.array_equal(predict_side_by_side(predict, x[:100]), model.predict(x[:100])) and calls == [100]
