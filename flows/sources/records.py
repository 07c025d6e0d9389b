"""Read records from WARC, WET, JSONL and Parquet files, accounting for every one of them.

A reader yields `RawRecord`s. A record either carries content (HTML bytes to extract, or text that
needs none) or the name of the error that made it unreadable (`ERRORS`); nothing read is silently lost
and nothing is counted twice. WARC record types that hold no document (request, metadata, warcinfo,
revisit) are not records in this sense; they are tallied in `skipped` so a user can still see them.

Input is untrusted. The WARC framing is parsed here (not by a library that gives up at the first bad
record) so that every defect costs exactly one record and reading resumes at the next one: a wrong
Content-Length, a broken gzip member, garbage between records. Memory is bounded whatever the input:
a payload larger than `max_payload_bytes` is never held whole (its first bytes are kept, marked
`oversized`, which the admission step drops as `oversized_payload`), gzip members stream in chunks,
and JSONL lines are read with a length cap.
"""

from __future__ import annotations

import io
import json
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from flows.sources.gzip_members import GZIP_MAGIC, Gap, GzipMembers, is_gzip

MAX_PAYLOAD_BYTES = 8 << 20  # default: larger payloads are kept only as a prefix, for admission to drop
HEAD_ALLOWANCE = 64 << 10  # HTTP headers on top of a payload; a larger HTTP head is malformed
MAX_HEADER_BYTES = 64 << 10  # a WARC header block larger than this is not a header
MAX_ID_CHARS = 1024  # longer ids are not ids (the fallback SOURCE#INDEX is used)
MAX_CLAIMED_ERROR_ROWS = 1_000_000  # a corrupt Parquet row group claiming more rows counts as one error
_CHUNK = 1 << 20
_SNIFF_BYTES = 64 << 10  # bytes looked at to tell a gzip stream with a damaged start from plain text
_CRAWL_RE = re.compile(r"CC-MAIN-\d{4}-\d{2}")
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_RESYNC = re.compile(rb"WARC/\d{1,3}\.\d{1,3}\r?\n")  # where reading resumes after a defect
_INNER_RECORD = re.compile(rb"\n\r?\n(?=WARC/\d)")  # a record start inside a block: its length was wrong
_JSON_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
KNOWN_VERSIONS = frozenset({"WARC/1.0", "WARC/1.1", "WARC/0.17", "WARC/0.18"})
RECORD_TYPES = frozenset({"warcinfo", "response", "resource", "request", "metadata", "revisit", "conversion",
                          "continuation"})
DOC_TYPES = frozenset({"response", "conversion"})
FORMATS = ("warc", "wat", "jsonl", "parquet")
_GAP_ERRORS = {"corrupt_gzip": "corrupt_gzip", "truncated_gzip": "truncated_record"}

ERRORS: dict[str, str] = {
    "corrupt_gzip": "a gzip member that does not decompress (bad data or CRC, a destroyed header, garbage "
                    "between members); the record in it is lost and reading resumes at the next member",
    "truncated_record": "a record (WARC record or JSONL line) cut short by the end of the file or of its gzip "
                        "stream",
    "length_mismatch": "a WARC record whose Content-Length does not end where the record ends (too short or too "
                       "long); counted once, reading resumes at the next record",
    "malformed_record": "bytes where a WARC record should start that are not one (garbage, a header block without "
                        "an end, no valid Content-Length, no WARC-Type); reading resumes at the next record",
    "unknown_warc_version": "a response/conversion record whose version line is not WARC/0.17, 0.18, 1.0 or 1.1",
    "malformed_http": "a response record whose block is not an HTTP response (no status line, or a head > 64 KiB)",
    "undecodable_payload": "a gzip/deflate Content-Encoding whose bytes look compressed but do not decompress",
    "malformed_json": "a JSONL line that is not a JSON object",
    "missing_text": "a JSONL/Parquet row without a string in the text field",
    "corrupt_parquet": "a Parquet file (or row group) that cannot be read; each unreadable row counts once",
}
"""Every error a reader can name, and what it means (the `errors` of the run manifest)."""


class SourceReadError(RuntimeError):
    """The bytes of an input could not be read (I/O or network failure): not a defect of the data.

    Readers never catch it, so a failed read fails the shard (to be retried) instead of being counted as
    corrupt data in a shard marked finished.
    """


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
    oversized: bool = False  # payload holds only the first bytes (> max_payload_bytes) of a larger body/text


