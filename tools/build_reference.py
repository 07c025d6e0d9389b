"""Build the reference byte n-gram model behind the `ref_bits_per_byte` signal.

Why: cross-entropy against reference-quality text says how "book-like" a document is (the role KenLM
perplexity plays in CCNet). The reference is 13 public-domain Project Gutenberg books (Austen, Blake,
Chesterton, Milton, Shakespeare, Whitman) from NLTK's corpus, with the Project Gutenberg header and licence
cut away. What ships is a derived statistical model -- counts of byte n-grams of 1 to 4 bytes -- not the text.

Run: `python -m tools.build_reference [--tarball PATH]` (default: the NLTK tarball in the shared data folder,
see `tools.shared_data`). Writes `filters/signals/reference_ngram.bin` (a NumPy .npz archive), the file
`filters.signals.compression` loads.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import tarfile
from pathlib import Path

import numpy as np

from filters.signals.compression import MODEL_PATH, ORDER
from tools.shared_data import shared_data_dir

TARBALL = "reference_text/nltk-gutenberg-13books.tar.gz"
_BODY_START = re.compile(r"^\*+ ?START OF TH(E|IS) PROJECT GUTENBERG|^\*END\*? ?THE SMALL PRINT")
_BODY_END = re.compile(
    r"^End of (the )?Project Gutenberg|^\*+ ?END OF TH(E|IS) PROJECT GUTENBERG|^\*+START\*+THE SMALL PRINT"
)


def book_body(text: str) -> str:
    """The book without Project Gutenberg's header, small print and footer."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if _BODY_START.match(line))
    end = next((i for i in range(start + 1, len(lines)) if _BODY_END.match(lines[i])), len(lines))
    return "\n".join(lines[start + 1 : end]).strip()


def read_books(tarball: Path) -> list[str]:
    """Book bodies from NLTK's Gutenberg tarball (Latin-1 files), in name order."""
    with tarfile.open(tarball) as tf:
        members = sorted((m for m in tf.getmembers() if m.name.endswith(".txt")), key=lambda m: m.name)
        return [book_body(tf.extractfile(m).read().decode("latin-1")) for m in members]


def ngram_counts(data: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct byte n-grams (packed big-endian into uint32) and their counts."""
    key = np.zeros(len(data) - n + 1, dtype=np.uint32)
    for j in range(n):
        key = (key << np.uint32(8)) | data[j : len(data) - n + 1 + j].astype(np.uint32)
    return np.unique(key, return_counts=True)


def build(tarball: Path) -> dict[str, np.ndarray]:
    """The model's arrays: unigram counts and, per n = 2..4, n-gram keys and counts."""
    books = read_books(tarball)
    data = np.frombuffer("\n\n".join(books).encode("utf-8"), dtype=np.uint8)
    arrays: dict[str, np.ndarray] = {"unigram": np.bincount(data, minlength=256).astype(np.uint32)}
    for n in range(2, ORDER + 2):
        keys, counts = ngram_counts(data, n)
        arrays[f"keys{n}"], arrays[f"counts{n}"] = keys, counts.astype(np.uint32)
    meta = {
        "source": "NLTK gutenberg corpus (13 Project Gutenberg books), headers and licence text removed",
        "licence": "books in the public domain; this file holds byte n-gram counts derived from them",
        "tarball_sha256": hashlib.sha256(tarball.read_bytes()).hexdigest(),
        "books": len(books),
        "bytes": int(len(data)),
        "order": ORDER,
    }
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    return arrays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tarball", type=Path, default=shared_data_dir() / TARBALL)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args()
    with open(args.out, "wb") as f:
        np.savez_compressed(f, **build(args.tarball))
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
