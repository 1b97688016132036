"""Operations around a run (no Dagster): the preflight that validates everything before anything is
written, and the identity of the process running a run (to tell a killed run from a live one)."""

from orchestration.operations.preflight import PreflightError, preflight
from orchestration.operations.processes import process_identity, process_is_gone

__all__ = ["PreflightError", "preflight", "process_identity", "process_is_gone"]