@dataclass
class SourceInfo:
    """What a reader learned about its file beyond the records: crawl name and skipped record types."""

    crawl: str | None = None
    skipped: Counter = field(default_factory=Counter)


def crawl_from_path(path: str) -> str | None:
    """Common Crawl names its crawls CC-MAIN-YYYY-WW and puts the name in every file path."""
    match = _CRAWL_RE.search(path)
    return match.group(0) if match else None


def _format_from_name(path: str) -> str | None:
    name = path.lower().removesuffix(".gz").removesuffix(".gzip")
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    if name.endswith(".wat"):
        return "wat"
    if name.endswith((".warc", ".wet", ".arc")):
        return "warc"
    return None


def sniff_format(head: bytes) -> str | None:
    """The format the first bytes show ("parquet", "warc", "jsonl"); "gzip" when a gzip start does not
    decompress far enough to tell, "blank" for whitespace only, None when they are none of these."""
    if head.startswith(b"PAR1"):
        return "parquet"
    body = head
    if is_gzip(head):
        try:
            body = zlib.decompressobj(wbits=31).decompress(head, 4096)
        except zlib.error:
            return "gzip"
    body = body.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not body:
        return "gzip" if is_gzip(head) else "blank"
    if body.startswith(b"WARC/"):
        return "warc"
    if body[:1] in (b"{", b"["):
        return "jsonl"
    return None


def detect_format(path: str, head: bytes) -> str:
    """Pick a reader from what the first bytes are, the file name deciding only what they cannot.

    A file is often not what its name says (a PNG saved as .warc.gz, a WARC named .jsonl): the content
    wins. The name decides between WARC and WAT (same framing), for a gzip file whose first member is
    broken, and for no bytes at all. Raises ValueError for content that is no supported format.
    """
    named = _format_from_name(path)
    sniffed = sniff_format(head)
    if sniffed == "warc":
        return "wat" if named == "wat" else "warc"
    if sniffed in ("parquet", "jsonl"):
        return sniffed
    if sniffed in ("gzip", "blank") and named in ("warc", "wat", "jsonl"):
        return named  # a broken first gzip member, or nothing but whitespace (read as empty)
    if not head and named:
        return named
    raise ValueError("unrecognised format (expected WARC/WET, JSONL or Parquet)")


def iter_records(
    stream: BinaryIO, path: str, fmt: str, info: SourceInfo, text_field: str = "text",
    max_payload_bytes: int = MAX_PAYLOAD_BYTES,
) -> Iterator[RawRecord]:
    """Yield the records of one file of format `fmt` read from `stream` (seekable for Parquet)."""
    if fmt == "warc":
        return _iter_warc(stream, info, max_payload_bytes)
    if fmt == "wat":
        raise ValueError("WAT files hold metadata, not documents: read them with flows.sources.wat.iter_wat")
    if fmt == "jsonl":
        return _iter_jsonl(stream, text_field, max_payload_bytes)
    if fmt == "parquet":
        return _iter_parquet(stream, text_field, max_payload_bytes)
    raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")


# --- bytes ----------------------------------------------------------------------------------------


