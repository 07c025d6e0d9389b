"""Train a supervised fastText quality classifier from positive and negative text files.

The recipe (GPT-3, DCLM): reference-quality text as positives (`__label__hq`), a random crawl sample as
negatives (`__label__cc`), word bigrams. The model is trained on a seeded split and evaluated on the held-out
rest, and a JSON card with the data, sizes, metrics and hyper-parameters is written beside it.

fastText training runs in a fresh Python subprocess: with fasttext-numpy2-wheel 0.9.2 a second
`train_supervised` in the same process is not reproducible (and sometimes stops with "Encountered NaN"), while
the first one in a process is bit-for-bit deterministic with `thread=1` and a seed.
"""

from __future__ import annotations

import gzip
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import polars as pl

from filters.classifiers.fasttext_native import FastTextClassifier, fasttext_lines, load_fasttext
from filters.classifiers.metrics import roc_auc

POSITIVE_LABEL = "__label__hq"
NEGATIVE_LABEL = "__label__cc"
TEXT_SUFFIXES = (".txt", ".text", ".raw", ".md")
JSON_SUFFIXES = (".jsonl", ".json", ".ndjson")
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")

_TRAIN_CODE = """
import json, sys
import fasttext
if not hasattr(fasttext, "train_supervised"):
    sys.exit("this fasttext module cannot train (fasttext-predict installed over fasttext-numpy2-wheel?)")
job = json.loads(sys.argv[1])
fasttext.train_supervised(**job["params"]).save_model(job["out"])
"""


def _open_text(path: Path) -> str:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8", errors="replace")


def _base_suffix(path: Path) -> str:
    return Path(path.stem).suffix.lower() if path.suffix == ".gz" else path.suffix.lower()


def document_files(path: Path) -> list[Path]:
    """`path` itself, or every supported file below a directory (sorted, so runs are reproducible)."""
    if path.is_dir():
        supported = (*TEXT_SUFFIXES, *JSON_SUFFIXES, ".parquet")
        return sorted(p for p in path.rglob("*") if p.is_file() and _base_suffix(p) in supported)
    if not path.exists():
        raise FileNotFoundError(path)
    return [path]


def _split_plain(text: str, split: str) -> list[str]:
    if split == "file":
        return [text.strip()]
    if split == "auto":
        split = "block" if _BLANK_LINE.search(text) else "line"
    parts = _BLANK_LINE.split(text) if split == "block" else text.split("\n")
    return [p.strip() for p in parts]


def iter_documents(path: Path, text_field: str = "text", split: str = "auto") -> Iterator[str]:
    """Non-empty documents of a file or directory.

    Plain text (`.txt/.text/.raw/.md`, optionally `.gz`): `split="block"` makes each blank-line-separated block a
    document, `"line"` each line, `"file"` the whole file; `"auto"` uses blocks when the file has blank lines and
    lines otherwise. JSONL (`.jsonl/.json/.ndjson`, optionally `.gz`) and Parquet: the `text_field` of each record.
    """
    if split not in ("auto", "block", "line", "file"):
        raise ValueError(f"split must be auto, block, line or file, got {split!r}")
    for file in document_files(Path(path)):
        suffix = _base_suffix(file)
        if suffix == ".parquet":
            texts = pl.read_parquet(file, columns=[text_field])[text_field].drop_nulls().to_list()
        elif suffix in JSON_SUFFIXES:
            texts = [json.loads(line).get(text_field) for line in _open_text(file).splitlines() if line.strip()]
        elif suffix in TEXT_SUFFIXES:
            texts = _split_plain(_open_text(file), split)
        else:
            raise ValueError(f"unsupported document file {file} (plain text, JSONL or Parquet)")
        yield from (t for t in texts if isinstance(t, str) and t.strip())


def read_documents(path: Path, text_field: str = "text", split: str = "auto") -> list[str]:
    """All documents of `iter_documents` as a list."""
    return list(iter_documents(path, text_field, split))


def fasttext_version() -> str:
    """Version of the installed fastText distribution that can train."""
    for dist in ("fasttext-numpy2-wheel", "fasttext", "fasttext-wheel"):
        try:
            return f"{dist} {importlib.metadata.version(dist)}"
        except importlib.metadata.PackageNotFoundError:
            continue
    return "unknown"


