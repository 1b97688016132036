"""The malformed-input corpus (tests/input_corpus.py: well over 30 kinds of bad rows and file faults in
Parquet, CSV and JSON lines, across the three feeds) through the whole daily pipeline: no crash, every
bad row quarantined with its reason, every good row accepted, raw = accepted + quarantined per feed and
day, and days where nothing arrived recorded as such without losing earlier rows."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.config import Settings
from orchestration.runner import run_days
from tests.input_corpus import COLUMNS, DAYS, Expected, write_corpus

pytestmark = pytest.mark.duration(40)  # builds its world through the pipeline: scheduled first
STAGED = {
    "events": ("stg_events", "quarantine_events", "raw_events"),
    "users": ("stg_users", "quarantine_users", "restricted.raw_users"),
    "recall_touches": ("stg_recall_touches", "quarantine_recall_touches", "raw_recall_touches"),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Expected]:
    home = tmp_path_factory.mktemp("corpus")
    expected = write_corpus(home / "landing")
    settings = Settings.under(home)
    result = run_days(settings, DAYS[0], DAYS[-1], raise_on_error=False)
    failures = [e.step_failure_data.error.to_string() for e in result.all_events if e.is_step_failure]
    assert result.success, f"the corpus crashed the run: {failures}"
    return settings, expected


def _connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(settings.warehouse), read_only=True)


def test_the_corpus_covers_well_over_thirty_kinds(corpus) -> None:
    _, expected = corpus
    assert len(expected.kinds()) >= 50  # (feed, reason) and (feed, file fault) pairs
    formats = {file.rsplit(".", 1)[1] for rows in expected.rows.values() for file, _ in rows}
    assert formats == {"parquet", "csv", "jsonl"}


@pytest.mark.parametrize("feed", list(STAGED))
def test_every_row_is_accepted_or_quarantined_with_its_reason(corpus, feed: str) -> None:
    settings, expected = corpus
    stg, quarantine, _ = STAGED[feed]
    with _connect(settings) as con:
        accepted = {(f, n): None for f, n in con.execute(f"select _source_file, _row_number from {stg}").fetchall()}
        rejected = {(f, n): r for f, n, r in con.execute(
            f"select _source_file, _row_number, reject_reason from {quarantine}").fetchall()}
    assert not set(accepted) & set(rejected)
    got = {**accepted, **rejected}
    wrong = {key: (want, got.get(key, "<missing>")) for key, want in expected.rows[feed].items() if got.get(key, "<missing>") != want}
    assert wrong == {}, f"(file, row): (expected, got) for {feed}"
    assert set(got) == set(expected.rows[feed])  # nothing else appeared


@pytest.mark.parametrize("feed", list(STAGED))
def test_raw_equals_accepted_plus_quarantined_every_day(corpus, feed: str) -> None:
    settings, _ = corpus
    stg, quarantine, raw = STAGED[feed]
    with _connect(settings) as con:
        mismatches = con.execute(f"""
            with raw as (select _landing_date, count(*) as n from {raw} group by 1),
            kept as (select _landing_date, count(*) as n from (
                select _landing_date from {stg} union all select _landing_date from {quarantine}) group by 1)
            select * from raw full join kept using (_landing_date) where raw.n is distinct from kept.n""").fetchall()
    assert mismatches == []


def test_file_faults_are_recorded_per_feed_and_day(corpus) -> None:
    settings, expected = corpus
    with _connect(settings) as con:
        logged = {(feed, day): status for feed, day, status in con.execute(
            "select feed, landing_date, status from raw_landing_log").fetchall()}
    assert {key: logged.get(key) for key in expected.landing_status} == expected.landing_status
    assert len(logged) == len(STAGED) * len(DAYS)  # a record for every feed and day


def test_a_future_profile_does_not_mask_a_later_opt_out(corpus) -> None:
    settings, _ = corpus
    with _connect(settings) as con:
        assert con.execute("select sms_opt_in from stg_users where user_id = 'u1'").fetchall() == [(False,)]


def test_a_later_empty_file_keeps_the_days_rows(corpus) -> None:
    settings, _ = corpus
    day = DAYS[1]
    with _connect(settings) as con:
        before = con.execute("select count(*) from stg_events where _landing_date = ?", [day]).fetchall()[0][0]
    path = Path(settings.landing) / day.isoformat() / "events.csv"
    original = path.read_bytes()
    path.write_text(",".join(COLUMNS["events"]) + "\n")
    try:
        assert run_days(settings, day, day).success
    finally:
        path.write_bytes(original)
    with _connect(settings) as con:
        after = con.execute("select count(*) from stg_events where _landing_date = ?", [day]).fetchall()[0][0]
        status, detail = con.execute("select status, detail from raw_landing_log where feed = 'events' "
                                     "and landing_date = ?", [day]).fetchall()[0]
    assert before > 0 and after == before
    assert status == "empty_file" and "kept the" in detail