class _ByteSource:
    """A forward reader over a plain or gzip stream with peek, push-back, offsets and gzip gaps.

    Offsets count decompressed bytes. When a gzip member breaks, reads stop short with `gap` set;
    `resume()` continues at the next member.
    """

    def __init__(self, stream: BinaryIO) -> None:
        head = _read_at_least(stream, _SNIFF_BYTES)
        stream = Prepend(head, stream)
        self._gz = GzipMembers(stream) if _gzip_stream(head) else None
        self._raw = stream
        self._buf = b""
        self._pos = 0
        self._base = 0  # offset of self._buf[0]

    @property
    def offset(self) -> int:
        return self._base + self._pos

    @property
    def gap(self) -> Gap | None:
        return self._gz.gap if self._gz is not None else None

    def resume(self) -> None:
        if self._gz is not None:
            self._gz.resume()

    def _chunk(self) -> bytes:
        return self._gz.read_chunk() if self._gz is not None else self._raw.read(_CHUNK)

    def _fill(self, need: int) -> bool:
        """Make `need` bytes available at the position; False when the stream ends (or breaks) first."""
        while len(self._buf) - self._pos < need:
            chunk = self._chunk()
            if not chunk:
                return False
            if self._pos:
                self._base += self._pos
                self._buf = self._buf[self._pos :] + chunk
                self._pos = 0
            else:
                self._buf += chunk
        return True

    def at_end(self) -> bool:
        """True when nothing follows before the end of the stream or the next gap."""
        return not self._fill(1)

    def peek(self, n: int) -> bytes:
        self._fill(n)
        return self._buf[self._pos : self._pos + n]

    def read(self, n: int) -> bytes:
        """Up to n bytes (fewer only at the end or a gap); large reads are joined once, not grown."""
        avail = len(self._buf) - self._pos
        if n <= avail:
            out = self._buf[self._pos : self._pos + n]
            self._pos += n
            return out
        parts = [self._buf[self._pos :]]
        need = n - avail
        self._base += len(self._buf)
        self._buf, self._pos = b"", 0
        while need > 0:
            chunk = self._chunk()
            if not chunk:
                break
            if len(chunk) <= need:
                parts.append(chunk)
                need -= len(chunk)
                self._base += len(chunk)
            else:
                parts.append(chunk[:need])
                self._buf, self._pos, need = chunk, need, 0
        return b"".join(parts)

    def skip(self, n: int) -> int:
        """Discard up to n bytes without holding them; returns how many were discarded."""
        done = 0
        while done < n:
            avail = len(self._buf) - self._pos
            if not avail and not self._fill(1):
                break
            step = min(n - done, len(self._buf) - self._pos)
            self._pos += step
            done += step
        return done

    def discard_buffered(self) -> None:
        """Drop what is buffered (the readable rest before a gap or the end)."""
        self._base += len(self._buf)
        self._buf, self._pos = b"", 0

    def unread(self, data: bytes) -> None:
        """Put back bytes that were read just before the position."""
        self._base = self.offset - len(data)
        self._buf = data + self._buf[self._pos :]
        self._pos = 0

    def skip_newlines(self) -> None:
        while self._fill(1):
            rest = self._buf[self._pos : self._pos + 64]
            stripped = len(rest) - len(rest.lstrip(b"\r\n"))
            self._pos += stripped
            if stripped < len(rest):
                return

    def read_head(self, limit: int) -> bytes | None:
        """Bytes up to and including the first blank line; None when there is none within `limit`
        (or before the end / a gap; `at_end()` tells which)."""
        searched = 0
        while True:
            match = _BLANK_LINE.search(self._buf, self._pos + max(0, searched - 3))
            if match is not None:
                if match.end() - self._pos > limit:
                    return None
                out = self._buf[self._pos : match.end()]
                self._pos = match.end()
                return out
            searched = len(self._buf) - self._pos
            if searched >= limit or not self._fill(searched + 1):
                return None

    def read_line(self, limit: int) -> tuple[bytes, str]:
        """One line and how it ended: "line" (newline), "end" (end of stream), "gap" (a broken gzip
        member), "long" (no newline within `limit`: the first `limit` bytes, the rest is discarded)."""
        searched = 0
        while True:
            i = self._buf.find(b"\n", self._pos + searched)
            if i >= 0 and i - self._pos < limit:
                out = self._buf[self._pos : i + 1]
                self._pos = i + 1
                return out, "line"
            searched = len(self._buf) - self._pos
            if searched >= limit:
                out = self._buf[self._pos : self._pos + limit]
                self._pos += limit
                self._skip_line()
                return out, "long"
            if not self._fill(searched + 1):
                out = self._buf[self._pos :]
                self.discard_buffered()
                return out, "gap" if self.gap is not None and out else "end"

    def _skip_line(self) -> None:
        while True:
            i = self._buf.find(b"\n", self._pos)
            if i >= 0:
                self._pos = i + 1
                return
            self._pos = len(self._buf)
            if not self._fill(1):
                return

    def record_follows(self) -> tuple[bool, int]:
        """Whether only newlines lie between the position and the next "WARC/" line (or the end);
        returns that and the number of newline bytes, without consuming anything."""
        k = 0
        while True:
            if not self._fill(k + 5):  # the end (or a gap) is near: fine if only newlines or a cut "WARC/"
                rest = self._buf[self._pos + k :]
                tail = rest.lstrip(b"\r\n")
                return not tail or b"WARC/".startswith(tail), k + len(rest) - len(tail)
            c = self._buf[self._pos + k]
            if c in (10, 13) and k < 4096:
                k += 1
                continue
            return self._buf.startswith(b"WARC/", self._pos + k), k

    def skip_to_record(self) -> None:
        """Discard at least one byte, then up to the next WARC version line ("WARC/1.0" + newline), or to
        the end / a gap. (Never zero bytes: the record at the position is the one being given up.)"""
        if not self._fill(1):
            return
        self._pos += 1
        while True:
            match = _RESYNC.search(self._buf, self._pos)
            if match is not None:
                self._pos = match.start()
                return
            self._pos = max(self._pos, len(self._buf) - 16)
            if not self._fill(len(self._buf) - self._pos + 1):
                self.discard_buffered()
                return


