"""Two `flows run quality-audit` processes with different inputs on one --out: the first finishes intact, the second
is refused at once naming the holder (exit 2), or with --wait runs after the first and leaves a complete run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from flows.demo import write_demo_crawl
from flows.lock import LOCK_NAME

pytestmark = pytest.mark.slow
AUDIT = ["--draws", "2000", "--high-percentile", "70", "--low-percentile", "30", "--runner", "threads",
         "--workers", "1"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[Path, Path]:
    first, second = tmp_path_factory.mktemp("input-a"), tmp_path_factory.mktemp("input-b")
    write_demo_crawl(first, n_records=600, n_files=3, seed=11)
    write_demo_crawl(second, n_records=120, n_files=2, seed=12)
    return first, second


def _env() -> dict[str, str]:
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return env | {"PREFECT_API_URL": str(settings.api.url), "PREFECT_HOME": str(settings.home)}


def _audit(input_dir: Path, out: Path, log: Path, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "flows.cli", "run", "quality-audit", "--input", str(input_dir), "--out", str(out),
           *AUDIT, *extra]
    return subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, env=_env(), cwd=log.parent)


def _wait_until_locked(out: Path, proc: subprocess.Popen, log: Path) -> dict:
    deadline = time.monotonic() + 300
    lock = out / LOCK_NAME
    while True:
        assert proc.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "the first writer never took the lock"
        if lock.exists() and lock.read_text().strip():
            return json.loads(lock.read_text())
        time.sleep(0.1)


def _sources(out: Path) -> set[str]:
    return set(pl.read_parquet(sorted((out / "documents").glob("part-*.parquet")))["source_file"].unique())


def test_a_second_writer_is_refused_and_the_first_finishes_intact(inputs, prefect_harness, tmp_path):
    first_input, second_input = inputs
    out = tmp_path / "run"
    first = _audit(first_input, out, tmp_path / "first.log")
    holder = _wait_until_locked(out, first, tmp_path / "first.log")
    second = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", "quality-audit", "--input", str(second_input), "--out", str(out),
         *AUDIT], capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=300)
    assert second.returncode == 2, second.stderr[-3000:]
    message = second.stderr
    assert f"pid {holder['pid']}" in message and f"host {holder['host']}" in message
    assert f"flow run {holder['flow_run_id']}" in message and holder["flow_run_id"]
    assert "--wait" in message and "Traceback" not in message
    assert first.wait(timeout=600) == 0, (tmp_path / "first.log").read_text()[-3000:]
    assert _sources(out) == {str(p) for p in first_input.glob("*.warc.gz")}  # nothing of the second input
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["failures"] == [] and manifest["finished_at"]
    assert (out / "report.html").exists() and (out / "stocks.json").exists()
    assert not (out / LOCK_NAME).read_text().strip()  # released


def test_a_waiting_writer_runs_after_the_first(inputs, prefect_harness, tmp_path):
    first_input, second_input = inputs
    out = tmp_path / "run"
    first = _audit(first_input, out, tmp_path / "first.log")
    _wait_until_locked(out, first, tmp_path / "first.log")
    second = _audit(second_input, out, tmp_path / "second.log", "--wait")
    deadline = time.monotonic() + 600
    holders = []  # the lock's holders in the order seen: the first writer, then (once it let go) the second
    while first.poll() is None or second.poll() is None:
        text = (out / LOCK_NAME).read_text().strip()
        if text and (not holders or holders[-1] != json.loads(text)["pid"]):
            holders.append(json.loads(text)["pid"])
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert holders == [first.pid, second.pid]
    assert f"waiting for run directory {out}, held by host" in (tmp_path / "second.log").read_text()
    assert first.returncode == 0, (tmp_path / "first.log").read_text()[-3000:]
    assert second.wait(timeout=600) == 0, (tmp_path / "second.log").read_text()[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["failures"] == [] and manifest["finished_at"]
    assert _sources(out) == {str(p) for p in second_input.glob("*.warc.gz")}
