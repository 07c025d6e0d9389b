"""Physical limits of this machine for the pipeline's byte-moving stages, per core.

Why: a stage's MB/s means little alone; next to the fastest the machine can decompress gzip or write zstd
Parquet it says how much headroom is left. Measured here, on the same bytes the pipeline reads and writes:

- memcpy: copying the decompressed WARC bytes (the ceiling of anything that touches every byte once);
- gzip (zlib): inflating the member-per-record gzip WARC with Python's zlib, member by member;
- gzip (fastwarc): fastwarc's native `GzipReader` over the same file, and its `ArchiveIterator` reading every
  record's block (gzip + WARC framing, no HTTP parsing) — the floor of peakdata's reading stage;
- Parquet write (zstd): pyarrow writing the documents table with the run directory's codec;
- Parquet read: reading it back.

All rates are CPU-time based (`time.process_time`, best of `--repeat`), so other load on the machine inflates
them less than wall time; wall time is reported beside them.

    .venv/bin/python -m benchmarks.limits [--warc PATH] [--documents SHARD.parquet] [--json OUT]
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tools.shared_data import shared_data_dir

REPO = Path(__file__).resolve().parents[1]
SHARED = shared_data_dir()
REAL_WARC = SHARED / "warc_derived" / "trafilatura-eval-1033pages.warc.gz"
PARQUET_COMPRESSION = "zstd"  # the run directory's codec (flows.rundir.PARQUET_COMPRESSION)


def best_of(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of the fastest of `repeat` calls, the least disturbed by other load."""
    cpu, wall = float("inf"), float("inf")
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu = min(cpu, time.process_time() - c0)
        wall = min(wall, time.perf_counter() - w0)
    return cpu, wall


def inflate_members(data: bytes, chunk: int = 1 << 16) -> int:
    """Inflate a multi-member gzip byte string with zlib, member by member; return the decompressed size.

    Input goes in `chunk`-sized views so that `unused_data` (a copy) stays small: slicing the rest of the
    file after every member would make this quadratic in the number of members.
    """
    view, pos, size = memoryview(data), 0, 0
    while pos < len(data):
        decomp = zlib.decompressobj(wbits=31)
        while not decomp.eof and pos < len(data):
            piece = view[pos : pos + chunk]
            size += len(decomp.decompress(piece))
            pos += len(piece) - (len(decomp.unused_data) if decomp.eof else 0)
    return size


def fastwarc_gzip(path: Path) -> int:
    """Decompressed size through fastwarc's native gzip reader."""
    from fastwarc.stream_io import GzipReader

    reader = GzipReader(str(path), fsspec_args=False)
    size = 0
    while chunk := reader.read(1 << 20):
        size += len(chunk)
    reader.close()
    return size


def fastwarc_records(path: Path) -> int:
    """Bytes of every record block read through fastwarc's ArchiveIterator (gzip + WARC framing)."""
    from fastwarc.warc import ArchiveIterator

    size = 0
    with open(path, "rb") as stream:
        for record in ArchiveIterator(stream, parse_http=False):
            size += len(record.reader.read())
    return size


def documents_table(warc: Path) -> pa.Table:
    """The documents table of `warc` as crawl-sample builds it (used when no shard is given)."""
    from filters.documents import AdmissionConfig, Outcome, build_documents
    from flows.sources.records import SourceInfo, iter_records

    with open(warc, "rb") as stream:
        records = list(iter_records(stream, str(warc), "warc", SourceInfo()))
    return build_documents(records, str(warc), None, AdmissionConfig(), Outcome())


def measure_limits(warc: Path, documents: pa.Table, repeat: int = 3) -> list[dict]:
    """Rows {limit, mb (input basis), basis, cpu_s, wall_s, mb_per_cpu_s, mb_per_wall_s}."""
    compressed = warc.read_bytes()
    raw_size = inflate_members(compressed)
    raw = bytearray(raw_size)
    rows: list[dict] = []

    def add(name: str, mb: float, basis: str, fn: Callable[[], object]) -> None:
        cpu, wall = best_of(fn, repeat)
        rows.append({"limit": name, "mb": mb, "basis": basis, "cpu_s": cpu, "wall_s": wall,
                     "mb_per_cpu_s": mb / max(cpu, 1e-9), "mb_per_wall_s": mb / max(wall, 1e-9)})

    gz_mb, raw_mb = len(compressed) / 1e6, raw_size / 1e6
    add("memcpy of the decompressed WARC", raw_mb, "decompressed", lambda: bytes(raw))
    add("gzip inflate, zlib (member by member)", gz_mb, "compressed", lambda: inflate_members(compressed))
    add("gzip inflate, fastwarc GzipReader", gz_mb, "compressed", lambda: fastwarc_gzip(warc))
    add("fastwarc ArchiveIterator (gzip + WARC records)", gz_mb, "compressed", lambda: fastwarc_records(warc))
    arrow_mb = documents.nbytes / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "documents.parquet"

        def write() -> None:
            pq.write_table(documents, target, compression=PARQUET_COMPRESSION)

        add(f"Parquet write ({PARQUET_COMPRESSION}), documents table", arrow_mb, "Arrow in memory", write)
        write()
        add("Parquet read, documents table", arrow_mb, "Arrow in memory", lambda: pq.read_table(target))
        buffer = io.BytesIO()
        pq.write_table(documents.select(["text"]), buffer, compression=PARQUET_COMPRESSION)
        text_mb = documents.column("text").nbytes / 1e6
        add(f"Parquet write ({PARQUET_COMPRESSION}), text column only", text_mb, "Arrow in memory",
            lambda: pq.write_table(documents.select(["text"]), io.BytesIO(), compression=PARQUET_COMPRESSION))
    for row in rows:
        row["ratio"] = raw_size / len(compressed) if row["basis"] == "compressed" else None
    return rows


def markdown(rows: list[dict]) -> str:
    """The limits as a Markdown table."""
    lines = ["| limit | MB (basis) | CPU s | wall s | MB/s per core (CPU) | MB/s (wall) |",
             "|---|---|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['limit']} | {r['mb']:.1f} ({r['basis']}) | {r['cpu_s']:.3f} | {r['wall_s']:.3f} | "
                     f"{r['mb_per_cpu_s']:,.0f} | {r['mb_per_wall_s']:,.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warc", type=Path, default=REAL_WARC)
    parser.add_argument("--documents", type=Path, default=None, help="a documents shard (default: build one)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    table = pq.read_table(args.documents) if args.documents else documents_table(args.warc)
    rows = measure_limits(args.warc, table, args.repeat)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    print(markdown(rows))


if __name__ == "__main__":
    main()
