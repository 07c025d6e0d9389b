"""`flows server start|stop|status|env`: one background Prefect API server on 127.0.0.1 that `flows run` reuses.

Without a server, every `flows run` is in Prefect's ephemeral mode: it imports Prefect's server application and
starts it in a subprocess before the first API call, 10–20 s of wall time and ~8 CPU s per command on two cores.
A server started once pays that once. This module is deliberately small and conservative:

- it only ever uses or stops a server it started itself: the pid, port and log are recorded in
  PREFECT_HOME/peakdata-server.json, and the pid must still run `prefect server start --port PORT`;
- it binds to 127.0.0.1 only (the API has no authentication);
- `flows run` uses the recorded server only when no API URL is configured (environment, profile or any other
  Prefect setting) and only when it answers /api/health within HEALTH_TIMEOUT_S; otherwise it falls back to
  ephemeral mode, as before.

Nothing here imports Prefect at module level, so `flows server status` answers in a fraction of a second.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from flows.processes import process_alive

HOST = "127.0.0.1"
DEFAULT_PORT = 4200
RECORD_NAME = "peakdata-server.json"
LOG_NAME = "peakdata-server.log"
HEALTH_TIMEOUT_S = 2.0  # a healthy local server answers in milliseconds, even on two busy cores
START_TIMEOUT_S = 180.0  # first start migrates a new database and copies the UI: ~20-40 s on two busy cores
STOP_TIMEOUT_S = 20.0
NOT_RUNNING = 3  # exit status of `status`/`env` when no healthy server is recorded (as infra/local-stack.sh)


@dataclass(frozen=True)
class ServerRecord:
    """What `flows server start` wrote down about the server it started."""

    pid: int
    port: int
    home: str
    log: str
    started_at: str
    ui: bool = True

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://{HOST}:{self.port}"


@dataclass(frozen=True)
class ApiChoice:
    """Which Prefect API a `flows run` talks to, and why (for messages and tests)."""

    url: str | None
    source: str  # "configured", "flows server" or "ephemeral"
    warning: str | None = None


# ----------------------------------------------------------------------------------- the record


def prefect_home() -> Path:
    """PREFECT_HOME as flows.environment sets it (per user unless the user chose): the server's database."""
    return Path(os.environ["PREFECT_HOME"]).expanduser().resolve()


def record_path(home: Path) -> Path:
    return home / RECORD_NAME


def read_record(home: Path) -> ServerRecord | None:
    """The recorded server, or None when there is none or the record is unreadable (treated as no server)."""
    try:
        data = json.loads(record_path(home).read_text(encoding="utf-8"))
        return ServerRecord(**data)
    except (OSError, ValueError, TypeError):
        return None


def write_record(home: Path, record: ServerRecord) -> None:
    """Atomically, owner-only: the record decides which process `stop` signals."""
    path = record_path(home)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(asdict(record), handle, indent=2)
    os.replace(tmp, path)


def remove_record(home: Path) -> None:
    record_path(home).unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(home: Path) -> Iterator[None]:
    """Serialise start/stop, so two concurrent `flows server start` never start two servers on one database."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".peakdata-server.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


# ----------------------------------------------------------------------------------- probes


def healthy(api_url: str, timeout: float = HEALTH_TIMEOUT_S) -> bool:
    """True when GET {api_url}/health answers 200 within `timeout` (proxies bypassed: the server is local)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{api_url}/health", timeout=timeout) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError, ValueError):
        return False


