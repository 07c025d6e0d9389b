"""Read one input file into one documents shard, with its accounting.

The shard is streamed batch by batch (memory bounded by the batch size, not the file size) and its
marker JSON, holding the accounting, is written last: a shard without a marker does not exist.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from filters.documents import DOCUMENT_SCHEMA, AdmissionConfig, Outcome, build_documents
from flows.rundir import ShardWriter, finished_marker, write_json
from flows.sources.commoncrawl import RecordSampler, open_resumable
from flows.sources.local import is_remote
from flows.sources.records import Prepend, SourceInfo, crawl_from_path, detect_format, iter_records
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


class _CountingStream:
    """Counts compressed bytes read, for MB/s figures."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.count += len(data)
        return data


def open_source(source: str) -> BinaryIO:
    """Open a local path, or a remote URL through fsspec with retries and resume."""
    if is_remote(source):
        return open_resumable(source)
    return open(source.removeprefix("file://"), "rb")  # noqa: SIM115 - closed by read_into_shard


def read_into_shard(source: str, shard: Path, options: ReadOptions, digest: str) -> dict:
    """Read `source` into `shard` and write its marker; return the accounting as a dict."""
    started = time.perf_counter()
    acc = ShardAccounting(source_file=source)
    try:
        raw = open_source(source)
    except OSError as exc:
        acc.file_errors = {_file_error(exc): 1}
        return _finish(acc, shard, digest, started, writer=None)
    counting = _CountingStream(raw)
    writer = ShardWriter(shard, WAT_SCHEMA if is_wat(source) else DOCUMENT_SCHEMA)
    try:
        head = counting.read(8)
        stream = Prepend(head, counting)
        try:
            fmt = detect_format(source, head)
        except ValueError:
            acc.file_errors = {"unknown_format": 1}
            return _finish(acc, shard, digest, started, writer)
        info = SourceInfo()
        if fmt == "wat":
            _read_wat(stream, source, options, info, acc, writer)
            acc.bytes_read = counting.count
            return _finish(acc, shard, digest, started, writer)
        outcome = Outcome()
        sampler = RecordSampler(options.records_per_file, options.seed, source)
        records = sampler.filter(iter_records(stream, source, fmt, info, options.text_field))
        config = AdmissionConfig(extractor=options.extractor, max_payload_bytes=options.max_payload_bytes)
        while batch := list(islice(records, options.batch_size)):
            acc.records_read += len(batch)
            crawl = options.crawl or crawl_from_path(source) or info.crawl
            writer.write(build_documents(batch, source, crawl, config, outcome))
        acc.crawl = options.crawl or crawl_from_path(source) or info.crawl
        acc.records_available = sampler.file_read().records_available
        acc.documents = outcome.documents
        acc.dropped = dict(outcome.dropped)
        acc.errors = dict(outcome.errors)
        acc.skipped_record_types = dict(info.skipped)
        acc.bytes_read = counting.count
        return _finish(acc, shard, digest, started, writer)
    except BaseException:
        writer.abort()
        raise
    finally:
        raw.close()


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
    if isinstance(exc, PermissionError):
        return "permission_denied"
    if isinstance(exc, IsADirectoryError):
        return "is_a_directory"
    return getattr(exc, "reason", None) or "unreadable_file"


def _finish(acc: ShardAccounting, shard: Path, digest: str, started: float, writer: ShardWriter | None) -> dict:
    if writer is None:
        writer = ShardWriter(shard, WAT_SCHEMA if shard.parent.name == "wat" else DOCUMENT_SCHEMA)
    writer.commit()
    acc.seconds = round(time.perf_counter() - started, 4)
    result = asdict(acc) | {"params_digest": digest, "shard": shard.name}
    write_json(finished_marker(shard), result)
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

