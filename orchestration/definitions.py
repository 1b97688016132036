"""The Dagster code location (workspace.yaml): the pipeline's definitions for the settings in the
environment, built when Dagster loads them, not at import."""

from __future__ import annotations

import dagster as dg

from orchestration.config import Settings
from orchestration.defs import build_definitions


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(Settings.from_env())