def _gzip_stream(head: bytes) -> bool:
    """Gzip, also when the first member's header is destroyed: text formats never hold the gzip magic
    near their start, so a magic after non-text bytes means members follow some damage."""
    if is_gzip(head) or sum(a == b for a, b in zip(head[:3], GZIP_MAGIC)) >= 2:  # the first header damaged
        return True
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"WARC/"):
        return False
    if text.startswith((b"{", b"[")) and not any(b < 0x20 and b not in (9, 10, 13) for b in text[:256]):
        return False  # JSON text: raw control bytes (as in a gzip header) never occur in it
    return GZIP_MAGIC in head


def _read_at_least(stream: BinaryIO, n: int) -> bytes:
    data = b""
    while len(data) < n:
        more = stream.read(n - len(data))
        if not more:
            break
        data += more
    return data


class _ForwardStream(io.RawIOBase):
    """A read-forward stream that tracks its position (libraries ask Python streams for `tell()`)."""

    def __init__(self) -> None:
        super().__init__()
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: Any) -> int:
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
        return data


# --- WARC / WET -----------------------------------------------------------------------------------


@dataclass(slots=True)
class WarcFrame:
    """One WARC record as framed: its version, type, headers and block, or the error that broke it."""

    version: str = ""
    rtype: str = ""  # lower-cased WARC-Type ("" when unknown)
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names, first value of each
    block: bytes = b""
    oversized: bool = False  # block holds only the first `max_block` bytes of a larger block
    error: str | None = None


