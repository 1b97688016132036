"""The simulated app in closed loop, without the pipeline (stand-in export files, simulator/loop/synthetic.py): the
delivery log's contract and its mapping from the outbox, observed outcomes equal to the truth's outcome of each
journey's arm, the latent response types, consent opt-outs, and a day simulated again or in a new process giving
the same files."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from orchestration.config import DEFAULT_STRATEGIES
from orchestration.recall.library import load_strategy_library
from orchestration.simulator import SimulationConfig, simulate, write_world
from orchestration.simulator.loop import ClosedLoop, LoopSettings
from orchestration.simulator.loop.ghosts import plan_ghost_steps
from orchestration.simulator.loop.synthetic import write_export
from orchestration.simulator.touches import TOUCH_SCHEMA

CONFIG = SimulationConfig(n_users=1000, n_days=75, closed_loop_days=36, seed=5)
WAKE, CHURN = 7, 5  # a short churn threshold, so that second churn is decided within the loop
JOURNEYS_PER_DAY = 60


def _advance(loop: ClosedLoop, home: Path, rng: np.random.Generator, users: np.ndarray, landing: Path | None = None):
    write_export(home / "outbox", loop.next_day - datetime.timedelta(days=1), users, JOURNEYS_PER_DAY, rng)
    return loop.advance(home / "outbox", landing or home / "landing", home / "truth", write_truth=False)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    home = tmp_path_factory.mktemp("loop")
    history = simulate(CONFIG, progress=lambda stage, fraction: None)
    write_world(history, home / "landing", home / "truth")
    loop = ClosedLoop.start(history, home / "simulator", LoopSettings(DEFAULT_STRATEGIES, WAKE, CHURN))
    users = np.unique(history.users["user_id"].to_numpy(zero_copy_only=False))
    rng = np.random.default_rng(1)
    while loop.state.day < CONFIG.n_days - 1:  # the last day is left to the re-run and reopen tests
        _advance(loop, home, rng, users)
    loop.write_truth(home / "truth")
    return home, loop, users


def _landing(home: Path, name: str) -> pd.DataFrame:
    frames = [pd.read_parquet(p).assign(_folder=p.parent.name) for p in sorted((home / "landing").glob(f"*/{name}.parquet"))]
    return pd.concat(frames, ignore_index=True)


def test_history_is_written_up_to_the_loop_and_the_loop_after_it(world) -> None:
    home, loop, _ = world
    folders = sorted(p.name for p in (home / "landing").iterdir())
    assert folders[0] == CONFIG.start_date.isoformat() and folders[-1] == (CONFIG.end_date - datetime.timedelta(days=1)).isoformat()
    history_touches = pd.read_parquet(home / "landing" / CONFIG.history_end_date.isoformat() / "events.parquet")
    assert history_touches["received_at"].max() < pd.Timestamp(CONFIG.history_end_date + datetime.timedelta(days=1))
    users = _landing(home, "users")
    assert (users["updated_at"].dt.strftime("%Y-%m-%d") == users["_folder"]).all()
    assert users.loc[users["_folder"] > CONFIG.history_end_date.isoformat(), "user_id"].nunique() > 0
    assert loop.next_day == CONFIG.end_date
    # Events land in the folder of the day they arrive, late ones (up to max_lateness_days) included.
    events = _landing(home, "events")
    loop_events = events[events["_folder"] > CONFIG.history_end_date.isoformat()]
    assert (loop_events["received_at"].dt.strftime("%Y-%m-%d") == loop_events["_folder"]).all()
    lag = (loop_events["received_at"].dt.normalize() - loop_events["event_time"].dt.normalize()).dt.days
    assert lag.max() == CONFIG.max_lateness_days and abs((lag > 0).mean() - CONFIG.late_event_share) < 0.01


def test_delivery_log_follows_the_contract_and_maps_the_export(world) -> None:
    home, _, _ = world
    day = CONFIG.history_end_date + datetime.timedelta(days=3)
    folder = home / "landing" / day.isoformat()
    assert pq.read_schema(folder / "recall_touches.parquet").equals(TOUCH_SCHEMA)
    log = pd.read_parquet(folder / "recall_touches.parquet")
    outbox = pd.read_parquet(home / "outbox" / f"{day - datetime.timedelta(days=1)}.parquet")
    holdout = pd.read_parquet(home / "outbox" / "holdout" / f"{day - datetime.timedelta(days=1)}.parquet")
    treated = log[log["arm"] == "treatment"].set_index("touch_id")
    # One log row per outbox row: touch_id = the step's action_id, action_id = the journey id.
    assert sorted(treated.index) == sorted(outbox["action_id"])
    mapped = outbox.set_index("action_id")
    assert (treated["action_id"] == mapped.loc[treated.index, "journey_id"]).all()
    assert (treated["channel"] == mapped.loc[treated.index, "channel"]).all()
    assert (treated["coupon_code"].fillna("") == mapped.loc[treated.index, "coupon_code"].fillna("")).all()
    failed, delivered = treated[treated["status"] == "failed"], treated[treated["status"] == "delivered"]
    assert failed["sent_at"].isna().all() and (failed["cost"] == 0).all() and failed["opened_at"].isna().all()
    assert delivered["sent_at"].notna().all() and (delivered["cost"] > 0).all()
    assert (delivered["sent_at"] >= delivered["scheduled_at"]).all()
    assert (treated["clicked_at"].isna() | treated["opened_at"].notna()).all()
    control = log[log["arm"] == "control"]
    assert sorted(control["action_id"]) == sorted(holdout["journey_id"])
    assert (control["step"] == 0).all() and (control["status"] == "holdout").all() and control["channel"].isna().all()
    everything = _landing(home, "recall_touches")
    loop_days = everything[everything["_folder"] > CONFIG.history_end_date.isoformat()]
    assert (loop_days["scheduled_at"].dt.strftime("%Y-%m-%d") == loop_days["_folder"]).all()
    # Channels fail at their own rates (a call often does not connect; consent refusals count too).
    sent = loop_days[loop_days["arm"] == "treatment"]
    failure = (sent["status"] == "failed").groupby(sent["channel"]).mean()
    assert failure["call"] > failure["sms"] and failure["call"] > failure["push"]
    assert sent["opened_at"].notna().mean() > 0.05


def _valid_events(home: Path) -> pd.DataFrame:
    """Every event that happened: landed, or still on its way (late events of the last days, in the snapshot)."""
    pending = pd.read_parquet(sorted((home / "simulator" / "days").iterdir())[-1] / "pending_events.parquet")
    events = pd.concat([_landing(home, "events"), pending], ignore_index=True).drop_duplicates("event_id")
    events = events[events["user_id"].notna() & events["event_time"].notna()]
    amount = events["properties"].map(lambda p: json.loads(p).get("amount") if p.startswith("{") else None)
    events = events.assign(amount=pd.to_numeric(amount, errors="coerce"), day=events["event_time"].dt.normalize())
    known = {"app_open", "product_view", "search", "add_to_cart", "wishlist_add", "order_paid", "coupon_claim", "share",
             "comment", "follow", "device_change", "recall_click"}
    return events[events["event_name"].isin(known) & ~(events["amount"] < 0)]


def _second_churn(key_days: np.ndarray, returned: int | None, seen: int) -> float:
    """The contract's second churn from a journey's key-action days (offsets from A, sorted), NaN while undecided."""
    if returned is None:
        return 0.0 if seen >= 29 else np.nan
    after = key_days[key_days >= returned]
    gaps = np.diff(np.append(after, seen + 1)) - 1
    churned = bool(((gaps >= CHURN) & (after <= returned + 60)).any())
    return float(churned) if churned or (after > returned + 60).any() else np.nan


def test_observed_outcomes_equal_the_truth_of_each_journeys_arm(world) -> None:
    home, _, _ = world
    truth = pd.read_parquet(home / "truth" / "pipeline_journeys.parquet")
    events = _valid_events(home)
    last = pd.Timestamp(CONFIG.end_date - datetime.timedelta(days=1))
    journeys = truth.assign(start=pd.to_datetime(truth["assignment_date"]), seen=lambda f: (last - f["start"]).dt.days)
    orders = events[events["event_name"] == "order_paid"].groupby(["user_id", "day"])["amount"].sum().reset_index()
    paired = journeys[["journey_id", "user_id", "start"]].merge(orders, on="user_id")
    paired["offset"] = (paired["day"] - paired["start"]).dt.days
    window = lambda days: paired[(paired["offset"] >= 0) & (paired["offset"] < days)].groupby("journey_id")  # noqa: E731
    observed = pd.DataFrame({
        "woke_up": window(WAKE).size().gt(0).astype(float),
        "repurchased_30d": window(30).size().gt(0).astype(float),
        "revenue_30d": window(30)["amount"].sum().round(2),
    }).reindex(journeys["journey_id"]).fillna(0.0)
    returns = window(30)["offset"].min()
    days = orders.groupby("user_id")["day"].unique()  # the key action of the shop: an order
    churn = []
    for row in journeys.itertuples():
        mine = np.sort((pd.DatetimeIndex(days.get(row.user_id, [])) - row.start).days.to_numpy())
        mine = mine[(mine >= 0) & (mine <= row.seen)]
        r = returns.get(row.journey_id)
        churn.append(_second_churn(mine, None if pd.isna(r) else int(r), row.seen))
    observed["second_churned"] = churn
    arm = np.where(journeys["arm"] == "treatment", "y1", "y0")
    for name in observed.columns:
        expected = pd.Series(np.where(arm == "y1", journeys[f"y1_{name}"], journeys[f"y0_{name}"]),
                             index=journeys["journey_id"])
        known = expected.notna()
        assert known.sum() > 200, name
        mismatch = (expected[known] - observed.loc[known[known].index, name]).abs() > 1e-6
        assert not mismatch.any(), (name, expected[known][mismatch].head(3).to_dict())


def test_response_types_lost_causes_sleeping_dogs_and_persuadables(world) -> None:
    home, loop, _ = world
    truth = pd.read_parquet(home / "truth" / "pipeline_journeys.parquet")
    user = truth["user_id"].str[1:].astype(int).to_numpy() - 1
    lost, dog = loop.traits.lost_cause[user], loop.traits.sleeping_dog[user]
    effect = {name: truth[f"y1_{name}"] - truth[f"y0_{name}"]
              for name in ("woke_up", "repurchased_30d", "revenue_30d", "second_churned")}
    # No message moves a lost cause: both potential outcomes are the same.
    for name, diff in effect.items():
        assert (diff[lost].dropna() == 0).all(), name
    # Contact pushes sleeping dogs away (less revenue, more second churn), and moves the others to buy.
    revenue = effect["revenue_30d"]
    assert revenue[dog].mean() < 0 < revenue[~lost & ~dog].mean()
    assert (revenue[dog] < 0).sum() > 0 and effect["woke_up"][~lost & ~dog].mean() > 0
    # Some users would have come back anyway: a key action in the window without the recall.
    assert (truth["y0_woke_up"] == 1).sum() > 0


def test_stop_replies_and_planned_changes_land_as_consent_rows(world) -> None:
    home, loop, _ = world
    users = _landing(home, "users")
    loop_rows = users[users["_folder"] > CONFIG.history_end_date.isoformat()]
    signup = loop.core.pop.users_table.to_pandas().drop_duplicates("user_id").set_index("user_id")["signup_at"]
    changes = loop_rows[loop_rows["updated_at"] != loop_rows["user_id"].map(signup)]
    assert len(changes) > 0
    stopped = changes[~changes["sms_opt_in"]]
    assert len(stopped) > 0
    # A user who opted out of SMS gets no SMS delivered afterwards.
    log = _landing(home, "recall_touches")
    after = log.merge(stopped[["user_id", "updated_at"]], on="user_id")
    late = after[(after["channel"] == "sms") & (after["scheduled_at"].dt.normalize() > after["updated_at"].dt.normalize())]
    assert (late["status"] == "failed").all()


def test_a_day_simulated_again_or_in_a_new_process_gives_the_same_files(world, tmp_path) -> None:
    home, loop, users = world
    day = loop.next_day
    copy = tmp_path / "copy"
    shutil.copytree(home, copy)
    _advance(loop, home, np.random.default_rng(9), users)
    first = {p.name: p.read_bytes() for p in (home / "landing" / day.isoformat()).iterdir()}
    # The same day again, from the snapshot of the day before: the same bytes, the world moved on the same way.
    loop.advance(home / "outbox", home / "landing", home / "truth", day=day, write_truth=False)
    again = {p.name: p.read_bytes() for p in (home / "landing" / day.isoformat()).iterdir()}
    assert first == again and set(first) == {"events.parquet", "users.parquet", "recall_touches.parquet"}
    # A new process: the world re-created from its seed and its last snapshot on disk.
    reopened = ClosedLoop.open(copy / "simulator")
    assert reopened.next_day == day
    shutil.copy(home / "outbox" / f"{day - datetime.timedelta(days=1)}.parquet", copy / "outbox")
    shutil.copy(home / "outbox" / "holdout" / f"{day - datetime.timedelta(days=1)}.parquet", copy / "outbox" / "holdout")
    reopened.advance(copy / "outbox", copy / "landing", copy / "truth", write_truth=False)
    elsewhere = {p.name: p.read_bytes() for p in (copy / "landing" / day.isoformat()).iterdir()}
    assert elsewhere == first
    with pytest.raises(ValueError, match="outside the closed loop"):
        loop.advance(home / "outbox", home / "landing", home / "truth")


def test_the_delivery_system_refuses_bad_exports(world, tmp_path) -> None:
    home, _, users = world
    reopened = ClosedLoop.open(home / "simulator")
    day = reopened.date_of(reopened.state.day - 1)
    with pytest.raises(FileNotFoundError, match="has not exported that day"):
        reopened.advance(tmp_path / "nothing", tmp_path / "landing", tmp_path / "truth", day=day)
    outbox, _ = write_export(tmp_path / "outbox", day - datetime.timedelta(days=1), users, 20, np.random.default_rng(3))
    outbox.assign(arm="control").to_parquet(tmp_path / "outbox" / f"{day - datetime.timedelta(days=1)}.parquet")
    with pytest.raises(ValueError, match="control journeys"):
        reopened.advance(tmp_path / "outbox", tmp_path / "landing", tmp_path / "truth", day=day)


def test_ghost_ladders_follow_the_strategy_as_designed() -> None:
    library = load_strategy_library(DEFAULT_STRATEGIES)
    n = 4000
    controls = pd.DataFrame({
        "journey_id": [f"j{i}" for i in range(n)], "user": np.arange(n), "strategy_id": "dormant_medium_coupon",
        "journey_started_us": 20_500 * 86_400_000_000 + 10 * 3_600_000_000, "avg_order_value": 100.0,
    })
    steps = plan_ghost_steps(controls, library, 20_500 - 30, np.random.default_rng(0))
    first, second = steps[steps["step"] == 1], steps[steps["step"] == 2]
    assert len(first) == len(second) == n and (second["due_day"] == first["due_day"].iloc[0] + 1).all()
    # The A/B test of the first step: 20% or 15% of the average order, half each; the SMS rung repeats 20%.
    assert set(first["coupon_cents"]) == {2000, 1500} and abs((first["coupon_cents"] == 2000).mean() - 0.5) < 0.03
    assert set(second["coupon_cents"]) == {2000} and (second["channel"] == 1).all()
    unknown = plan_ghost_steps(controls.assign(strategy_id="retired"), library, 20_500 - 30, np.random.default_rng(0))
    assert unknown.empty
