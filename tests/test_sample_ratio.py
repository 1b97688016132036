"""The sample-ratio check alarms on a broken assignment and stays quiet on a correct one: every targeting path
(rules, churn risk, expected profit with its exploration, second chance and deferred rules choices) starts
journeys whose arms keep the design's shares, however the budgets cut, and the check keeps its level on the small
campaigns and pooled cohorts of a daily loop."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from orchestration.measurement import lift
from orchestration.measurement.lift import srm_p_value
from orchestration.measurement.metrics import SRM_ALPHA, cohort_metrics
from orchestration.recall import DayInputs, finalize, propose
from orchestration.uplift.planning import decider
from tests.uplift_fixtures import TIGHT_BUDGETS, budget_world, spread_scorer, uplift_library

DAY = date(2026, 4, 1)
H, G = 0.2, 0.05  # the fixture library's strategy holdouts and global holdout


def _shares(h: float, g: float, n: int) -> np.ndarray:
    return np.tile([(1 - g) * (1 - h), (1 - g) * h, g], (n, 1))


def test_the_exact_check_keeps_its_level_where_the_chi_square_does_not() -> None:
    rng = np.random.default_rng(4)
    # Campaigns of 8 journeys with a 5% global holdout expect 0.4 global journeys: Pearson's chi-square alarms on
    # about 9 correct campaigns in a thousand at p < 0.001; the exact multinomial test on at most one.
    counts = rng.multinomial(8, _shares(0.15, G, 1)[0], size=20_000)
    p = srm_p_value(counts, _shares(0.15, G, len(counts)))
    assert (p < SRM_ALPHA).mean() <= 0.0015
    expected = 8 * _shares(0.15, G, 1)
    pearson = stats.chi2.sf(((counts - expected) ** 2 / expected).sum(axis=1), 2)
    assert (pearson < SRM_ALPHA).mean() > 0.005
    # Two groups: the exact test is the binomial test; large samples use the chi-square.
    assert srm_p_value(np.array([[17, 3]]), np.array([[0.95, 0.05]]))[0] == pytest.approx(stats.binomtest(3, 20, 0.05).pvalue)
    big = np.array([[8_500, 1_500, 0]])
    assert srm_p_value(big, np.array([[0.85, 0.15, 0.0]]))[0] == pytest.approx(1.0)
    # A group the design rules out, an unknown design and a broken split.
    assert srm_p_value(np.array([[10, 0, 1]]), np.array([[0.9, 0.1, 0.0]]))[0] == 0.0
    assert np.isnan(srm_p_value(np.array([[10, 1, 0]]), np.array([[np.nan, np.nan, np.nan]]))[0])
    assert srm_p_value(np.array([[60, 40, 5]]), _shares(0.15, G, 1))[0] < SRM_ALPHA


def test_the_exact_check_of_a_large_cohort_with_a_rare_group_is_the_full_enumeration() -> None:
    """Large pooled cohorts with a rare group (expected below 5) enumerate only the splits with any probability."""
    # Two groups: the binomial test, on 30,000 journeys (30,001 splits; the margins leave a few dozen).
    for observed in (0, 3, 9, 14):
        p = srm_p_value(np.array([[30_000 - observed, observed]]), np.array([[0.9999, 0.0001]]))[0]
        assert p == pytest.approx(stats.binomtest(observed, 30_000, 0.0001).pvalue, rel=1e-9, abs=1e-14)
    # Three groups, 400 journeys (80,601 splits): against every split enumerated here.
    n, shares = 400, np.array([0.6, 0.39, 0.01])
    first = np.repeat(np.arange(n + 1), np.arange(n + 1, 0, -1))
    second = np.concatenate([np.arange(n - a + 1) for a in range(n + 1)])
    splits = np.column_stack([first, second, n - first - second])
    pmf = stats.multinomial.pmf(splits, n, shares)
    for counts in ([240, 156, 4], [250, 150, 0], [230, 158, 12]):
        observed = stats.multinomial.pmf(counts, n, shares)
        full = pmf[pmf <= observed * (1 + 1e-7)].sum()
        assert srm_p_value(np.array([counts]), shares[None, :])[0] == pytest.approx(full, rel=1e-9, abs=1e-14)


def test_a_split_tested_before_is_looked_up_and_the_store_is_bounded(monkeypatch) -> None:
    """A day's small cohorts repeat the splits of the day before: their exact tests are remembered, not redone."""
    monkeypatch.setattr(lift, "_EXACT_TESTS", {})
    counts = np.random.default_rng(5).multinomial(8, _shares(0.15, G, 1)[0], size=300)
    shares = _shares(0.15, G, len(counts))
    first = srm_p_value(counts, shares)
    tested = []
    exact = lift._multinomial_p
    monkeypatch.setattr(lift, "_multinomial_p", lambda *args: tested.append(args) or exact(*args))
    assert np.array_equal(srm_p_value(counts, shares), first) and not tested
    nine = np.array([[7, 1, 1]])  # a split of another size: tested once, then remembered
    p_nine = srm_p_value(nine, shares[:1])
    assert srm_p_value(nine, shares[:1]) == p_nine
    assert len(tested) == 1
    # The store keeps the newest EXACT_TESTS_KEPT tests; a test dropped is done again, to the same p-value.
    monkeypatch.setattr(lift, "EXACT_TESTS_KEPT", 5)
    monkeypatch.setattr(lift, "_EXACT_TESTS", {})
    again = srm_p_value(counts, shares)
    assert len(lift._EXACT_TESTS) == 5 and np.array_equal(again, first)



