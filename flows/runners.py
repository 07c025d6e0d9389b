"""Task runners for scale-out: Prefect's thread and process pools, or a Dask cluster via prefect-dask.

`--runner auto` (the default) picks per stage. Reading crawl files (resiliparse, fastText) and counting tokens
(tiktoken) hold the GIL for 92-93% of their time (py-spy, see docs/performance.md), so a second thread adds
almost nothing there, while the quality stage (polars) holds it ~12% of the time. Worker processes scale, but each
costs ~3 CPU s to start (Python, Prefect, peakdata, models): auto uses them only where that is paid back.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

from prefect import Task
from prefect.futures import as_completed
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from flows import live_counts

RUNNERS = ("auto", "threads", "processes", "dask")
HEARTBEAT_S = 15.0
"""A stage that runs longer than this prints a progress line this often when stderr is not a terminal."""
FIRST_FAILURES = 5
"""A stage stops when this many shards have finished and every one failed (and more remain)."""
AUTO_BYTES_PER_PROCESS = 128 << 20
"""Local input each worker process of `auto` must have: enough reading that a worker's start-up stays a small
fraction of its work even on a machine with no free core (the measured ratio is in docs/performance.md)."""


def _logger() -> logging.Logger | logging.LoggerAdapter:
    """The flow run's logger (shown in the Prefect UI) inside a run, a module logger outside."""
    from prefect.exceptions import MissingContextError
    from prefect.logging import get_run_logger

    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(__name__)


