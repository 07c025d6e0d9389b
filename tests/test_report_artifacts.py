"""Prefect artifacts of a run: markdown summary, tallies table and report link, published from a flow run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from prefect import flow
from prefect.artifacts import Artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from test_report import HOSTILE, write_run_dir

from flows.artifacts import artifact_key, md, publish_artifacts, summary_markdown, tallies_table
from flows.report import write_report


@flow(name="report-artifacts-test")
def publish(run_dir: str, summary: dict) -> str:
    publish_artifacts(Path(run_dir), summary)
    from prefect.runtime import flow_run

    return str(flow_run.id)


def artifacts_of(flow_run_id: str) -> dict[str, Artifact]:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    return {a.key: a for a in found}


def test_flow_run_publishes_summary_tallies_and_link(prefect_harness: None, tmp_path: Path) -> None:
    run = write_run_dir(tmp_path / "run", n_docs=24)
    report = build_report(run)
    run_id = publish(str(run), {"flow": "quality-audit"})
    found = artifacts_of(run_id)
    assert sorted(found) == ["peakdata-quality-audit-report", "peakdata-quality-audit-summary",
                             "peakdata-quality-audit-tallies"]
    summary = found["peakdata-quality-audit-summary"]
    assert summary.type == "markdown"
    assert "| records read | 58 |" in summary.data and "**Synthetic demo data**" in summary.data
    assert "| high | 600B \\[90%: 420B – 840B\\] | 480B \\[90%: 336B – 672B\\] |" in summary.data
    assert "| medium | 900T \\[90%: 288T – 2.97P\\] | 2029.8 | 2027.7 – 2033.2 |" in summary.data
    link = found["peakdata-quality-audit-report"]
    assert link.data == f"[report.html]({report.resolve().as_uri()})"  # Prefect stores links as markdown
    table = found["peakdata-quality-audit-tallies"]
    rows = json.loads(table.data)
    assert table.type == "table" and {"crawl", "lang", "tier", "dedup_state", "tokens"} <= set(rows[0])
    assert sum(r["documents"] for r in rows if r["dedup_state"] == "raw") == 24


def test_no_report_yet_and_no_stocks(prefect_harness: None, tmp_path: Path) -> None:
    run = write_run_dir(tmp_path / "run", n_docs=12)
    (run / "stocks.parquet").unlink()
    run_id = publish(str(run), {})
    found = artifacts_of(run_id)
    assert sorted(found) == ["peakdata-report-artifacts-test-summary", "peakdata-report-artifacts-test-tallies"]
    assert "Report: not built yet" in found["peakdata-report-artifacts-test-summary"].data
    rows = json.loads(found["peakdata-report-artifacts-test-tallies"].data)
    assert {r["tier"] for r in rows} == {"high", "medium", "low"}  # from stocks.json instead

    shutil.rmtree(run)
    run.mkdir()
    run_id = publish(str(run), {"counts": {"records_read": 5, "documents": 4}})
    found = artifacts_of(run_id)
    assert list(found) == ["peakdata-report-artifacts-test-summary"]
    assert "| documents | 4 |" in found["peakdata-report-artifacts-test-summary"].data


def test_outside_a_flow_run_nothing_is_published(tmp_path: Path) -> None:
    publish_artifacts(write_run_dir(tmp_path / "run", n_docs=8), {})  # no API server needed, no error


def test_markdown_escapes_hostile_strings(tmp_path: Path) -> None:
    run = write_run_dir(tmp_path / "run", n_docs=16, hostile=True)
    text = summary_markdown(run, {}, None)
    for payload in HOSTILE:
        assert payload not in text
    assert "<" not in text.replace("<br>", "")
    assert md("[x](javascript:alert(1)) <b>|") == r"\[x\]\(javascript:alert\(1\)\) &lt;b&gt;\|"
    assert md("a\nb\u2028c") == "a b c"
    assert artifact_key("peakdata", "Quality_Audit!", "summary") == "peakdata-quality-audit-summary"
    rows, _ = tallies_table(run, None)
    assert rows and all(isinstance(v, str | int | float | type(None)) for r in rows for v in r.values())


@pytest.fixture(autouse=True)
def _quiet_prefect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "")


def build_report(run: Path) -> Path:
    """report.html of a run directory, written as the report flow writes it."""
    return Path(write_report(str(run)))
