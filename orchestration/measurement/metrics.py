"""Cohort metrics for recall_metrics: per cohort (see cohorts.py) and arm the funnel, outcome rates,
second churn among returned journeys, cost and coupon redemption; on treatment rows the lift over
control with Welch 95% intervals, p-values, the CUPED-adjusted lift, incremental revenue, ROI and a
sample-ratio-mismatch check against the design each journey was assigned under (strategy holdout, global holdout,
variant shares).
Cohorts that pool several campaigns (week, overall, programme) combine per-stratum lifts weighted by
treatment users, so campaigns with different holdout shares never bias each other."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import numpy as np
import pandas as pd
from scipy import sparse

from orchestration.measurement.atoms import EXPAND_COLUMNS, VALUES, Atoms, atoms_of, coarsened
from orchestration.measurement.cohorts import (
    ALL, CONTROL, CONTROL_BASIS, COHORT_KEYS, KIND, LEVELS, NO_SIDE, SRM_GLOBAL, SRM_HOLDOUT, SRM_TREATMENT, STRATUM_KEYS,
    TREATED, expand_cohorts,
)
from orchestration.measurement.lift import Z_95, ratio_interval, srm_p_value, two_sided_p, variance_floor
from orchestration.measurement.outcomes import LTV_DAYS, REPURCHASE_DAYS

ALL_STAGES = ALL
SRM_ALPHA = 0.001  # a cohort's split is implausible under its design below this p-value
SMALL_COHORT_USERS = 100  # per arm; below it a normal interval is indicative only
# Lifted metrics: column prefix -> (per-journey value, rate/mean column).
LIFTED = {
    "wake_up": ("_wake", "wake_up_rate"),
    "repurchase": ("_buy", "repurchase_30d_rate"),
    "revenue": ("_rev", "revenue_per_user_30d"),
    "ltv_90d": ("_rev90", "revenue_per_user_90d"),
}
LIFT_SUFFIXES = ("lift", "lift_ci_low", "lift_ci_high", "relative_lift", "relative_lift_ci_low",
                 "relative_lift_ci_high", "p_value", "lift_cuped", "lift_cuped_ci_low", "lift_cuped_ci_high")
COUNTS = {"sends": "sent", "deliveries": "delivered", "opens": "opened", "clicks": "clicked",
          "responses": "responded", "conversions": "_buy", "coupon_journeys": "_coupon",
          "second_churn_users": "_returned"}
METRIC_COLUMNS = [
    "assignment_date", "strategy_id", "lifecycle_stage", "arm", "as_of_date",
    "cohort_level", "cohort_value", "assignment_end_date", "control_basis", "campaigns",
    "users", *COUNTS, "cost",
    "wake_up_rate", "repurchase_30d_rate", "revenue_per_user_30d", "revenue_per_user_90d",
    "second_churn_rate", "coupon_redemption_rate",
    "wake_up_mature", "is_mature", "second_churn_mature", "ltv_mature",
    "wake_up_window_days", "churn_threshold_days",
    "control_users",
    *(f"{p}_{s}" for p in LIFTED for s in LIFT_SUFFIXES),
    "incremental_revenue_30d", "roi_30d", "incremental_revenue_90d", "roi_90d",
    "srm_p_value", "srm_alarm", "trustworthy", "small_cohort",
]
# The levels whose cohorts, strata and sides read none of a journey's finer attributes: they are expanded from the
# atoms summed over those attributes (9,697 instead of 43,100 on a day at 100,000 users), the other levels from the
# atoms themselves.
FINER_ATTRIBUTES = ["lifecycle_stage", "value_tier", "segment", "step_variant", "channel"]
COARSE_LEVELS = ["campaign", "week", "overall", "overall_wake_up", "programme_week", "programme_overall"]
_Y = [value for value, _ in LIFTED.values()]
assert _Y == VALUES, "LIFTED compares the per-journey values atoms.py sums"
_RATES = {"_wake", "_buy"}  # lifted metrics that are shares of journeys (0/1 per journey)


def _sums(atoms: Atoms, index: np.ndarray, rows: np.ndarray, size: int, mask: np.ndarray) -> dict[str, np.ndarray]:
    """Per `index` value, the sums of every quantity over the long table's rows where `mask` (row k adds atom
    rows[k] to index[k]): one sparse product, instead of copying each quantity to every row."""
    names, values = atoms.names, atoms.totals
    membership = sparse.csr_matrix((np.ones(int(mask.sum())), (index[mask], rows[mask])), shape=(size, len(values)))
    totals = membership @ values
    return {name: totals[:, k] for k, name in enumerate(names)}


def _stratum_lifts(t: dict[str, np.ndarray], c: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per stratum: treatment and control means and variances of the means, plain and CUPED-adjusted."""
    out: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for y in _Y:
            n_all = t[f"n{y}"] + c[f"n{y}"]
            sx, sy = t[f"x|{y}"] + c[f"x|{y}"], t[y] + c[y]
            sxx = t["xx"] + c["xx"]  # approximation when y is missing for some rows: x moments over all rows
            var_x_all = (sxx - sx**2 / n_all) / (n_all - 1)
            cov_all = (t[f"x{y}"] + c[f"x{y}"] - sx * sy / n_all) / (n_all - 1)
            # CUPED theta from both arms together: the covariate is pre-assignment, balanced by design.
            theta = np.nan_to_num(np.where(var_x_all > 0, cov_all / var_x_all, 0.0))
            pooled = (t[f"{y}{y}"] + c[f"{y}{y}"] - sy**2 / n_all) / (n_all - 1)
            for name, arm in (("t", t), ("c", c)):
                n = arm[f"n{y}"]
                mean = arm[y] / n
                var = np.where(n >= 2, (arm[f"{y}{y}"] - arm[y] ** 2 / n) / (n - 1), np.nan)
                var = variance_floor(var, n, pooled, rate=y in _RATES)
                mean_x = arm[f"x|{y}"] / n
                var_x = (arm["xx"] - arm["x"] ** 2 / arm["n"]) / (arm["n"] - 1)
                cov = (arm[f"x{y}"] - arm[f"x|{y}"] * arm[y] / n) / (n - 1)
                out[f"{y}_mt" if name == "t" else f"{y}_mc"] = mean
                out[f"{y}_v{name}"] = var / n
                out[f"{y}_a{name}"] = mean - theta * mean_x
                out[f"{y}_av{name}"] = np.clip(var - 2 * theta * cov + theta**2 * var_x, 0.0, None) / n
    return out


