"""Throughput of `filters.signals.compute_signals` against datatrove's four filters, per core, on real text.

Why: the vectorised signals exist to be much faster than running datatrove's filters document by document;
this measures by how much, on the same documents, in one process with polars held to one thread.

Run: `.venv/bin/python benchmarks/signals.py [--docs 400] [--seed 0]` (needs ../shared/data or
$PEAKDATA_SHARED_DATA). Prints a markdown table.
"""

from __future__ import annotations

import os

os.environ["POLARS_MAX_THREADS"] = "1"  # "per core": set before polars is imported

import argparse
import platform
import random
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import polars as pl
from datatrove.data import Document
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)
from fastwarc.warc import ArchiveIterator, WarcRecordType
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import bytes_to_str, detect_encoding

from filters.signals import compute_signals

WARCS = (
    "warc_derived/trafilatura-eval-1033pages.warc.gz",
    "cc_warc/resiliparse-CC-MAIN-2020-34-head.warc.gz",
    "cc_warc/whirlwind.warc.gz",
)


def shared_data() -> Path:
    return Path(os.environ.get("PEAKDATA_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def warc_texts(path: Path) -> Iterator[str]:
    """Main-content text of every HTML response in a WARC, as resiliparse extracts it."""
    with open(path, "rb") as f:
        for record in ArchiveIterator(f, record_types=WarcRecordType.response):
            body = record.reader.read()
            yield extract_plain_text(bytes_to_str(body, detect_encoding(body)), main_content=True)


def timed(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=400, help="documents sampled for both sides")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    texts = [t for warc in WARCS for t in warc_texts(shared_data() / warc)]
    sample = random.Random(args.seed).sample(texts, min(args.docs, len(texts)))
    mb = sum(len(t.encode()) for t in sample) / 1e6

    compute_signals(pl.Series(sample[:20]))  # warm-up: regex compilation, reference model tables
    ours = min(timed(lambda: compute_signals(pl.Series(sample))) for _ in range(3))
    filters = {
        "GopherQualityFilter": GopherQualityFilter(),
        "GopherRepetitionFilter": GopherRepetitionFilter(),
        "C4QualityFilter": C4QualityFilter(),
        "FineWebQualityFilter": FineWebQualityFilter(),
    }
    for f in filters.values():  # warm-up: spaCy pipeline
        f.filter(Document(text=sample[0], id="warm-up"))
    theirs = {
        name: timed(lambda f=f: [f.filter(Document(text=t, id=str(i))) for i, t in enumerate(sample)])
        for name, f in filters.items()
    }
    n = len(sample)
    total = sum(theirs.values())
    print(
        f"{n} documents ({mb:.1f} MB of text), CPU seconds of one process, polars on 1 thread; "
        f"{date.today()}, {platform.machine()} {os.cpu_count()} cores\n"
    )
    print("| pipeline | CPU s | docs/s per core | compute_signals speed-up |")
    print("|---|---:|---:|---:|")
    for name, seconds in theirs.items():
        print(f"| datatrove {name} | {seconds:.2f} | {n / seconds:.0f} | {seconds / ours:.0f}x |")
    print(f"| datatrove, all four filters | {total:.2f} | {n / total:.0f} | {total / ours:.0f}x |")
    print(f"| filters.signals.compute_signals (all four rule sets + compression) | {ours:.2f} | {n / ours:.0f} | 1x |")


if __name__ == "__main__":
    main()
