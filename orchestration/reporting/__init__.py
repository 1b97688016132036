"""Reporting (domain logic): the recall report as a self-contained HTML page with inline SVG charts, and
the plain-text summary of a run."""

from orchestration.reporting.html import render_report
from orchestration.reporting.publish import REPORT_NAME, publish_report

__all__ = ["REPORT_NAME", "publish_report", "render_report"]
