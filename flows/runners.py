"""Task runners for scale-out: Prefect's thread and process pools, or a Dask cluster via prefect-dask."""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

from prefect import Task
from prefect.futures import as_completed
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

RUNNERS = ("threads", "processes", "dask")


def default_workers() -> int:
    """Worker count when the user gives none: the cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def make_task_runner(runner: str, workers: int | None, dask_address: str | None = None) -> TaskRunner:
    """Build the task runner named by `--runner` for `--workers` processes or threads."""
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
    task: Task, parameter_sets: list[dict[str, Any]], runner: str, workers: int | None, dask_address: str | None
) -> list[Any | BaseException]:
    """Run `task` once per parameter set on the chosen runner; a failure is returned, not raised.

    The flow picks its runner from its own parameters (so deployments can choose it), and one failed
    shard never discards the results of the others.
    """
    if not parameter_sets:
        return []
    results: dict[int, Any | BaseException] = {}
    pool = make_task_runner(runner, workers, dask_address)
    with pool as task_runner, StageProgress(task.name, len(parameter_sets)) as bar:
        futures = [task_runner.submit(task, params) for params in parameter_sets]
        index = {id(f): i for i, f in enumerate(futures)}
        for future in as_completed(futures):
            try:
                result = future.result()
            except Exception as exc:  # reported per shard by the caller
                result = exc
            results[index[id(future)]] = result
            bar.advance(result if isinstance(result, dict) else {})
    return [results[i] for i in range(len(futures))]


class StageProgress:
    """Shards done, records and documents/s for a terminal; silent when stderr is not a terminal."""

    def __init__(self, stage: str, total: int) -> None:
        self._enabled = sys.stderr.isatty()
        self._records = self._documents = 0
        self._started = time.perf_counter()
        self._bar = Progress(TextColumn(f"[bold]{stage}"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), transient=True)
        self._task = self._bar.add_task(stage, total=total, rate="")

    def __enter__(self) -> StageProgress:
        if self._enabled:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._enabled:
            self._bar.stop()

    def advance(self, shard: dict) -> None:
        """Count one finished shard; `records_read`/`documents` in its result feed the rate."""
        self._records += shard.get("records_read", 0)
        self._documents += shard.get("documents", 0)
        rate = self._documents / max(time.perf_counter() - self._started, 1e-9)
        self._bar.update(self._task, advance=1, rate=f"{self._records:,} records · {rate:,.0f} docs/s")