def default_workers() -> int:
    """Worker count when the user gives none: the cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def local_input_bytes(sources: list[str]) -> int:
    """Bytes of the local input files, for `--runner auto`.

    Remote files count 0: their size is unknown before reading, and threads overlap their network waits (which
    release the GIL), so `auto` keeps threads for them unless the local input alone is large.
    """
    total = 0
    for source in sources:
        if "://" not in source:
            with contextlib.suppress(OSError):
                total += os.path.getsize(source)
    return total


def resolve_runner(runner: str, workers: int | None, tasks: int, gil_bound: bool, work_bytes: int) -> tuple[str, int]:
    """The runner and pool size to use. `auto`: for a GIL-bound stage, one worker process per AUTO_BYTES_PER_PROCESS
    of input (at most `workers`, at most one per task) when that makes two or more; threads otherwise."""
    workers = workers or default_workers()
    if runner != "auto":
        return runner, workers
    processes = min(workers, tasks, work_bytes // AUTO_BYTES_PER_PROCESS)
    return ("processes", processes) if gil_bound and processes > 1 else ("threads", workers)


@contextlib.contextmanager
def shared_api(runner: str) -> Iterator[None]:
    """Worker processes talk to this process's Prefect API instead of each starting an ephemeral one.

    In ephemeral mode (no PREFECT_API_URL) Prefect starts a temporary API server per process, so each worker of
    a process pool would start its own (~10 CPU s each, on the same SQLite file). When this process runs an
    ephemeral server, its URL is handed to the workers for the pool's lifetime.
    """
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    if runner != "processes" or get_current_settings().api.url:
        yield
        return
    module = sys.modules.get("prefect.server.api.server")  # imported by the client that started an ephemeral API
    try:
        server = module.SubprocessASGIServer() if module else None  # one instance per process (a singleton)
        url = server.api_url if server is not None and server.running else None
    except AttributeError:  # another Prefect version: workers start their own, as before
        url = None
    if url is None:
        yield
        return
    with temporary_settings({PREFECT_API_URL: url}):
        yield


def make_task_runner(runner: str, workers: int | None, dask_address: str | None = None) -> TaskRunner:
    """Build the task runner named by `--runner` (`auto` resolved already) for `--workers` processes or threads."""
    workers = workers or default_workers()
    if runner == "threads":
        return ThreadPoolTaskRunner(max_workers=workers)
    if runner == "processes":
        return ProcessPoolTaskRunner(max_workers=workers)
    if runner == "dask":
        from prefect_dask import DaskTaskRunner

        if dask_address:
            return DaskTaskRunner(address=dask_address)
        cluster = {"n_workers": workers, "threads_per_worker": 1, "processes": True,
                   "dashboard_address": "127.0.0.1:0", "silence_logs": logging.ERROR}  # loopback only, quiet
        return DaskTaskRunner(cluster_kwargs=cluster)
    raise ValueError(f"unknown runner {runner!r}; choose one of {RUNNERS}")


def run_tasks(
    task: Task, parameter_sets: list[dict[str, Any]], runner: str, workers: int | None, dask_address: str | None,
    gil_bound: bool = False, work_bytes: int = 0,
) -> list[Any | BaseException]:
    """Run `task` once per parameter set on the chosen runner; a failure is returned, not raised.

    The flow picks its runner from its own parameters (so deployments can choose it), and one failed
    shard never discards the results of the others. `gil_bound` and `work_bytes` let `auto` choose.
    """
    if not parameter_sets:
        return []
    results: dict[int, Any | BaseException] = {}
    chosen, size = resolve_runner(runner, workers, len(parameter_sets), gil_bound, work_bytes)
    if chosen != runner:
        _logger().info("%s: runner auto → %s ×%d (%d tasks, %.0f MB of input)", task.name, chosen, size,
                       len(parameter_sets), work_bytes / 1e6)
    pool = make_task_runner(chosen, size, dask_address)
    with shared_api(chosen), pool as task_runner, StageProgress(task.name, len(parameter_sets)) as bar:
        if chosen == "dask":
            _share_storage_options(task_runner)
        futures = [task_runner.submit(task, params) for params in parameter_sets]
        index = {id(f): i for i, f in enumerate(futures)}
        for future in as_completed(futures):
            try:
                result = future.result()
            except Exception as exc:  # reported per shard by the caller
                result = exc
            results[index[id(future)]] = result
            bar.advance(result if isinstance(result, dict) else {})
            _stop_if_all_failing(task.name, results, len(futures))
    return [results[i] for i in range(len(futures))]


class FirstShardsFailed(RuntimeError):
    """The first shards of a stage all failed: the cause is almost surely shared (network, credentials, a wrong
    --base-url), so the rest are not attempted."""


def _stop_if_all_failing(stage: str, results: dict[int, Any], total: int) -> None:
    """Stop a stage whose first FIRST_FAILURES finished shards all failed while more remain."""
    if len(results) != FIRST_FAILURES or total <= FIRST_FAILURES:
        return
    errors = [r for r in results.values() if isinstance(r, BaseException)]
    if len(errors) == len(results):
        raise FirstShardsFailed(
            f"{stage}: the first {len(errors)} of {total} files all failed, so the other {total - len(errors)} "
            f"were not tried; the first error: {errors[0]}. Fix the cause (network, credentials, --base-url) "
            "and re-run: finished shards are kept")


def _share_storage_options(task_runner: TaskRunner) -> None:
    """Workers of a Dask cluster (also on other machines) get this process's --storage-options; credentials
    from their own environment or fsspec configuration need nothing."""
    from flows.storage import configured

    options = configured()
    if options:
        from flows.dask_plugin import StorageOptionsPlugin

        task_runner.client.register_plugin(StorageOptionsPlugin(options))  # type: ignore[attr-defined]


class StageProgress:
    """Files done, records and documents/s while a stage runs.

    In a terminal: a bar that also moves inside a file (records read so far by shards in this process, see
    flows/live_counts.py). Elsewhere (a log, a pipe): a plain line every HEARTBEAT_S seconds of a long stage.
    """

    def __init__(self, stage: str, total: int) -> None:
        self._tty = sys.stderr.isatty()
        self._stage, self._total, self._done = stage, total, 0
        self._records = self._documents = 0
        self._live_start = live_counts.records()
        self._started = self._last_line = time.perf_counter()
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name=f"progress-{stage}", daemon=True)
        self._bar = Progress(TextColumn(f"[bold]{stage}"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), transient=True)
        self._task = self._bar.add_task(stage, total=total, rate="")

    def __enter__(self) -> StageProgress:
        if self._tty:
            self._bar.start()
        self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._ticker.join()
        if self._tty:
            self._bar.stop()

    def advance(self, shard: dict) -> None:
        """Count one finished shard; `records_read`/`documents` in its result feed the rate."""
        self._done += 1
        self._records += shard.get("records_read", 0)
        self._documents += shard.get("documents", 0)
        self._bar.update(self._task, advance=1, rate=self.status())

    def status(self) -> str:
        """Records read (inside unfinished files too, where they run in this process) and documents/s."""
        records = max(self._records, live_counts.records() - self._live_start)
        rate = self._documents / max(time.perf_counter() - self._started, 1e-9)
        return f"{records:,} records · {rate:,.0f} docs/s"

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            if self._tty:
                self._bar.update(self._task, rate=self.status())
            elif time.perf_counter() - self._last_line >= HEARTBEAT_S:
                self._last_line = time.perf_counter()
                sys.stderr.write(f"{self._stage}: {self._done}/{self._total} files, {self.status()}\n")
                sys.stderr.flush()
