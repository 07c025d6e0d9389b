"""Read one input file into one documents shard, with its accounting.

The shard is streamed batch by batch (memory bounded by the batch size, not the file size); its marker JSON,
holding the accounting, is written first and the shard put under its name second: a shard counts only with both.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from filters.documents import DOCUMENT_SCHEMA, AdmissionConfig, Outcome, build_documents
from flows import storage
from flows.live_counts import add_records
from flows.rundir import ShardWriter
from flows.sources.commoncrawl import RecordSampler, RemoteReadError, open_resumable
from flows.sources.local import is_remote
from flows.sources.records import (
    Prepend,
    SourceInfo,
    SourceReadError,
    crawl_from_path,
    detect_format,
    iter_records,
)
from flows.sources.wat import WAT_SCHEMA, iter_wat


@dataclass
class ReadOptions:
    """What decides a shard's content; its digest decides whether a re-run may reuse the shard."""

    extractor: str = "resiliparse"
    text_field: str = "text"
    max_payload_bytes: int = 8 << 20
    batch_size: int = 1000
    crawl: str | None = None  # overrides the crawl name found in paths / warcinfo
    records_per_file: int | None = None  # simple random sample of M records per file (None: every record)
    seed: int = 0


@dataclass
class ShardAccounting:
    """Counts of one input file: records_read == documents + Σdropped + Σerrors."""

    source_file: str
    crawl: str | None = None
    records_read: int = 0
    records_available: int = 0
    documents: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    file_errors: dict[str, int] = field(default_factory=dict)
    skipped_record_types: dict[str, int] = field(default_factory=dict)
    bytes_read: int = 0
    wat_rows: int = 0
    seconds: float = 0.0


HEAD_BYTES = 64 << 10  # first bytes read to tell the format from the content
PERMANENT_REMOTE = frozenset({"not_found", "forbidden", "redirect"})
PERMANENT_ERRNOS = frozenset({errno.ENOENT, errno.EACCES, errno.EPERM, errno.EISDIR, errno.ENOTDIR, errno.ELOOP,
                              errno.ENAMETOOLONG, errno.ENXIO})


class NotARegularFile(OSError):
    """A path that is a FIFO, socket or device: opening it could block forever or never end."""

    reason = "not_a_regular_file"


