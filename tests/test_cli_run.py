"""A real audit as a user runs it: stage lines while it works, then the report's place and the answer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_audit_ends_with_the_report_and_the_answer(tmp_path: Path, prefect_harness: None) -> None:
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {"PREFECT_API_URL": str(settings.api.url), "HOME": str(tmp_path / "home")}
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "flows.cli", "run", "quality-audit", "--demo-records", "300",
                           "--draws", "5000", "--out", str(out)], capture_output=True, text=True, timeout=600,
                          cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for stage in ("crawl-sample", "deduplicate", "quality-classify", "tally-stocks", "forecast", "report"):
        assert any(line.startswith(stage) for line in proc.stderr.splitlines()), (stage, proc.stderr[-2000:])
    lines = proc.stdout.strip().splitlines()
    assert lines[0] == f"Report: {out / 'report.html'}" and (out / "report.html").exists()
    answer = "\n".join(lines)
    assert "high" in answer and "tokens [90%:" in answer and "exhaustion" in answer and "ci80" in answer
    assert "synthetic demo" in answer
    assert "{" not in answer  # JSON only with --json
    assert not (tmp_path / ".prefect").exists()  # Prefect's state is never left in the working directory
