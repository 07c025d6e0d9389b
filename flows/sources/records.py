"""Read records from WARC, WET, JSONL and Parquet files, accounting for every one of them.

A reader yields `RawRecord`s. A record either carries content (HTML bytes to extract, or text that
needs none) or the name of the error that made it unreadable; nothing read is silently lost.
WARC record types that hold no document (request, metadata, warcinfo, revisit) are not records in
this sense; they are tallied in `skipped` so a user can still see them.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq
from fastwarc.warc import ArchiveIterator, WarcRecordType

from flows.sources.gzip_members import Member, is_gzip, iter_members

MAX_MEMBER_BYTES = 64 << 20  # one gzip member larger than this is streamed instead of held in memory
_CRAWL_RE = re.compile(r"CC-MAIN-\d{4}-\d{2}")
_DOC_TYPES = WarcRecordType.response | WarcRecordType.conversion
FORMATS = ("warc", "wat", "jsonl", "parquet")


@dataclass(slots=True)
class RawRecord:
    """One record as read: content to turn into a document, or the error that stopped it."""

    record_index: int
    doc_id: str | None = None
    url: str | None = None
    fetch_date: datetime | None = None
    content_type: str | None = None
    charset: str | None = None
    http_status: int | None = None
    payload: bytes | None = None  # raw HTTP body (needs extraction)
    text: str | None = None  # already text (WET conversion records, JSONL, Parquet)
    error: str | None = None


@dataclass
class SourceInfo:
    """What a reader learned about its file beyond the records: crawl name and skipped record types."""

    crawl: str | None = None
    skipped: Counter = field(default_factory=Counter)


def crawl_from_path(path: str) -> str | None:
    """Common Crawl names its crawls CC-MAIN-YYYY-WW and puts the name in every file path."""
    match = _CRAWL_RE.search(path)
    return match.group(0) if match else None


def detect_format(path: str, head: bytes) -> str:
    """Pick a reader from the file name, falling back to the first bytes when the name says nothing."""
    name = path.lower().removesuffix(".gz").removesuffix(".gzip")
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    if name.endswith(".wat"):
        return "wat"
    if name.endswith((".warc", ".wet", ".arc")):
        return "warc"
    if head.startswith(b"PAR1"):
        return "parquet"
    body = head
    if is_gzip(head):
        try:
            body = zlib.decompressobj(wbits=31).decompress(head)
        except zlib.error:
            body = b""
    if body.startswith(b"WARC/"):
        return "warc"
    if body.lstrip()[:1] in (b"{", b"["):
        return "jsonl"
    raise ValueError("unrecognised format (expected WARC/WET, JSONL or Parquet)")


def iter_records(
    stream: BinaryIO, path: str, fmt: str, info: SourceInfo, text_field: str = "text"
) -> Iterator[RawRecord]:
    """Yield the records of one file of format `fmt` read from `stream`."""
    if fmt == "warc":
        return _iter_warc(stream, info)
    if fmt == "wat":
        raise ValueError("WAT files hold metadata, not documents: read them with flows.sources.wat.iter_wat")
    if fmt == "jsonl":
        return _iter_jsonl(stream, text_field)
    if fmt == "parquet":
        return _iter_parquet(stream, text_field)
    raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")


# --- WARC / WET ---------------------------------------------------------------------------------


def _iter_warc(stream: BinaryIO, info: SourceInfo) -> Iterator[RawRecord]:
    counter = _Counter()
    head = stream.read(3)
    stream = Prepend(head, stream)
    if not is_gzip(head):
        yield from _parse_warc(stream, counter, info)
        return
    previous_error = False
    pieces: list[Member] = []
    for member in iter_members(stream, MAX_MEMBER_BYTES):
        if member.complete and member.error is None and not pieces:
            if member.data:
                yield from _parse_warc(io.BytesIO(member.data), counter, info)
            previous_error = False
            continue
        pieces.append(member)
        if member.complete or member.error:
            reader = io.BufferedReader(_PieceReader(p.data for p in pieces))
            pieces = []
            broken = member.error is not None
            short = yield from _parse_warc(reader, counter, info, tolerate_short_tail=broken)
            if member.error and not short and not previous_error:
                yield RawRecord(counter.next(), error=member.error)
            previous_error = member.error is not None


def _parse_warc(
    stream: BinaryIO, counter: _Counter, info: SourceInfo, tolerate_short_tail: bool = False
) -> Iterator[RawRecord]:
    """Parse WARC records from an uncompressed stream. Returns True when the last record was cut short."""
    try:
        for rec in ArchiveIterator(stream, parse_http=False, stream_detect=False):
            rtype = rec.record_type
            if not rtype & _DOC_TYPES:
                info.skipped[str(rtype)] += 1
                if rtype == WarcRecordType.warcinfo and info.crawl is None:
                    info.crawl = _crawl_from_warcinfo(rec.reader.read(65536))
                continue
            declared = rec.content_length
            block = rec.reader.read()
            if len(block) < declared:
                yield RawRecord(counter.next(), error="truncated_record")
                return True
            yield _warc_record(rec, rtype, block, counter.next())
    except OSError as exc:  # fastwarc reports malformed headers and bad streams as OSError
        reason = "corrupt_gzip" if "zip" in str(exc).lower() else "malformed_record"
        if not (tolerate_short_tail and reason == "malformed_record"):
            yield RawRecord(counter.next(), error=reason)
        return tolerate_short_tail
    return False


def _warc_record(rec, rtype, block: bytes, index: int) -> RawRecord:
    headers = rec.headers
    record = RawRecord(
        index,
        doc_id=headers.get("WARC-Record-ID"),
        url=headers.get("WARC-Target-URI"),
        fetch_date=_warc_date(headers.get("WARC-Date")),
    )
    if rtype == WarcRecordType.conversion:
        record.content_type = "text/plain"
        record.text = block.decode("utf-8", errors="replace")
        return record
    status, http_headers, body = _split_http(block)
    if status is None:
        record.error = "malformed_http"
        return record
    record.http_status = status
    content_type = http_headers.get("content-type", "")
    mime, _, params = content_type.partition(";")
    record.content_type = mime.strip().lower() or None
    charset = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", params, re.I)
    record.charset = charset.group(1).lower() if charset else None
    record.payload = _decode_content_encoding(body, http_headers.get("content-encoding", ""))
    if record.payload is None:
        record.error = "undecodable_payload"
    return record


def _split_http(block: bytes) -> tuple[int | None, dict[str, str], bytes]:
    """Split an HTTP response into status, lower-cased headers and body; tolerant of bare LF lines."""
    end = block.find(b"\r\n\r\n")
    sep = 4
    if end < 0:
        end, sep = block.find(b"\n\n"), 2
    if end < 0:
        head, body = block, b""
    else:
        head, body = block[:end], block[end + sep :]
    lines = head.decode("latin-1").splitlines()
    if not lines or not lines[0].startswith("HTTP/"):
        return None, {}, b""
    parts = lines[0].split(None, 2)
    try:
        status = int(parts[1])
    except (IndexError, ValueError):
        return None, {}, b""
    headers: dict[str, str] = {}
    for line in lines[1:]:
        key, colon, value = line.partition(":")
        if colon:
            headers[key.strip().lower()] = value.strip()
    return status, headers, body


def _decode_content_encoding(body: bytes, encoding: str) -> bytes | None:
    """Undo gzip/deflate when the payload really is compressed (crawlers often store it decoded)."""
    if is_gzip(body[:3]) or encoding.strip().lower() in ("gzip", "x-gzip", "deflate"):
        if not (is_gzip(body[:3]) or body[:1] == b"\x78"):
            return body  # header says compressed but bytes are not: the crawler already decoded it
        try:
            return zlib.decompressobj(wbits=47).decompress(body, 256 << 20)
        except zlib.error:
            return None
    return body


def _warc_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _crawl_from_warcinfo(block: bytes) -> str | None:
    for line in block.decode("utf-8", errors="replace").splitlines():
        if line.lower().startswith("ispartof:"):
            return line.split(":", 1)[1].strip() or None
    return None


class _Counter:
    """Ordinal of each record within its file, shared across gzip members."""

    def __init__(self) -> None:
        self.value = -1

    def next(self) -> int:
        self.value += 1
        return self.value


class _ForwardStream(io.RawIOBase):
    """A read-forward stream that tracks its position (fastwarc asks Python streams for `tell()`)."""

    def __init__(self) -> None:
        super().__init__()
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True  # only "where am I" seeks are served; see seek()

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset if whence == io.SEEK_SET else self._pos + offset if whence == io.SEEK_CUR else -1
        if target != self._pos:
            raise io.UnsupportedOperation("this stream can only be read forwards")
        return self._pos

    def readinto(self, buffer) -> int:
        data = self._read(len(buffer))
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def _read(self, size: int) -> bytes:
        raise NotImplementedError


class Prepend(_ForwardStream):
    """A stream with some already-read bytes put back in front."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        super().__init__()
        self._head = head
        self._stream = stream

    def _read(self, size: int) -> bytes:
        if not self._head:
            return self._stream.read(size)
        data, self._head = self._head[:size], self._head[size:]
        if len(data) < size:
            data += self._stream.read(size - len(data))
        return data


