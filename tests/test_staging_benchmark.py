"""`churn-recall benchmark-staging` runs end to end on a tiny app and times what it says it times."""

from pathlib import Path

from orchestration.ingestion.benchmark import run_staging_benchmark


def test_the_staging_benchmark_times_a_landing_day_and_both_contract_engines(tmp_path: Path, capsys) -> None:
    figures = run_staging_benchmark(200, 3, home=tmp_path)
    assert figures["events"] > 0
    assert all(figures[key] > 0 for key in ("ingestion_seconds", "staging_seconds", "contract_sql_seconds",
                                            "contract_gx_seconds"))
    assert "events contract, whole day in SQL" in capsys.readouterr().out
