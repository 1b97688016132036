"""What a world simulated day by day carries from one day to the next, saved after every day as a snapshot (a folder
per day under `<home>/simulator/days/`), so that any process can advance it and any day can be simulated again
from the snapshot of the day before."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..carry import EFFECT_COLUMNS, HistoryEnd
from ..defects import EVENT_SCHEMA
from ..finance import LedgerStart
from .ghosts import empty_ghost_steps
from .truth import JOURNEY_COLUMNS

CLICK_COLUMNS = {"user": "int32", "time_us": "int64", "journey_id": "object"}


@dataclass(frozen=True)
class LoopState:
    """The world at the start of day `day` (everything before it has been simulated)."""

    day: int
    effects: pd.DataFrame       # carry.EFFECT_COLUMNS: real journeys (pre-made and the pipeline's) and ghosts
    journeys: pd.DataFrame      # truth.JOURNEY_COLUMNS: the pipeline's journeys the world has seen
    ghost_steps: pd.DataFrame   # ghosts.GHOST_STEP_COLUMNS not yet due
    device_changes: np.ndarray  # int16 per user
    last_active_day: np.ndarray  # int32 per user, -1 if never active
    consent: np.ndarray         # bool (users, 3): push, sms, call, in force at the start of `day`
    next_event_id: int
    next_order_id: int
    next_withdrawal_id: int
    ledger: LedgerStart | None
    pending_events: pa.Table    # events that happened but arrive (received_at) on a later day
    pending_clicks: pd.DataFrame  # recall clicks made after midnight of the day they were sent (CLICK_COLUMNS)

    @classmethod
    def from_history(cls, history: HistoryEnd) -> LoopState:
        return cls(
            day=history.day, effects=history.effects, journeys=empty_journeys(), ghost_steps=empty_ghost_steps(),
            device_changes=history.device_changes, last_active_day=history.last_active_day,
            consent=history.consent, next_event_id=history.next_event_id, next_order_id=history.next_order_id,
            next_withdrawal_id=history.next_withdrawal_id, ledger=history.ledger,
            pending_events=EVENT_SCHEMA.empty_table(), pending_clicks=empty_clicks(),
        )

    def save(self, folder: Path) -> None:
        """Write the snapshot (replacing one already there)."""
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        arrays = {"device_changes": self.device_changes, "last_active_day": self.last_active_day,
                  "consent": self.consent}
        if self.ledger is not None:
            arrays |= {"balance": self.ledger.balance, "planned_day": self.ledger.planned_day}
        np.savez(folder / "arrays.npz", **arrays)
        (folder / "state.json").write_text(json.dumps({
            "day": self.day, "next_event_id": self.next_event_id, "next_order_id": self.next_order_id,
            "next_withdrawal_id": self.next_withdrawal_id,
        }, indent=1))
        for name in ("effects", "journeys", "ghost_steps", "pending_clicks"):
            getattr(self, name).to_parquet(folder / f"{name}.parquet", index=False)
        pq.write_table(self.pending_events, folder / "pending_events.parquet")

    @classmethod
    def load(cls, folder: Path) -> LoopState:
        if not (folder / "state.json").is_file():
            raise FileNotFoundError(f"no simulator snapshot in {folder}")
        scalars = json.loads((folder / "state.json").read_text())
        with np.load(folder / "arrays.npz") as arrays:
            loaded = {k: arrays[k] for k in arrays.files}
        ledger = LedgerStart(loaded["balance"], loaded["planned_day"]) if "balance" in loaded else None
        frames = {name: pd.read_parquet(folder / f"{name}.parquet")
                  for name in ("effects", "journeys", "ghost_steps", "pending_clicks")}
        return cls(
            day=scalars["day"], effects=frames["effects"].astype(EFFECT_COLUMNS), journeys=frames["journeys"],
            ghost_steps=frames["ghost_steps"], device_changes=loaded["device_changes"],
            last_active_day=loaded["last_active_day"], consent=loaded["consent"],
            next_event_id=scalars["next_event_id"], next_order_id=scalars["next_order_id"],
            next_withdrawal_id=scalars["next_withdrawal_id"], ledger=ledger,
            pending_events=pq.read_table(folder / "pending_events.parquet"), pending_clicks=frames["pending_clicks"],
        )

    def evolve(self, **changes: object) -> LoopState:
        return replace(self, **changes)


def empty_journeys() -> pd.DataFrame:
    dtypes = {"journey_id": object, "user": np.int32, "strategy_id": object, "arm": object, "holdout": object,
              "start_day": np.int32}
    return pd.DataFrame({c: pd.Series(dtype=dtypes[c]) for c in JOURNEY_COLUMNS})


def empty_clicks() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in CLICK_COLUMNS.items()})
