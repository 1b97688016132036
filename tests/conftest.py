"""Test session setup: every generated file goes to a scratch home, never into the repository."""

import os
import tempfile

_home = tempfile.mkdtemp(prefix="churn-recall-tests-")
os.environ.setdefault("CHURN_RECALL_HOME", _home)
os.environ.setdefault("CHURN_RECALL_WAREHOUSE", os.path.join(_home, "warehouse.duckdb"))
os.environ.pop("DAGSTER_HOME", None)
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
