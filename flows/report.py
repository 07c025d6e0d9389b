"""report: one self-contained Plotly HTML report of a run directory, regenerated without recomputing."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from flows.crawl_sample import DEFAULT_OUT
from flows.rundir import read_json


@flow(name="report", log_prints=True)
def report(out: str = DEFAULT_OUT) -> str:
    """Build OUT/report.html from the tables of a finished run and publish Prefect artifacts.

    Args:
        out: Run directory of a previous run (manifest.json and the tables it holds).
    """
    from flows.artifacts import publish_artifacts  # Plotly and the report modules: only when a report is built
    from forecasts.report import build_report

    path = build_report(Path(out))
    manifest = Path(out) / "manifest.json"
    publish_artifacts(Path(out), read_json(manifest) if manifest.exists() else {})
    print(f"report: {path}")
    return str(path)
