"""Operations around a run (no Dagster): the preflight that validates everything before anything is
written, the identity of the process running a run (to tell a killed run from a live one), and its slowest
steps in one line."""

from orchestration.operations.preflight import PreflightError, preflight
from orchestration.operations.processes import process_identity, process_is_gone
from orchestration.operations.timings import slowest_steps

__all__ = ["PreflightError", "preflight", "process_identity", "process_is_gone", "slowest_steps"]
