"""The benchmark's chunked world: users generated in chunks are moved apart and merged into one
landing file per feed and day, with every id unique."""

from datetime import date

import duckdb

from orchestration.benchmarks import world


def test_chunks_merge_into_one_world_with_unique_ids(tmp_path, monkeypatch):
    monkeypatch.setattr(world, "CHUNK_USER_DAYS", 500)  # 100 users a chunk: three chunks
    landing = tmp_path / "landing"
    landing.mkdir()
    events = world.write_large_world(landing, n_users=300, n_days=5, start=date(2026, 1, 1), progress=lambda _: None)
    assert sorted(p.name for p in landing.iterdir()) == [f"2026-01-0{d}" for d in range(1, 6)]
    with duckdb.connect() as con:
        users = con.execute(f"select count(distinct user_id), min(user_id), max(user_id) "
                            f"from read_parquet('{landing}/*/users.parquet')").fetchall()[0]
        ids = con.execute(f"""select count(*), count(distinct event_id),
                                     count(distinct (event_id, coalesce(user_id, '?'), event_name)),
                                     count(distinct user_id)
                              from read_parquet('{landing}/*/events.parquet')""").fetchall()[0]
    assert users == (300, "u0000001", "u0000300")
    # Repeated event ids are the simulator's deliberate duplicates (copies of one event), never two
    # events of different chunks sharing an id.
    assert ids[0] == events and ids[1] == ids[2] > 0.99 * ids[0]
    assert ids[3] > 200  # events from every chunk's users
