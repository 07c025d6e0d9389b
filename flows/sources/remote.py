"""Resumable streaming reads of remote files (HTTP(S), s3://, local) through fsspec.

A Common Crawl file is ~100 MB (WET) to ~1 GB (WARC); a transfer that breaks near the end must not start over
and must never hand the reader the same bytes twice (a record read twice would be counted twice). So the
stream below remembers how many bytes it has received and, after a failure, asks for the rest with an HTTP
``Range: bytes=<offset>-`` request (or a seek, for other fsspec file systems). The size the server announced
is checked: a body that ends short raises `SizeMismatch` after every byte it did deliver.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Protocol, cast

import fsspec
from fsspec.asyn import sync

if TYPE_CHECKING:  # aiohttp is imported when an http(s) URL is opened: local-only runs skip its ~0.2 s import
    import aiohttp

__all__ = ["RemoteReadError", "SizeMismatch", "open_resumable"]

READ_CHUNK = 1 << 20
"""Bytes asked of the transport per read: large reads keep the per-call overhead of fsspec's loop small."""

MAX_DELAY = 60.0
"""Upper bound on one wait between attempts (exponential backoff or a server's Retry-After)."""

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class RemoteReadError(OSError):
    """A remote file could not be read, or not completely; `reason` is a stable label the flow counts.

    Reasons: ``not_found``, ``forbidden``, ``http_<status>`` (e.g. ``http_503`` once retries are spent),
    ``connection``, ``timeout``, ``redirect`` (refused: a mirror must not send us to another host),
    ``changed`` (the object changed between a transfer and its resumption), ``size_mismatch``.
    `offset` is the number of bytes delivered to the caller before the error.
    """

    def __init__(self, reason: str, url: str, offset: int = 0, detail: str = "") -> None:
        super().__init__(f"{reason}: {url} (after {offset} bytes){': ' + detail if detail else ''}")
        self.reason = reason
        self.url = url
        self.offset = offset
        self.detail = detail
        self.retryable = False
        self.retry_after: float | None = None

    def __reduce__(self) -> tuple[type, tuple]:  # keep the fields when Prefect/Dask pickle the error
        return (type(self), (self.reason, self.url, self.offset, self.detail))


class SizeMismatch(RemoteReadError):
    """The body is shorter or longer than the size the server announced (Content-Length / Content-Range)."""

    def __init__(self, url: str, expected: int, received: int, detail: str = "") -> None:
        detail = detail or f"announced {expected} bytes, got {received}"
        super().__init__("size_mismatch", url, received, detail)
        self.expected = expected
        self.received = received

    def __reduce__(self) -> tuple[type, tuple]:
        return (type(self), (self.url, self.expected, self.received, self.detail))


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


@dataclass
class _Opened:
    stream: _Readable
    total: int | None  # the whole object's size, as announced
    etag: str | None


_Opener = Callable[[int], _Opened]


def _transient(
    reason: str, url: str, offset: int, detail: str = "", retry_after: float | None = None
) -> RemoteReadError:
    err = RemoteReadError(reason, url, offset, detail)
    err.retryable = True
    err.retry_after = retry_after
    return err


def _is_transport_error(exc: Exception) -> bool:
    """I/O failures of the libraries under fsspec (aiohttp, OS, botocore if s3fs is used), not our bugs."""
    aiohttp = sys.modules.get("aiohttp")  # loaded once an http(s) URL is opened
    if isinstance(exc, (OSError, TimeoutError)) or (aiohttp is not None and isinstance(exc, aiohttp.ClientError)):
        return True
    boto = sys.modules.get("botocore.exceptions")  # loaded only if s3fs is
    return boto is not None and isinstance(exc, boto.BotoCoreError)


def _classify(exc: BaseException, url: str, offset: int) -> RemoteReadError:
    """Map a transport exception to a RemoteReadError; only network-ish failures are worth a retry."""
    if isinstance(exc, FileNotFoundError):
        return RemoteReadError("not_found", url, offset)
    if isinstance(exc, PermissionError):
        return RemoteReadError("forbidden", url, offset, str(exc))
    aiohttp = sys.modules.get("aiohttp")
    if aiohttp is not None and isinstance(exc, aiohttp.ClientResponseError):
        return _status_error(exc.status, url, offset, exc.headers.get("Retry-After") if exc.headers else None)
    if isinstance(exc, TimeoutError):  # also aiohttp's ServerTimeoutError and asyncio.TimeoutError
        return _transient("timeout", url, offset, repr(exc))
    return _transient("connection", url, offset, repr(exc))


def _status_error(status: int, url: str, offset: int, retry_after: str | None) -> RemoteReadError:
    if status in (404, 410):
        return RemoteReadError("not_found", url, offset)
    if status in (401, 403):
        return RemoteReadError("forbidden", url, offset, f"HTTP {status}")
    if status in RETRYABLE_STATUS:
        wait = float(retry_after) if retry_after and retry_after.strip().isdigit() else None
        return _transient(f"http_{status}", url, offset, retry_after=wait)
    return RemoteReadError(f"http_{status}", url, offset)