class _PieceReader(_ForwardStream):
    """A stream over an iterable of byte pieces (the pieces of one large gzip member)."""

    def __init__(self, pieces: Iterable[bytes]) -> None:
        super().__init__()
        self._pieces = iter(pieces)
        self._buf = memoryview(b"")

    def _read(self, size: int) -> bytes:
        while not self._buf:
            piece = next(self._pieces, None)
            if piece is None:
                return b""
            self._buf = memoryview(piece)
        data = bytes(self._buf[:size])
        self._buf = self._buf[size:]
        return data


# --- JSONL / Parquet ----------------------------------------------------------------------------


def _iter_jsonl(stream: BinaryIO, text_field: str) -> Iterator[RawRecord]:
    head = stream.read(2)
    stream = Prepend(head, stream)
    lines: Iterable[bytes] = gzip.GzipFile(fileobj=stream) if is_gzip(head) else io.BufferedReader(stream)
    index = -1
    try:
        for line in lines:
            if not line.strip():
                continue
            index += 1
            yield _json_record(line, index, text_field)
    except (OSError, EOFError, zlib.error):
        yield RawRecord(index + 1, error="corrupt_gzip")


def _json_record(line: bytes, index: int, text_field: str) -> RawRecord:
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        return RawRecord(index, error="malformed_json")
    if not isinstance(obj, dict):
        return RawRecord(index, error="malformed_json")
    return _row_record(obj, index, text_field)


