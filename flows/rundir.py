"""The run directory: where each table lives, committed writes, and shard completion markers.

The run directory is a local path or an fsspec URL (s3://bucket/run, gs://..., abfs://...); every location here is
a string (a path or a URL), never a pathlib.Path, so URLs survive. Every file appears under its final name only
when complete (flows/storage.py: a temporary name, then an atomic rename locally or a copy on object stores), so
a killed run never leaves a half-written table that a re-run would trust. A shard is finished when its marker
JSON exists with the same parameters; re-runs skip it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from flows import storage
from flows.storage import PARQUET_COMPRESSION, read_json  # noqa: F401 - re-exported for the flows

TABLES = ("documents", "wat", "dedup", "quality", "tiers", "tokens")
Location = str | os.PathLike


class RunDir:
    """Locations of one run's outputs: `root` is an absolute path or a URL."""

    def __init__(self, root: Location) -> None:
        self.root = storage.absolute(root)
        self.local = not storage.is_url(self.root)

    def table(self, name: str) -> str:
        return storage.join(self.root, name)

    def path(self, *parts: str) -> str:
        return storage.join(self.root, *parts)

    def shards(self, name: str) -> list[str]:
        """Finished Parquet shards of a table, in name order."""
        return storage.glob(self.table(name), "part-*.parquet")

    @property
    def manifest(self) -> str:
        return self.path("manifest.json")

    def ensure(self, *names: str) -> None:
        """Create the folders locally (object stores need none)."""
        storage.makedirs(self.root)
        for name in names:
            storage.makedirs(self.table(name))

    def sweep(self) -> list[str]:
        """Remove the temporaries of killed writers from the run directory and every table (the caller holds the
        run directory's lock, so nothing else writes there)."""
        removed = storage.sweep_temporaries(self.root)
        for name in TABLES:
            removed += storage.sweep_temporaries(self.table(name))
        return removed


    @contextlib.contextmanager
    def local_view(self, tables: dict[str, list[str] | None], files: tuple[str, ...] = ()) -> Iterator[Path]:
        """A local folder with the run's `tables` (name -> columns, None for all) and `files` for whole-run stages.

        A local run directory is itself. An object-store one is copied to a temporary folder of this machine first
        (only the named columns, shards in name order), which goes when the block ends; what the stage writes is
        written through the storage layer, never to this copy.
        """
        if self.local:
            yield Path(self.root)
            return
        scratch = Path(tempfile.mkdtemp(prefix="peakdata-view-"))
        try:
            for table, columns in tables.items():
                (scratch / table).mkdir()
                for shard in self.shards(table):
                    with storage.open_read(shard) as f:
                        parquet = pq.ParquetFile(f)
                        present = None if columns is None else [c for c in columns if c in parquet.schema_arrow.names]
                        pq.write_table(parquet.read(columns=present), scratch / table / storage.name(shard),
                                       compression=PARQUET_COMPRESSION)
            for pattern in files:  # names or globs of files at the top of the run directory
                for location in storage.glob(self.root, pattern):
                    (scratch / storage.name(location)).write_bytes(storage.read_bytes(location))
            yield scratch
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


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


def write_json(location: Location, obj: Any) -> None:
    """Write JSON, committed (never seen half-written)."""
    storage.write_text(os.fspath(location), json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def write_table(location: Location, table: pa.Table) -> None:
    """Write one Arrow table as a Parquet file, committed."""
    storage.write_parquet(os.fspath(location), table)


class ShardWriter:
    """Stream record batches into one Parquet shard; the shard appears only after `commit()`."""

    def __init__(self, location: Location, schema: pa.Schema) -> None:
        self.path = os.fspath(location)
        self._pending = storage.PendingWrite(self.path)
        try:
            sink: Any = self._pending.file
            if self._pending.local:  # Arrow's own file I/O on the temporary path: no Python file object in between
                self._pending.file.close()
                sink = self._pending.tmp
            self._writer = pq.ParquetWriter(sink, schema, compression=PARQUET_COMPRESSION)
        except BaseException:
            self._pending.discard()
            raise
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self._writer.write_table(table)
            self.rows += table.num_rows

    def commit(self, marker: Any = None) -> None:
        """Finish the file and put it under its name; with `marker`, write the finished marker first.

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
        self._pending.publish()

    def abort(self) -> None:
        with contextlib.suppress(Exception):  # the temporary is dropped either way
            self._writer.close()
        self._pending.discard()


def sweep_stale_temps(folder: Location) -> list[str]:
    """Remove temporary files left in `folder` by writers that no longer run (see storage.sweep_temporaries)."""
    return storage.sweep_temporaries(os.fspath(folder))


def prune(folder: Location, keep: set[str]) -> list[str]:
    """Remove shards (and their markers) whose names are not in `keep`.

    A run directory has one writer (it holds the lock); shards of inputs that are no longer part of the run would
    otherwise be counted again by every later stage.
    """
    removed = []
    for location in storage.glob(os.fspath(folder), "part-*"):
        shard_name = storage.name(location)
        if shard_name.rsplit(".", 1)[0] + ".parquet" not in keep:
            storage.remove(location)
            removed.append(shard_name)
    return removed


def finished_marker(shard: Location) -> str:
    """The JSON marker that says a shard is complete (and holds its accounting)."""
    return os.fspath(shard).removesuffix(".parquet") + ".json"


def load_finished(shard: Location, digest: str) -> dict | None:
    """The marker of a shard finished with the same parameters, or None (then it must be (re)computed)."""
    shard = os.fspath(shard)
    marker = finished_marker(shard)
    try:
        if not (storage.exists(marker) and storage.exists(shard)):
            return None
        data = read_json(marker)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("params_digest") == digest else None
