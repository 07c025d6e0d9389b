"""A forward byte reader over plain or gzip streams that survives broken gzip members.

The WARC and JSONL readers frame records on top of it; Parquet needs a seekable file instead.
"""

from __future__ import annotations

import io
import re
from typing import Any, BinaryIO

from flows.sources.gzip_members import GZIP_MAGIC, Gap, GzipMembers, is_gzip

_CHUNK = 1 << 20
_SNIFF_BYTES = 64 << 10  # bytes looked at to tell a gzip stream with a damaged start from plain text
BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_RESYNC = re.compile(rb"WARC/\d{1,3}\.\d{1,3}\r?\n")  # where reading resumes after a defect


class ByteSource:
    """A forward reader over a plain or gzip stream with peek, push-back, offsets and gzip gaps.

    Offsets count decompressed bytes. When a gzip member breaks, reads stop short with `gap` set;
    `resume()` continues at the next member.
    """

    def __init__(self, stream: BinaryIO) -> None:
        head = read_at_least(stream, _SNIFF_BYTES)
        stream = Prepend(head, stream)
        self._gz = GzipMembers(stream) if gzip_stream(head) else None
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
            match = BLANK_LINE.search(self._buf, self._pos + max(0, searched - 3))
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


def gzip_stream(head: bytes) -> bool:
    """Gzip, also when the first member's header is destroyed: text formats never hold the gzip magic
    near their start, so a magic after non-text bytes means members follow some damage."""
    if is_gzip(head) or sum(a == b for a, b in zip(head[:3], GZIP_MAGIC)) >= 2:  # the first header damaged
        return True
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"WARC/") and (_RESYNC.match(text) or GZIP_MAGIC not in head or _RESYNC.search(text, 1)):
        return False  # WARC text; "WARC/" over a destroyed gzip header has no version line and a magic after it
    if text.startswith((b"{", b"[")) and not any(b < 0x20 and b not in (9, 10, 13) for b in text[:256]):
        return False  # JSON text: raw control bytes (as in a gzip header) never occur in it
    return GZIP_MAGIC in head


def read_at_least(stream: BinaryIO, n: int) -> bytes:
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
