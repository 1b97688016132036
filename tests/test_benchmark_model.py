"""`churn-recall benchmark --with-model`: a model fitted on another warehouse's labels is the one in force on the day
of a young world it was registered for, and that day is scored by it instead of the cold-start rules."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb

from orchestration.benchmarks.model import model_for_day
from orchestration.scoring import ScoringContext, model_in_force, model_row, write_day_scores
from orchestration.warehouse import replace_rows
from tests.scoring_fixtures import START, load_labels, synthetic_labels

H = 7
DAY = START + timedelta(days=38)  # a Thursday: its refit cut-off is the Monday before, 35 days after START
YOUNG_START = DAY - timedelta(days=7)  # the young world's first partition: a week of labels, a cold start


def scored_by(con: duckdb.DuckDBPyConnection, ctx: ScoringContext) -> tuple[object, set[str]]:
    """The day's model in force, as the churn_model asset records it, and who scored its users."""
    in_force = model_in_force(con, DAY, ctx)
    replace_rows(con, "churn_model", model_row(in_force, H), "model_date = ?", [DAY])
    write_day_scores(con, DAY, ctx.registry, H)
    scored = {row[0] for row in con.execute("select scored_by from user_churn_scores where score_date = ?",
                                            [DAY]).fetchall()}
    return in_force, scored


def test_a_donor_model_is_in_force_on_the_young_worlds_day_and_scores_it(tmp_path: Path):
    labels = synthetic_labels()
    donor_path, young_path = tmp_path / "donor.duckdb", tmp_path / "young.duckdb"
    with duckdb.connect(str(donor_path)) as con:
        load_labels(con, labels)
    ctx = ScoringContext(vertical="ecommerce", horizon_days=H, home=tmp_path / "young", warehouse=young_path,
                         first_partition=YOUNG_START)
    with duckdb.connect(str(young_path)) as young:
        load_labels(young, labels[labels["label_date"] >= YOUNG_START])
        in_force, scored = scored_by(young, ctx)
        assert in_force.version is None and "cold start" in in_force.reason and scored == {"rules"}

        with duckdb.connect(str(donor_path), read_only=True) as donor:
            card = model_for_day(ctx, DAY, donor, donor_path)
        assert not isinstance(card, str) and card.accepted
        assert card.cutoff == DAY - timedelta(days=3) and card.warehouse == str(donor_path)

        in_force, scored = scored_by(young, ctx)
        assert in_force.version == card.version and not in_force.refitted and scored == {"model"}

        with duckdb.connect(str(donor_path), read_only=True) as donor:  # registered once: the same card again
            assert model_for_day(ctx, DAY, donor, donor_path).fitted_at == card.fitted_at