def _cmdline(pid: int) -> list[str] | None:
    """The process's arguments (Linux); None where /proc is not available."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return [] if Path("/proc/self/cmdline").exists() else None
    except OSError:
        return None
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def is_our_server(record: ServerRecord) -> bool:
    """The recorded pid still runs `prefect server start ... --port PORT` (not a recycled pid)."""
    if not process_alive(record.pid):
        return False
    args = _cmdline(record.pid)
    if args is None:  # no /proc (macOS): the pid is alive, the health check decides
        return True
    return "prefect" in args and "server" in args and "start" in args and str(record.port) in args


def running_server(home: Path) -> ServerRecord | None:
    """The recorded server when it is ours and healthy, else None."""
    record = read_record(home)
    if record is not None and is_our_server(record) and healthy(record.api_url):
        return record
    return None


# ----------------------------------------------------------------------------------- flows run


def choose_api(configured: str | None, record: ServerRecord | None, is_healthy: bool) -> ApiChoice:
    """An API URL configured in Prefect wins; else a healthy recorded server; else ephemeral mode."""
    if configured:
        return ApiChoice(configured, "configured")
    if record is None:
        return ApiChoice(None, "ephemeral")
    if is_healthy:
        return ApiChoice(record.api_url, "flows server")
    return ApiChoice(None, "ephemeral", warning=(
        f"the server recorded by `flows server start` ({record.api_url}) is gone or does not answer; running in "
        "ephemeral mode (`flows server status` says more, `flows server start` starts it again)"))


def connect() -> ApiChoice:
    """Point this process's Prefect at the recorded local server when no API URL is configured.

    Called by `flows run` after Prefect is imported, so that every way of configuring PREFECT_API_URL (environment,
    profile, .env, prefect.toml) keeps precedence: Prefect's own resolved settings decide whether one is set.
    """
    import prefect.context
    from prefect.settings import get_current_settings

    configured = get_current_settings().api.url
    record = None if configured else read_record(prefect_home())
    choice = choose_api(configured, record, record is not None and is_our_server(record) and healthy(record.api_url))
    if choice.source == "flows server":
        # Environment, not a temporary settings context: threads Prefect starts later (events, logs, heartbeats)
        # and worker processes of the process pool read the global settings, which this refresh rebuilds.
        os.environ["PREFECT_API_URL"] = choice.url or ""
        prefect.context.refresh_global_settings_context()
    return choice


# ----------------------------------------------------------------------------------- commands


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as `prefect server start` checks it
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _any_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _log_tail(path: Path, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def _signal_group(pid: int, sig: signal.Signals) -> None:
    """Signal the server's process group (it was started as a session leader), else the pid alone."""
    with contextlib.suppress(ProcessLookupError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)  # the server may be our own child (started by this process)
        if not process_alive(pid):
            return True
        time.sleep(0.1)
    return not process_alive(pid)


def _terminate(record: ServerRecord, timeout: float) -> None:
    _signal_group(record.pid, signal.SIGTERM)
    if not _wait_gone(record.pid, timeout):
        _signal_group(record.pid, signal.SIGKILL)
        _wait_gone(record.pid, 5)