def train_fasttext_file(train_file: Path, out: Path, params: dict) -> None:
    """`fasttext.train_supervised(input=train_file, **params)` in a fresh interpreter, saved to `out`."""
    job = json.dumps({"params": {"input": str(train_file), **params}, "out": str(out)})
    done = subprocess.run([sys.executable, "-c", _TRAIN_CODE, job], capture_output=True, text=True)
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"fastText training failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def train_classifier(
    positive: list[Path],
    negative: list[Path],
    out: Path,
    *,
    epochs: int = 5,
    lr: float = 0.1,
    word_ngrams: int = 2,
    dim: int = 64,
    min_count: int = 2,
    seed: int = 0,
    valid_fraction: float = 0.2,
    bucket: int = 200_000,
    minn: int = 0,
    maxn: int = 0,
    text_field: str = "text",
    split: str = "auto",
) -> dict:
    """Train `out` (a fastText `.bin`) on positives vs negatives; returns the card also written to `out`.json.

    Labels are `__label__hq` (positive) and `__label__cc` (negative), so the model plugs into the same scorer
    as DCLM's. `thread=1` plus `seed` make the split and the model reproducible.
    """
    out = Path(out)
    data: dict[str, list[dict]] = {"positive": [], "negative": []}
    docs: list[tuple[int, str]] = []
    for side, paths, label in (("positive", positive, 1), ("negative", negative, 0)):
        for path in paths:
            texts = read_documents(Path(path), text_field, split)
            data[side].append({"path": str(path), "documents": len(texts),
                               "bytes": sum(len(t.encode("utf-8")) for t in texts)})
            docs.extend((label, t) for t in texts)
    labels = np.array([lab for lab, _ in docs], dtype=np.int8)
    if labels.sum() == 0 or labels.sum() == len(labels):
        raise ValueError("training needs both positive and negative documents")
    texts = fasttext_lines([t for _, t in docs])
    order = np.random.default_rng(seed).permutation(len(docs))
    n_valid = int(round(valid_fraction * len(docs)))
    valid, train = order[:n_valid], order[n_valid:]
    params = {"epoch": epochs, "lr": lr, "wordNgrams": word_ngrams, "dim": dim, "minCount": min_count,
              "bucket": bucket, "minn": minn, "maxn": maxn, "loss": "softmax", "thread": 1, "seed": seed,
              "verbose": 0}
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".train-") as tmp:
        train_file = Path(tmp) / "train.txt"
        with open(train_file, "w", encoding="utf-8") as fh:
            for i in train:
                fh.write(f"{POSITIVE_LABEL if labels[i] else NEGATIVE_LABEL} {texts[i]}\n")
        tmp_model = Path(tmp) / "model.bin"
        train_fasttext_file(train_file, tmp_model, params)
        os.replace(tmp_model, out)
    load_fasttext.cache_clear()  # `out` may have replaced a model loaded earlier in this process
    metrics: dict = {"valid_documents": int(n_valid)}
    if n_valid:
        scores = FastTextClassifier(out, POSITIVE_LABEL).score([texts[i] for i in valid])
        truth = labels[valid]
        metrics["accuracy"] = float(np.mean((scores >= 0.5) == truth.astype(bool)))
        metrics["roc_auc"] = roc_auc(truth, scores) if 0 < truth.sum() < len(truth) else None
    card = {
        "model": out.name,
        "kind": "fasttext-supervised",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "fasttext": fasttext_version(),
        "labels": {"positive": POSITIVE_LABEL, "negative": NEGATIVE_LABEL},
        "data": data,
        "split": {"seed": seed, "valid_fraction": valid_fraction,
                  "train": {"positive": int(labels[train].sum()), "negative": int(len(train) - labels[train].sum())},
                  "valid": {"positive": int(labels[valid].sum()), "negative": int(len(valid) - labels[valid].sum())}},
        "hyperparameters": {k: v for k, v in params.items() if k != "verbose"},
        "metrics": metrics,
        "model_bytes": out.stat().st_size,
    }
    card_path = out.with_suffix(".json")
    tmp_card = card_path.with_name(card_path.name + ".tmp")
    tmp_card.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp_card, card_path)
    return card