class _HTTPBody:
    """The body of one aiohttp response, read synchronously on the event loop of fsspec's HTTPFileSystem."""

    def __init__(self, loop: asyncio.AbstractEventLoop, response: aiohttp.ClientResponse) -> None:
        self._loop = loop
        self._response = response
        self._pending: BaseException | None = None

    def read(self, size: int = -1, /) -> bytes:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            raise pending
        try:
            return sync(self._loop, self._response.content.read, size)
        except Exception as exc:
            salvaged = self._salvage(size)
            if not salvaged:
                raise
            self._pending = exc  # the bytes first; the error on the next read
            return salvaged

    def _salvage(self, size: int) -> bytes:
        """Bytes that arrived before the transfer broke. aiohttp raises a payload error before handing over what
        it buffered, so how much a reader got would depend on timing; draining the buffer makes it every byte."""
        drain = getattr(self._response.content, "_read_nowait", None)
        if drain is None:
            return b""
        try:
            return sync(self._loop, _drain, drain, size)
        except Exception:  # noqa: BLE001 - nothing salvageable: the original error stands
            return b""

    def close(self) -> None:
        sync(self._loop, _close_response, self._response)


async def _drain(drain: Callable[[int], bytes], size: int) -> bytes:
    return drain(size)  # on the loop's thread: aiohttp is not thread-safe


async def _close_response(response: aiohttp.ClientResponse) -> None:
    response.close()  # on the loop's thread: aiohttp is not thread-safe


async def _get(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], timeout: aiohttp.ClientTimeout
) -> aiohttp.ClientResponse:
    """GET without following redirects; an error status closes the response before it is raised."""
    import aiohttp

    response = await session.get(url, headers=headers, allow_redirects=False, timeout=timeout)
    if response.status >= 400:
        response.close()
        raise aiohttp.ClientResponseError(
            response.request_info, response.history, status=response.status, headers=response.headers
        )
    return response


def _http_opener(url: str, timeout: float) -> _Opener:
    # fsspec's HTTPFileSystem (one shared instance, cached by fsspec) provides the aiohttp session and the
    # event loop. Raw bytes even if a mirror sets Content-Encoding: gzip, so offsets are file offsets.
    # The timeout bounds connecting and each wait for data, not the whole transfer (aiohttp's default is
    # 5 minutes in total, too short for a 1 GB WARC).
    import aiohttp

    fs = fsspec.filesystem("http", client_kwargs={"auto_decompress": False})
    client_timeout = aiohttp.ClientTimeout(
        total=None, connect=timeout, sock_connect=timeout, sock_read=timeout
    )

    def open_at(offset: int) -> _Opened:
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        session = sync(fs.loop, fs.set_session)
        response = sync(fs.loop, _get, session, fs.encode_url(url), headers, client_timeout)
        body = _HTTPBody(fs.loop, response)
        try:
            return _http_response(response.status, response.headers, body, url, offset)
        except BaseException:
            body.close()
            raise

    return open_at


def _http_response(status: int, headers: Mapping[str, str], body: _HTTPBody, url: str, offset: int) -> _Opened:
    """Check one response: where its body starts, the total size announced, and skip what we already have."""
    etag = headers.get("ETag")
    if 300 <= status < 400:
        raise RemoteReadError("redirect", url, offset, f"HTTP {status} to {headers.get('Location')!r}")
    if status == 206:
        m = _CONTENT_RANGE.fullmatch(headers.get("Content-Range", "").strip())
        if not m or int(m.group(1)) != offset:
            bad = headers.get("Content-Range")
            raise RemoteReadError("http_206", url, offset, f"Content-Range {bad!r} for a resume at {offset}")
        total = None if m.group(3) == "*" else int(m.group(3))
        return _Opened(body, total, etag)
    if status != 200:
        raise RemoteReadError(f"http_{status}", url, offset)
    length = headers.get("Content-Length")
    total = int(length) if length is not None and "Content-Encoding" not in headers else None
    skip = offset  # a server that ignores Range sends everything again: drop what was delivered already
    while skip:
        got = body.read(min(skip, READ_CHUNK))
        if not got:
            break
        skip -= len(got)
    return _Opened(body, total, etag)


def _fsspec_opener(url: str) -> _Opener:
    """s3:// (via s3fs, imported by fsspec on demand), file:// and local paths: resume = reopen + seek."""
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except ImportError as exc:
        raise ImportError(f"{url}: {exc} (for s3://, install the extra: pip install 'peakdata[s3]')") from exc

    def open_at(offset: int) -> _Opened:
        info = fs.info(path)
        f = fs.open(path, "rb", block_size=READ_CHUNK)
        f.seek(offset)
        return _Opened(f, info.get("size"), info.get("ETag") or info.get("etag"))

    return open_at


