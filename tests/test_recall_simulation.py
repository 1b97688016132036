"""A 95-day simulated world through the whole Dagster pipeline with a deliberately tight strategy
library, so that every guardrail binds; then the independent audit of the outbox history must
count zero violations, and every rule must have had work to do."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.config import DEFAULT_STRATEGIES, Settings
from orchestration.quality.recall_audit import audit_outbox
from orchestration.recall import load_strategy_library
from orchestration.runner import run_days
from orchestration.simulator import SimulationConfig, simulate, write_world

# A long simulation (about two minutes): run with `make test-slow`. The default suite audits the
# 70-day end-to-end world of tests/test_pipeline.py and tests every rule at its boundary.
pytestmark = pytest.mark.slow

START = date(2026, 1, 1)
WORLD = SimulationConfig(n_users=1500, n_days=95, start_date=START, seed=23, campaign_every_days=14)
# 14:00 UTC is 22:00 for the simulated users (UTC+8): every first step falls in quiet hours.
TIGHT = {
    "send_hour_utc: 10": "send_hour_utc: 14",
    "{channel: any, max_contacts: 3, window_days: 7}": "{channel: any, max_contacts: 2, window_days: 7}",
    "cooldown_days: 14": "cooldown_days: 3",
    "sms: {cost: 0.04, daily_budget: 40.0}": "sms: {cost: 0.04, daily_budget: 0.6}",
    "daily_capacity: 80": "daily_capacity: 3",
    # Signal strategies open with an in-app message, which leaves fewer pushes: both limits are tight.
    "push: {cost: 0.001, daily_budget: 50.0}": "push: {cost: 0.001, daily_budget: 0.03}",
    "in_app: {cost: 0.0002, daily_capacity: 20000}": "in_app: {cost: 0.0002, daily_capacity: 5}",
}


@pytest.fixture(scope="module")
def simulated(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("recall_sim")
    write_world(simulate(WORLD), root / "landing", root / "truth")
    text = DEFAULT_STRATEGIES.read_text()
    for old, new in TIGHT.items():
        assert old in text, old
        text = text.replace(old, new)
    strategies = root / "tight_strategies.yml"
    strategies.write_text(text)
    result = run_days(Settings.under(root, strategies=strategies), START, WORLD.end_date)
    assert result.success
    checks = {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
              for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    assert checks["recall_guardrails_audit"] and checks["recall_outbox_contract"]
    return root, strategies


def test_zero_violations_over_the_simulation(simulated) -> None:
    root, strategies = simulated
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        counts = audit_outbox(con, START, WORLD.end_date, load_strategy_library(strategies))
        planned_days = con.execute("select count(distinct action_date) from recall_actions").fetchall()[0][0]
    assert planned_days >= 90
    assert counts["outbox_rows"] > 1000
    assert {rule: n for rule, n in counts.items() if rule != "outbox_rows" and n} == {}


def test_every_guardrail_had_work_to_do(simulated) -> None:
    root, _ = simulated
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        reasons = dict(con.execute("select coalesce(reason, status), count(*) from recall_actions group by 1").fetchall())
        shifted = con.execute("select count(*) from recall_actions where status = 'queued' and scheduled_at > due_at").fetchall()[0][0]
        steps = dict(con.execute("select step, count(*) from recall_actions where status = 'queued' group by 1").fetchall())
        channels = dict(con.execute("select channel, count(*) from recall_actions where status = 'queued' group by 1").fetchall())
        exported = len(list((root / "outbox").glob("*.parquet")))
    for reason in ("no_consent", "frequency_cap", "over_capacity", "over_budget", "responded",
                   "strategy_holdout", "global_holdout", "low_expected_value"):
        assert reasons.get(reason, 0) > 0, f"no step was ever {reason}: the simulation does not exercise it ({reasons})"
    assert shifted > 0 and steps.get(2, 0) > 0 and steps.get(3, 0) > 0
    assert set(channels) == {"push", "sms", "call", "in_app"}  # the signal strategies' in-app messages went out too
    assert exported == WORLD.n_days