def test_the_exact_tests_of_a_run_are_saved_for_the_next_process_and_an_unusable_store_is_ignored(
        monkeypatch, tmp_path) -> None:
    """A run saves the exact tests it did; the next process (a store emptied here) looks them up instead of testing
    again. A store of another format, a damaged file or none at all only means the tests are done."""
    path = tmp_path / "cache" / "sample_ratio_tests.parquet"
    monkeypatch.setattr(lift, "_EXACT_TESTS", {})
    counts = np.random.default_rng(6).multinomial(8, _shares(0.15, G, 1)[0], size=200)
    shares = _shares(0.15, G, len(counts))
    with lift.exact_tests_saved_at(path) as loaded:
        first = srm_p_value(counts, shares)
    assert loaded == 0 and path.exists()
    kept = len(lift._EXACT_TESTS)
    tested = []
    exact = lift._multinomial_p
    monkeypatch.setattr(lift, "_multinomial_p", lambda *args: tested.append(args) or exact(*args))
    monkeypatch.setattr(lift, "_EXACT_TESTS", {})  # a new process
    saved_at = path.stat().st_mtime_ns
    with lift.exact_tests_saved_at(path) as loaded:
        assert np.array_equal(srm_p_value(counts, shares), first)
    assert loaded == kept and not tested
    assert path.stat().st_mtime_ns == saved_at  # nothing new: not written again
    for unusable in (None, b"not parquet"):
        monkeypatch.setattr(lift, "_EXACT_TESTS", {})
        if unusable is None:  # the store saved above, read by tests of other parameters
            monkeypatch.setattr(lift, "EXACT_TESTS_FORMAT", "exact tests v0")
        else:
            path.write_bytes(unusable)
        assert lift.load_exact_tests(path) == 0
        assert np.array_equal(srm_p_value(counts, shares), first) and tested
        tested.clear()
    assert lift.load_exact_tests(tmp_path / "missing.parquet") == 0

def _many_small_campaigns(strategies: int, days: int, per_day: int, h: float, g: float, seed: int) -> pd.DataFrame:
    """Journeys of `strategies` strategies over `days` days, `per_day` each, split as the planner splits them."""
    rng = np.random.default_rng(seed)
    n = strategies * days * per_day
    held_global = rng.random(n) < g
    held = ~held_global & (rng.random(n) < h)
    treated = ~held_global & ~held
    woke = rng.random(n) < 0.2
    return pd.DataFrame({
        "action_id": [f"j{i}" for i in range(n)], "user_id": [f"u{i}" for i in range(n)],
        "strategy_id": np.repeat([f"s{k:03d}" for k in range(strategies)], days * per_day),
        "assignment_date": np.tile(np.repeat([DAY + timedelta(days=d) for d in range(days)], per_day), strategies),
        "arm": np.where(treated, "treatment", "control"), "holdout": np.select([held_global, held], ["global", "strategy"], None),
        "source": "decisions", "first_journey": True, "lifecycle_stage": "at_risk", "woke_up": woke,
        "repurchased_30d": woke, "revenue_30d": woke * 20.0, "second_churned": pd.array([pd.NA] * n, dtype="boolean"),
    })


