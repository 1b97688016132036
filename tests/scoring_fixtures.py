"""A synthetic user_daily_labels table for the scoring tests: users who take key actions at their own rate
until they stop (some never do), labelled day by day like the dbt model (the columns the churn features
read; the others null)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd

from orchestration.scoring.features import FEATURES

START = date(2026, 1, 5)  # a Monday
DATE_COLUMNS = {"label_date", "last_key_action_date", "last_reactivated_date", "signup_date"}


def label_columns() -> list[str]:
    """Every user_daily_labels column the features read, plus the keys and last_key_action_date."""
    referenced = {name for sql, _ in FEATURES.values() for name in re.findall(r"labels\.(\w+)", sql)}
    return ["user_id", "label_date", "last_key_action_date", *sorted(referenced - {"user_id", "label_date"})]


def synthetic_labels(n_users: int = 400, n_days: int = 80, seed: int = 0, start: date = START) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rate = rng.uniform(0.03, 0.5, n_users)
    stop = rng.integers(5, 2 * n_days, n_users)          # the user's last possible active day
    signup = rng.integers(0, 10, n_users)
    days = np.arange(n_days)[:, None]
    act = (rng.random((n_days, n_users)) < rate) & (days <= stop) & (days >= signup)
    last = np.maximum.accumulate(np.where(act, days, -1), axis=0)
    counts = np.cumsum(act, axis=0)
    last_30 = counts - np.vstack([np.zeros((30, n_users), int), counts[:-30]])
    frames = []
    for d in range(n_days):
        users = np.flatnonzero(signup <= d)
        seen = last[d, users] >= 0
        frames.append(pd.DataFrame({
            "user_id": [f"u{u:04d}" for u in users],
            "label_date": start + timedelta(days=d),
            "last_key_action_date": [start + timedelta(days=int(x)) if x >= 0 else None for x in last[d, users]],
            "days_since_signup": d - signup[users],
            "days_since_last_key_action": np.where(seen, d - last[d, users], np.nan),
            "silent_days": np.where(seen, d - last[d, users], d - signup[users]),
            "orders_30d": last_30[d, users],
            "orders_90d": counts[d, users],
            "signal_count": 0,
        }))
    return pd.concat(frames, ignore_index=True)


def load_labels(con: duckdb.DuckDBPyConnection, labels: pd.DataFrame) -> None:
    """(Re)create user_daily_labels from `labels`, with every column the features read (null when absent)."""
    def column_type(name: str) -> str:
        if name == "user_id":
            return "varchar"
        if name in DATE_COLUMNS:
            return "date"
        return "boolean" if name.startswith("signal_") and name != "signal_count" else "double"

    columns = label_columns()
    con.execute("drop table if exists user_daily_labels")
    con.execute(f"create table user_daily_labels ({', '.join(f'{c} {column_type(c)}' for c in columns)})")
    con.register("incoming_labels", labels)
    present = [c for c in columns if c in labels.columns]
    con.execute(f"insert into user_daily_labels ({', '.join(present)}) select {', '.join(present)} from incoming_labels")
    con.unregister("incoming_labels")
