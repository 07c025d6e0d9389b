"""A Dask worker plugin that gives every worker (also ones that join later) the flow's storage options."""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from flows import storage


class StorageOptionsPlugin(WorkerPlugin):
    """Applies `--storage-options` on each worker: fsspec's configuration lives in a process, not in a task."""

    name = "peakdata-storage-options"

    def __init__(self, options: dict[str, dict]) -> None:
        self.options = options

    def setup(self, worker: Any) -> None:
        storage.apply_by_protocol(self.options)