def test_pooled_cohorts_of_small_campaigns_do_not_alarm_on_a_correct_design() -> None:
    # A daily loop's campaigns after the first days are small: 300 strategies x 30 days x 3 journeys. Summing each
    # campaign's chi-square over a pooled cohort alarmed on a few percent of correct cohorts.
    outcomes = _many_small_campaigns(300, 30, 3, 0.15, G, seed=8)
    design = {"design_control_share": {f"s{k:03d}": 0.15 for k in range(300)}, "global_holdout_share": G}
    metrics = cohort_metrics(outcomes, DAY + timedelta(days=60), **design)
    treated = metrics[metrics["arm"] == "treatment"]
    for level in ("week", "overall", "campaign"):
        rows = treated[(treated["cohort_level"] == level) & (treated["strategy_id"] != "all")]
        assert len(rows) >= 300 and rows["srm_p_value"].notna().all()
        assert rows["srm_alarm"].sum() <= 2, (level, rows["srm_alarm"].sum())
    # A broken assignment is still caught when pooled: one strategy's treatment partly moved to its holdout.
    broken = outcomes.copy()
    mine = broken.index[(broken["strategy_id"] == "s000") & (broken["arm"] == "treatment")]
    moved = mine[::3]
    broken.loc[moved, ["arm", "holdout"]] = ["control", "strategy"]
    again = cohort_metrics(broken, DAY + timedelta(days=60), **design)
    row = again[(again["cohort_level"] == "overall") & (again["arm"] == "treatment") & (again["strategy_id"] == "s000")]
    assert len(row) == 1 and row["srm_alarm"].all()


def test_later_journeys_of_global_holdout_users_are_no_part_of_the_design() -> None:
    # A working programme leaves global holdout users at risk more often than the treated: at later journeys they
    # are more than g of a strategy's journeys (here 15%), which is no fault of the assignment. The strategy's own
    # draw is fresh for every journey, so treatment and strategy holdout keep 1-h : h among the others.
    first = _many_small_campaigns(1, 1, 4000, H, G, seed=5)
    later = _many_small_campaigns(1, 1, 2000, H, 0.15, seed=6).assign(first_journey=False, action_id=lambda f: "l" + f["action_id"])
    design = {"design_control_share": {"s000": H}, "global_holdout_share": G}
    campaign = lambda m: m[(m["cohort_level"] == "campaign") & (m["arm"] == "treatment")].iloc[0]  # noqa: E731
    row = campaign(cohort_metrics(pd.concat([first, later], ignore_index=True), DAY + timedelta(days=40), **design))
    assert not row["srm_alarm"] and row["srm_p_value"] > 0.01
    # Counted against g, the same journeys alarm.
    counted = later.assign(first_journey=True)
    assert campaign(cohort_metrics(pd.concat([first, counted], ignore_index=True), DAY + timedelta(days=40), **design))["srm_alarm"]
    # Later journeys of global holdout users are in the global holdout by rule: with the treated journeys of the
    # same day they are no evidence against the draw, and a campaign of them alone has no draw to test (p = 1).
    held = later.loc[later["holdout"] == "global"]
    treated_and_held = pd.concat([later.loc[later["arm"] == "treatment"], held], ignore_index=True)
    assert campaign(cohort_metrics(treated_and_held, DAY + timedelta(days=40), **design))["srm_alarm"]  # no holdout: h broken
    rows = cohort_metrics(held, DAY + timedelta(days=40), **design)
    assert (rows.loc[rows["cohort_level"] == "campaign", "srm_p_value"] == 1.0).all()
    # A strategy without a holdout (a service message): its later journeys must all be treated, and are.
    service = later.loc[later["arm"] == "treatment"]
    assert campaign(cohort_metrics(service, DAY + timedelta(days=40), **(design | {"design_control_share": {"s000": 0.0}})))["srm_p_value"] == 1.0
    # A broken draw at later journeys (twice the holdout) is caught.
    broken = _many_small_campaigns(1, 1, 2000, 2 * H, 0.15, seed=6).assign(first_journey=False, action_id=lambda f: "l" + f["action_id"])
    assert campaign(cohort_metrics(pd.concat([first, broken], ignore_index=True), DAY + timedelta(days=40), **design))["srm_alarm"]


# --- the design each journey was assigned under ----------------------------------------------------------------

AS_OF = DAY + timedelta(days=40)


def _treated(metrics: pd.DataFrame, *levels: str) -> pd.DataFrame:
    return metrics[metrics["cohort_level"].isin(levels) & (metrics["arm"] == "treatment") & (metrics["strategy_id"] != "all")]