def _combine(s: dict[str, np.ndarray], n_t: np.ndarray, cid: np.ndarray, size: int) -> dict[str, np.ndarray]:
    """Per cohort: strata combined with weights n_treatment / sum(n_treatment) over comparable strata."""
    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(cid, weights=values, minlength=size)

    out: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for prefix, (y, _) in LIFTED.items():
            lift = s[f"{y}_mt"] - s[f"{y}_mc"]
            var = s[f"{y}_vt"] + s[f"{y}_vc"]
            usable = np.isfinite(var) & (n_t > 0)
            # Cohorts where no stratum has an interval still get a point estimate (and no interval).
            no_interval = total(usable.astype(float))[cid] == 0
            use = usable | (no_interval & np.isfinite(lift))
            w = np.where(use, n_t, 0.0)
            w = w / total(w)[cid]

            def wsum(values: np.ndarray, power: int = 1) -> np.ndarray:
                return total(np.where(use, w**power * values, 0.0))

            defined = total(use.astype(float)) > 0
            exact = total((use & ~usable).astype(float)) == 0
            se = np.where(defined & exact, np.sqrt(wsum(var, 2)), np.nan)
            se_cuped = np.where(defined & exact, np.sqrt(wsum(s[f"{y}_avt"] + s[f"{y}_avc"], 2)), np.nan)
            est = np.where(defined, wsum(lift), np.nan)
            adjusted = np.where(defined, wsum(s[f"{y}_at"] - s[f"{y}_ac"]), np.nan)
            mean_c, mean_t = wsum(s[f"{y}_mc"]), wsum(s[f"{y}_mt"])
            rel_low, rel_high = ratio_interval(mean_t, wsum(s[f"{y}_vt"], 2), mean_c, wsum(s[f"{y}_vc"], 2))
            out[f"{prefix}_lift"] = est
            out[f"{prefix}_lift_ci_low"], out[f"{prefix}_lift_ci_high"] = est - Z_95 * se, est + Z_95 * se
            out[f"{prefix}_relative_lift"] = np.where(mean_c != 0, est / mean_c, np.nan)
            out[f"{prefix}_relative_lift_ci_low"] = np.where(np.isfinite(se), rel_low, np.nan)
            out[f"{prefix}_relative_lift_ci_high"] = np.where(np.isfinite(se), rel_high, np.nan)
            out[f"{prefix}_p_value"] = two_sided_p(est, se)
            out[f"{prefix}_lift_cuped"] = adjusted
            out[f"{prefix}_lift_cuped_ci_low"] = adjusted - Z_95 * se_cuped
            out[f"{prefix}_lift_cuped_ci_high"] = adjusted + Z_95 * se_cuped
    return out


