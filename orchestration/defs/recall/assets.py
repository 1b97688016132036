"""Recall assets: plan each day's journeys and steps (recall_actions) under the settings' targeting
policy (the uplift model of the day for `uplift`), then export the outbox once the blocking checks pass
(recall_outbox)."""

from datetime import date

import dagster as dg
import pandas as pd

from orchestration.config import Settings
from orchestration.config.settings import python_step_memory_limit
from orchestration.defs.partitions import day_window
from orchestration.defs.resources import Warehouse
from orchestration.defs.tables import table_asset
from orchestration.prefetch import prefetched
from orchestration.recall import ACTION_COLUMNS, finalize, holdout_assignments, load_strategy_library, outbox, propose
from orchestration.recall.export import export_day, remove_partials
from orchestration.recall.messages import MESSAGES_TABLE, split_messages, with_messages
from orchestration.recall.readers import OutboxHistory, read_day_inputs, read_day_users, read_top_features
from orchestration.uplift.planning import decider
from orchestration.uplift.registry import latest_model
from orchestration.warehouse import replace_rows
from orchestration.warehouse.connection import lowered_memory_limit
from orchestration.warehouse.engine import engine_for
from orchestration.warehouse.io import record_write


def recall_assets(partitions: dg.DailyPartitionsDefinition) -> list[dg.AssetsDefinition]:
    @table_asset("recall_actions", partitions, group_name="recall",
                 deps=["user_risk_tiers", "int_user_versions", "user_contacts", "user_segments", "stg_events", "stg_recall_touches",
                       "uplift_model"])
    def recall_actions(
        context: dg.AssetExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]
    ) -> dg.MaterializeResult:
        library = load_strategy_library(settings.strategies)
        decisions: dict[str, int] = {}
        bases: dict[str, int] = {}  # new journeys and skips by what decided them
        days = day_window(context, settings).days
        limit = settings.duckdb_memory_limit
        with (warehouse.connect() as con, lowered_memory_limit(con, python_step_memory_limit(limit), limit),
              con.cursor() as ahead):
            con.execute("set TimeZone = 'UTC'")
            engine = engine_for(settings, con)
            # A day's tiers and users do not depend on the days before it: the next day's are read on a cursor of
            # their own while this day is planned (day D's plan does depend on D-1's: docs/operations.md).
            ahead.execute("set TimeZone = 'UTC'")
            ahead_engine = engine_for(settings, ahead)

            def day_users(day: date) -> tuple[date, tuple[pd.DataFrame, pd.DataFrame] | None]:
                return day, read_day_users(ahead, day, ahead_engine) if settings.recall_live(day) else None

            history = OutboxHistory(con, library)  # each day's read from the day before's and the day it planned
            for n, (day, users) in enumerate(prefetched(days, day_users), start=1):
                if users is not None:
                    inputs, state = read_day_inputs(con, day, library, settings.vertical, engine, users,
                                                    history.of(day))
                    model = latest_model(settings.home, day) if settings.recall_policy == "uplift" else None
                    decide = decider(settings.recall_policy, day, settings.vertical, library, inputs.users, model)
                    candidates = propose(inputs, library, state, decide)
                    actions = finalize(candidates, inputs, library, read_top_features(con, day, candidates))
                else:  # before go-live nothing is planned (nor exported)
                    actions = pd.DataFrame(columns=ACTION_COLUMNS)
                decided, messages = split_messages(actions)  # messages name the user: restricted schema
                record_write(con, "recall_actions", day)  # a day planned again tells the carried measurement
                replace_rows(con, "recall_actions", decided, "action_date = ?", [day])
                replace_rows(con, MESSAGES_TABLE, messages, "action_date = ?", [day])
                first = actions.loc[actions["step"].isna() | (actions["step"] == 1)]
                for key, count in first.groupby(["basis", "decision_reason"], dropna=False).size().items():
                    label = ":".join(str(k) for k in key if not pd.isna(k)) or "unknown"
                    bases[label] = bases.get(label, 0) + int(count)
                for key, count in actions.groupby(["status", "reason"], dropna=False).size().items():
                    label = key[0] if pd.isna(key[1]) else f"{key[0]}:{key[1]}"
                    decisions[label] = decisions.get(label, 0) + int(count)
                if n % 10 == 0 or n == len(days):
                    context.log.info(f"recall_actions: planned {n}/{len(days)} days (through {day})")
        return dg.MaterializeResult(metadata={
            "decisions_by_status": dg.MetadataValue.json(dict(sorted(decisions.items()))),
            "library_revision": library.revision,
            "policy": settings.recall_policy,
            "decisions_by_basis": dg.MetadataValue.json(dict(sorted(bases.items()))),
        })

    @table_asset("recall_outbox", partitions, group_name="recall", deps=["recall_actions"], kinds={"parquet"})
    def recall_outbox(
        context: dg.AssetExecutionContext, warehouse: Warehouse, settings: dg.ResourceParam[Settings]
    ) -> dg.MaterializeResult:
        export_dir = settings.outbox
        remove_partials(export_dir)  # left by an export that was killed
        by_channel: dict[str, int] = {}
        with warehouse.connect() as con:
            for day in day_window(context, settings).days:
                actions = with_messages(con, "select * from recall_actions where action_date = ?", [day])
                due = outbox(actions)
                replace_rows(con, "recall_outbox", due.drop(columns=["message"]), "action_date = ?", [day])
                stem = day.isoformat()
                export_day(export_dir, day, {stem: due, f"holdout/{stem}": holdout_assignments(actions)})
                for channel, count in due["channel"].value_counts().items():
                    by_channel[channel] = by_channel.get(channel, 0) + int(count)
        return dg.MaterializeResult(metadata={
            "outbox_by_channel": dg.MetadataValue.json(by_channel),
            "export_dir": dg.MetadataValue.path(str(export_dir)),
        })

    return [recall_actions, recall_outbox]
