"""Runs as users start them (`flows run` / `flows serve` processes against one Prefect server): a quality-audit
SIGKILLed mid-way and re-run reuses its finished shards and ends with the same tables as a clean run; crawl-sample
on a Dask LocalCluster writes the same documents as the default thread runner; `flows serve` serves the yaml's
weekly forecast. The tests share the server and the clean run, which is why they live in one file."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

REPO = Path(__file__).resolve().parents[1]
FLOWS = [sys.executable, "-m", "flows.cli"]
TABLES = ("documents", "dedup", "quality", "tiers", "tokens")
BIG_SHARD = "part-trafilatura-eval-1033pages-"  # warc_derived: the slow shard, read after cc_warc's two


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server_env(tmp_path_factory):
    """A `prefect server start` (SQLite) for this module's flow runs: ~3 s per `flows run` instead of an
    ephemeral server per process (10-30 s on 2 busy cores), and Dask workers report to it too."""
    home = tmp_path_factory.mktemp("prefect-server")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {"PREFECT_HOME": str(home), "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_UI_ENABLED": "false"}
    log = (home / "server.log").open("wb")
    server = subprocess.Popen([str(Path(sys.executable).with_name("prefect")), "server", "start", "--host",
                               "127.0.0.1", "--port", str(port), "--analytics-off"], env=env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True, cwd=home)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"prefect server did not start: {(home / 'server.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield env | {"PREFECT_API_URL": f"http://127.0.0.1:{port}/api", "PREFECT_LOGGING_LEVEL": "WARNING"}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
        log.close()


def _inputs(shared_data: Path) -> list[str]:
    args = []
    for folder in ("warc_derived", "warc_noncc", "cc_warc"):
        args += ["--input", str(shared_data / folder)]
    return args


def _audit(shared_data: Path, out: Path) -> list[str]:
    return [*FLOWS, "run", "quality-audit", *_inputs(shared_data), "--out", str(out), "--workers", "1",
            "--draws", "2000"]


def _run(command: list[str], env: dict, timeout: float = 400) -> subprocess.CompletedProcess:
    proc = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def clean_run(shared_data, server_env, tmp_path_factory) -> Path:
    """An uninterrupted audit: the reference every other run must equal."""
    out = tmp_path_factory.mktemp("clean") / "run"
    _run(_audit(shared_data, out), server_env)
    return out


def _table(out: Path, name: str) -> pl.DataFrame:
    files = sorted((out / name).glob("part-*.parquet"))
    assert files, f"no {name} shards in {out}"
    return pl.read_parquet(files).sort("doc_id")


def _files(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """name → (inode, mtime_ns, content): a rewrite (atomic rename) changes the inode even with equal bytes."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(folder.iterdir())
            if p.is_file()}


def _stock_numbers(out: Path) -> dict:
    return json.loads((out / "stocks.json").read_text())


