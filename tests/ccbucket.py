"""A Common-Crawl-like bucket served on 127.0.0.1, with faults on demand (test helper, not a test module).

`build_bucket` lays out ``crawl-data/<crawl>/<fmt>.paths.gz`` listings made from the real listings in
``../shared/data/cc_index``: the first few real file names of each listing are kept and the real excerpts
(``cc_warc``, ``cc_wet``, ``cc_wat``, ``warc_noncc``, ``warc_derived``) are linked in under those names, so every
listed file exists. With ``full_listing=True`` the whole real listing is served instead (N = 72,000 to
100,000) and only the placed files exist. Files are symlinks into the shared folder; nothing is copied into
the repository.

`serve_bucket` serves a folder with a real ``ThreadingHTTPServer`` on port 0 that supports ``Range`` requests
and injects the faults of a `Fault` per path (503s, cuts, a wrong Content-Length, stalls, redirects, ETag
changes). Every fault counts down and every handler ends by itself; the server stops when the context exits.

Use::

    bucket = build_bucket(shared_data, tmp_path)
    with serve_bucket(bucket.root) as server:
        server.faults[bucket.placed[("CC-MAIN-2025-33", "warc")][0]] = Fault(cut_after=5000)
        read_listing("CC-MAIN-2025-33", "warc", base_url=server.url)
"""

from __future__ import annotations

import gzip
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LISTINGS: dict[tuple[str, str], Sequence[str]] = {
    ("CC-MAIN-2025-33", "warc"): (
        "cc_warc/whirlwind.warc.gz",
        "cc_warc/resiliparse-CC-MAIN-2020-34-head.warc.gz",
        "warc_noncc/dolma-sample-0000.warc.gz",
        "warc_noncc/dolma-sample-0001.warc.gz",
        "warc_noncc/pywb-iana.warc.gz",
        "warc_derived/trafilatura-eval-1033pages.warc.gz",  # 29 MB, 1,033 pages: last, so it can be left out
    ),
    ("CC-MAIN-2023-50", "wet"): ("cc_wet/whirlwind.warc.wet.gz",),
    ("CC-MAIN-2020-45", "wat"): ("cc_wat/whirlwind.warc.wat.gz",),
}
"""(crawl, format) → the real excerpts placed under that listing's first names, in order."""

HOSTILE_ENTRIES: dict[str, str] = {
    "/etc/passwd": "absolute_path",
    "../../etc/passwd": "dot_segment",
    "crawl-data/{crawl}/../../../etc/passwd": "dot_segment",
    "http://evil.example/crawl-data/{crawl}/segments/1/warc/x.warc.gz": "absolute_url",
    "s3://other-bucket/crawl-data/{crawl}/segments/1/warc/x.warc.gz": "absolute_url",
    "file:///etc/passwd": "absolute_url",
    "crawl-data/CC-MAIN-2019-04/segments/1/warc/x.warc.gz": "outside_crawl",
    "crawl-data\\{crawl}\\segments\\1\\warc\\x.warc.gz": "backslash",
    "crawl-data/{crawl}/segments/1/warc/x\x00.warc.gz": "control_char",
    "crawl-data/{crawl}/segments/%2e%2e/warc/x.warc.gz": "bad_char",
}
"""Listing entries a hostile mirror might serve (``{crawl}`` is filled in) → the reason they are refused."""


@dataclass
class Bucket:
    """A bucket folder: ``root`` is served as the base URL; ``placed`` lists the existing files per listing."""

    root: Path
    placed: dict[tuple[str, str], list[str]]
    sources: dict[str, Path]  # placed entry → the shared-data file behind it


def build_bucket(
    shared_data: Path,
    root: Path,
    *,
    files_per_listing: int | None = None,
    full_listing: bool = False,
    hostile: bool = False,
) -> Bucket:
    """Lay out the bucket under `root` (a tmp dir); `files_per_listing` cycles through a listing's excerpts."""
    placed: dict[tuple[str, str], list[str]] = {}
    sources: dict[str, Path] = {}
    for (crawl, fmt), excerpts in LISTINGS.items():
        real = gzip.decompress((shared_data / "cc_index" / f"{crawl}.{fmt}.paths.gz").read_bytes())
        names = real.decode().split()
        k = len(excerpts) if files_per_listing is None else files_per_listing
        placed[(crawl, fmt)] = names[:k]
        for i, name in enumerate(names[:k]):
            source = (shared_data / excerpts[i % len(excerpts)]).resolve()
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(source)
            sources[name] = source
        listed = names if full_listing else names[:k]
        if hostile:
            listed = listed + [entry.format(crawl=crawl) for entry in HOSTILE_ENTRIES]
        listing = root / "crawl-data" / crawl / f"{fmt}.paths.gz"
        listing.parent.mkdir(parents=True, exist_ok=True)
        listing.write_bytes(gzip.compress(("\n".join(listed) + "\n").encode(), mtime=0))
    return Bucket(root, placed, sources)