class _ResumableStream(io.RawIOBase):
    """Forward-only byte stream that reconnects and resumes at the byte offset received so far."""

    def __init__(self, url: str, opener: _Opener, retries: int, backoff: float) -> None:
        super().__init__()
        self._url = url
        self._opener = opener
        self._retries = retries
        self._backoff = backoff
        self._received = 0  # bytes taken from the transport (the resume offset)
        self._buf = b""  # received; self._buf[self._buf_pos:] is not yet handed to the caller
        self._buf_pos = 0
        self._stream: _Readable | None = None
        self._total: int | None = None  # object size as the current response announces it
        self._announced: int | None = None  # ... and as the first response did: what is checked at the end
        self._etag: str | None = None
        self._pending: RemoteReadError | None = None  # raised on the call after the bytes before it
        self._eof = False
        self._fetch(0)  # connect now: a missing file fails at open, not at the first read

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._received - (len(self._buf) - self._buf_pos)

    def readinto(self, b) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        if size is None or size < 0:
            return self.readall()
        if self._pending is not None:
            err, self._pending = self._pending, None
            raise err
        if self._buf_pos == len(self._buf) and size:
            self._buf, self._buf_pos = self._fetch(max(size, READ_CHUNK)), 0
        out = self._buf[self._buf_pos : self._buf_pos + size]
        self._buf_pos += len(out)
        return out

    def readall(self) -> bytes:
        parts: list[bytes] = []
        try:
            while chunk := self.read(READ_CHUNK):
                parts.append(chunk)
        except RemoteReadError as err:
            if not parts:
                raise
            self._pending = err
        return b"".join(parts)

    def close(self) -> None:
        self._drop_stream()
        super().close()

    def _fetch(self, n: int) -> bytes:
        """Up to n new bytes (b"" at the end; n=0 only connects), retrying with backoff; no byte twice."""
        failures = 0
        while not self._eof:
            try:
                data = self._attempt(n)
            except RemoteReadError as err:
                if not err.retryable or failures >= self._retries:
                    raise self._final(err) from err
                time.sleep(min(MAX_DELAY, max(self._backoff * 2**failures, err.retry_after or 0.0)))
                failures += 1
                continue
            if data or self._eof or not n:
                return data
        return b""

    def _attempt(self, n: int) -> bytes:
        offset = self.tell()
        try:
            if self._stream is None:
                self._connect()
            if not n:
                return b""
            data = self._stream.read(n)  # type: ignore[union-attr]
        except RemoteReadError:
            self._drop_stream()
            raise
        except Exception as exc:
            self._drop_stream()
            if not _is_transport_error(exc):
                raise
            raise _classify(exc, self._url, offset) from exc
        if data:
            self._received += len(data)
            return data
        self._drop_stream()
        if self._total is not None and self._received < self._total:
            raise _transient("short_body", self._url, offset, f"body ended at {self._received} of {self._total}")
        self._eof = True
        if self._announced is not None and self._announced != self._received:
            raise SizeMismatch(self._url, self._announced, self._received)
        return b""

    def _connect(self) -> None:
        opened = self._opener(self._received)
        self._stream = opened.stream
        if self._etag is not None and opened.etag is not None and opened.etag != self._etag:
            detail = f"ETag {self._etag} became {opened.etag}"
            raise RemoteReadError("changed", self._url, self.tell(), detail)
        self._etag = self._etag or opened.etag
        if opened.total is not None:
            # Same object (ETag) but another size: the first announcement was wrong. Read on to the real
            # end, so every byte is delivered, and raise SizeMismatch there.
            self._total = opened.total
            self._announced = self._announced if self._announced is not None else opened.total
            if opened.total < self._received:
                raise SizeMismatch(self._url, self._announced, self._received, f"size now {opened.total}")

    def _final(self, err: RemoteReadError) -> RemoteReadError:
        """The error the caller sees once retries are spent (a body that keeps ending short: size error)."""
        self._drop_stream()
        if err.reason == "short_body" or (err.reason == "http_416" and self._announced is not None):
            return SizeMismatch(self._url, self._announced or 0, self._received)
        err.offset = self.tell()
        return err

    def _drop_stream(self) -> None:
        if self._stream is not None:
            with contextlib.suppress(Exception):  # a broken connection may fail to close; it is gone anyway
                self._stream.close()
            self._stream = None


def open_resumable(url: str, *, retries: int = 5, backoff: float = 0.5, timeout: float = 60) -> BinaryIO:
    """Open `url` for streaming reads that survive 429/5xx, resets and timeouts by resuming where they broke.

    `retries` bounds consecutive failed attempts (an attempt that delivers new bytes resets the count, so a
    long transfer may break several times); waits grow as ``backoff * 2**k`` (or the server's Retry-After),
    at most 60 s. `timeout` bounds connecting and each wait for data over HTTP(S). Errors are
    `RemoteReadError`s (see its reasons); a body shorter than announced raises `SizeMismatch` after the
    bytes it delivered. The stream is not seekable; ``tell()`` gives the bytes delivered so far.
    """
    if retries < 0 or backoff < 0 or timeout <= 0:
        raise ValueError("retries and backoff must be >= 0 and timeout > 0")
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    opener = _http_opener(url, timeout) if scheme in ("http", "https") else _fsspec_opener(url)
    return cast(BinaryIO, _ResumableStream(url, opener, retries, backoff))