def iter_warc_frames(stream: BinaryIO, max_block: int) -> Iterator[WarcFrame]:
    """Frame the WARC records of a plain or gzip stream; every defect is one frame with `error` set.

    After a defect reading resumes at the next record: the next gzip member, the next line that starts
    with "WARC/", or a record start found inside a block whose declared length ran into it. A gzip
    member that breaks right after a record it holds makes that record the error (it is not counted
    twice). Consecutive breaks with nothing read between them count once.
    """
    src = _ByteSource(stream)
    defect_at = -1  # start of the last record counted as a defect: a break inside its member is the same damage
    gap_at = -1  # where the last break was met: another break there, with nothing read between, is the same
    while True:
        src.skip_newlines()
        start = src.offset
        head = src.peek(5)
        if not head:
            gap = src.gap
            if gap is None:
                return
            if start != gap_at and gap.member_start > defect_at:
                yield WarcFrame(error=_GAP_ERRORS[gap.reason])
                defect_at = start
            gap_at = start
            src.resume()
            continue
        if head != b"WARC/":
            cut = len(head) < 5 and b"WARC/".startswith(head)  # the end (or a gap) cuts "WARC/" short
            gap = src.gap if cut else None
            yield WarcFrame(error=_GAP_ERRORS[gap.reason] if gap else "truncated_record" if cut else "malformed_record")
            defect_at = start
            src.skip_to_record()
            if cut:
                gap_at = src.offset
            continue
        raw_head = src.read_head(MAX_HEADER_BYTES)
        if raw_head is None:
            if src.at_end():  # the stream ended (or a member broke) inside the header
                gap = src.gap
                src.discard_buffered()
                yield WarcFrame(error=_GAP_ERRORS[gap.reason] if gap else "truncated_record")
                gap_at = src.offset
            else:
                yield WarcFrame(error="malformed_record")
                src.skip_to_record()
            defect_at = start
            continue
        version, headers = _parse_warc_head(raw_head)
        rtype = headers.get("warc-type", "").strip().lower()
        length = _content_length(headers)
        if length is None:
            yield WarcFrame(version, rtype, headers, error="malformed_record")
            defect_at = start
            src.skip_to_record()
            continue
        if length <= max_block:
            block, oversized = src.read(length), False
            got = len(block)
        else:
            block, oversized = src.read(max_block), True
            got = len(block) + (src.skip(length - max_block) if len(block) == max_block else 0)
        if got < length:  # the stream ended (or a member broke) inside the block
            defect_at = start
            inner = -1 if oversized else _inner_record(block)
            if inner >= 0:
                yield WarcFrame(version, rtype, headers, error="length_mismatch")
                src.unread(block[inner:])
                continue
            gap = src.gap
            yield WarcFrame(version, rtype, headers, error=_GAP_ERRORS[gap.reason] if gap else "truncated_record")
            gap_at = src.offset
            continue
        ends, newlines = src.record_follows()
        if not ends:
            yield WarcFrame(version, rtype, headers, error="length_mismatch")
            defect_at = start
            inner = -1 if oversized else _inner_record(block)
            if inner >= 0:
                src.unread(block[inner:])
            else:
                src.skip_to_record()
            continue
        src.skip(newlines)
        gap = src.gap
        if gap is not None and gap.member_start < src.offset and src.at_end():
            # the member holding (the end of) this record broke after it: its bytes are not trustworthy
            yield WarcFrame(version, rtype, headers, error=_GAP_ERRORS[gap.reason])
            defect_at, gap_at = start, src.offset
            continue
        yield WarcFrame(version, rtype, headers, block, oversized)


def _inner_record(block: bytes) -> int:
    match = _INNER_RECORD.search(block)
    return match.end() if match else -1


def _parse_warc_head(raw: bytes) -> tuple[str, dict[str, str]]:
    lines = raw.decode("utf-8", errors="replace").split("\n")
    version = lines[0].strip()
    headers: dict[str, str] = {}
    last = ""
    for line in lines[1:]:
        if not line.strip():
            continue
        if line[0] in " \t" and last:  # folded continuation line
            headers[last] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if not colon:
            continue
        key = name.strip().lower()
        value = value.strip()
        if key in headers:
            if key == "content-length" and headers[key] != value:
                headers[key] = "conflicting"  # two different lengths: the framing cannot be trusted
            continue
        headers[key] = value
        last = key
    return version, headers


def _content_length(headers: dict[str, str]) -> int | None:
    value = headers.get("content-length", "")
    if not (value.isascii() and value.isdigit()) or len(value) > 15:
        return None
    return int(value)


def _iter_warc(stream: BinaryIO, info: SourceInfo, max_payload_bytes: int) -> Iterator[RawRecord]:
    index = -1
    seen_ids: set[int] = set()
    for frame in iter_warc_frames(stream, max_payload_bytes + HEAD_ALLOWANCE):
        rtype = frame.rtype
        if rtype and rtype not in DOC_TYPES:
            name = rtype if rtype in RECORD_TYPES else "other"
            info.skipped[name if frame.error is None else f"{name}:{frame.error}"] += 1
            if rtype == "warcinfo" and info.crawl is None and frame.error is None:
                info.crawl = _crawl_from_warcinfo(frame.block[:65536])
            continue
        index += 1
        if frame.error is not None:
            yield RawRecord(index, error=frame.error)
        elif not rtype:
            yield RawRecord(index, error="malformed_record")
        elif frame.version not in KNOWN_VERSIONS:
            yield RawRecord(index, error="unknown_warc_version")
        else:
            yield _warc_record(frame, index, seen_ids, max_payload_bytes)


