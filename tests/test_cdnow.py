"""CDNOW as a landing feed: the purchase log becomes users and order_paid events of the landing contract,
landed day by day; the full run on nine months of history and its figures is a slow test."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from orchestration.evaluation.cdnow import cdnow_path, format_cdnow, landing_tables, read_cdnow, write_landing
from orchestration.ingestion.landing import FEEDS


def test_the_shipped_log_reads_as_69659_purchases_by_23570_customers():
    purchases = read_cdnow(cdnow_path())
    assert len(purchases) == 69_659 and purchases["customer_id"].nunique() == 23_570
    assert purchases["day"].min() == date(1997, 1, 1) and purchases["day"].max() == date(1998, 6, 30)


def test_purchases_become_users_and_order_events_of_the_contract(tmp_path: Path):
    purchases = pd.DataFrame({
        "customer_id": ["00001", "00002", "00001"], "day": [date(1997, 1, 1), date(1997, 1, 2), date(1997, 1, 3)],
        "cds": [1, 2, 1], "amount": [11.77, 20.0, 0.0],
    })
    users, events = landing_tables(purchases)
    assert set(users.column_names) == set(FEEDS["users"].column_names) and set(events.column_names) == set(FEEDS["events"].column_names)
    assert users.column("user_id").to_pylist() == ["c00001", "c00002"]
    assert [t.date() for t in users.column("signup_at").to_pylist()] == [date(1997, 1, 1), date(1997, 1, 2)]
    assert not any(users.column("sms_opt_in").to_pylist())  # nobody is ever contacted
    assert set(events.column("event_name").to_pylist()) == {"order_paid"}
    assert events.column("event_id").to_pylist() == ["cdnow-0", "cdnow-1", "cdnow-2"]
    assert [json.loads(p)["amount"] for p in events.column("properties").to_pylist()] == [11.77, 20.0, 0.0]
    folders = write_landing(purchases, tmp_path, until=date(1997, 1, 2))
    assert folders == 2 and not (tmp_path / "1997-01-03").exists()  # nothing after the cut-off lands
    landed = pq.read_table(tmp_path / "1997-01-01" / "events.parquet").column("user_id").to_pylist()
    assert landed == ["c00001"] and (tmp_path / "1997-01-02" / "users.parquet").is_file()


@pytest.mark.slow
def test_cdnow_through_the_pipeline(tmp_path: Path):
    from orchestration.evaluation.cdnow import run_cdnow_evaluation

    figures = run_cdnow_evaluation(tmp_path)
    print(format_cdnow(figures))
    assert figures.customers == 23_570
    nine_months = figures.aucs[max(figures.aucs.columns)]
    # the bar: the pipeline's ranking at least as good as days since the last purchase, within 0.01
    assert nine_months["risk_score (pipeline)"] >= nine_months["days since last purchase"] - 0.01
    # and at most 20% of the customers who buy again within 90 days labelled churned the day before
    # (the churned threshold fitted to the log's own gaps between purchases, not the preset's 60 days)
    assert figures.returners_labelled_churned <= 0.20
