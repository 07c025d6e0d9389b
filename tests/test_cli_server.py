"""`flows server start|stop|status|env` and how `flows run` picks its Prefect API; the `auto` runner; stage tasks.

Cheap tests first (decision logic, records, probes against a stub HTTP server, never a foreign process signalled),
then subprocesses that only import Prefect (which API `connect()` chooses under each configuration), then one
test against a real `prefect server start` (~40 s: start, reuse by `flows run`, stop).
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows import local_server
from flows.local_server import ApiChoice, ServerRecord, choose_api

REPO = Path(__file__).resolve().parents[1]
FLOWS = str(Path(sys.executable).with_name("flows"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _record(port: int, pid: int, home: Path) -> ServerRecord:
    return ServerRecord(pid=pid, port=port, home=str(home), log=str(home / "log"), started_at="2026-01-01T00:00:00")


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(self.status if self.path == "/api/health" else 404)
        self.end_headers()
        self.wfile.write(b"true")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stub_api() -> Iterator[tuple[int, type[_Health]]]:
    """An HTTP server on 127.0.0.1 answering /api/health with `handler.status`."""
    handler = type("Handler", (_Health,), {"status": 200})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], handler
    server.shutdown()
    server.server_close()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "prefect-home"
    path.mkdir()
    monkeypatch.setenv("PREFECT_HOME", str(path))
    return path


@pytest.fixture
def impostor(tmp_path: Path) -> Iterator[subprocess.Popen]:
    """A live process whose command line looks like our server's (`prefect server start --port 1`)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "prefect", "server", "start",
                             "--port", "1"])
    yield proc
    proc.kill()
    proc.wait()


# ----------------------------------------------------------------------------------- decision logic


def test_configured_api_wins_then_a_healthy_record_then_ephemeral(tmp_path: Path) -> None:
    record = _record(4200, 1, tmp_path)
    assert choose_api("http://elsewhere:4200/api", record, True) == ApiChoice("http://elsewhere:4200/api", "configured")
    assert choose_api(None, record, True) == ApiChoice("http://127.0.0.1:4200/api", "flows server")
    fallback = choose_api(None, record, False)
    assert (fallback.url, fallback.source) == (None, "ephemeral") and "does not answer" in fallback.warning
    assert choose_api(None, None, False) == ApiChoice(None, "ephemeral")


def test_record_round_trip_is_private_and_corrupt_records_mean_none(home: Path) -> None:
    record = _record(4321, 12345, home)
    local_server.write_record(home, record)
    assert local_server.read_record(home) == record
    assert (local_server.record_path(home).stat().st_mode & 0o777) == 0o600
    local_server.record_path(home).write_text("{not json")
    assert local_server.read_record(home) is None


def test_health_probe(stub_api: tuple[int, type[_Health]]) -> None:
    port, handler = stub_api
    assert local_server.healthy(f"http://127.0.0.1:{port}/api")
    handler.status = 500
    assert not local_server.healthy(f"http://127.0.0.1:{port}/api")
    assert not local_server.healthy(f"http://127.0.0.1:{_free_port()}/api")  # nothing listens


def test_a_server_that_hangs_is_unhealthy_within_the_timeout() -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        result: list[bool] = []
        probe = threading.Thread(
            target=lambda: result.append(local_server.healthy(f"http://127.0.0.1:{silent.getsockname()[1]}/api",
                                                              timeout=0.5)), daemon=True)
        probe.start()
        probe.join(120)  # a guard against hanging forever, not a timing check: the probe's own timeout is 0.5 s
        assert result == [False], "healthy() did not give up on a server that never answers"


def test_status_env_stop_without_a_server(home: Path, capsys: pytest.CaptureFixture) -> None:
    assert local_server.main(["status"]) == local_server.NOT_RUNNING
    assert local_server.main(["env"]) == local_server.NOT_RUNNING
    assert local_server.main(["stop"]) == 0
    assert "not running" in capsys.readouterr().out


def test_a_recycled_pid_is_never_signalled(home: Path, capsys: pytest.CaptureFixture) -> None:
    """The record's pid now belongs to another program: status says not running, stop only drops the record."""
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        local_server.write_record(home, _record(4200, other.pid, home))
        assert not local_server.is_our_server(local_server.read_record(home))
        assert local_server.main(["status"]) == local_server.NOT_RUNNING
        assert local_server.main(["stop"]) == 0
        assert other.poll() is None, "stop signalled a process it did not start"
        assert local_server.read_record(home) is None
        assert "stale record" in capsys.readouterr().out
    finally:
        other.kill()
        other.wait()