def _warc_record(frame: WarcFrame, index: int, seen_ids: set[int], limit: int) -> RawRecord:
    headers = frame.headers
    record = RawRecord(
        index,
        doc_id=_unique_id(headers.get("warc-record-id"), seen_ids),
        url=(headers.get("warc-target-uri") or "").strip("<>") or None,
        fetch_date=_warc_date(headers.get("warc-date")),
    )
    if frame.rtype == "conversion":
        record.content_type = "text/plain"
        if frame.oversized or len(frame.block) > limit:
            record.payload, record.oversized = frame.block[: limit + 1], True
        else:
            record.text = frame.block.decode("utf-8", errors="replace")
        return record
    status, http_headers, body = _split_http(frame.block)
    if status is None:
        record.error = "malformed_http"
        return record
    record.http_status = status
    content_type = http_headers.get("content-type", "")
    mime, _, params = content_type.partition(";")
    record.content_type = mime.strip().lower()[:200] or None
    charset = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", params, re.I)
    record.charset = charset.group(1).lower()[:64] if charset else None
    record.payload = _decode_content_encoding(body, http_headers.get("content-encoding", ""), limit)
    if record.payload is None:
        record.error = "undecodable_payload"
        return record
    record.oversized = frame.oversized or len(record.payload) > limit
    if frame.oversized and len(record.payload) <= limit:  # only a huge HTTP head can get here
        record.payload, record.error = None, "malformed_http"
    return record


def _unique_id(value: str | None, seen: set[int]) -> str | None:
    """The id, unless it is absurd or repeats one earlier in the file (then the SOURCE#INDEX fallback)."""
    if not value or len(value) > MAX_ID_CHARS:
        return None
    key = hash(value)
    if key in seen:
        return None
    seen.add(key)
    return value


def _split_http(block: bytes) -> tuple[int | None, dict[str, str], bytes]:
    """Split an HTTP response into status, lower-cased headers and body; tolerant of bare LF lines."""
    match = _BLANK_LINE.search(block, 0, HEAD_ALLOWANCE)
    if match is None:
        if len(block) > HEAD_ALLOWANCE:
            return None, {}, b""
        head, body = block, b""
    else:
        head, body = block[: match.start()], block[match.end() :]
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
            headers.setdefault(key.strip().lower(), value.strip())
    return status, headers, body


def _looks_zlib(head: bytes) -> bool:
    return len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0


def _decode_content_encoding(body: bytes, encoding: str, limit: int) -> bytes | None:
    """Undo gzip/deflate codings whose bytes really are compressed (crawlers often store bodies decoded).

    Codings are undone last-applied first ("gzip, gzip" is decoded twice); decompression stops after
    limit + 1 bytes, so a gzip bomb costs no more memory than an oversized page. None: the bytes look
    compressed but do not decompress.
    """
    codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
    if not codings and is_gzip(body[:3]):
        codings = ["gzip"]
    data = body
    for coding in reversed(codings):
        if coding == "identity":
            continue
        if coding not in ("gzip", "x-gzip", "deflate") or not (is_gzip(data[:3]) or _looks_zlib(data[:2])):
            break  # stored decoded, or a coding we do not undo (br, zstd): left as is
        try:
            data = zlib.decompressobj(wbits=47).decompress(data, limit + 1)
        except zlib.error:
            return None
    return data


def _warc_date(value: str | None) -> datetime | None:
    if not value or len(value) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except (OverflowError, ValueError):  # e.g. year 1 with a positive offset
        return None


def _crawl_from_warcinfo(block: bytes) -> str | None:
    for line in block.decode("utf-8", errors="replace").splitlines():
        if line.lower().startswith("ispartof:"):
            return line.split(":", 1)[1].strip()[:200] or None
    return None


# --- JSONL / Parquet ----------------------------------------------------------------------------


def _iter_jsonl(stream: BinaryIO, text_field: str, limit: int) -> Iterator[RawRecord]:
    """One record per non-blank line; a line longer than the limit is kept as a prefix (oversized)."""
    src = _ByteSource(stream)
    index = -1
    seen_ids: set[int] = set()
    last_gap = -1
    while True:
        line, ending = src.read_line(limit + HEAD_ALLOWANCE)
        if ending == "gap":  # a line cut by a broken gzip member
            index += 1
            yield RawRecord(index, error=_GAP_ERRORS[src.gap.reason] if src.gap else "truncated_record")
            last_gap = src.offset
            continue
        if not line:
            gap = src.gap
            if gap is None:
                return
            if src.offset != last_gap:
                index += 1
                yield RawRecord(index, error=_GAP_ERRORS[gap.reason])
            last_gap = src.offset
            src.resume()
            continue
        if not line.strip():
            continue
        index += 1
        if ending == "long":
            yield RawRecord(index, content_type="text/plain", payload=line[: limit + 1], oversized=True)
            continue
        yield _json_record(line, index, text_field, limit, seen_ids)


