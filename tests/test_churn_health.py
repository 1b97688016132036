"""The churn-health marts (dbt_project/models/marts/reporting) on a hand-made warehouse: tiers of four
users over four days, a few recall decisions and journey outcomes, every figure computed by hand."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from orchestration.warehouse.migrations import migrate
from tests.test_dbt_models import run_dbt

D1 = date(2026, 1, 1)


def d(n: int) -> date:
    return D1 + timedelta(days=n - 1)


STAGES = {  # user: stage on days 1..4 (None: not signed up yet)
    "u1": ["active", "at_risk", "churned", "churned"],
    "u2": ["churned", "churned", "reactivated", "reactivated"],
    "u3": [None, "new", "new", "active"],
    "u4": ["dormant_light", "dormant_medium", "dormant_medium", "churned"],
}
LEVEL = {"new": "none", "active": "none", "reactivated": "none", "at_risk": "low", "dormant_light": "medium",
         "dormant_medium": "medium", "dormant_severe": "high", "churned": "lost"}


@pytest.fixture(scope="module")
def marts(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    work = tmp_path_factory.mktemp("churn_health")
    warehouse = work / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        migrate(con)  # the Python tables, as a run creates them
        con.execute("create table user_risk_tiers (user_id varchar, tier_date date, lifecycle_stage varchar, "
                    "risk_level varchar, is_high_value_dormant boolean)")
        for user, stages in STAGES.items():
            for n, stage in enumerate(stages, start=1):
                if stage:
                    con.execute("insert into user_risk_tiers values (?, ?, ?, ?, ?)",
                                [user, d(n), stage, LEVEL[stage], user == "u4" and n == 3])
        actions = [  # action_date, journey_id, step, arm, status, coupon_code, cost
            (d(2), "jA", 1, "treatment", "queued", "C1", 0.5),
            (d(2), "jB", 1, "control", "holdout", None, 0.0),
            (d(2), None, None, None, "skipped", None, 0.0),
            (d(3), "jA", 2, "treatment", "queued", "C1", 0.1),
            (d(3), "jC", 1, "treatment", "queued", None, 0.2),
            (d(3), "jD", 1, "treatment", "cancelled", None, 0.0),
        ]
        con.executemany("insert into recall_actions (action_date, journey_id, step, arm, status, coupon_code, cost) "
                        "values (?, ?, ?, ?, ?, ?, ?)", actions)
        outcomes = [  # action_id, A, arm, coupon, redeemed, redeemed_mature, woke_up, woke_up_mature, R, 2nd churn, known
            ("oA", d(2), "treatment", "C1", True, True, True, True, d(3), False, True),
            ("oB", d(2), "control", None, None, True, False, True, None, False, True),
            ("oC", d(3), "treatment", "C2", False, False, False, False, None, None, False),
            ("oE", date(2026, 2, 10), "treatment", None, None, True, True, True, date(2026, 2, 11), True, True),
        ]
        con.executemany(
            "insert into recall_outcomes (action_id, assignment_date, arm, coupon_code, coupon_redeemed, "
            "coupon_redeemed_mature, woke_up, woke_up_mature, return_date, second_churned, second_churned_mature) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", outcomes)
    # the marts and the day counts churn_health_daily reads (built with the tiers in a run)
    build(warehouse, ["path:models/marts/reporting", "daily_lifecycle_counts"])
    return duckdb.connect(str(warehouse))  # dbt-duckdb keeps the file open in this process: open it alike


def build(warehouse: Path, select: list[str], window: dict[str, object] | None = None) -> None:
    run_dbt(["build", "--select", *select, "--vars", json.dumps(window or {})], warehouse, warehouse.parent)


def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_daily_churn_is_counted_among_users_not_churned_the_day_before(marts):
    got = rows(marts, """select report_date, users, engaged_users, at_risk_or_dormant_users, churned_users,
                                churn_base_users, newly_churned_users, churn_rate, returned_from_churn_users
                         from churn_health_daily order by 1""")
    assert got == [
        (d(1), 3, 1, 1, 1, 0, 0, None, 0),             # no day before: no base, no rate
        (d(2), 4, 1, 2, 1, 2, 0, 0.0, 0),              # u2 was churned: not in the base
        (d(3), 4, 2, 1, 1, 3, 1, pytest.approx(1 / 3), 1),   # u1 churns; u2 comes back
        (d(4), 4, 2, 0, 2, 3, 1, pytest.approx(1 / 3), 0),   # u4 churns; u1 no longer in the base
    ]


def test_daily_recall_decisions_and_coupon_use(marts):
    got = rows(marts, """select report_date, treatment_journeys_started, control_journeys_started, steps_queued,
                                round(contact_cost, 6), coupons_offered, coupon_journeys, coupons_redeemed,
                                coupon_redemption_rate, coupon_redemption_mature
                         from churn_health_daily order by 1""")
    assert got == [
        (d(1), 0, 0, 0, 0.0, 0, 0, 0, None, None),
        (d(2), 1, 1, 1, 0.5, 1, 1, 1, 1.0, True),
        (d(3), 1, 0, 2, 0.3, 0, 1, 0, 0.0, False),   # C1 offered again on step 2: counted on day 2 only
        (d(4), 0, 0, 0, 0.0, 0, 0, 0, None, None),
    ]


def test_users_per_stage_and_risk_level(marts):
    got = rows(marts, """select lifecycle_stage, risk_level, users, high_value_dormant_users, share_of_users
                         from churn_health_stages where report_date = '2026-01-03' order by 1""")
    assert got == [("churned", "lost", 1, 0, 0.25), ("dormant_medium", "medium", 1, 1, 0.25),
                   ("new", "none", 1, 0, 0.25), ("reactivated", "none", 1, 0, 0.25)]
    assert rows(marts, "select report_date, sum(share_of_users) from churn_health_stages group by 1 order by 1") == [
        (d(n), pytest.approx(1.0)) for n in range(1, 5)]


def test_monthly_rates_count_only_closed_windows(marts):
    got = rows(marts, """select assignment_month, arm, journeys, wake_up_measured_journeys, woke_up_journeys,
                                wake_up_rate, coupon_measured_journeys, coupons_redeemed, coupon_redemption_rate,
                                returned_journeys, second_churn_known_journeys, second_churned_journeys,
                                second_churn_rate
                         from churn_health_monthly order by 1, 2""")
    assert got == [
        (date(2026, 1, 1), "control", 1, 1, 0, 0.0, 0, 0, None, 0, 0, 0, None),
        (date(2026, 1, 1), "treatment", 2, 1, 1, 1.0, 1, 1, 1.0, 1, 1, 0, 0.0),  # oC's windows are still open
        (date(2026, 2, 1), "treatment", 1, 1, 1, 1.0, 0, 0, None, 1, 1, 1, 1.0),
    ]


def test_the_day_counts_first_built_in_a_daily_run_cover_every_day_of_the_tiers(marts):
    """A warehouse upgraded to daily_lifecycle_counts builds it first in a daily run: that build counts every
    day the tiers hold (the dashboards keep their history); later runs count only their window."""
    before = rows(marts, "select * from daily_lifecycle_counts order by 1")
    warehouse = Path(marts.execute("select path from duckdb_databases() where database_name = current_database()")
                     .fetchone()[0])
    marts.execute("drop table daily_lifecycle_counts")
    build(warehouse, ["daily_lifecycle_counts"], {"min_date": d(4).isoformat(), "max_date": d(5).isoformat(),
                                                  "lookback_days": 0})
    assert rows(marts, "select * from daily_lifecycle_counts order by 1") == before
    assert [row[0] for row in before] == [d(n) for n in range(1, 5)]
