"""Write the recall report of a day: a dated page, and the undated page that always shows the newest day."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from orchestration.reporting.html import render_report

REPORT_NAME = "recall_report.html"


def publish_report(metrics: pd.DataFrame, day: date, folder: Path, truth: pd.DataFrame | None = None) -> tuple[Path, Path]:
    """(dated page, undated page) after writing `day`'s report; re-running an older day leaves the
    undated page on the newest day. `truth`: a simulation's true effects to show beside the lifts."""
    html = render_report(metrics, truth=truth)
    folder.mkdir(parents=True, exist_ok=True)
    dated = folder / f"recall_report_{day.isoformat()}.html"
    dated.write_text(html, encoding="utf-8")
    latest, latest_day = folder / REPORT_NAME, folder / ".latest_day"
    if not latest.exists() or not latest_day.exists() or latest_day.read_text().strip() <= day.isoformat():
        latest.write_text(html, encoding="utf-8")
        latest_day.write_text(day.isoformat())
    return dated, latest