def _srm_design(long: pd.DataFrame, atoms: pd.DataFrame, design_control_share: Mapping[str, float] | None,
                global_share: float, variant_shares: Mapping[tuple[str, str], float] | None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per (atom, cohort) row: the probability of each sample-ratio group (rows, 3) under the design as its
    journeys were assigned (NaN where the design is unknown), whether the design is known, and whether the row's
    group was drawn at random (the rows that are not are only checked to be in the group the design fixes).

    The design is the one each journey recorded (design_holdout_share h, design_global_holdout_share g,
    design_variant_share); where a share was not recorded (older decisions, journeys only the delivery log knows)
    the library's current one stands in (design_control_share, global_share, variant_shares).
    Strategy cohorts, journeys of the decisions: a user's first journey is treatment, strategy holdout or global
    holdout with (1-g)(1-h), (1-g)h and g; a later journey outside the global holdout is treatment or strategy
    holdout with 1-h and h (the strategy's draw is fresh for every journey), and a later journey of a global
    holdout user is in the global holdout by rule, not by a draw (that user was put there once, and whether they
    are at risk again depends on recall never having touched them, so their share of later journeys is no
    design's): it is checked to be there and takes no part in the test of the draws.
    Journeys known only to the delivery log: control against g + (1-g)h (a strategy not in the design: its
    pooled control share, a homogeneity check). Programme cohorts (first journeys): the global holdout against
    g. Variant contrasts: the variant against its share of the pair."""
    n, rows = len(long), long["_row"].to_numpy()
    kind = _lookup(long["cohort_level"], KIND, object)
    strategy = long["s_strategy"]
    # What is the journeys' own is looked up on the atoms and copied to their rows (not compared row by row).
    h = atoms["design_holdout_share"].to_numpy(dtype=float)[rows]
    h = np.where(np.isnan(h), _lookup(strategy, design_control_share or {}, float), h)
    g = atoms["design_global_holdout_share"].to_numpy(dtype=float)[rows]
    g = np.where(np.isnan(g), float(global_share), g)
    # Per row: the pooled control share of its journey's strategy on its day (none for pooled-strategy rows).
    by_day = [atoms["_as_of"], atoms["strategy_id"]]
    journeys = atoms["_n"] * atoms["_once"]
    control = (journeys * (atoms["arm"] == "control")).groupby(by_day).transform("sum") \
        / journeys.groupby(by_day).transform("sum")
    f = np.where((strategy == ALL).to_numpy(dtype=bool), np.nan, control.to_numpy(dtype=float)[rows])
    known = (atoms["source"] == "decisions").to_numpy(dtype=bool)[rows]
    first = atoms["first_journey"].astype("boolean").fillna(True).to_numpy(dtype=bool)[rows]
    held_global = (atoms["holdout"] == "global").to_numpy(dtype=bool)[rows]
    shares = np.full((n, 3), np.nan)
    part = np.ones(n, dtype=bool)

    def put(mask: np.ndarray, *values: float | np.ndarray) -> None:
        for k, value in enumerate(values):
            shares[mask, k] = np.broadcast_to(np.asarray(value, dtype=float), (n,))[mask]

    is_strategy, has_h = kind == "strategy", ~np.isnan(h)
    put(kind == "programme", 1 - g, 0.0, g)
    put(is_strategy & has_h & known & first, (1 - g) * (1 - h), (1 - g) * h, g)
    put(is_strategy & has_h & known & ~first & ~held_global, 1 - h, h, 0.0)
    # ... but it is still assigned by the design: to the global holdout, and nothing else.
    put(is_strategy & has_h & known & ~first & held_global, 0.0, 0.0, 1.0)
    part &= ~(is_strategy & has_h & known & ~first & held_global)
    put(is_strategy & has_h & ~known, (1 - g) * (1 - h), g + (1 - g) * h, 0.0)
    put(is_strategy & ~has_h & ~np.isnan(f), 1 - f, f, 0.0)
    variant = np.flatnonzero(kind == "variant")
    if len(variant):
        recorded = atoms["design_variant_share"].to_numpy()[rows[variant]]
        contrasts = long[["_as_of", "s_date", "s_strategy", "s_value", "step_variant"]].iloc[variant].assign(
            design_variant_share=recorded, _n=atoms["_n"].to_numpy()[rows[variant]])  # what the lookup reads
        a, b = _variant_pair_shares(contrasts, variant_shares or {})
        ok = (a > 0) & (b > 0)
        shares[variant[ok]] = np.stack([a / (a + b), b / (a + b), np.zeros(len(a))], axis=1)[ok]
    return shares, np.isfinite(shares).all(axis=1), part


def _lookup(values: pd.Series, mapping: Mapping, dtype: type) -> np.ndarray:
    """mapping[value] per row (NaN or None where absent): looked up once per distinct value (the long table has a
    few strategies and levels over hundreds of thousands of rows)."""
    codes, uniques = pd.factorize(values)
    missing = np.nan if dtype is float else None
    table = np.array([*(mapping.get(u, missing) for u in uniques), missing], dtype=dtype)
    return table[codes]  # code -1 (a null value) takes the last entry: missing


def _variant_pair_shares(rows: pd.DataFrame, current: Mapping[tuple[str, str], float]) -> tuple[np.ndarray, np.ndarray]:
    """Per variant-contrast row ('<own> vs <reference>'): the design shares of its two variants in its campaign,
    as the campaign's journeys recorded them (the same for all: a campaign's steps are decided on the same days),
    else the library's current shares (NaN when neither knows)."""
    # Split and looked up once per distinct contrast and (strategy, variant), not once per row.
    codes, contrasts = pd.factorize(rows["s_value"].astype(str))
    split = [contrast.partition(" vs ") for contrast in contrasts]
    own = np.array([parts[0] for parts in split], dtype=object)[codes]
    reference = np.array([parts[2] for parts in split], dtype=object)[codes]
    # The mean share over the campaign's journeys (an atom weighs its journeys; those that recorded none left out).
    known = rows["design_variant_share"].notna()
    weighted = rows.assign(_share=rows["design_variant_share"].fillna(0.0) * rows["_n"], _known=rows["_n"] * known)
    recorded = weighted.groupby(["_as_of", "s_date", "s_strategy", "step_variant"])[["_share", "_known"]].sum()
    recorded = (recorded["_share"] / recorded["_known"]).where(recorded["_known"] > 0)

    def share(names: np.ndarray) -> np.ndarray:
        keys = pd.MultiIndex.from_arrays([rows["_as_of"].to_numpy(), rows["s_date"].to_numpy(),
                                          rows["s_strategy"].to_numpy(), names])
        found = recorded.reindex(keys).to_numpy(dtype=float)
        strategy_codes, strategies = pd.factorize(rows["s_strategy"])
        name_codes, distinct = pd.factorize(names)
        table = np.array([[current.get((s, n), np.nan) for n in distinct] for s in strategies], dtype=float)
        library = table.reshape(len(strategies), len(distinct))[strategy_codes, name_codes]
        return np.where(np.isnan(found), library, found)

    return share(own), share(reference)


def cohort_metrics(
    outcomes: pd.DataFrame, as_of: date, design_control_share: Mapping[str, float] | None = None,
    global_holdout_share: float = 0.0, variant_shares: Mapping[tuple[str, str], float] | None = None,
) -> pd.DataFrame:
    """One row per cohort and arm (METRIC_COLUMNS) from the journeys' outcomes as of `as_of`: see
    cohort_metrics_by_day."""
    return cohort_metrics_by_day({as_of: outcomes}, design_control_share, global_holdout_share, variant_shares)


def cohort_metrics_by_day(
    outcomes_by_day: Mapping[date, pd.DataFrame], design_control_share: Mapping[str, float] | None = None,
    global_holdout_share: float = 0.0, variant_shares: Mapping[tuple[str, str], float] | None = None,
) -> pd.DataFrame:
    """One row per day, cohort and arm (METRIC_COLUMNS), each day's from the outcomes measured as of that day, each
    exactly as if computed alone; lift columns are NaN on control rows. Days are computed in one pass: a range
    run's days are small, and pandas' cost is mostly per call.

    The sample-ratio check tests each journey against the design it recorded (outcomes' design_* columns); the
    arguments are the library's current design, for journeys that recorded none:
    design_control_share: the holdout share of each strategy; strategies without one are checked against their
    pooled control share over `outcomes` (a homogeneity check).
    global_holdout_share: the share of users kept out of every strategy (the library's global holdout).
    variant_shares: (strategy_id, variant id) -> the variant's share, for the variant contrasts' check.
    """
    atoms = atoms_of(outcomes_by_day)
    if atoms is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in METRIC_COLUMNS})
    return metrics_of_atoms(atoms, design_control_share, global_holdout_share, variant_shares)


