"""The self-contained HTML report of a run directory (see docs/report.md)."""

from forecasts.report.builder import build_report

__all__ = ["build_report"]