def test_journeys_are_checked_against_the_holdout_shares_they_were_assigned_under() -> None:
    # Two weeks of campaigns assigned with a 50% strategy holdout; then the operator cut the library's share to 10%.
    assigned = _many_small_campaigns(3, 14, 200, 0.5, G, seed=11).assign(design_holdout_share=0.5, design_global_holdout_share=G)
    now = {"design_control_share": {f"s{k:03d}": 0.1 for k in range(3)}, "global_holdout_share": G}
    levels = ("campaign", "week", "overall")
    rows = _treated(cohort_metrics(assigned, AS_OF, **now), *levels)
    assert len(rows) >= 3 * 14 and rows["srm_p_value"].notna().all() and not rows["srm_alarm"].any()
    # Checked against the library as it is now (the shares not recorded), every campaign alarms: a false alarm.
    unrecorded = assigned.drop(columns=["design_holdout_share", "design_global_holdout_share"])
    assert _treated(cohort_metrics(unrecorded, AS_OF, **now), *levels)["srm_alarm"].all()
    # The recorded design still catches a broken assignment: journeys recorded at 50% but split at 10%.
    broken = _many_small_campaigns(3, 14, 200, 0.1, G, seed=11).assign(design_holdout_share=0.5, design_global_holdout_share=G)
    assert _treated(cohort_metrics(broken, AS_OF, **now), "campaign")["srm_alarm"].all()
    # Only journeys that recorded nothing (older decisions) fall back to the library's current share: a week of them
    # assigned at 10%, pooled with a week recorded at 50%, is no alarm.
    older = _many_small_campaigns(3, 7, 200, 0.1, G, seed=12)
    mixed = pd.concat([older, assigned[assigned["assignment_date"] >= DAY + timedelta(days=7)]], ignore_index=True)
    pooled = _treated(cohort_metrics(mixed, AS_OF, **now), "campaign", "overall")
    assert (pooled["cohort_level"] == "overall").sum() == 3 and pooled["srm_p_value"].notna().all()
    assert not pooled["srm_alarm"].any()


def test_journeys_are_checked_against_the_global_holdout_share_they_were_assigned_under() -> None:
    # Assigned with a 10% global holdout, which the operator has since switched off.
    assigned = _many_small_campaigns(2, 7, 300, H, 0.1, seed=13).assign(design_holdout_share=H, design_global_holdout_share=0.1)
    now = {"design_control_share": {"s000": H, "s001": H}, "global_holdout_share": 0.0}
    metrics = cohort_metrics(assigned, AS_OF, **now)
    programme = metrics["cohort_level"].str.startswith("programme") & (metrics["arm"] == "treatment")
    rows = pd.concat([_treated(metrics, "campaign", "week"), metrics[programme]])
    assert {"campaign", "week", "programme_week", "programme_overall"} == set(rows["cohort_level"])
    assert rows["srm_p_value"].notna().all() and not rows["srm_alarm"].any()
    # Against the library now, a global holdout is a group the design rules out: every campaign alarms.
    unrecorded = assigned.drop(columns=["design_global_holdout_share"])
    assert _treated(cohort_metrics(unrecorded, AS_OF, **now), "campaign")["srm_alarm"].all()


def test_variant_contrasts_are_checked_against_the_recorded_variant_shares() -> None:
    # A step tested 80 / 20 when the journeys were assigned; the library splits it 50 / 50 now.
    outcomes = _many_small_campaigns(1, 5, 2000, H, G, seed=14)
    treated = (outcomes["arm"] == "treatment").to_numpy()
    big = np.random.default_rng(15).random(len(outcomes)) < 0.8
    outcomes["step_variant"] = np.where(treated, np.where(big, "big", "small"), None)
    outcomes["design_variant_share"] = np.where(treated, np.where(big, 0.8, 0.2), np.nan)
    now = {"design_control_share": {"s000": H}, "global_holdout_share": G,
           "variant_shares": {("s000", "big"): 0.5, ("s000", "small"): 0.5}}
    levels = ("variant_contrast", "variant_contrast_overall")
    rows = _treated(cohort_metrics(outcomes, AS_OF, **now), *levels)
    assert len(rows) == 6 and rows["srm_p_value"].notna().all() and not rows["srm_alarm"].any()
    assert _treated(cohort_metrics(outcomes.drop(columns=["design_variant_share"]), AS_OF, **now), *levels)["srm_alarm"].all()


# --- the planner: every path keeps the design's shares ----------------------------------------------------------

def _plan(policy: str, lib, scorer=None) -> pd.DataFrame:
    tiers, profiles = budget_world()
    inputs = DayInputs(day=DAY, tiers=tiers, users=profiles, vertical="ecommerce")
    return finalize(propose(inputs, lib, decide=decider(policy, DAY, "ecommerce", lib, profiles, scorer)), inputs, lib)


def _srm_by_strategy(journeys: pd.DataFrame, lib) -> dict[str, float]:
    out = {}
    for strategy_id, rows in journeys.groupby("strategy_id"):
        counts = np.array([[(rows["arm"] == "treatment").sum(), (rows["holdout"] == "strategy").sum(),
                            (rows["holdout"] == "global").sum()]])
        h = lib.get(strategy_id).holdout_share
        out[strategy_id] = float(srm_p_value(counts, _shares(h, lib.global_holdout_share, 1))[0])
    return out