def start(port: int | None = None, ui: bool = True, timeout: float = START_TIMEOUT_S) -> int:
    """Start the server in the background (or report the running one) and wait until /api/health answers."""
    home = prefect_home()
    with _locked(home):
        record = read_record(home)
        if record is not None and is_our_server(record):
            if healthy(record.api_url):
                print(f"flows server: already running at {record.api_url} (pid {record.pid})")
                return 0
            print(f"flows server: pid {record.pid} does not answer at {record.api_url}; `flows server stop` first",
                  file=sys.stderr)
            return 1
        remove_record(home)  # a stale record: its process is gone
        if port is None:
            port = DEFAULT_PORT if _port_free(DEFAULT_PORT) else _any_free_port()
        elif not _port_free(port):
            print(f"flows server: port {port} on {HOST} is in use; choose another with --port", file=sys.stderr)
            return 2
        log = home / LOG_NAME
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}  # the server is the API
        env |= {"PREFECT_HOME": str(home), "PREFECT_SERVER_UI_ENABLED": str(ui).lower()}
        cmd = [sys.executable, "-m", "prefect", "server", "start", "--host", HOST, "--port", str(port)]
        with open(log, "ab") as out:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True)  # own group: survives this command, stoppable as one
        record = ServerRecord(pid=proc.pid, port=port, home=str(home), log=str(log), ui=ui,
                              started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        write_record(home, record)  # before waiting: `stop` can end a server that never becomes healthy
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if proc.poll() is not None:
                remove_record(home)
                print(f"flows server: `prefect server start` exited with status {proc.returncode}; {log}:\n"
                      f"{_log_tail(log)}", file=sys.stderr)
                return 1
            if healthy(record.api_url):
                ui_line = f"; UI {record.ui_url}" if ui else ""
                print(f"flows server: running at {record.api_url} (pid {proc.pid}, started in "
                      f"{time.monotonic() - started:.0f} s{ui_line}); `flows run` uses it from now on")
                if os.environ.get("PREFECT_API_URL"):
                    print(f"flows server: note: PREFECT_API_URL={os.environ['PREFECT_API_URL']} is set in this "
                          "shell and takes precedence; unset it to use this server", file=sys.stderr)
                return 0
            time.sleep(0.25)
        _terminate(record, STOP_TIMEOUT_S)
        remove_record(home)
        print(f"flows server: no answer at {record.api_url} after {timeout:.0f} s; stopped it. {log}:\n"
              f"{_log_tail(log)}", file=sys.stderr)
        return 1


def stop(timeout: float = STOP_TIMEOUT_S) -> int:
    """Stop the recorded server (SIGTERM to its process group, SIGKILL after `timeout`); nothing else is touched."""
    home = prefect_home()
    with _locked(home):
        record = read_record(home)
        if record is None:
            print("flows server: none was started here (no record in PREFECT_HOME)")
            return 0
        if not is_our_server(record):
            remove_record(home)
            print(f"flows server: pid {record.pid} no longer runs the server; removed the stale record")
            return 0
        _terminate(record, timeout)
        remove_record(home)
        print(f"flows server: stopped pid {record.pid} ({record.api_url})")
        return 0


def status() -> int:
    """One line about the recorded server: exit 0 when it answers, 3 otherwise."""
    home = prefect_home()
    record = read_record(home)
    if record is None:
        print(f"flows server: not running (no record in {home}); `flows run` uses ephemeral mode")
        return NOT_RUNNING
    if not is_our_server(record):
        print(f"flows server: not running (pid {record.pid} is gone; stale record, `flows server start` replaces it)")
        return NOT_RUNNING
    if not healthy(record.api_url):
        print(f"flows server: pid {record.pid} runs but {record.api_url}/health does not answer; log {record.log}")
        return NOT_RUNNING
    ui_line = f", UI {record.ui_url}" if record.ui else ""
    print(f"flows server: running at {record.api_url} (pid {record.pid}, since {record.started_at}{ui_line}, "
          f"PREFECT_HOME {record.home}, log {record.log})")
    return 0


def env() -> int:
    """`export PREFECT_API_URL=...` for the shell (`eval "$(flows server env)"`), for prefect/flows deploy/serve."""
    record = running_server(prefect_home())
    if record is None:
        print("flows server: not running; `flows server start` first", file=sys.stderr)
        return NOT_RUNNING
    print(f"export PREFECT_API_URL={record.api_url}")
    return 0


def main(argv: list[str]) -> int:
    """`flows server COMMAND [options]`."""
    parser = argparse.ArgumentParser(
        prog="flows server", description="A background Prefect API server on 127.0.0.1 that `flows run` reuses "
        "(saves Prefect's 10-20 s start-up per run). State lives in PREFECT_HOME "
        "(default ~/.local/state/peakdata/prefect).")
    sub = parser.add_subparsers(dest="command", required=True)
    begin = sub.add_parser("start", help="start the server in the background and wait until it answers")
    begin.add_argument("--port", type=int, default=None,
                       help=f"port on {HOST} (default {DEFAULT_PORT}, or a free one when {DEFAULT_PORT} is taken)")
    begin.add_argument("--ui", action=argparse.BooleanOptionalAction, default=True, help="serve the Prefect UI")
    begin.add_argument("--timeout", type=float, default=START_TIMEOUT_S, help="seconds to wait for /api/health")
    end = sub.add_parser("stop", help="stop the server `flows server start` started")
    end.add_argument("--timeout", type=float, default=STOP_TIMEOUT_S, help="seconds before SIGKILL")
    sub.add_parser("status", help="is it running and answering? (exit 0 yes, 3 no)")
    sub.add_parser("env", help="print `export PREFECT_API_URL=...` (exit 3 when not running)")
    args = parser.parse_args(argv)
    if args.command == "start":
        return start(args.port, args.ui, args.timeout)
    if args.command == "stop":
        return stop(args.timeout)
    return status() if args.command == "status" else env()