class _CountingStream:
    """Counts compressed bytes read, for MB/s figures; a failed read becomes a `SourceReadError`."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        try:
            data = self._stream.read(size)
        except OSError as exc:  # never to be mistaken for corrupt data by a reader
            raise SourceReadError(f"reading failed after {self.count} bytes: {exc}") from exc
        self.count += len(data)
        return data


def open_source(source: str) -> BinaryIO:
    """Open a local regular file, or a remote URL through fsspec with retries and resume.

    A local path is opened without blocking and checked to be a regular file before anything is read,
    so a FIFO or device named like a crawl file is refused instead of hanging the run.
    """
    if is_remote(source):
        return open_resumable(source)
    path = source.removeprefix("file://")
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", path)
        if not stat.S_ISREG(mode):
            raise NotARegularFile(errno.EINVAL, "not a regular file", path)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _is_permanent(exc: OSError) -> bool:
    """Missing, forbidden and not-a-file inputs are facts about the input; network trouble is not, so it
    fails the shard (retried, reported, redone by a re-run) instead of being recorded as finished."""
    if isinstance(exc, RemoteReadError):
        return exc.reason in PERMANENT_REMOTE or (exc.reason.startswith("http_4") and not exc.retryable)
    return isinstance(exc, NotARegularFile) or exc.errno in PERMANENT_ERRNOS


def read_into_shard(source: str, shard: str | Path, options: ReadOptions, digest: str) -> dict:
    """Read `source` into `shard` and write its marker; return the accounting as a dict.

    Raises (leaving no shard and no marker) when the bytes cannot be read for a reason that may pass:
    an I/O error, a network failure after the stream's own retries, a full disk.
    """
    started = time.perf_counter()
    shard = str(shard)  # a path or a URL of the run directory's storage
    acc = ShardAccounting(source_file=source)
    try:
        raw = open_source(source)
    except OSError as exc:
        if not _is_permanent(exc):
            raise
        acc.file_errors = {_file_error(exc): 1}
        return _finish(acc, shard, digest, started, writer=None)
    try:
        counting = _CountingStream(raw)
        writer = ShardWriter(shard, WAT_SCHEMA if is_wat(source) else DOCUMENT_SCHEMA)
    except BaseException:
        raw.close()
        raise
    try:
        head = _read_head(counting)
        if not head:
            acc.file_errors = {"empty_file": 1}
            return _finish(acc, shard, digest, started, writer)
        try:
            fmt = detect_format(source, head)
        except ValueError:
            acc.file_errors = {"unknown_format": 1}
            acc.bytes_read = counting.count
            return _finish(acc, shard, digest, started, writer)
        stream: BinaryIO = Prepend(head, counting)  # type: ignore[assignment]
        if fmt == "parquet":
            stream = _seekable(raw, stream, counting)
        info = SourceInfo()
        if fmt == "wat":
            _read_wat(stream, source, options, info, acc, writer)
            acc.bytes_read = counting.count
            return _finish(acc, shard, digest, started, writer)
        outcome = Outcome()
        sampler = RecordSampler(options.records_per_file, options.seed, source)
        records = sampler.filter(iter_records(stream, source, fmt, info, options.text_field,
                                              max_payload_bytes=options.max_payload_bytes))
        config = AdmissionConfig(extractor=options.extractor, max_payload_bytes=options.max_payload_bytes)
        while batch := list(islice(records, options.batch_size)):
            acc.records_read += len(batch)
            add_records(len(batch))
            crawl = options.crawl or crawl_from_path(source) or info.crawl
            writer.write(build_documents(batch, source, crawl, config, outcome))
        acc.crawl = options.crawl or crawl_from_path(source) or info.crawl
        acc.records_available = sampler.file_read().records_available
        acc.documents = outcome.documents
        acc.dropped = dict(outcome.dropped)
        acc.errors = dict(outcome.errors)
        acc.skipped_record_types = dict(info.skipped)
        acc.bytes_read = counting.count
        if not acc.records_available and not info.skipped:
            acc.file_errors = {"empty_file": 1}  # nothing in it at all (a gzip of nothing, blank lines, 0 rows)
        return _finish(acc, shard, digest, started, writer)
    except BaseException:
        writer.abort()
        raise
    finally:
        raw.close()


def _read_head(stream: _CountingStream) -> bytes:
    parts, size = [], 0
    while size < HEAD_BYTES:
        data = stream.read(HEAD_BYTES - size)
        if not data:
            break
        parts.append(data)
        size += len(data)
    return b"".join(parts)


def _seekable(raw: BinaryIO, stream: BinaryIO, counting: _CountingStream) -> BinaryIO:
    """Parquet needs random access: the local file itself, or a remote one spooled to a temporary file."""
    if getattr(raw, "seekable", lambda: False)():
        raw.seek(0)
        counting.count = os.fstat(raw.fileno()).st_size if hasattr(raw, "fileno") else counting.count
        return raw
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the process / garbage collection
    shutil.copyfileobj(stream, spool, 1 << 20)
    spool.seek(0)
    return spool  # type: ignore[return-value]


def is_wat(source: str) -> bool:
    """WAT files go to the `wat/` table (metadata rows), everything else to `documents/`."""
    return source.lower().removesuffix(".gz").endswith(".wat")


def _read_wat(stream: BinaryIO, source: str, options: ReadOptions, info: SourceInfo, acc: ShardAccounting,
              writer: ShardWriter) -> None:
    """WAT rows into a `wat/` shard: records_read counts response metadata records, errors by reason."""
    crawl = options.crawl or crawl_from_path(source)
    errors: Counter = Counter()
    rows = iter_wat(stream, info)
    while batch := list(islice(rows, options.batch_size)):
        acc.records_read += len(batch)
        errors.update(r["error"] for r in batch if r["error"])
        for row in batch:
            row.update(crawl=crawl or info.crawl, source_file=source)
        writer.write(pa.Table.from_pylist(batch, schema=WAT_SCHEMA))
    acc.crawl = crawl or info.crawl
    acc.records_available = acc.records_read
    acc.errors = dict(errors)
    acc.skipped_record_types = dict(info.skipped)
    acc.wat_rows = acc.records_read - sum(errors.values())


def _file_error(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "file_not_found"
    if isinstance(exc, NotADirectoryError):
        return "file_not_found"  # a path through a regular file
    if isinstance(exc, PermissionError):
        return "permission_denied"
    if isinstance(exc, IsADirectoryError):
        return "is_a_directory"
    return getattr(exc, "reason", None) or "unreadable_file"


def _finish(acc: ShardAccounting, shard: str, digest: str, started: float, writer: ShardWriter | None) -> dict:
    if writer is None:
        writer = ShardWriter(shard, WAT_SCHEMA if storage.name(storage.parent(shard)) == "wat" else DOCUMENT_SCHEMA)
    acc.seconds = round(time.perf_counter() - started, 4)
    result = asdict(acc) | {"params_digest": digest, "shard": storage.name(shard)}
    writer.commit(marker=result)  # the marker is written before the shard appears under its name
    return result


def merge_accounting(parts: list[dict]) -> dict:
    """Sum shard accountings into the run's `counts`."""
    total: dict = {"records_read": 0, "documents": 0, "dropped": Counter(), "errors": Counter()}
    total |= {"file_errors": Counter(), "skipped_record_types": Counter(), "bytes_read": 0, "wat_rows": 0,
              "files": len(parts)}
    for part in parts:
        for key in ("records_read", "documents", "bytes_read", "wat_rows"):
            total[key] += part.get(key, 0)
        for key in ("dropped", "errors", "file_errors", "skipped_record_types"):
            total[key].update(part.get(key, {}))
    return {k: dict(sorted(v.items())) if isinstance(v, Counter) else v for k, v in total.items()}