@pytest.mark.parametrize("policy, exploration, modelled", [
    ("uplift", "0.2", ("coupon_ab/1=big", "coupon_ab/1=small", "pack", "care")),  # model cut, exploration, second chance
    ("uplift", "0.0", ("care",)),  # rules choices for treatments no model covers, served after the model's
    ("risk", "0.0", ()),           # budgets filled by churn probability
    ("rules", "0.0", ()),          # first match by priority; the planner's guardrails cut after assignment
])
def test_every_targeting_path_starts_journeys_in_the_design_shares(policy, exploration, modelled) -> None:
    lib = uplift_library(**TIGHT_BUDGETS, **{"decision: {exploration_share: 0.0}": f"decision: {{exploration_share: {exploration}}}"})
    plan = _plan(policy, lib, spread_scorer(modelled) if modelled else None)
    journeys = plan.loc[plan["step"] == 1]
    # The budgets bound (users were cut before or after assignment) and journeys were started.
    assert len(journeys) > 500
    cut = plan.loc[plan["reason"].isin(["over_capacity", "over_budget"])]
    assert len(cut) > 500 and (cut["status"] == ("cancelled" if policy == "rules" else "skipped")).all()
    p_values = _srm_by_strategy(journeys, lib)
    assert len(p_values) >= 2 and min(p_values.values()) > SRM_ALPHA, p_values
    # Every path records the design in force on every journey it starts (treatment, control, cancelled), none on
    # the users it skipped, and the share of each A/B step's variant.
    holdout = plan["strategy_id"].map({s.id: s.holdout_share for s in lib.strategies})
    started = plan["journey_id"].notna()
    assert (plan.loc[started, "design_holdout_share"] == holdout[started]).all()
    assert (plan.loc[started, "design_global_holdout_share"] == lib.global_holdout_share).all()
    assert plan.loc[~started, ["design_holdout_share", "design_global_holdout_share"]].isna().all().all()
    tested = started & (plan["strategy_id"] == "coupon_ab") & (plan["arm"] == "treatment")
    shares = {v.id: v.share for v in lib.get("coupon_ab").steps[0].variants}
    assert tested.any() and (plan.loc[tested, "design_variant_share"] == plan.loc[tested, "variant"].map(shares)).all()
    assert plan.loc[~tested, "design_variant_share"].isna().all()


def test_an_expected_size_of_five_is_five_however_its_shares_were_added() -> None:
    # A pooled cohort's expectation is a sum of its journeys' shares; summed in another order, 5 can come out as
    # 4.999999999999999. The test chosen (chi-square from 5 expected journeys in every group) must not flip on that.
    counts = np.array([[229, 71, 5]])
    exact_five = np.array([[240 / 305, 60 / 305, 5 / 305]])
    rounded = exact_five * np.array([[1.0, 1.0, 1 - 1e-15]])
    assert srm_p_value(counts, rounded)[0] == pytest.approx(srm_p_value(counts, exact_five)[0], rel=1e-9)
    expected = 305 * exact_five[0]
    pearson = stats.chi2.sf(((counts[0] - expected) ** 2 / expected).sum(), 2)
    assert srm_p_value(counts, rounded)[0] == pytest.approx(pearson, rel=1e-6)


def test_journeys_of_one_campaign_keep_the_designs_they_recorded_apart() -> None:
    # One day's campaign whose journeys were assigned under two holdout shares (the library changed during the day):
    # the expectation is the mean of the journeys' own shares, so the split drawn from those designs is no alarm.
    halves = [_many_small_campaigns(1, 1, 1500, h, G, seed=seed).assign(design_holdout_share=h, design_global_holdout_share=G)
              for h, seed in ((0.5, 21), (0.1, 22))]
    halves[1]["action_id"] = "b" + halves[1]["action_id"]
    both = pd.concat(halves, ignore_index=True)
    now = {"design_control_share": {"s000": 0.3}, "global_holdout_share": G}
    campaign = _treated(cohort_metrics(both, AS_OF, **now), "campaign")
    assert len(campaign) == 1 and campaign["srm_p_value"].iloc[0] > 0.01
    # Taken as one design (either share for all), the same split alarms.
    for h in (0.5, 0.1):
        one = both.assign(design_holdout_share=h)
        assert _treated(cohort_metrics(one, AS_OF, **now), "campaign")["srm_alarm"].all()