def test_a_dead_pid_is_not_running(home: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    local_server.write_record(home, _record(4200, gone.pid, home))
    assert not local_server.process_alive(gone.pid)
    assert local_server.running_server(home) is None
    assert local_server.main(["status"]) == local_server.NOT_RUNNING


def test_our_server_is_recognised_by_pid_command_line_and_port(home: Path, impostor: subprocess.Popen) -> None:
    assert local_server.is_our_server(_record(1, impostor.pid, home))
    assert not local_server.is_our_server(_record(2, impostor.pid, home))  # same pid, another port
    local_server.write_record(home, _record(1, impostor.pid, home))
    assert local_server.running_server(home) is None  # ours, but nothing answers on its port


# ----------------------------------------------------------------------------------- which API `flows run` uses


CONNECT = """
import json
from flows.local_server import connect
from prefect.settings import get_current_settings
choice = connect()
print(json.dumps({"url": choice.url, "source": choice.source, "warning": choice.warning,
                  "prefect_api_url": get_current_settings().api.url}))
"""


def _connect_in_fresh_process(home: Path, **env: str) -> dict:
    """connect() where Prefect is imported afresh (settings are read at import), no test harness around it."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    proc = subprocess.run([sys.executable, "-c", CONNECT], env=clean | {"PREFECT_HOME": str(home)} | env,
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture
def recorded_stub(home: Path, stub_api: tuple[int, type[_Health]]) -> Iterator[tuple[str, type[_Health]]]:
    """A healthy server recorded in PREFECT_HOME: a stub health endpoint and a pid whose command line matches."""
    port, handler = stub_api
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "prefect", "server", "start",
                             "--port", str(port)])
    local_server.write_record(home, _record(port, proc.pid, home))
    yield f"http://127.0.0.1:{port}/api", handler
    proc.kill()
    proc.wait()


def test_flows_run_uses_a_healthy_recorded_server(home: Path, recorded_stub: tuple[str, type[_Health]]) -> None:
    url, _ = recorded_stub
    chosen = _connect_in_fresh_process(home)
    assert (chosen["source"], chosen["url"], chosen["prefect_api_url"]) == ("flows server", url, url)


def test_explicit_api_urls_take_precedence(home: Path, recorded_stub: tuple[str, type[_Health]]) -> None:
    explicit = "http://127.0.0.1:9/api"
    chosen = _connect_in_fresh_process(home, PREFECT_API_URL=explicit)
    assert (chosen["source"], chosen["prefect_api_url"]) == ("configured", explicit)
    profiles = home / "profiles.toml"  # `prefect config set PREFECT_API_URL=...` writes this
    profiles.write_text(f'active = "team"\n\n[profiles.team]\nPREFECT_API_URL = "{explicit}"\n')
    chosen = _connect_in_fresh_process(home)
    assert (chosen["source"], chosen["prefect_api_url"]) == ("configured", explicit)


def test_an_unhealthy_recorded_server_falls_back_to_ephemeral(
    home: Path, recorded_stub: tuple[str, type[_Health]]
) -> None:
    _, handler = recorded_stub
    handler.status = 503
    chosen = _connect_in_fresh_process(home)
    assert (chosen["source"], chosen["url"], chosen["prefect_api_url"]) == ("ephemeral", None, None)
    assert "does not answer" in chosen["warning"]


# ----------------------------------------------------------------------------------- a real server


def _flows(args: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([FLOWS, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO)


def _live_group_members(pgid: int) -> list[int]:
    """Processes of a process group that still run (zombies awaiting their reaper excluded)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(stat.parent.name))
    return members


def _api_get(url: str) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=5) as response:
        return response.status


