"""The BI snapshot published to a real PostgreSQL server (Debian's postgresql package, started here in
a private folder; skipped, saying why, where it cannot start): the same tables, no personal data, a
reader holding the previous version keeps it and does not fail the publication, a view of the
user's is never dropped."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from orchestration.bi import BI_TABLES, SNAPSHOT_TABLE, publish_snapshot
from orchestration.bi.postgres import SCHEMA, publish_to_postgres
from tests.test_bi_snapshot import SECRETS, build_warehouse

psycopg = pytest.importorskip("psycopg")


def postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    candidates = [found] if found else sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).resolve().parent if candidates else None


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    binaries = postgres_bin()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql; .ci/run does it)")
    # PostgreSQL refuses to run as root: run it as the package's `postgres` user in a folder it owns.
    as_user: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="churn-recall-pg-"))
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL as its own user")
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, socket_dir = root / "data", root
    try:
        init = subprocess.run([*as_user, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
                              capture_output=True, text=True)
        if init.returncode != 0:
            pytest.skip(f"initdb failed, PostgreSQL cannot start here: {init.stderr.strip()[-300:]}")
        start = subprocess.run(
            [*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w", "-o",
             f"-k {socket_dir} -c listen_addresses='' -p 5432", "start"], capture_output=True, text=True)
        if start.returncode != 0:
            log = (root / "server.log").read_text() if (root / "server.log").exists() else start.stderr
            pytest.skip(f"PostgreSQL did not start: {log.strip()[-300:]}")
        yield f"postgresql://postgres@/postgres?host={socket_dir}&port=5432"
        subprocess.run([*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def snapshot_file(tmp_path: Path, days: int) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    build_warehouse(tmp_path / "warehouse.duckdb", days=days)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        return publish_snapshot(con, tmp_path / "bi").database


def published_id(url: str) -> str:
    with psycopg.connect(url) as pg:
        return pg.execute(f"select min(snapshot_id) from {SCHEMA}.{SNAPSHOT_TABLE}").fetchone()[0]


def test_the_snapshot_reaches_postgres_whole_and_without_personal_data(tmp_path, postgres_url):
    outcome = publish_to_postgres(snapshot_file(tmp_path, days=3), postgres_url)
    assert outcome.published, outcome.detail
    assert outcome.rows == {**{t.name: 3 for t in BI_TABLES}, SNAPSHOT_TABLE: len(BI_TABLES)}
    with psycopg.connect(postgres_url) as pg:
        for table in BI_TABLES:
            columns = [c for (c,) in pg.execute(
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s "
                "order by ordinal_position", [SCHEMA, table.name]).fetchall()]
            assert columns == list(table.columns)
            values = {str(v) for row in pg.execute(f'select * from {SCHEMA}."{table.name}"').fetchall() for v in row}
            assert len(values) > 1 and not values & set(SECRETS.values()), table.name
        assert pg.execute(f"select max(latest_day) from {SCHEMA}.{SNAPSHOT_TABLE}").fetchone()[0].isoformat() == "2026-01-03"
        schemas = {s for (s,) in pg.execute("select nspname from pg_namespace").fetchall()}
    assert f"{SCHEMA}_next" not in schemas and not list((tmp_path / "bi").glob(".*"))


def test_a_reader_holding_the_previous_version_keeps_it_and_the_next_publication_lands(tmp_path, postgres_url):
    first_file = snapshot_file(tmp_path / "first", days=2)
    assert publish_to_postgres(first_file, postgres_url).published
    first = published_id(postgres_url)
    reader = psycopg.connect(postgres_url)
    reader.execute("begin isolation level repeatable read")
    assert reader.execute(f"select count(*) from {SCHEMA}.risk_tiers").fetchone()[0] == 2

    second_file = snapshot_file(tmp_path / "second", days=3)
    held = publish_to_postgres(second_file, postgres_url, lock_timeout_seconds=0.3, attempts=2)
    assert not held.published and "readers held" in held.detail
    assert reader.execute(f"select count(*) from {SCHEMA}.risk_tiers").fetchone()[0] == 2  # still whole
    assert published_id(postgres_url) == first
    reader.rollback()
    reader.close()

    assert publish_to_postgres(second_file, postgres_url).published
    with psycopg.connect(postgres_url) as pg:
        assert pg.execute(f"select count(*) from {SCHEMA}.risk_tiers").fetchone()[0] == 3


def test_a_view_of_the_users_is_never_dropped(tmp_path, postgres_url):
    snapshot = snapshot_file(tmp_path, days=2)
    assert publish_to_postgres(snapshot, postgres_url).published
    with psycopg.connect(postgres_url, autocommit=True) as pg:
        pg.execute(f"create view public.my_tiers as select user_id from {SCHEMA}.risk_tiers")
        kept = publish_to_postgres(snapshot, postgres_url)
        assert not kept.published and "my_tiers" in kept.detail
        assert len(pg.execute("select * from public.my_tiers").fetchall()) == 2
        pg.execute("drop view public.my_tiers")
    assert publish_to_postgres(snapshot, postgres_url).published


def test_the_postgres_asset_exists_only_when_configured(tmp_path):
    from dagster import AssetKey

    from orchestration.config import Settings
    from orchestration.defs.bi.assets import bi_postgres_assets

    [asset] = bi_postgres_assets(Settings.under(tmp_path, bi_postgres_url="postgresql://bi@localhost:5432/analytics"))
    assert asset.key == AssetKey("bi_postgres") and AssetKey("bi_snapshot") in asset.dependency_keys
    assert bi_postgres_assets(Settings.under(tmp_path)) == []
    with pytest.raises(ValueError, match="must be a PostgreSQL URL"):
        Settings.under(tmp_path, bi_postgres_url="mysql://x")
