"""Tests of the behaviour segments: window features, deterministic k-means, one-to-one cluster naming, weekly
cadence, agreement measures, and the user_segments asset over a small warehouse."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.evaluation.segment_agreement import adjusted_rand_index, segment_agreement
from orchestration.segments import (
    UNCLASSIFIED,
    assign_segments,
    kmeans,
    name_clusters,
    refresh_day,
    window_totals,
    window_totals_from_rows,
    write_segment_days,
)

START = date(2026, 1, 1)
# Per archetype: mean core-feature, social, other in-session events per active day and coupon probability.
ARCHETYPES = {
    "price_sensitive": dict(core=1.0, social=0.3, other=4.0, coupon=0.6, order=0.5, amount=40.0),
    "feature_dependent": dict(core=4.0, social=0.3, other=2.0, coupon=0.05, order=0.3, amount=90.0),
    "social_driven": dict(core=1.0, social=3.0, other=2.0, coupon=0.1, order=0.3, amount=60.0),
}


def synthetic_activity(n_per_segment: int = 150, days: int = 70, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """int_user_daily_activity rows for users of known archetypes, plus a few barely active users."""
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    uid = 0
    for segment, p in ARCHETYPES.items():
        for _ in range(n_per_segment):
            uid += 1
            user = f"u{uid:07d}"
            truth.append((user, segment))
            for d in np.flatnonzero(rng.random(days) < 0.5):
                core, social, other = rng.poisson(p["core"]), rng.poisson(p["social"]), rng.poisson(p["other"])
                orders = int(rng.random() < p["order"])
                coupon = int(orders and rng.random() < p["coupon"])
                sessions = 1 + rng.poisson(0.5)
                rows.append((user, START + timedelta(days=int(d)), sessions, sessions + core + social + other + orders,
                             orders, orders, orders * rng.lognormal(np.log(p["amount"]), 0.3), core,
                             min(core, 3), social, coupon, 0))
    for extra in range(5):  # one active day each: too little to classify
        rows.append((f"u{uid + extra + 1:07d}", START + timedelta(days=60), 1, 3, 0, 0, 0.0, 1, 1, 0, 0, 0))
    columns = ["user_id", "activity_date", "sessions", "events", "key_actions", "orders", "revenue",
               "core_feature_events", "distinct_features", "social_events", "coupon_orders", "device_changes"]
    return pd.DataFrame(rows, columns=columns), pd.DataFrame(truth, columns=["user_id", "segment"])


@pytest.fixture(scope="module")
def activity() -> tuple[pd.DataFrame, pd.DataFrame]:
    return synthetic_activity()


def test_window_totals_in_sql_equal_the_pandas_totals(activity) -> None:
    rows, _ = activity
    con = duckdb.connect()
    con.register("int_user_daily_activity", rows)
    as_of = START + timedelta(days=65)
    in_sql = window_totals(con, as_of, 56)
    in_pandas = window_totals_from_rows(rows, as_of, 56)
    pd.testing.assert_frame_equal(in_sql.reset_index(drop=True), in_pandas, check_dtype=False, atol=1e-9)
    day = pd.to_datetime(rows["activity_date"]).dt.date
    inside = rows[(day > as_of - timedelta(days=56)) & (day <= as_of)]
    assert in_sql["active_days"].sum() == len(inside)


def test_segments_recover_the_archetypes_and_leave_sparse_users_unclassified(activity) -> None:
    rows, truth = activity
    as_of = START + timedelta(days=65)
    segments = assign_segments(window_totals_from_rows(rows, as_of, 56), as_of, 56)
    assert segments["user_id"].is_unique and (segments["segment_date"] == as_of).all()
    agreement = segment_agreement(segments, truth)
    assert agreement["accuracy"] > 0.95 and agreement["adjusted_rand_index"] > 0.85
    sparse = segments[~segments["user_id"].isin(truth["user_id"])]
    assert len(sparse) == 5 and (sparse["segment"] == UNCLASSIFIED).all() and sparse["cluster"].isna().all()
    assert set(segments["segment"]) == {"price_sensitive", "feature_dependent", "social_driven", UNCLASSIFIED}


def test_segments_are_deterministic_whatever_the_row_order(activity) -> None:
    rows, _ = activity
    as_of = START + timedelta(days=65)
    first = assign_segments(window_totals_from_rows(rows, as_of, 56), as_of, 56)
    shuffled = rows.sample(frac=1.0, random_state=3)
    second = assign_segments(window_totals_from_rows(shuffled, as_of, 56), as_of, 56)
    pd.testing.assert_frame_equal(first, second)


def test_kmeans_is_seeded_and_finds_separated_blobs() -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    points = np.concatenate([c + rng.normal(0, 0.5, (100, 2)) for c in centres])
    labels, found = kmeans(points, 3)
    again, _ = kmeans(points, 3)
    assert (labels == again).all()
    assert adjusted_rand_index(labels, np.repeat([0, 1, 2], 100)) == pytest.approx(1.0)
    assert np.allclose(np.sort(found[:, 0]), np.sort(centres[:, 0]), atol=0.3)


def _plain_lloyd(points: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's algorithm as written in a textbook, with kmeans' seeding, starts and stopping rule: the oracle."""
    from orchestration.segments.clustering import MAX_ITER, N_INIT, SEED, _plus_plus

    rng, best = np.random.default_rng(SEED), None
    for _ in range(N_INIT):
        centroids, labels = _plus_plus(points, k, rng), np.zeros(len(points), np.int64)
        for _ in range(MAX_ITER):
            new = ((points[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
            centroids = np.array([points[new == c].mean(axis=0) if (new == c).any() else centroids[c]
                                  for c in range(k)])
            if (new == labels).all():
                break
            labels = new
        inertia = float(((points - centroids[labels]) ** 2).sum())
        if best is None or inertia < best[0]:
            best = (inertia, labels, centroids)
    return best[1], best[2]


def test_kmeans_is_lloyds_algorithm() -> None:
    # overlapping blobs, with repeated points (ties between centroids are decided alike)
    rng = np.random.default_rng(7)
    points = np.concatenate([rng.normal(c, 1.5, (400, 5)) for c in (0.0, 1.0, 2.5)])
    points = np.concatenate([points, points[:50], np.zeros((20, 5))])
    labels, centroids = kmeans(points, 3)
    expected_labels, expected_centroids = _plain_lloyd(points, 3)
    assert (labels == expected_labels).all()
    # the same sums in the same order; compared with a tolerance all the same, so no processor's float can fail it
    assert np.allclose(centroids, expected_centroids, rtol=1e-12, atol=0.0)
    # a point as near to two centroids goes to the first of them, as argmin has it
    from orchestration.segments.clustering import _nearest

    centres = np.array([[5.0, 0.0], [1.0, 0.0], [-1.0, 0.0]])
    assert _nearest([np.array([0.0, 4.0]), np.array([0.0, 0.0])], centres).tolist() == [1, 0]


def test_names_are_matched_one_to_one_to_dominant_traits() -> None:
    # Cluster 0 is highest on coupon AND core; core is its best fit only if cluster 1 did not need it more.
    centroids = np.array([[1.5, 1.2, -0.5], [-0.8, 2.0, -0.3], [-0.4, -0.9, 1.8]])
    assert name_clusters(centroids) == ["price_sensitive", "feature_dependent", "social_driven"]
    assert sorted(name_clusters(centroids[[2, 0, 1]])) == ["feature_dependent", "price_sensitive", "social_driven"]
    assert name_clusters(centroids[[2, 0, 1]]) == ["social_driven", "price_sensitive", "feature_dependent"]


def test_refresh_day_is_the_monday_on_or_before_and_never_before_the_first_day() -> None:
    assert refresh_day(date(2026, 1, 14)) == date(2026, 1, 12)  # a Wednesday -> Monday
    assert refresh_day(date(2026, 1, 12)) == date(2026, 1, 12)
    assert refresh_day(date(2026, 1, 3), first_day=date(2026, 1, 1)) == date(2026, 1, 1)  # first week
    assert refresh_day(date(2026, 1, 6), first_day=date(2026, 1, 1)) == date(2026, 1, 5)


def test_adjusted_rand_index_known_values() -> None:
    a = np.array([0, 0, 1, 1, 2, 2])
    assert adjusted_rand_index(a, a) == pytest.approx(1.0)
    assert adjusted_rand_index(a, np.array([5, 5, 3, 3, 4, 4])) == pytest.approx(1.0)  # names do not matter
    assert adjusted_rand_index(np.array([0, 0, 0, 1, 1, 1]), np.array([0, 1, 2, 0, 1, 2])) < 0.0


def test_user_segments_asset_refits_on_mondays_and_carries_the_week(activity, tmp_path: Path) -> None:
    from dagster import materialize

    from orchestration.config import Settings
    from orchestration.defs.partitions import daily_partitions
    from orchestration.defs.resources import resources as pipeline_resources
    from orchestration.defs.segments.assets import segment_assets

    rows, _ = activity
    settings = Settings.under(tmp_path)
    first = settings.start_date
    [user_segments] = segment_assets(daily_partitions(first))
    rows = rows.assign(activity_date=rows["activity_date"] + (first - START))
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.register("frame", rows)
        con.execute("create table int_user_daily_activity as select * from frame")
    days = [first + timedelta(days=60 + k) for k in range(9)]
    keys = [d.isoformat() for d in days]
    resources = pipeline_resources(settings)
    # Two runs out of order: the later days first, then the earlier ones; the result must not depend on it.
    for part in (keys[4:], keys[:4]):
        for key in part:
            assert materialize([user_segments], partition_key=key, resources=resources).success
    with duckdb.connect(str(path), read_only=True) as con:
        stored = con.execute("select * from user_segments order by segment_date, user_id").df()
    stored["segment_date"] = pd.to_datetime(stored["segment_date"]).dt.date
    stored["refreshed_on"] = pd.to_datetime(stored["refreshed_on"]).dt.date
    assert sorted(set(stored["segment_date"])) == days
    assert (stored["refreshed_on"] == stored["segment_date"].map(lambda d: refresh_day(d, first))).all()
    assert stored["refreshed_on"].nunique() == 2 and (pd.to_datetime(stored["refreshed_on"]).dt.weekday == 0).all()
    for monday, week in stored.groupby("refreshed_on"):
        per_day = [g.drop(columns="segment_date").reset_index(drop=True) for _, g in week.groupby("segment_date")]
        for other in per_day[1:]:
            pd.testing.assert_frame_equal(per_day[0], other, check_dtype=False)
        expected = assign_segments(window_totals_from_rows(rows, monday, 56), monday, 56)
        got = week[week["segment_date"] == week["segment_date"].min()].reset_index(drop=True)
        assert (got["segment"].to_numpy() == expected["segment"].to_numpy()).all()


def _activity_warehouse(rows: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.register("frame", rows)
    con.execute("create table int_user_daily_activity as select * from frame")
    con.unregister("frame")
    return con


def _segments(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("select * from user_segments order by segment_date, user_id").df()


def test_a_range_of_days_is_written_as_its_days_one_at_a_time(activity) -> None:
    rows, _ = activity
    # Thursday 2026-02-26 .. Thursday 2026-03-12: the week of Monday 02-23 (not in the range, not stored), then the
    # Mondays 03-02 and 03-09, which are.
    days = [START + timedelta(days=56 + k) for k in range(15)]
    at_once, one_by_one = _activity_warehouse(rows), _activity_warehouse(rows)
    assert write_segment_days(at_once, days, START) == 3  # one clustering per refresh day
    for day in reversed(days):
        write_segment_days(one_by_one, [day], START)
    pd.testing.assert_frame_equal(_segments(at_once), _segments(one_by_one))
    stored = _segments(at_once)
    assert sorted(set(stored["segment_date"].dt.date)) == days
    assert set(stored["refreshed_on"].dt.date) == {date(2026, 2, 23), date(2026, 3, 2), date(2026, 3, 9)}


def test_a_range_copies_the_stored_rows_of_an_earlier_refresh_day_and_reclusters_its_own(activity) -> None:
    rows, _ = activity
    con = _activity_warehouse(rows)
    monday, next_monday = date(2026, 3, 2), date(2026, 3, 9)
    write_segment_days(con, [monday, next_monday], START)
    # Rows stored for both Mondays, marked: the range's days of the first week copy them as stored, while the second
    # Monday, in the range, is clustered again.
    con.execute("update user_segments set segment = 'stored'")
    days = [monday + timedelta(days=k) for k in range(1, 9)]  # Tuesday .. the next Tuesday
    assert write_segment_days(con, days, START) == 1
    stored = _segments(con)
    stored["segment_date"] = stored["segment_date"].dt.date
    first_week = stored[stored["segment_date"].between(days[0], days[5])]
    assert len(first_week) == 6 * (stored["segment_date"] == monday).sum() and (first_week["segment"] == "stored").all()
    second_week = stored[stored["segment_date"] >= next_monday]
    assert (second_week["segment"] != "stored").all()
    assert (second_week.groupby("segment_date").size() == (stored["segment_date"] == monday).sum()).all()
