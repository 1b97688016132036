"""Reporting (domain logic, no Dagster): the recall report as a self-contained HTML page with inline SVG charts."""

from orchestration.reporting.html import render_report

__all__ = ["render_report"]