def _json_record(line: bytes, index: int, text_field: str, limit: int, seen_ids: set[int]) -> RawRecord:
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        return RawRecord(index, error="malformed_json")
    if not isinstance(obj, dict):
        return RawRecord(index, error="malformed_json")
    return _row_record(obj, index, text_field, limit, seen_ids, clean=_JSON_SURROGATE.search(line) is not None)


def _row_record(obj: dict, index: int, text_field: str, limit: int, seen_ids: set[int],
                clean: bool = False) -> RawRecord:
    text = obj.get(text_field)
    if not isinstance(text, str):
        return RawRecord(index, error="missing_text")
    doc_id = obj.get("id")
    url = obj.get("url")
    metadata = obj.get("metadata")
    if url is None and isinstance(metadata, dict):
        url = metadata.get("url")
    url = url if isinstance(url, str) and len(url) <= 8192 else None
    doc_id = None if doc_id is None or isinstance(doc_id, (dict, list)) else str(doc_id)
    if clean:  # lone surrogates from JSON escapes cannot be stored as UTF-8
        text, url, doc_id = valid_utf8(text), valid_utf8(url), valid_utf8(doc_id)
    record = RawRecord(index, doc_id=_unique_id(doc_id, seen_ids), url=url, content_type="text/plain")
    if len(text) > limit or (len(text) * 4 > limit and len(text.encode("utf-8")) > limit):
        record.payload, record.oversized = text[: limit + 1].encode("utf-8"), True
    else:
        record.text = text
    return record


def valid_utf8(value: str | None) -> str | None:
    """The string with lone surrogates (from JSON escapes) replaced: Arrow stores only valid UTF-8."""
    if value is None or value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", errors="surrogatepass").decode("utf-8", errors="replace")
    return value


def _iter_parquet(stream: BinaryIO, text_field: str, limit: int) -> Iterator[RawRecord]:
    """Rows row group by row group; a row group that cannot be read costs its rows, not the file."""
    try:
        parquet = pq.ParquetFile(stream)
        meta = parquet.metadata
        names = parquet.schema_arrow.names
    except Exception:  # noqa: BLE001 - pyarrow raises many types on hostile bytes; all mean "not readable"
        yield RawRecord(0, error="corrupt_parquet")
        return
    columns = [c for c in ("id", text_field, "url", "metadata") if c in names]
    index = -1
    seen_ids: set[int] = set()
    for group in range(parquet.num_row_groups):
        done = claimed = 0
        try:
            claimed = meta.row_group(group).num_rows
            if text_field not in names:
                rows = parquet.read_row_group(group, columns=names[:1]).num_rows if names else 0
                for _ in range(rows):
                    index += 1
                    done += 1
                    yield RawRecord(index, error="missing_text")
                continue
            for batch in parquet.iter_batches(batch_size=256, row_groups=[group], columns=columns):
                for row in _batch_rows(batch):
                    index += 1
                    done += 1
                    yield _row_record(row, index, text_field, limit, seen_ids)
        except Exception:  # noqa: BLE001 - as above: a corrupt page, a bad encoding, a lying footer
            missing = claimed - done if claimed > done else int(done == 0)
            for _ in range(missing if missing <= MAX_CLAIMED_ERROR_ROWS else 1):
                index += 1
                yield RawRecord(index, error="corrupt_parquet")


def _batch_rows(batch: pa.RecordBatch) -> list[dict]:
    """Rows as dicts; strings with invalid UTF-8 are decoded with replacement instead of failing."""
    columns: dict[str, list] = {}
    for name, column in zip(batch.schema.names, batch.columns):
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            binary = pa.binary() if pa.types.is_string(column.type) else pa.large_binary()
            columns[name] = [None if v is None else v.decode("utf-8", errors="replace")
                             for v in column.view(binary).to_pylist()]
        else:
            columns[name] = column.to_pylist()
    return [dict(zip(columns, values)) for values in zip(*columns.values())] if columns else []
