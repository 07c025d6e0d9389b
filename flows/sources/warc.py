"""WARC and WET files: frame the records, turn response and conversion records into `RawRecord`s.

The framing is parsed here (not by a library that gives up at the first bad record) so that every
defect costs exactly one record and reading resumes at the next one: a wrong Content-Length, a broken
gzip member, garbage between records. WARC record types that hold no document (request, metadata,
warcinfo, revisit) are not records in this sense; they are tallied in `SourceInfo.skipped`.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import BinaryIO

from filters.records import RawRecord
from flows.sources.bytesource import BLANK_LINE, ByteSource
from flows.sources.gzip_members import is_gzip
from flows.sources.reading import GAP_ERRORS, HEAD_ALLOWANCE, SourceInfo, unique_id

MAX_HEADER_BYTES = 64 << 10  # a WARC header block larger than this is not a header
_INNER_RECORD = re.compile(rb"\n\r?\n(?=WARC/\d)")  # a record start inside a block: its length was wrong
KNOWN_VERSIONS = frozenset({"WARC/1.0", "WARC/1.1", "WARC/0.17", "WARC/0.18"})
RECORD_TYPES = frozenset({"warcinfo", "response", "resource", "request", "metadata", "revisit", "conversion",
                          "continuation"})
DOC_TYPES = frozenset({"response", "conversion"})


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

    It is one function (~90 lines) on purpose: a state machine over one stream whose two positions,
    `defect_at` and `gap_at`, decide whether a break is new damage; split up, that bookkeeping would
    be passed back and forth between helpers and the count-once rule would be hard to see.
    """
    src = ByteSource(stream)
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
                yield WarcFrame(error=GAP_ERRORS[gap.reason])
                defect_at = start
            gap_at = start
            src.resume()
            continue
        if head != b"WARC/":
            cut = len(head) < 5 and b"WARC/".startswith(head)  # the end (or a gap) cuts "WARC/" short
            gap = src.gap if cut else None
            yield WarcFrame(error=GAP_ERRORS[gap.reason] if gap else "truncated_record" if cut else "malformed_record")
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
                yield WarcFrame(error=GAP_ERRORS[gap.reason] if gap else "truncated_record")
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
            yield WarcFrame(version, rtype, headers, error=GAP_ERRORS[gap.reason] if gap else "truncated_record")
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
            yield WarcFrame(version, rtype, headers, error=GAP_ERRORS[gap.reason])
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


def iter_warc(stream: BinaryIO, info: SourceInfo, max_payload_bytes: int) -> Iterator[RawRecord]:
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
        doc_id=unique_id(headers.get("warc-record-id"), seen_ids),
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


def _split_http(block: bytes) -> tuple[int | None, dict[str, str], bytes]:
    """Split an HTTP response into status, lower-cased headers and body; tolerant of bare LF lines."""
    match = BLANK_LINE.search(block, 0, HEAD_ALLOWANCE)
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