def test_server_start_reuse_and_stop(tmp_path: Path) -> None:
    """start (twice: idempotent) → status/env → `flows run` uses it without PREFECT_API_URL → stop."""
    home = tmp_path / "prefect-home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")} | {"PREFECT_HOME": str(home)}
    port = _free_port()
    started = _flows(["server", "start", "--port", str(port), "--no-ui"], env)
    record = local_server.read_record(home.resolve())
    try:
        assert started.returncode == 0, started.stderr + started.stdout
        assert record is not None and record.port == port and local_server.is_our_server(record)
        assert _api_get(f"{record.api_url}/health") == 200
        again = _flows(["server", "start"], env, timeout=30)
        assert again.returncode == 0 and "already running" in again.stdout
        status = _flows(["server", "status"], env, timeout=30)
        assert status.returncode == 0 and record.api_url in status.stdout
        assert _flows(["server", "env"], env, timeout=30).stdout.strip() == f"export PREFECT_API_URL={record.api_url}"

        from flows.demo import write_demo_crawl

        (crawl,) = write_demo_crawl(tmp_path / "in", 20, 1, 0)
        run = _flows(["run", "crawl-sample", "--input", str(crawl), "--out", str(tmp_path / "out"), "--debug",
                     "--json"], env)
        assert run.returncode == 0, run.stderr[-3000:]
        assert f"Prefect API {record.api_url}" in run.stderr
        assert "Starting temporary server" not in run.stderr  # Prefect's ephemeral-mode log line
        assert '"records_read": 20' in run.stdout
    finally:
        stopped = _flows(["server", "stop"], env, timeout=60)
    assert stopped.returncode == 0, stopped.stderr
    assert record is not None and not local_server.process_alive(record.pid)
    assert local_server.read_record(home.resolve()) is None
    assert not local_server.healthy(record.api_url, timeout=1)
    assert _live_group_members(record.pid) == []  # the server's whole process group is gone


# ----------------------------------------------------------------------------------- runner and stages


def test_auto_runner_uses_processes_only_where_they_pay() -> None:
    from flows.runners import AUTO_BYTES_PER_PROCESS, resolve_runner

    unit = AUTO_BYTES_PER_PROCESS
    assert resolve_runner("auto", 2, 4, gil_bound=True, work_bytes=2 * unit) == ("processes", 2)
    assert resolve_runner("auto", 8, 4, gil_bound=True, work_bytes=3 * unit) == ("processes", 3)  # a unit each
    assert resolve_runner("auto", 8, 2, gil_bound=True, work_bytes=9 * unit) == ("processes", 2)  # a task each
    assert resolve_runner("auto", 2, 4, gil_bound=True, work_bytes=2 * unit - 1) == ("threads", 2)  # not paid back
    assert resolve_runner("auto", 2, 4, gil_bound=False, work_bytes=10 * unit) == ("threads", 2)  # releases the GIL
    assert resolve_runner("auto", 1, 4, gil_bound=True, work_bytes=10 * unit) == ("threads", 1)  # one worker
    assert resolve_runner("threads", 2, 4, gil_bound=True, work_bytes=10 * unit) == ("threads", 2)  # explicit
    assert resolve_runner("dask", 3, 4, gil_bound=False, work_bytes=0) == ("dask", 3)


def test_input_bytes_counts_local_files_only(tmp_path: Path) -> None:
    from flows.runners import local_input_bytes

    local = tmp_path / "a.warc.gz"
    local.write_bytes(b"x" * 1000)
    assert local_input_bytes([str(local), str(tmp_path / "missing.warc.gz")]) == 1000
    assert local_input_bytes([str(local), "https://data.commoncrawl.org/x.warc.gz"]) == 1000


def test_process_workers_share_this_process_ephemeral_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no API URL configured, process-pool workers get the URL of the ephemeral server this process runs."""
    import types

    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    from flows.runners import shared_api

    fake = types.ModuleType("prefect.server.api.server")
    fake.SubprocessASGIServer = type("Server", (), {"running": True, "api_url": "http://127.0.0.1:8123/api"})
    monkeypatch.setitem(sys.modules, "prefect.server.api.server", fake)
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        with shared_api("processes"):
            assert get_current_settings().api.url == "http://127.0.0.1:8123/api"
        with shared_api("threads"):
            assert get_current_settings().api.url is None
        assert get_current_settings().api.url is None
        fake.SubprocessASGIServer.running = False
        with shared_api("processes"):
            assert get_current_settings().api.url is None


def test_cli_runs_without_heartbeats_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, get_current_settings, temporary_settings

    from flows.cli import HEARTBEAT_SETTINGS, _without_heartbeats

    for name in HEARTBEAT_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 60}):
        with _without_heartbeats():
            assert get_current_settings().flows.heartbeat_frequency is None
        monkeypatch.setenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "60")  # the user asked for heartbeats
        with _without_heartbeats():
            assert get_current_settings().flows.heartbeat_frequency == 60


def test_quality_audit_runs_each_stage_flow_as_a_task_named_after_it() -> None:
    from prefect import Task

    from flows.quality_audit import STAGES
    from flows.registry import load_flow

    assert list(STAGES) == ["crawl-sample", "deduplicate", "quality-classify", "tally-stocks", "forecast", "report"]
    for name, stage in STAGES.items():
        assert isinstance(stage, Task) and stage.name == name
        assert stage.fn is load_flow(name).fn  # the same code as `flows run NAME`
