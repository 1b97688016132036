"""Writes a simulated world as landing files (one folder per arrival day, Parquet) and ground-truth files."""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .population import US_PER_DAY
from .world import SimulatedWorld

# Each landing file and the timestamp whose UTC day picks its folder.
LANDING_FILES: dict[str, str] = {"events": "received_at", "users": "updated_at", "recall_touches": "scheduled_at"}
TRUTH_FILES: tuple[str, ...] = ("users", "journeys", "campaign_effects")


@dataclass(frozen=True)
class WriteSummary:
    """What write_world wrote."""

    landing_dir: Path
    truth_dir: Path
    day_folders: int
    files: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def write_world(world: SimulatedWorld, landing_dir: Path, truth_dir: Path) -> WriteSummary:
    """Write landing/YYYY-MM-DD/{events,users,recall_touches}.parquet and truth/*.parquet.

    Rewriting a world over an existing landing folder replaces its files day by day; a day without rows of
    a table gets no file (a stale one is removed). A world left to the closed loop is written up to the end of
    its history; the loop writes the later days one by one (simulator/loop).
    """
    began = time.perf_counter()
    landing_dir, truth_dir = Path(landing_dir), Path(truth_dir)
    config = world.config
    epoch_day = (config.start_date - datetime.date(1970, 1, 1)).days
    tables = {"events": world.events, "users": world.users, "recall_touches": world.touches}
    files, rows = 0, {}
    n_days = config.history_days
    folders = [landing_dir / (config.start_date + datetime.timedelta(days=d)).isoformat() for d in range(n_days)]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    for name, column in LANDING_FILES.items():
        table = tables[name]
        rows[name] = table.num_rows
        stamps = table[column].cast(pa.int64()).to_numpy(zero_copy_only=False)
        day = stamps // US_PER_DAY - epoch_day
        if table.num_rows and (day.min() < 0 or day.max() >= n_days):
            raise ValueError(f"{name}: {column} outside the simulated days")
        order = np.argsort(stamps, kind="stable")
        ordered = table.take(pa.array(order))
        cuts = np.searchsorted(day[order], np.arange(n_days + 1))
        for d, folder in enumerate(folders):
            path = folder / f"{name}.parquet"
            if cuts[d + 1] > cuts[d]:
                pq.write_table(ordered.slice(cuts[d], cuts[d + 1] - cuts[d]), path, compression="zstd")
                files += 1
            elif path.exists():
                path.unlink()
    truth_dir.mkdir(parents=True, exist_ok=True)
    truth = {
        "users": world.truth_users, "journeys": world.truth_journeys, "campaign_effects": world.truth_campaign_effects,
    }
    for name in TRUTH_FILES:
        pq.write_table(truth[name], truth_dir / f"{name}.parquet", compression="zstd")
        rows[f"truth_{name}"] = truth[name].num_rows
        files += 1
    return WriteSummary(landing_dir, truth_dir, len(folders), files, rows, time.perf_counter() - began)