def _row_record(obj: dict, index: int, text_field: str) -> RawRecord:
    text = obj.get(text_field)
    if not isinstance(text, str):
        return RawRecord(index, error="missing_text")
    doc_id = obj.get("id")
    url = obj.get("url")
    metadata = obj.get("metadata")
    if url is None and isinstance(metadata, dict):
        url = metadata.get("url")
    return RawRecord(
        index,
        doc_id=None if doc_id is None else str(doc_id),
        url=url if isinstance(url, str) else None,
        content_type="text/plain",
        text=text,
    )


def _iter_parquet(stream: BinaryIO, text_field: str) -> Iterator[RawRecord]:
    try:
        parquet = pq.ParquetFile(stream)
    except (pa.ArrowException, OSError, ValueError):
        yield RawRecord(0, error="corrupt_parquet")
        return
    names = set(parquet.schema_arrow.names)
    index = -1
    if text_field not in names:
        for _ in range(parquet.metadata.num_rows):
            index += 1
            yield RawRecord(index, error="missing_text")
        return
    columns = [c for c in ("id", text_field, "url", "metadata") if c in names]
    try:
        for batch in parquet.iter_batches(batch_size=2048, columns=columns):
            for row in batch.to_pylist():
                index += 1
                yield _row_record(row, index, text_field)
    except (pa.ArrowException, OSError, ValueError):
        yield RawRecord(index + 1, error="corrupt_parquet")