@dataclass
class Fault:
    """Misbehaviour for one path; counters run down, so every fault ends and the file is then served."""

    status: int = 503  # answer for the first `fail_first` requests (e.g. 503, 429, 302)
    fail_first: int = 0
    headers: dict[str, str] = field(default_factory=dict)  # extra headers on those answers (Retry-After...)
    cut_after: int | None = None  # body bytes sent before the connection is cut...
    cuts: int = 1  # ...on this many responses
    reset: bool = False  # cut with a TCP reset instead of a clean close
    extra_length: int = 0  # announce this many bytes more than the file has (on every full response)
    stall: float = 0.0  # seconds to wait before answering the first `stalls` requests
    stalls: int = 0
    ignore_range: bool = False  # answer Range requests with the whole file (200)
    change_etag: bool = False  # a different ETag on Range requests (the object "changed")


@dataclass
class BucketServer:
    """The running server: `url` is the base URL; `faults` maps a path (no leading /) to its `Fault`."""

    url: str
    root: Path
    faults: dict[str, Fault] = field(default_factory=dict)
    requests: list[tuple[str, str, str | None, int]] = field(default_factory=list)  # method, path, Range, status
    lock: threading.Lock = field(default_factory=threading.Lock)

    def gets(self, path: str) -> list[tuple[str | None, int]]:
        """(Range header, status) of each GET of `path`, in order."""
        with self.lock:
            return [(rng, status) for method, p, rng, status in self.requests if method == "GET" and p == path]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10  # a client that stops reading does not hold a handler thread forever
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        return

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    def _serve(self, body: bool) -> None:
        state = self.server.state
        path = self.path.split("?", 1)[0].lstrip("/")
        rng = self.headers.get("Range")
        with state.lock:
            fault = state.faults.get(path)
            fail = stall = cut = False
            if fault is not None:
                fail, fault.fail_first = fault.fail_first > 0, max(0, fault.fail_first - 1)
                stall, fault.stalls = fault.stalls > 0, max(0, fault.stalls - 1)
                cut = not fail and fault.cut_after is not None and fault.cuts > 0
                fault.cuts -= int(cut)
        if stall:
            time.sleep(fault.stall)  # type: ignore[union-attr]
        file = self.server.state.root / path
        if fail:
            return self._answer(body, path, rng, fault.status, fault.headers)  # type: ignore[union-attr]
        if ".." in path.split("/") or not file.is_file():
            return self._answer(body, path, rng, 404, {})
        data = file.read_bytes()
        size = len(data)
        etag = f'"{size}-changed"' if fault and fault.change_etag and rng else f'"{size}"'
        start = 0
        if rng and not (fault and fault.ignore_range):
            first, _, last = rng.removeprefix("bytes=").partition("-")
            start = int(first)
            if start >= size:
                return self._answer(body, path, rng, 416, {"Content-Range": f"bytes */{size}"})
            end = min(int(last), size - 1) if last else size - 1
            chunk, status = data[start : end + 1], 206
            headers = {"Content-Range": f"bytes {start}-{end}/{size}", "Content-Length": str(len(chunk))}
        else:
            chunk, status = data, 200
            headers = {"Content-Length": str(size + (fault.extra_length if fault else 0))}
        headers |= {"ETag": etag, "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
        self._log(path, rng, status)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if not body:
            return None
        if cut:
            self.wfile.write(chunk[: fault.cut_after])  # type: ignore[union-attr]
            self.wfile.flush()
            time.sleep(0.1)  # the client reads what was sent before it sees the cut
            return self._cut(fault.reset)  # type: ignore[union-attr]
        try:
            self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        if fault and fault.extra_length:
            self._cut(reset=False)  # the announced length is never reached: the server closes
        return None

    def _answer(self, body: bool, path: str, rng: str | None, status: int, headers: dict[str, str]) -> None:
        self._log(path, rng, status)
        payload = f"{status}\n".encode()
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if body:
            self.wfile.write(payload)

    def _cut(self, reset: bool) -> None:
        if reset:  # SO_LINGER 0: closing sends RST instead of FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        else:
            self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True

    def _log(self, path: str, rng: str | None, status: int) -> None:
        with self.server.state.lock:
            self.server.state.requests.append((self.command, path, rng, status))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: BucketServer

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # clients that gave up are expected here
            super().handle_error(request, client_address)


@contextmanager
def serve_bucket(root: Path) -> Iterator[BucketServer]:
    """Serve `root` on 127.0.0.1 (a free port) until the block exits."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = BucketServer(url=f"http://127.0.0.1:{server.server_address[1]}/", root=root)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
