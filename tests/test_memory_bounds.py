"""Memory stays bounded by configuration, not by input size: a 100 MB single record is dropped as
`oversized_payload` without being held, and reading ten times more records costs no more memory.

Peak RSS is measured in a fresh subprocess (ru_maxrss), so imports and other tests do not blur it.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from flows.demo import write_demo_crawl

BIG = 100 << 20  # bytes of the one huge record
PROBE = r"""
import json, resource, sys
from pathlib import Path
from flows.sources.shards import ReadOptions, read_into_shard

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

out = Path(sys.argv[1])
results = []
for i, source in enumerate(sys.argv[2:]):
    acc = read_into_shard(source, out / f"part-{i}.parquet", ReadOptions(), "d")
    results.append({"source": Path(source).name, "peak_mb": peak_mb(), "documents": acc["documents"],
                    "dropped": acc["dropped"], "errors": acc["errors"], "records_read": acc["records_read"]})
print(json.dumps(results))
"""


def probe(out: Path, sources: list[Path]) -> list[dict]:
    """Read the sources one after another in one fresh process; peak RSS after each."""
    out.mkdir(exist_ok=True)
    proc = subprocess.run([sys.executable, "-c", PROBE, str(out), *map(str, sources)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _warc(block_head: bytes, size: int, rtype: str = "response") -> tuple[bytes, bytes]:
    """The WARC header and HTTP head of a record whose block is `size` bytes after `block_head`."""
    length = len(block_head) + size
    head = (f"WARC/1.0\r\nWARC-Type: {rtype}\r\nWARC-Record-ID: <urn:uuid:big-{rtype}>\r\n"
            f"WARC-Target-URI: https://big.example/\r\nContent-Length: {length}\r\n\r\n").encode()
    return head, block_head


def small_record() -> bytes:
    block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body><p>A small page of text.</p></body></html>"
    return b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: %d\r\n\r\n%s\r\n\r\n" % (len(block), block)


def write_big(path: Path, rtype: str, gz: bool) -> None:
    """A file with one 100 MB record between two small ones, written in chunks (never held whole)."""
    small = small_record()
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" if rtype == "response" else b""
    head, block_head = _warc(http, BIG, rtype)
    line = b"<p>" + b"a long page of words " * 50 + b"</p>\n"
    with path.open("wb") as f:
        compress = zlib.compressobj(1, zlib.DEFLATED, 31) if gz else None
        write = (lambda b: f.write(compress.compress(b))) if compress else f.write  # type: ignore[union-attr]
        if gz:
            f.write(gzip.compress(small))
        else:
            write(small)
        write(head + block_head)
        for _ in range(BIG // len(line)):
            write(line)
        write(line[: BIG % len(line)] + b"\r\n\r\n")
        if compress:
            f.write(compress.flush())
            f.write(gzip.compress(small))
        else:
            write(small)


def write_big_jsonl(path: Path) -> None:
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(json.dumps({"id": "a", "text": "small"}).encode() + b"\n")
        f.write(b'{"id": "big", "text": "')
        chunk = b"a long line of words " * 5000
        for _ in range(BIG // len(chunk)):
            f.write(chunk)
        f.write(b'"}\n')
        f.write(json.dumps({"id": "b", "text": "small too"}).encode() + b"\n")


def test_a_100_mb_record_streams_and_is_dropped(tmp_path: Path) -> None:
    small = tmp_path / "small.warc.gz"
    small.write_bytes(gzip.compress(small_record()))
    files = [small]
    for name, rtype, gz in (("big.warc", "response", False), ("big.warc.gz", "response", True),
                            ("big.warc.wet.gz", "conversion", True)):
        write_big(tmp_path / name, rtype, gz)
        files.append(tmp_path / name)
    write_big_jsonl(tmp_path / "big.jsonl.gz")
    files.append(tmp_path / "big.jsonl.gz")
    results = probe(tmp_path / "out", files)
    baseline = results[0]["peak_mb"]
    for r in results[1:]:
        assert r["records_read"] == 3 and r["documents"] == 2 and r["dropped"] == {"oversized_payload": 1}, r
        assert r["errors"] == {}, r
    growth = max(r["peak_mb"] for r in results) - baseline
    print(f"peak RSS {baseline:.0f} MB after a small file, +{growth:.0f} MB after four 100 MB records")
    assert growth < 80, results  # the 8 MiB payload limit and 1 MiB chunks, not 100 MB (let alone copies)


@pytest.fixture(scope="module")
def crawls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("memory")
    small = write_demo_crawl(root / "small", 2_000, 1, 5)[0]
    large = write_demo_crawl(root / "large", 20_000, 1, 5)[0]
    return small, large


def test_memory_does_not_grow_with_input_size(crawls: tuple[Path, Path], tmp_path: Path) -> None:
    """Reader + admission + extraction + language ID + Parquet writing of one 20,000-record file peaks
    within a small additive margin of a 2,000-record one (each in its own fresh process)."""
    small, large = crawls
    (s,) = probe(tmp_path / "s", [small])
    (big,) = probe(tmp_path / "l", [large])
    assert s["records_read"] == 2_000 and big["records_read"] == 20_000
    print(f"peak RSS {s['peak_mb']:.0f} MB for 2,000 records, {big['peak_mb']:.0f} MB for 20,000")
    assert big["peak_mb"] - s["peak_mb"] < 40, (s, big)
