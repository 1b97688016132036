"""Scoring assets: the churn model in force on each day (refit weekly into the registry, carried
otherwise) and the day's churn probabilities, which user_risk_tiers reads (see orchestration/scoring)."""

import dagster as dg

from orchestration.config import Settings
from orchestration.defs.partitions import recomputed_window
from orchestration.defs.resources import Warehouse
from orchestration.defs.tables import table_asset
from orchestration.scoring import ModelInForce, ScoringContext, model_in_force, model_row, write_day_scores
from orchestration.warehouse import replace_rows


def _model_metadata(in_force: ModelInForce) -> dict[str, dg.MetadataValue]:
    """The model of the window's last day, as asset metadata (its quality when there is one)."""
    metadata = {
        "scored_by": dg.MetadataValue.text("model" if in_force.version else "rules"),
        "reason": dg.MetadataValue.text(in_force.reason),
        "cutoff_date": dg.MetadataValue.text(in_force.cutoff.isoformat()),
    }
    if in_force.card is not None:
        card = in_force.card
        metadata["model_version"] = dg.MetadataValue.text(card.version)
        metadata["train_rows"] = dg.MetadataValue.int(card.rows["train"])
        window = {name: [str(day) for day in days] for name, days in card.training_window.items()}
        metadata["training_window"] = dg.MetadataValue.json(window)
        for name in ("roc_auc", "pr_auc", "brier", "calibration_error", "base_rate"):
            metadata[f"test_{name}"] = dg.MetadataValue.float(float(card.test[name]))
        metadata["test_roc_auc_of_recency_baselines"] = dg.MetadataValue.json(card.baseline_roc_auc)
    return metadata


def scoring_assets(partitions: dg.DailyPartitionsDefinition) -> list[dg.AssetsDefinition]:
    @table_asset("churn_model", partitions, group_name="scoring", deps=["user_daily_labels"], kinds={"scikitlearn"})
    def churn_model(
        context: dg.AssetExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]
    ) -> dg.MaterializeResult:
        ctx = ScoringContext.of(settings)
        refits, cold_days, in_force = 0, 0, None
        with warehouse.connect() as con:
            for day in recomputed_window(context, con, settings).with_lookback():
                in_force = model_in_force(con, day, ctx)
                replace_rows(con, "churn_model", model_row(in_force, ctx.horizon_days), "model_date = ?", [day])
                refits += in_force.refitted
                cold_days += in_force.version is None
                if in_force.refitted:
                    context.log.info(f"refit {in_force.version}: {in_force.reason}")
        assert in_force is not None
        return dg.MaterializeResult(metadata={
            **_model_metadata(in_force),
            "refits": dg.MetadataValue.int(refits),
            "cold_start_days": dg.MetadataValue.int(cold_days),
            "registry": dg.MetadataValue.path(str(ctx.registry)),
        })

    @table_asset("user_churn_scores", partitions, group_name="scoring", deps=["churn_model", "user_daily_labels"],
                 kinds={"scikitlearn"})
    def user_churn_scores(
        context: dg.AssetExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]
    ) -> dg.MaterializeResult:
        ctx = ScoringContext.of(settings)
        scores, predicted, kept = None, 0, 0
        with warehouse.connect() as con:
            for day in recomputed_window(context, con, settings).with_lookback():
                scores = write_day_scores(con, day, ctx.registry, ctx.horizon_days)
                predicted += scores.predicted
                kept += scores.kept
        assert scores is not None
        metadata = {
            "users_on_last_day": dg.MetadataValue.int(scores.rows),
            "scored_by_on_last_day": dg.MetadataValue.text(scores.scored_by),
            "reason_on_last_day": dg.MetadataValue.text(scores.reason),
            # a day scored again (the lookback) predicts only the rows whose features changed
            "rows_predicted": dg.MetadataValue.int(predicted),
            "rows_kept": dg.MetadataValue.int(kept),
        }
        if scores.mean_probability is not None:
            metadata["mean_probability_on_last_day"] = dg.MetadataValue.float(scores.mean_probability)
        return dg.MaterializeResult(metadata=metadata)

    return [churn_model, user_churn_scores]