def metrics_of_atoms(
    atoms: Atoms, design_control_share: Mapping[str, float] | None = None, global_holdout_share: float = 0.0,
    variant_shares: Mapping[tuple[str, str], float] | None = None,
) -> pd.DataFrame:
    """cohort_metrics_by_day from the journeys' atoms (atoms.py): the same rows, whichever parts the atoms were
    merged from."""
    fine, coarse = atoms.frame, coarsened(atoms, FINER_ATTRIBUTES)
    finer_levels = [level for level in LEVELS if level not in COARSE_LEVELS]
    long = pd.concat([
        expand_cohorts(fine[EXPAND_COLUMNS].assign(_row=np.arange(len(fine))), finer_levels),
        expand_cohorts(coarse.frame[EXPAND_COLUMNS].assign(_row=len(fine) + np.arange(len(coarse.frame))),
                       COARSE_LEVELS),
    ], ignore_index=True)
    # one table of both: the long table's _row indexes it, and each journey is counted once among its coarse atoms
    frame = pd.concat([fine.assign(_once=0.0), coarse.frame.assign(_once=1.0)], ignore_index=True)
    atoms = Atoms(frame, atoms.names, np.concatenate([atoms.totals, coarse.totals]))
    rows_of = long["_row"].to_numpy()
    for column in ("_wake_open", "_churn_open", "_wake_days", "_churn_days"):
        long[column] = frame[column].to_numpy()[rows_of]
    # Integer ids for cohorts and strata (a stratum = one campaign's comparison inside a cohort).
    cid = long.groupby(["_as_of", *COHORT_KEYS], dropna=False, sort=True).ngroup().to_numpy()
    sid = long.assign(_cid=cid).groupby(["_cid", *STRATUM_KEYS], dropna=False, sort=True).ngroup().to_numpy()
    n_cohorts, n_strata = int(cid.max()) + 1, int(sid.max()) + 1
    side = long["_side"].to_numpy()
    treated = side == TREATED
    t, c = (_sums(atoms, sid, rows_of, n_strata, side == arm) for arm in (TREATED, CONTROL))
    cid_of_sid = np.zeros(n_strata, np.int64)
    cid_of_sid[sid] = cid
    lifts = _combine(_stratum_lifts(t, c), t["n"], cid_of_sid, n_cohorts)

    cohorts = long.assign(_cid=cid).groupby("_cid", sort=True).agg(
        **{k: (k, "first") for k in ["_as_of", *COHORT_KEYS]}, min=("s_date", "min"), max=("s_date", "max"),
        wake_open=("_wake_open", "any"), churn_open=("_churn_open", "any"),
        wake_days=("_wake_days", "max"), churn_days=("_churn_days", "max"))
    # One row per (cohort, arm) that has journeys: index 2 * cohort + is_treatment (journeys without a side: none).
    row_sums = _sums(atoms, 2 * cid + treated, rows_of, 2 * n_cohorts, side != NO_SIDE)
    row_strata = np.bincount(2 * cid_of_sid + 1, weights=(t["n"] > 0), minlength=2 * n_cohorts) \
        + np.bincount(2 * cid_of_sid, weights=(c["n"] > 0), minlength=2 * n_cohorts)
    present = np.flatnonzero(row_sums["n"] > 0)
    rows = cohorts.iloc[present // 2].reset_index(drop=True)
    rows["arm"] = np.where(present % 2 == 1, "treatment", "control")
    rows["users"], rows["campaigns"] = row_sums["n"][present], row_strata[present]
    with np.errstate(divide="ignore", invalid="ignore"):
        for y, column in LIFTED.values():
            rows[column] = row_sums[y][present] / row_sums[f"n{y}"][present]
        returned = row_sums["_returned"][present]
        rows["second_churn_rate"] = np.where(returned > 0, row_sums["_churn"][present] / returned, np.nan)
        offered = row_sums["_redeem_known"][present]
        rows["coupon_redemption_rate"] = np.where(offered > 0, row_sums["_redeemed"][present] / offered, np.nan)
    for name, column in COUNTS.items():
        rows[name] = row_sums[column][present]
    rows["cost"] = row_sums["cost"][present]
    treatment = (rows["arm"] == "treatment").to_numpy()
    cohort_of_row = present // 2
    rows["control_users"] = np.where(treatment, row_sums["n"][2 * cohort_of_row], np.nan)
    rows["control_basis"] = rows["cohort_level"].map(CONTROL_BASIS)
    no_lift = ~treatment | (rows["control_basis"] == "none").to_numpy()
    for column, values in lifts.items():
        rows[column] = np.where(no_lift, np.nan, values[cohort_of_row])

    with np.errstate(divide="ignore", invalid="ignore"):
        for days, prefix in ((30, "revenue"), (90, "ltv_90d")):
            rows[f"incremental_revenue_{days}d"] = rows[f"{prefix}_lift"] * rows["users"]
            rows[f"roi_{days}d"] = ((rows[f"incremental_revenue_{days}d"] - rows["cost"]) / rows["cost"]).where(rows["cost"] > 0)

    # Each journey adds its group to the cohort's counts and its groups' probabilities to the cohort's expectation;
    # the pooled groups are then tested against it. (Summing each campaign's own chi-square instead treated the
    # small campaigns of a daily loop as if each were large, and alarmed far more often than the alarm level.)
    shares, designed, drawn = _srm_design(long, frame, design_control_share, global_holdout_share, variant_shares)
    part = designed & drawn
    groups = long["_srm"].to_numpy()
    weights = np.where(part, frame["_n"].to_numpy()[rows_of], 0.0)  # an atom counts its journeys
    counts = np.stack([np.bincount(cid, weights=weights * (groups == k), minlength=n_cohorts)
                       for k in (SRM_TREATMENT, SRM_HOLDOUT, SRM_GLOBAL)], axis=1)
    expected = np.stack([np.bincount(cid, weights=np.where(part, weights * shares[:, k], 0.0), minlength=n_cohorts)
                         for k in range(3)], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled_shares = np.where((counts.sum(axis=1) > 0)[:, None], expected / expected.sum(axis=1, keepdims=True), np.nan)
    srm_p = srm_p_value(counts, pooled_shares)
    # A cohort whose journeys were all assigned by rule (later journeys of global holdout users) has nothing drawn
    # to test: its split is the one the design fixes (unless ruled out below).
    fixed = np.bincount(cid, weights=(designed & ~drawn).astype(float), minlength=n_cohorts) > 0
    srm_p[fixed & (counts.sum(axis=1) == 0)] = 1.0
    # A journey in a group its own design rules out (a global holdout when g = 0, a treated global holdout user) is
    # an alarm by itself.
    own_share = np.take_along_axis(np.nan_to_num(shares, nan=1.0), np.clip(groups, 0, 2)[:, None], axis=1)[:, 0]
    ruled_out = designed & (groups >= 0) & (own_share <= 0)
    srm_p[np.bincount(cid, weights=ruled_out.astype(float), minlength=n_cohorts) > 0] = 0.0
    rows["srm_p_value"] = srm_p[cohort_of_row]
    # Variant and channel cohorts are slices of one campaign's treatment arm: its check applies.
    campaign_keys = ["_as_of", "period", "strategy_id"]
    campaign = rows.loc[rows["cohort_level"] == "campaign", [*campaign_keys, "srm_p_value"]].drop_duplicates()
    sliced = rows["control_basis"] == "whole_campaign"
    inherited = rows.loc[sliced, campaign_keys].merge(campaign, on=campaign_keys, how="left")
    rows.loc[sliced, "srm_p_value"] = inherited["srm_p_value"].to_numpy()
    rows["srm_alarm"] = rows["srm_p_value"] < SRM_ALPHA
    rows["trustworthy"] = ~rows["srm_alarm"]
    smallest = np.where(treatment, np.minimum(rows["users"], rows["control_users"].fillna(0)), rows["users"])
    rows["small_cohort"] = (smallest < SMALL_COHORT_USERS) & (rows["control_basis"] != "none")

    rows["assignment_date"] = np.where(rows["cohort_level"] == "week", rows["period"], rows["min"])
    rows["assignment_date"] = pd.to_datetime(rows["assignment_date"]).dt.date
    rows["assignment_end_date"] = pd.to_datetime(rows["max"]).dt.date
    elapsed = (rows["_as_of"] - pd.to_datetime(rows["max"])).dt.days
    rows["as_of_date"] = rows["_as_of"].dt.date
    # Wake-up and second churn are final when every pooled journey's are (their windows vary).
    rows["wake_up_mature"] = ~rows["wake_open"].astype(bool)
    rows["is_mature"] = elapsed >= REPURCHASE_DAYS - 1
    rows["second_churn_mature"] = rows["is_mature"] & ~rows["churn_open"].astype(bool)
    rows["ltv_mature"] = elapsed >= LTV_DAYS - 1
    rows["wake_up_window_days"] = rows["wake_days"].astype("int64")
    rows["churn_threshold_days"] = rows["churn_days"].astype("Int64")
    for column in ("users", "campaigns", *COUNTS):
        rows[column] = rows[column].astype("int64")
    order = {level: i for i, level in enumerate(CONTROL_BASIS)}
    rows = rows.sort_values(["as_of_date", "cohort_level", "assignment_date", "strategy_id", "cohort_value", "arm"],
                            key=lambda s: s.map(order) if s.name == "cohort_level" else s, kind="stable")
    return rows[METRIC_COLUMNS].reset_index(drop=True)
