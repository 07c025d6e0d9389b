"""Throughput of `filters.signals.compute_signals` against datatrove's four filters, per core, on real text.

Why: the vectorised signals exist to be much faster than running datatrove's filters document by document;
this measures by how much, on the same documents, in one process, with polars held to one thread.

Run: `.venv/bin/python -m benchmarks.signals [--docs N] [--seed 0]` (needs ../shared/data or
$PEAKDATA_SHARED_DATA). Prints a markdown table. `real_texts` is shared with tests/test_signals.py.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from collections.abc import Callable
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
from datatrove.utils.text import split_into_words
from fastwarc.warc import ArchiveIterator, WarcRecordType
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import bytes_to_str, detect_encoding

# Worker processes of the datatrove baseline re-run this file by its path (spawn), with benchmarks/ first on
# sys.path: the repository root must be there for `filters` and `tools` to import in them too.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from filters.signals import compute_signals  # noqa: E402
from tools.shared_data import shared_data_dir  # noqa: E402

WARCS = (
    "warc_derived/trafilatura-eval-1033pages.warc.gz",
    "cc_warc/resiliparse-CC-MAIN-2020-34-head.warc.gz",
    "cc_warc/whirlwind.warc.gz",
)


def shared_data() -> Path:
    return shared_data_dir()


def real_texts(shared: Path) -> dict[str, list[str]]:
    """Main-content text of every HTML response of each WARC in WARCS, as resiliparse extracts it."""
    out: dict[str, list[str]] = {}
    for name in WARCS:
        with open(shared / name, "rb") as f:
            bodies = (record.reader.read() for record in ArchiveIterator(f, record_types=WarcRecordType.response))
            out[name] = [extract_plain_text(bytes_to_str(b, detect_encoding(b)), main_content=True) for b in bodies]
    return out


def datatrove_filters() -> dict[str, object]:
    """datatrove's four filters with default parameters, by rule-set name."""
    return {
        "gopher_quality": GopherQualityFilter(),
        "gopher_repetition": GopherRepetitionFilter(),
        "fineweb": FineWebQualityFilter(),
        "c4": C4QualityFilter(),
    }


def datatrove_reference(texts: list[str]) -> list[dict]:
    """Per text: datatrove's (keep, reason) per rule set, its spaCy word list and C4's rewritten text (None when
    dropped). Each text passes the four filters in turn, so the word list is the one the filters used."""
    filters = datatrove_filters()
    out = []
    for i, text in enumerate(texts):
        row: dict = {}
        for name, f in filters.items():
            doc = Document(text=text, id=str(i))
            result = f.filter(doc)
            row[name] = result if isinstance(result, tuple) else (result, None)
            if name == "c4":
                row["c4_text"] = doc.text if result is True else None
        row["words"] = split_into_words(text)  # cached by datatrove from the Gopher filter's call
        out.append(row)
    return out


def timed(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> None:
    if os.environ.get("POLARS_MAX_THREADS") != "1":  # "per core": polars sizes its pool on import
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "POLARS_MAX_THREADS": "1"})
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=0, help="sample this many documents (default: all 1,050)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    texts = [t for group in real_texts(shared_data()).values() for t in group]
    sample = random.Random(args.seed).sample(texts, args.docs) if 0 < args.docs < len(texts) else texts
    n, mb = len(sample), sum(len(t.encode()) for t in sample) / 1e6

    compute_signals(pl.Series(sample[:20]))  # warm-up: regex compilation, reference model tables
    ours = min(timed(lambda: compute_signals(pl.Series(sample))) for _ in range(3))
    filters = datatrove_filters()
    for f in filters.values():  # warm-up: spaCy
        f.filter(Document(text=sample[0], id="warm-up"))
    alone = {
        name: timed(lambda f=f: [f.filter(Document(text=t, id=str(i))) for i, t in enumerate(sample)])
        for name, f in filters.items()
    }
    # as in a datatrove pipeline, each document passes the four filters in turn, so the Gopher and FineWeb
    # filters share spaCy's cached word list (C4 last: it rewrites the text)
    chained = timed(
        lambda: [f.filter(Document(text=t, id=str(i))) for i, t in enumerate(sample) for f in filters.values()]
    )
    print(
        f"{n} documents ({mb:.1f} MB of text), CPU seconds of one process, polars on 1 thread; "
        f"{date.today()}, {platform.machine()}, {os.cpu_count()} cores (shared: indicative)\n"
    )
    print("| pipeline | CPU s | docs/s per core | compute_signals is faster by |")
    print("|---|---:|---:|---:|")
    for name, seconds in alone.items():
        label = f"datatrove {type(filters[name]).__name__} alone"
        print(f"| {label} | {seconds:.2f} | {n / seconds:.0f} | {seconds / ours:.1f}x |")
    print(f"| datatrove, the four chained per document | {chained:.2f} | {n / chained:.0f} | {chained / ours:.1f}x |")
    print(f"| compute_signals (4 rule sets + compression) | {ours:.2f} | {n / ours:.0f} | 1x |")


if __name__ == "__main__":
    main()
