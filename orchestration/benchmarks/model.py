"""A churn model in force on a benchmark's late day (`churn-recall benchmark --with-model`).

A world of a few days is a cold start: a model needs about two months of matured labels, so the rules score every
user and the recall plan decides for the many they flag. A deployment past its first months scores with a model.
To time such a day on a young world, a model is fitted on a labelled world of its own, whose labels end on the late
day's refit cut-off (simulated and labelled once, not timed), and registered under the version the late day's
scoring looks for: the day then runs every step a day with a model in force runs. Its users differ from a mature
app's: a model fitted on 120 days finds few of a young world's users at risk (docs/performance-log.md, thirty-third
session)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path

import duckdb

from orchestration.config import Settings
from orchestration.scoring import ModelCard, ScoringContext, load_card, refit
from orchestration.scoring.cadence import version_of_day
from orchestration.scoring.registry import has_model

DONOR_USERS, DONOR_DAYS = 20_000, 120


def model_for_day(ctx: ScoringContext, day: date, donor: duckdb.DuckDBPyConnection,
                  donor_warehouse: Path) -> ModelCard | str:
    """Fit the churn model on the labels of another warehouse (open on `donor`) as of `day`'s refit cut-off and
    register it in ctx's registry under the version `day`'s scoring looks for (kept when already there); the
    cold-start reason when the donor's matured history cannot support a fit."""
    cutoff, version = version_of_day(ctx, day)
    if has_model(ctx.registry, version):
        return load_card(ctx.registry, version)
    return refit(donor, cutoff, version, dataclasses.replace(ctx, warehouse=donor_warehouse))


def register_donor_model(settings: Settings, day: date, donor_home: Path) -> ModelCard:
    """model_for_day with a donor world of DONOR_USERS over the DONOR_DAYS up to the cut-off, under `donor_home`;
    SystemExit when its model is not accepted (the day would still be scored by the rules)."""
    from orchestration.benchmarks.world import labelled_world

    ctx = ScoringContext.of(settings)
    cutoff, _ = version_of_day(ctx, day)
    donor = labelled_world(donor_home, DONOR_USERS, DONOR_DAYS, vertical=settings.vertical,
                           start_date=cutoff - timedelta(days=DONOR_DAYS - 1))
    with duckdb.connect(str(donor.warehouse)) as con:
        card = model_for_day(ctx, day, con, donor.warehouse)
    if isinstance(card, str) or not card.accepted:
        raise SystemExit(f"--with-model: the donor world's model cannot score {day}: "
                         f"{card if isinstance(card, str) else 'not accepted (it ranks no better than recency)'}")
    return card