def test_killed_audit_resumes_without_recomputing_and_matches_a_clean_run(
        shared_data, server_env, clean_run, tmp_path):
    out = tmp_path / "run"
    documents = out / "documents"
    victim = subprocess.Popen(_audit(shared_data, out), env=server_env, cwd=REPO, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while True:
            markers = sorted(documents.glob("part-*.json")) if documents.is_dir() else []
            if len(markers) >= 2 and not any(m.name.startswith(BIG_SHARD) for m in markers):
                break
            assert victim.poll() is None, f"the run ended before it could be killed: {victim.stderr.read()[-2000:]}"
            assert time.monotonic() < deadline, "no documents shard finished in 300 s"
            time.sleep(0.05)
        os.killpg(victim.pid, signal.SIGKILL)  # the whole process group, as a crashed machine would
    finally:
        if victim.poll() is None:
            os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(30)
        victim.stderr.close()
    assert victim.returncode == -signal.SIGKILL

    # What the kill left behind: finished shards with their markers; a half-written shard only under a
    # hidden temporary name, never as part-*.parquet.
    before = _files(documents)
    finished = sorted(n for n in before if n.startswith("part-") and n.endswith(".parquet"))
    assert finished and all(n.removesuffix(".parquet") + ".json" in before for n in finished)
    for name in finished:
        assert pq.read_metadata(documents / name).num_rows > 0
    assert not any(n.startswith(BIG_SHARD) and n.endswith(".parquet") for n in before)
    assert not (out / "dedup").exists() and not (out / "tokens").exists()

    _run(_audit(shared_data, out), server_env)

    after = _files(documents)
    for name in finished:  # not recomputed: same file (inode), same time, same bytes; same for its marker
        assert after[name] == before[name], f"{name} was rewritten on resume"
        marker = name.removesuffix(".parquet") + ".json"
        assert after[marker] == before[marker]
    assert any(n.startswith(BIG_SHARD) for n in after)
    assert not [n for n in after if n.endswith(".tmp") and n not in before], "temporary files left by the resume"

    for table in TABLES:
        assert_frame_equal(_table(out, table), _table(clean_run, table), check_exact=True)
    assert _stock_numbers(out) == _stock_numbers(clean_run)  # every estimate, interval and design entry
    assert_frame_equal(pl.read_parquet(out / "stocks.parquet"), pl.read_parquet(clean_run / "stocks.parquet"))
    resumed, clean = (json.loads((d / "manifest.json").read_text()) for d in (out, clean_run))
    assert resumed["counts"] == clean["counts"] and resumed["counts"]["documents"] == _table(out, "documents").height
    assert resumed["failures"] == clean["failures"] == []
    assert (out / "report.html").stat().st_size > 10_000


def test_dask_local_cluster_writes_the_same_documents_as_threads(shared_data, server_env, clean_run, tmp_path):
    """The five small files (warc_derived would add one long task and no parallelism) on two Dask worker
    processes; doc_id comes from the WARC record, so the clean run's rows of those files are the reference."""
    out = tmp_path / "dask"
    small = ["--input", str(shared_data / "warc_noncc"), "--input", str(shared_data / "cc_warc")]
    _run([*FLOWS, "run", "crawl-sample", *small, "--out", str(out), "--runner", "dask", "--workers", "2"],
         server_env)
    dask_docs = _table(out, "documents")
    sources = set(dask_docs["source_file"].unique())
    assert len(sources) == 5
    thread_docs = _table(clean_run, "documents").filter(pl.col("source_file").is_in(sources))
    assert dask_docs.height == thread_docs.height > 50
    assert_frame_equal(dask_docs, thread_docs, check_exact=True)
    markers = {p.name: json.loads(p.read_text()) for p in (out / "documents").glob("part-*.json")}
    for name, marker in markers.items():
        reference = json.loads((clean_run / "documents" / name).read_text())
        assert marker["params_digest"] == reference["params_digest"]
        assert marker["documents"] == reference["documents"]


def _api(env: dict, method: str, path: str, body: dict | None = None, attempts: int = 5) -> dict:
    """One Prefect API call. A 503 (the server's SQLite database busy; the transaction was rolled back) is retried
    with backoff, as Prefect's own client does; any other error is raised."""
    request = urllib.request.Request(env["PREFECT_API_URL"] + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code != 503 or attempt == attempts:
                raise
            time.sleep(2**attempt)
    return {}  # not reached: the last attempt returns or raises


def test_flows_serve_registers_the_yaml_schedule_and_runs_it(server_env, clean_run, tmp_path):
    """`flows serve` for users without a work pool: the weekly forecast with its cron, run on request."""
    serve = subprocess.Popen([*FLOWS, "serve", "--name", "forecast/weekly", "--limit", "1"], env=server_env,
                             cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                deployment = _api(server_env, "GET", "/deployments/name/forecast/weekly")
                break
            except urllib.error.HTTPError as exc:
                assert exc.code == 404
            assert serve.poll() is None, serve.stderr.read()[-2000:]
            assert time.monotonic() < deadline, "flows serve registered nothing in 180 s"
            time.sleep(0.5)
        assert [s["schedule"]["cron"] for s in deployment["schedules"]] == ["0 7 * * 1"]
        assert deployment["parameters"]["stocks"] == "runs/latest/stocks.json"
        out = tmp_path / "forecast"
        run = _api(server_env, "POST", f"/deployments/{deployment['id']}/create_flow_run",
                   {"parameters": {"out": str(out), "stocks": str(clean_run / "stocks.json"), "draws": 2000}})
        while (state := _api(server_env, "GET", f"/flow_runs/{run['id']}")["state"])["type"] not in (
                "COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            assert time.monotonic() < deadline + 180, f"served run still {state['type']}"
            time.sleep(0.5)
        assert state["type"] == "COMPLETED", state
        assert json.loads((out / "forecast.json").read_text())
    finally:
        os.killpg(serve.pid, signal.SIGTERM)  # what a supervisor sends: serve must stop by itself
        try:
            serve.wait(30)
            stopped = True
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait(10)
            stopped = False
        serve.stderr.close()
    assert stopped, "flows serve ignored SIGTERM for 30 s"
