"""Streaming, member-by-member gzip decompression that survives corrupt and truncated members.

Common Crawl writes one gzip member per WARC record. Decompressing member by member lets a reader
count a broken member as one error and carry on at the next member, instead of losing the rest of the
file the way a single-stream decompressor does. Output comes in bounded chunks, so a member of any
size (a whole file gzipped as one member, a 100 MB record, a gzip bomb) streams in constant memory.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b\x08"
IN_CHUNK = 256 << 10  # compressed bytes read per call (small: each member end copies the rest)
OUT_CHUNK = 1 << 20  # decompressed bytes produced per call at most
MAX_REWIND = 16 << 20  # compressed bytes of one member kept to rescan after it breaks
_PADDING = b"\x00\r\n\t "  # bytes some writers leave after the last member; not a lost record


@dataclass(frozen=True)
class Gap:
    """Why the decompressed stream stopped early, and where the broken member's output began."""

    reason: str  # "corrupt_gzip" (bad data, bad header, garbage between members) | "truncated_gzip"
    member_start: int  # decompressed offset at which the broken member's output began


def is_gzip(head: bytes) -> bool:
    """True when the bytes start like a gzip member."""
    return head[:2] == GZIP_MAGIC[:2]


class GzipMembers:
    """Decompressed bytes of a (multi-member) gzip stream, produced chunk by chunk.

    `read_chunk()` returns the next piece of output (at most OUT_CHUNK bytes), or b"" at the end of the
    stream or at a broken member; in the latter case `gap` says why, everything the member yielded
    before breaking has already been returned, and `resume()` carries on at the next member header.
    Only the bytes of the underlying stream are trusted to raise: data errors never do.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._in = b""  # compressed bytes read but not yet decompressed
        self._eof = False  # the raw stream is exhausted
        self._d: zlib._Decompress | None = None  # decompressor of the member in progress
        self._resync = False  # after a broken member: skip silently to the next header
        self._member_start = 0
        self._history: bytearray | None = None  # compressed bytes the member in progress has consumed
        self.offset = 0  # decompressed bytes produced so far
        self.members = 0  # members started
        self.gap: Gap | None = None

    def resume(self) -> None:
        """Continue after a gap, at the next member header (if any)."""
        self.gap = None

    def read_chunk(self) -> bytes:
        if self.gap is not None:
            return b""
        while True:
            if self._d is None and not self._start_member():
                return b""
            assert self._d is not None
            given = self._in
            pending = len(given)
            try:
                out = self._d.decompress(given, OUT_CHUNK)
            except zlib.error:
                self._fail("corrupt_gzip")
                # Look for the next header from just after this member's start: damaged deflate data may
                # have run on through the members after it before the error showed.
                self._in = ((bytes(self._history) if self._history is not None else b"") + given)[1:]
                self._history = None
                return b""
            if self._d.eof:
                self._in = self._d.unused_data
                self._d = None
                self._history = None
            else:
                self._in = self._d.unconsumed_tail
                self._remember(given[: pending - len(self._in)])
            if out:
                self.offset += len(out)
                return out
            if self._d is None or len(self._in) < pending:
                continue
            if not self._read_more():  # the stream ended inside a member
                self._fail("truncated_gzip")
                # A damaged member may also run on to the end without an error: rescan what it consumed.
                self._in = bytes(self._history[1:]) if self._history is not None else b""
                self._history = None
                return b""

    def _remember(self, consumed: bytes) -> None:
        """Keep the compressed bytes of the member in progress (up to a cap) to rescan them if it breaks."""
        if self._history is not None:
            if len(self._history) + len(consumed) > MAX_REWIND:
                self._history = None
            else:
                self._history += consumed

    def _read_more(self) -> bool:
        if self._eof:
            return False
        more = self._raw.read(IN_CHUNK)
        if not more:
            self._eof = True
            return False
        self._in += more
        return True

    def _start_member(self) -> bool:
        """Position at the next member header and start decompressing it; False at the end or a gap."""
        while len(self._in) < len(GZIP_MAGIC) and self._read_more():
            pass
        garbage = False
        while not self._in.startswith(GZIP_MAGIC):
            pos = self._in.find(GZIP_MAGIC)
            skipped = self._in[:pos] if pos >= 0 else self._in[:-2]
            garbage = garbage or bool(skipped.strip(_PADDING))
            if pos >= 0:
                self._in = self._in[pos:]
                break
            self._in = self._in[-2:] if len(self._in) > 2 else self._in
            if not self._read_more():
                garbage = garbage or bool(self._in.strip(_PADDING))
                self._in = b""
                if garbage and not self._resync:
                    self._fail("corrupt_gzip")
                self._resync = False
                return False
        if garbage and not self._resync:
            self._fail("corrupt_gzip")  # bytes between members: a member whose header was destroyed
            return False
        self._resync = False
        self._d = zlib.decompressobj(wbits=31)
        self._history = bytearray()
        self._member_start = self.offset
        self.members += 1
        return True

    def _fail(self, reason: str) -> None:
        start = self._member_start if self._d is not None else self.offset
        self.gap = Gap(reason, start)
        self._d = None
        self._resync = True
