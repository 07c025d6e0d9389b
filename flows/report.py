"""report: one self-contained Plotly HTML report of a run directory, regenerated without recomputing."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from flows import storage
from flows.crawl_sample import DEFAULT_OUT
from flows.lock import holds_run_dir
from flows.rundir import TABLES, RunDir

REPORT_FILES = ("*.json", "*.parquet")
"""Files at the top of the run directory the report may read (manifest, stocks, quality, forecasts; not report.html)."""


@flow(name="report", log_prints=True)
@holds_run_dir
def report(out: str = DEFAULT_OUT, storage_options: str | None = None, wait: bool = False) -> str:
    """Build OUT/report.html from the tables of a finished run and publish Prefect artifacts.

    Args:
        out: Run directory of a previous run (manifest.json and the tables it holds).
        storage_options: JSON options of the --out file system, e.g. '{"endpoint_url": "http://h:9000"}'.
        wait: Wait for another writer of --out to finish instead of refusing to start.
    """
    from flows.artifacts import publish_artifacts  # Plotly and the report modules: only when a report is built
    run = _run_with_manifest(out)
    with run.local_view(dict.fromkeys(TABLES), files=REPORT_FILES) as view:
        target = write_report(out, view)
        publish_artifacts(view, storage.read_json(run.manifest), report_url=None if run.local else target)
    print(f"report: {target}")
    return target


def write_report(out: str, view: Path | None = None, *, seed: int = 0) -> str:
    """Render OUT/report.html from the run's tables (read from `view`, a local copy, when given) and commit it
    through the storage layer; returns its location."""
    from forecasts.report.builder import REPORT_NAME, render_report

    run = _run_with_manifest(out)
    target = run.path(REPORT_NAME)
    if view is None:
        with run.local_view(dict.fromkeys(TABLES), files=REPORT_FILES) as local:
            storage.write_text(target, render_report(local, seed=seed, source=run.root))
    else:
        storage.write_text(target, render_report(view, seed=seed, source=run.root))
    return target


def _run_with_manifest(out: str) -> RunDir:
    run = RunDir(out)
    if not storage.exists(run.manifest):
        raise FileNotFoundError(f"{run.manifest} is missing: is {run.root} a peakdata run directory (--out)?")
    return run
