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
