"""Connections to the warehouse: created on demand, with the configured DuckDB memory limit."""

from orchestration.warehouse import connect


def test_connection_creates_the_file_and_applies_the_memory_limit(tmp_path):
    path = tmp_path / "nested" / "warehouse.duckdb"
    with connect(path, memory_limit="512MB") as con:
        limit = con.execute("select current_setting('memory_limit')").fetchall()[0][0]
    assert path.is_file() and limit == "488.2 MiB"  # 512 MB in MiB
