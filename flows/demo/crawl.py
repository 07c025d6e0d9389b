"""The synthetic demo crawl: deterministic gzipped WARC files with the kinds of pages a real crawl holds.

`quality-audit` runs on it when no `--input` is given, and load tests generate millions of records
with it, so it is (1) owned content: every sentence is composed from the project's own vocabularies
and templates, data files in `flows/demo/data/` (`flows.demo.content` loads them); (2) deterministic:
every choice is a pure function of (seed, capture index), so output is byte-identical for a seed and
any file can be written alone or in parallel; (3) streaming: records are generated and written one at
a time; (4) labelled: `demo_ground_truth` (`flows.demo.plan`) says what the crawl holds, by kind,
status, language and defect, without writing anything. This module writes the records; `plan` decides
what each capture is and `pages` renders it.

One *capture* is a `request` record plus a `response` record (occasionally followed by a `metadata`
record, or by a `request` + `revisit` pair for a re-visited page); `n_records` counts responses.

Speed comes from splicing precompressed deflate fragments (pool sentences, site chrome) into each
record's gzip member, so only the per-record parts are compressed at write time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import struct
import time
import zlib
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import BinaryIO

from flows.demo.pages import Part, _Frag, _pack, _Page, _Renderer, _site_for, _stored
from flows.demo.plan import (
    _S_VARIANT,
    _SITES,
    GENERATOR,
    Capture,
    _capture_ts,
    _file_entry,
    _h,
    _http_date,
    _iso,
    _Planner,
    _record_id,
    _Tally,
    _truth_dict,
    file_name,
    truth_name,
)

GZIP_LEVEL = 1  # per-record parts: fastest deflate (fragments are precompressed at level 6)
_STORE_BELOW = 2048  # per-record parts shorter than this are stored, not compressed


# --- WARC records and gzip members --------------------------------------------------------------------

_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no name, mtime 0, OS unknown: reproducible
_FINAL_EMPTY_BLOCK = b"\x03\x00"  # a final fixed-Huffman block holding only end-of-block
_B32_PAIRS = tuple(a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def _digest(data: bytes) -> str:
    """`sha1:` + base32, as Common Crawl writes WARC-Payload-Digest (base64.b32encode is slow Python)."""
    n = int.from_bytes(hashlib.sha1(data).digest(), "big")
    return "sha1:" + "".join([_B32_PAIRS[(n >> s) & 1023] for s in range(150, -1, -10)])


class _MemberWriter:
    """Writes one gzip member per record, as Common Crawl does.

    A member is a gzip header, the record's raw deflate data, a final empty block and the CRC/size
    trailer. Its deflate data is spliced from precompressed fragments and parts compressed now, each
    ending in a full flush (byte-aligned, no back-references across parts), so any sequence of them is
    valid deflate; one compressor serves the whole file because creating one costs ~80 us.
    """

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.offset = 0
        self.comp = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -15)

    def write(self, record: bytes) -> None:
        """Write a record that is all bytes as one member."""
        self._emit((_GZIP_HEADER, self._deflate(record), _FINAL_EMPTY_BLOCK,
                    struct.pack("<II", zlib.crc32(record), len(record) & 0xFFFFFFFF)))

    def write_parts(self, head: bytes, parts: tuple[Part, ...], body: bytes, cut: float | None = None) -> int:
        """Write head + body (+ record end) as one member, `body` given in parts; returns the member's offset.

        `body` is the parts joined (pages keep both: the digest needs it). With `cut`, only that fraction of
        the member's bytes is written, as if the file had been cut short.
        """
        crc = zlib.crc32(_RECORD_END, zlib.crc32(body, zlib.crc32(head)))
        size = len(head) + len(body) + len(_RECORD_END)
        first, last = head, _RECORD_END
        if parts and type(parts[0]) is bytes:
            first, parts = head + parts[0], parts[1:]
        if parts and type(parts[-1]) is bytes:
            last, parts = parts[-1] + _RECORD_END, parts[:-1]
        deflate = self._deflate
        out = [_GZIP_HEADER, deflate(first)]
        out.extend([p.z if type(p) is _Frag else deflate(p) for p in parts])
        out += (deflate(last), _FINAL_EMPTY_BLOCK, struct.pack("<II", crc, size & 0xFFFFFFFF))
        return self._emit(out, cut)

    def _emit(self, pieces: Iterable[bytes], cut: float | None = None) -> int:
        member = b"".join(pieces)
        if cut is not None:
            member = member[: max(20, int(len(member) * cut))]
        at = self.offset
        self.fh.write(member)
        self.offset += len(member)
        return at

    def _deflate(self, data: bytes) -> bytes:
        """Deflate data ending byte-aligned; short data goes into stored blocks (compressing costs more time
        than the bytes it saves are worth: this is what keeps the generator fast)."""
        if len(data) >= _STORE_BELOW:
            return self.comp.compress(data) + self.comp.flush(zlib.Z_FULL_FLUSH)
        return _stored(data)


def _warc_head(fields: str, length: int) -> bytes:
    return f"WARC/1.0\r\n{fields}Content-Length: {length}\r\n\r\n".encode()


_RECORD_END = b"\r\n\r\n"


def _request_block(url: str, lang: str | None) -> bytes:
    rest = url.split("://", 1)[1]
    host, _, path = rest.partition("/")
    accept_lang = _pack(lang).accept_language if lang in _SITES else "en-US,en;q=0.9"
    return (f"GET /{path} HTTP/1.1\r\nHost: {host}\r\n"
            f"User-Agent: peakdata-demo-bot/1.0 (synthetic demo crawl)\r\n"
            f"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
            f"Accept-Language: {accept_lang}\r\nAccept-Encoding: br,gzip\r\nConnection: Keep-Alive\r\n\r\n"
            ).encode()


def _http_head(page: _Page, ts: int, server: str) -> bytes:
    ctype = f"Content-Type: {page.content_type}\r\n" if page.content_type else ""
    return (f"HTTP/1.1 {page.status} {page.reason}\r\nDate: {_http_date(ts)}\r\nServer: {server}\r\n"
            f"{ctype}Content-Length: {page.declared_length}\r\n{page.extra_headers}"
            f"Cache-Control: max-age=300\r\nConnection: close\r\n\r\n").encode()


class _FileWriter:
    """Writes the captures of one file; everything it needs is derived from (seed, g)."""

    def __init__(self, planner: _Planner, f: int, path: Path) -> None:
        self.planner, self.f, self.path = planner, f, path
        self.renderer = _Renderer(planner)
        self.seed = planner.seed
        self.warcinfo_id = _record_id(self.seed, f, 9)

    def run(self) -> tuple[_Tally, dict]:
        planner, f = self.planner, self.f
        tally = _Tally()
        truncated_at = None
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb", buffering=1 << 20) as fh:
            out = _MemberWriter(fh)
            out.write(self._warcinfo())
            tally.warcinfo()
            for cap in planner.iter_file(f):
                tally.add(cap)
                at = self._capture(out, cap)
                if at is not None:
                    truncated_at = at
            size = out.offset
        os.replace(tmp, self.path)
        entry = _file_entry(planner, f, tally) | {"bytes": size, "truncated_member_offset": truncated_at}
        return tally, entry

    def _warcinfo(self) -> bytes:
        seed, f = self.seed, self.f
        block = (f"software: {GENERATOR} (peakdata flows.demo)\r\n"
                 f"isPartOf: DEMO-CRAWL-{seed}\r\n"
                 f"description: SYNTHETIC demo crawl generated from the project's own vocabularies; "
                 f"not real web data\r\n"
                 f"operator: peakdata\r\nformat: WARC File Format 1.0\r\n"
                 f"conformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.0/\r\n"
                 f"seed: {seed}\r\n").encode()
        fields = (f"WARC-Type: warcinfo\r\nWARC-Date: {_iso(_capture_ts(seed, self.planner.starts[f]))}\r\n"
                  f"WARC-Filename: {file_name(seed, f)}\r\nWARC-Record-ID: {self.warcinfo_id}\r\n"
                  f"Content-Type: application/warc-fields\r\n")
        return _warc_head(fields, len(block)) + block + _RECORD_END

    def _capture(self, out: _MemberWriter, cap: Capture) -> int | None:
        """Write the records of one capture; returns the offset of a truncated member, if this wrote one."""
        seed, g = self.seed, cap.g
        page = self.renderer.page(cap)
        ts = _capture_ts(seed, g)
        date = _iso(ts)
        site = _site_for(seed, g, cap.lang if cap.lang in _SITES else "en")
        request_id = _record_id(seed, g, 0)
        out.write(self._request(page.url, cap.lang, date, request_id, site.ip))
        http = _http_head(page, ts, site.server)
        length = len(http) + len(page.body)
        fields = (f"WARC-Type: response\r\nWARC-Date: {date}\r\nWARC-Record-ID: {cap.record_id}\r\n"
                  f"Content-Type: application/http; msgtype=response\r\nWARC-Warcinfo-ID: {self.warcinfo_id}\r\n"
                  f"WARC-Concurrent-To: {request_id}\r\nWARC-IP-Address: {site.ip}\r\n"
                  f"WARC-Target-URI: {page.url}\r\nWARC-Payload-Digest: {_digest(page.body)}\r\n"
                  f"WARC-Identified-Payload-Type: {(page.content_type or 'text/html').split(';')[0]}\r\n")
        cut = None
        if cap.kind == "warc_length_short":  # declared length ends in the middle of the body
            length = len(http) + len(page.body) // 2
        elif cap.kind == "warc_length_long":  # declared length runs past the end of the file
            length += 4096
        elif cap.kind == "truncated_gzip":  # the file ends in the middle of this member
            cut = 0.6
        at = out.write_parts(_warc_head(fields, length) + http, page.parts, page.body, cut)
        if cap.metadata:
            out.write(self._metadata(cap, page, date))
        if cap.revisit_of >= 0:
            self._revisit(out, cap, ts + 1)
        return at if cut is not None else None

    def _request(self, url: str, lang: str | None, date: str, record_id: str, ip: str) -> bytes:
        block = _request_block(url, lang)
        fields = (f"WARC-Type: request\r\nWARC-Date: {date}\r\nWARC-Record-ID: {record_id}\r\n"
                  f"Content-Type: application/http; msgtype=request\r\nWARC-Warcinfo-ID: {self.warcinfo_id}\r\n"
                  f"WARC-IP-Address: {ip}\r\nWARC-Target-URI: {url}\r\n")
        return _warc_head(fields, len(block)) + block + _RECORD_END

    def _metadata(self, cap: Capture, page: _Page, date: str) -> bytes:
        h = _h(self.seed, cap.g, _S_VARIANT)
        charset = page.content_type.rsplit("=", 1)[-1].upper() if page.content_type else "UTF-8"
        block = (f"fetchTimeMs: {40 + h % 900}\r\ncharset-detected: {charset}\r\n"
                 f'languages-demo: {{"languages":[{{"code":"{cap.lang}","text-covered":0.9}}]}}\r\n').encode()
        fields = (f"WARC-Type: metadata\r\nWARC-Date: {date}\r\nWARC-Record-ID: {_record_id(self.seed, cap.g, 2)}\r\n"
                  f"Content-Type: application/warc-fields\r\nWARC-Warcinfo-ID: {self.warcinfo_id}\r\n"
                  f"WARC-Concurrent-To: {cap.record_id}\r\nWARC-Target-URI: {page.url}\r\n")
        return _warc_head(fields, len(block)) + block + _RECORD_END

    def _revisit(self, out: _MemberWriter, cap: Capture, ts: int) -> None:
        """A later visit of an earlier page whose payload had not changed (identical-payload-digest)."""
        seed, src = self.seed, cap.revisit_of
        page = self.renderer.original(src)
        lang = self.planner.lang_of(src, self.planner.base_kind(src))
        site = _site_for(seed, src, lang if lang in _SITES else "en")
        date = _iso(ts)
        request_id = _record_id(seed, cap.g, 3)
        out.write(self._request(page.url, lang, date, request_id, site.ip))
        http = _http_head(page, ts, site.server)
        fields = (f"WARC-Type: revisit\r\nWARC-Date: {date}\r\nWARC-Record-ID: {_record_id(seed, cap.g, 4)}\r\n"
                  f"Content-Type: application/http; msgtype=response\r\nWARC-Warcinfo-ID: {self.warcinfo_id}\r\n"
                  f"WARC-Concurrent-To: {request_id}\r\nWARC-IP-Address: {site.ip}\r\n"
                  f"WARC-Target-URI: {page.url}\r\n"
                  f"WARC-Profile: http://netpreserve.org/warc/1.0/revisit/identical-payload-digest\r\n"
                  f"WARC-Refers-To: {_record_id(seed, src, 1)}\r\nWARC-Refers-To-Target-URI: {page.url}\r\n"
                  f"WARC-Refers-To-Date: {_iso(_capture_ts(seed, src))}\r\n"
                  f"WARC-Payload-Digest: {_digest(page.body)}\r\n")
        out.write(_warc_head(fields, len(http)) + http + _RECORD_END)


# --- entry points -------------------------------------------------------------------------------------


def _write_one(args: tuple[int, int, int, bool, int, str]) -> tuple[_Tally, dict]:
    seed, n_records, n_files, include_broken, f, out_dir = args
    planner = _Planner(seed, n_records, n_files, include_broken)
    return _FileWriter(planner, f, Path(out_dir) / file_name(seed, f)).run()


def write_demo_crawl(out_dir: Path, n_records: int = 2000, n_files: int = 4, seed: int = 0, *,
                     include_broken: bool = True, workers: int = 1) -> list[Path]:
    """Write the demo crawl as `n_files` gzipped WARC files (plus `DEMO-CRAWL-<seed>.truth`, JSON).

    n_records: response records in all (each with its request record); include_broken: add the
    deliberately broken records (see docs/demo.md); workers: processes writing files in parallel
    (output does not depend on it). Returns the WARC paths in file order.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _Planner(seed, n_records, n_files, include_broken)  # validate arguments before any work
    jobs = [(seed, n_records, n_files, include_broken, f, str(out_dir)) for f in range(n_files)]
    if workers > 1 and n_files > 1:
        with ProcessPoolExecutor(max_workers=min(workers, n_files)) as pool:
            results = list(pool.map(_write_one, jobs))
    else:
        results = [_write_one(job) for job in jobs]
    total = _Tally()
    for tally, _ in results:
        total.merge(tally)
    truth = _truth_dict(seed, n_records, n_files, include_broken, total, [entry for _, entry in results])
    tmp = out_dir / (truth_name(seed) + ".tmp")
    tmp.write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, out_dir / truth_name(seed))
    return [out_dir / file_name(seed, f) for f in range(n_files)]


def main(argv: list[str] | None = None) -> int:
    """`python -m flows.demo OUT_DIR --records N --files F --seed S` (load-test generation)."""
    parser = argparse.ArgumentParser(prog="python -m flows.demo", description=main.__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--records", type=int, default=2000, help="response records in all (default 2000)")
    parser.add_argument("--files", type=int, default=4, help="WARC files (default 4)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1, help="processes writing files in parallel")
    parser.add_argument("--no-broken", action="store_true", help="leave out the deliberately broken records")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    paths = write_demo_crawl(args.out_dir, args.records, args.files, args.seed,
                             include_broken=not args.no_broken, workers=args.workers)
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in paths)
    print(json.dumps({"files": [str(p) for p in paths], "truth": str(args.out_dir / truth_name(args.seed)),
                      "records": args.records, "bytes": size, "seconds": round(seconds, 3),
                      "records_per_s": round(args.records / seconds) if seconds else None}, indent=1))
    return 0


