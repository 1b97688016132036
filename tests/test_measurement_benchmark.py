"""`churn-recall benchmark-measurement` says what is missing instead of failing inside the measurement."""

from pathlib import Path

import duckdb
import pytest

from orchestration.config import Settings
from orchestration.measurement.benchmark import run_measurement_benchmark


def test_the_benchmark_names_what_it_needs(tmp_path: Path) -> None:
    settings = Settings.under(tmp_path)
    with pytest.raises(SystemExit, match="no warehouse at .*churn-recall demo"):
        run_measurement_benchmark(settings)
    duckdb.connect(str(settings.warehouse)).close()
    with pytest.raises(SystemExit, match="no measured day"):
        run_measurement_benchmark(settings)
    with pytest.raises(SystemExit, match="at least 1"):
        run_measurement_benchmark(settings, days=0)
