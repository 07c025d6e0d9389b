"""Member-by-member gzip decompression that survives corrupt and truncated members.

Common Crawl writes one gzip member per WARC record. Decompressing member by member lets a reader
count a broken member as one error and carry on at the next member, instead of losing the rest of the
file the way a single-stream decompressor does.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b\x08"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Member:
    """One decompressed gzip member, or the error that ended it (`data` then holds what was recovered)."""

    data: bytes
    error: str | None = None  # "corrupt_gzip" | "truncated_gzip"
    complete: bool = True  # False when the member was cut short: its data may end mid-record


def is_gzip(head: bytes) -> bool:
    """True when the bytes start like a gzip member."""
    return head[:2] == GZIP_MAGIC[:2]


def iter_members(stream: BinaryIO, max_member_bytes: int) -> Iterator[Member]:
    """Yield members; a member larger than `max_member_bytes` is yielded in pieces with complete=False.

    Pieces of one large member are yielded in order, the last with complete=True, so a caller can
    stream a whole-file single-member gzip without holding it in memory.
    """
    pending = b""
    while True:
        if not pending:
            pending = stream.read(_CHUNK)
            if not pending:
                return
        start = pending.find(GZIP_MAGIC)
        if start < 0:
            # Garbage between members: keep the last two bytes in case a header straddles chunks.
            more = stream.read(_CHUNK)
            if not more:
                yield Member(b"", error="corrupt_gzip", complete=True)
                return
            pending = pending[-2:] + more
            continue
        if start > 0:
            yield Member(b"", error="corrupt_gzip", complete=True)
            pending = pending[start:]
        pending, members = _decompress_one(stream, pending, max_member_bytes)
        yield from members


def _decompress_one(stream: BinaryIO, pending: bytes, max_member_bytes: int) -> tuple[bytes, list[Member]]:
    """Decompress the member at the start of `pending`; return the unread bytes and the member pieces."""
    decomp = zlib.decompressobj(wbits=31)
    out: list[bytes] = []
    size = 0
    pieces: list[Member] = []
    buf = pending
    while True:
        try:
            chunk = decomp.decompress(buf)
        except zlib.error:
            pieces.append(Member(b"".join(out), error="corrupt_gzip", complete=False))
            # Resume at the next member header after the one that failed.
            return _skip_to_next_member(stream, buf[1:]), pieces
        if chunk:
            out.append(chunk)
            size += len(chunk)
            if size > max_member_bytes:
                pieces.append(Member(b"".join(out), complete=False))
                out, size = [], 0
        if decomp.eof:
            pieces.append(Member(b"".join(out)))
            return decomp.unused_data, pieces
        buf = stream.read(_CHUNK)
        if not buf:
            pieces.append(Member(b"".join(out), error="truncated_gzip", complete=False))
            return b"", pieces


def _skip_to_next_member(stream: BinaryIO, rest: bytes) -> bytes:
    """Scan forward for the next gzip header; return the bytes from it (empty at end of stream)."""
    while True:
        pos = rest.find(GZIP_MAGIC)
        if pos >= 0:
            return rest[pos:]
        more = stream.read(_CHUNK)
        if not more:
            return b""
        rest = rest[-2:] + more
