"""A run's progress for the command line: one line per step started and finished (with its duration),
failed steps and checks, and warnings; not the libraries' chatter (dbt, dagster-dbt, Great
Expectations), which Dagster's console logger would print. Used when the run config names it
(`loggers: {progress: {}}`); runs started elsewhere keep Dagster's default console logger."""

from __future__ import annotations

import logging

import dagster as dg

LOGGER_NAME = "orchestration.progress"


class _ProgressLines(logging.Filter):
    """Keep step starts, successes and failures, failed checks and warnings; rewrite them as short lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key") or ""
        if event is None:  # a message logged by a step: only warnings and errors
            if record.levelno < logging.WARNING:
                return False
            message = meta.get("orig_message", record.getMessage())
            record.msg, record.args = (f"  {step}: {message}" if step else f"  {message}"), ()
            return True
        kind = event.event_type_value
        if kind == "STEP_START":
            record.msg = f"  {step} ..."
        elif kind == "STEP_SUCCESS":
            record.msg = f"  {step} done in {event.event_specific_data.duration_ms / 1000:.1f}s"
        elif kind == "STEP_FAILURE":
            record.msg = f"  {step} FAILED"
        elif kind == "ASSET_CHECK_EVALUATION" and not event.event_specific_data.passed:
            data = event.event_specific_data
            record.msg = f"  check {data.check_name} on {data.asset_key.to_user_string()} failed"
        else:
            return False
        record.args, record.levelno, record.levelname = (), logging.INFO, "INFO"
        return True


@dg.logger(description="One line per step started or finished, failed checks and warnings (the CLI's view of a run).")
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(logging.DEBUG)  # step events arrive at DEBUG: the filter picks and relabels them
    if not any(isinstance(f, _ProgressLines) for f in logger.filters):
        logger.addFilter(_ProgressLines())
    return logger
