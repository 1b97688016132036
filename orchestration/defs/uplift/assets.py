"""The uplift model in force on each planning day: refitted into the registry
($CHURN_RECALL_HOME/models/uplift) on the library's cadence from the randomized journeys and their
outcomes (by the model_refits run the evening before, or here when that run did not happen), carried
otherwise; its held-out Qini / AUUC become asset metadata (orchestration/uplift)."""


from typing import Any

import dagster as dg

from orchestration.config import Settings
from orchestration.defs.partitions import SINGLE_RUN, WAREHOUSE_POOL, day_window
from orchestration.defs.resources import Warehouse
from orchestration.recall import load_strategy_library
from orchestration.uplift.planning import uplift_model_of_day
from orchestration.uplift.registry import latest_model_folder, registry_root
from orchestration.uplift.training import card_summary


def _metadata(card: dict[str, Any] | None) -> dict[str, Any]:
    if card is None:
        return {"model_version": dg.MetadataValue.text("none: no randomized journeys yet (the planner uses the rules)")}
    summary = card_summary(card)
    out: dict[str, Any] = {"model_version": dg.MetadataValue.text(str(summary.pop("version")))}
    for key, value in summary.items():
        out[key] = dg.MetadataValue.json(value) if isinstance(value, list) else dg.MetadataValue.text(str(value))
    # The held-out evaluation of every mature treatment (Qini, AUUC, average effect, with intervals).
    out["heldout_evaluation"] = dg.MetadataValue.json(
        [{k: e[k] for k in ("treatment_key", "outcome", "qini", "auuc", "heldout_effect") if k in e}
         for e in card.get("treatments", []) if e.get("mature")])
    return out


def uplift_assets(partitions: dg.DailyPartitionsDefinition) -> list[dg.AssetsDefinition]:
    # Reads recall_actions and recall_outcomes of earlier days only (a model of day D is trained through
    # D - 1), so they are not declared upstream: that would make a cycle with recall_actions.
    @dg.asset(name="uplift_model", group_name="recall", partitions_def=partitions, backfill_policy=SINGLE_RUN,
              pool=WAREHOUSE_POOL, kinds={"python", "scikitlearn"}, deps=["user_risk_tiers", "user_segments"],
              description="The uplift model set each planning day's decision uses: refitted every "
                          "economics.decision.refit_every_days through the day before, from the randomized journeys of "
                          "recall_actions and their outcomes (recall_outcomes), versioned in $CHURN_RECALL_HOME/models/uplift; "
                          "held-out Qini / AUUC with intervals in the metadata. The model_refits run after the day "
                          "before fits it (next_day_models); this step fits it only when that run did not.")
    def uplift_model(context: dg.AssetExecutionContext, warehouse: Warehouse,
                     settings: dg.ResourceParam[Settings]) -> dg.MaterializeResult:
        library = load_strategy_library(settings.strategies)
        card, versions = None, {}
        live = [d for d in day_window(context, settings).days if settings.recall_live(d)]
        with warehouse.connect() as con:
            for day in live:
                model = uplift_model_of_day(con, settings, library, day)
                if model is not None:
                    card, versions[day.isoformat()] = model.card, model.version
        if versions:
            context.log.info(f"uplift models in force: {sorted(set(versions.values()))}")
        folder = latest_model_folder(settings.home, live[-1]) if live else None
        return dg.MaterializeResult(metadata={
            **_metadata(card), "policy": settings.recall_policy,
            "versions_by_day": dg.MetadataValue.json(versions),
            "registry": dg.MetadataValue.path(str(folder or registry_root(settings.home))),
        })

    return [uplift_model]
