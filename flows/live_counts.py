"""Records read so far by the shards running in this process, so progress moves inside a file.

A shard reports only when it finishes; a single 1 GB WARC would leave a progress display frozen for minutes.
Readers add each batch here (thread-safe); the stage's progress display reads the total. Shards running in
other processes (process pools, Dask workers) are not seen, and their progress moves per finished shard.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_records = 0


def add_records(n: int) -> None:
    global _records
    with _lock:
        _records += n


def records() -> int:
    """Records read by shards in this process since it started."""
    return _records
