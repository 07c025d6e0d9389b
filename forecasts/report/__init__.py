"""The self-contained HTML report of a run directory (see docs/report.md)."""

from forecasts.report.builder import render_report

__all__ = ["render_report"]
