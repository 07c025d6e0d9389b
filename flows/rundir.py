"""The run directory: where each table lives, atomic writes, and shard completion markers.

Every file appears under its final name only when complete (written to a temporary name in the same
folder, then renamed), so a killed run never leaves a half-written table that a re-run would trust.
A shard is finished when its marker JSON exists with the same parameters; re-runs skip it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from flows.processes import process_alive

TABLES = ("documents", "wat", "dedup", "quality", "tiers", "tokens")
_UMASK = os.umask(0)
os.umask(_UMASK)
PARQUET_COMPRESSION = "zstd"


class RunDir:
    """Paths of one run's outputs."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def table(self, name: str) -> Path:
        return self.root / name

    def shards(self, name: str) -> list[Path]:
        """Finished Parquet shards of a table, in name order."""
        folder = self.table(name)
        return sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    def ensure(self, *names: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for name in names:
            self.table(name).mkdir(parents=True, exist_ok=True)


def shard_key(source: str) -> str:
    """Stable, file-system-safe shard name for an input (a path or URL).

    ASCII letters, digits and `-_.` only, at most 60 of them, plus a digest of the whole source: never a
    path separator or `..` component, never longer than a file name may be, distinct for distinct sources.
    """
    stem = Path(source.rstrip("/").rsplit("/", 1)[-1]).name
    for suffix in (".gz", ".warc", ".wet", ".wat", ".jsonl", ".json", ".parquet"):
        stem = stem.removesuffix(suffix)
    safe = "".join(c if (c.isascii() and c.isalnum()) or c in "-_." else "_" for c in stem)[:60]
    return f"{safe}-{hashlib.sha1(source.encode()).hexdigest()[:10]}"


def params_digest(params: dict[str, Any]) -> str:
    """Digest of the parameters that determine a shard's content (decides whether a re-run may reuse it)."""
    return hashlib.sha1(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:16]


_HOST = socket.gethostname().replace(".", "_")[:40] or "host"


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds.

    The temporary name is hidden (leading dot), never matches `part-*.parquet`, and carries host and pid
    so that `sweep_stale_temps` can remove what a killed process left behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{_HOST}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; outputs get the user's usual permissions
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_json(path: Path, obj: Any) -> None:
    """Write JSON atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def write_table(path: Path, table: pa.Table) -> None:
    """Write one Arrow table as a Parquet file atomically."""
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression=PARQUET_COMPRESSION)


class ShardWriter:
    """Stream record batches into one Parquet shard; the shard appears only after `commit()`."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self._context = atomic_path(path)
        self._tmp = self._context.__enter__()
        try:
            self._writer = pq.ParquetWriter(self._tmp, schema, compression=PARQUET_COMPRESSION)
        except BaseException:
            self._context.__exit__(RuntimeError, RuntimeError("aborted"), None)
            raise
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self._writer.write_table(table)
            self.rows += table.num_rows

    def commit(self, marker: Any = None) -> None:
        """Finish the file and rename it onto its name; with `marker`, write the finished marker first.

        Marker first, shard second: a crash in between leaves a marker without its shard (which
        `load_finished` ignores), never a visible shard without its marker.
        """
        try:
            self._writer.close()
            if marker is not None:
                write_json(finished_marker(self.path), marker)
        except BaseException:
            self.abort()
            raise
        self._context.__exit__(None, None, None)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._writer.close()
        with contextlib.suppress(Exception):
            self._context.__exit__(RuntimeError, RuntimeError("aborted"), None)


def sweep_stale_temps(folder: Path) -> list[Path]:
    """Remove temporary files left in `folder` by processes of this host that no longer run.

    A SIGKILLed worker cannot clean up its half-written shard; its hidden temporary file is harmless
    (never read) but may be large. Files of live processes, and of other hosts sharing the folder, are
    left alone.
    """
    removed = []
    for tmp in folder.glob(".*.tmp") if folder.is_dir() else []:
        parts = tmp.name.rsplit(".", 4)  # .NAME.HOST.PID.RANDOM.tmp
        if len(parts) != 5 or parts[1] != _HOST or not parts[2].isdigit() or process_alive(int(parts[2])):
            continue
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def prune(folder: Path, keep: set[str]) -> list[str]:
    """Remove shards (and their markers) whose names are not in `keep`.

    A run directory has one writer; shards of inputs that are no longer part of the run would otherwise be
    counted again by every later stage.
    """
    removed = []
    if folder.is_dir():
        for path in folder.glob("part-*"):
            if path.with_suffix(".parquet").name not in keep:
                path.unlink(missing_ok=True)
                removed.append(path.name)
    return removed


def finished_marker(shard: Path) -> Path:
    """The JSON marker that says a shard is complete (and holds its accounting)."""
    return shard.with_suffix(".json")


def load_finished(shard: Path, digest: str) -> dict | None:
    """The marker of a shard finished with the same parameters, or None (then it must be (re)computed)."""
    marker = finished_marker(shard)
    if not (marker.exists() and shard.exists()):
        return None
    try:
        data = read_json(marker)
    except (OSError, ValueError):
        return None
    return data if data.get("params_digest") == digest else None
