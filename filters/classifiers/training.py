"""Train a supervised fastText quality classifier from positive and negative text files.

The recipe (GPT-3, DCLM): reference-quality text as positives (`__label__hq`), a random crawl sample as
negatives (`__label__cc`), word bigrams. The model is trained on a seeded split and evaluated on the held-out
rest — metrics of the *same distribution as training*, which say how well the model separates its two sources,
not whether people agree — and, given human labels (`eval_labels`), against people. A JSON card beside the model
records the data, sizes, both kinds of metrics, the hyper-parameters, the tier calibration (the score at which a
document that passes the heuristic chain is `high`) and the agreement table of the tiers with the human labels
(for stats/misclassification.py).

Labelled inputs (`labelled`, `eval_labels`) may be JSONL/Parquet records with `text` and `label` fields, TSV lines
`label<TAB>text` (the SMS Spam Collection's layout), or fastText lines `__label__X text`. Labels read as good:
1, true, good, hq, high, positive, pos, keep, ham; as bad: 0, false, bad, cc, low, negative, neg, drop, spam.

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
from collections.abc import Callable, Iterator
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


def document_files(path: Path, extra: tuple[str, ...] = ()) -> list[Path]:
    """`path` itself, or every supported file below a directory (sorted, so runs are reproducible)."""
    if path.is_dir():
        supported = (*TEXT_SUFFIXES, *JSON_SUFFIXES, ".parquet", *extra)
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


GOOD_LABELS = frozenset({"1", "true", "good", "hq", "high", "positive", "pos", "keep", "ham"})
BAD_LABELS = frozenset({"0", "false", "bad", "cc", "low", "negative", "neg", "drop", "spam"})
TSV_SUFFIXES = (".tsv", ".tab")
CALIBRATION_PRECISION = 0.9


def parse_label(value: object, where: str) -> int:
    """1 (good) or 0 (bad) from a label value; anything else is an error naming where it was found."""
    text = str(value).strip().lower().removeprefix("__label__")
    if text in GOOD_LABELS:
        return 1
    if text in BAD_LABELS:
        return 0
    raise ValueError(f"{where}: label {value!r} is neither good ({', '.join(sorted(GOOD_LABELS))}) nor bad "
                     f"({', '.join(sorted(BAD_LABELS))})")


def read_labelled(path: Path, text_field: str = "text", label_field: str = "label") -> tuple[list[str], np.ndarray]:
    """Texts and 0/1 labels of a labelled file or directory (formats: module docstring); empty texts dropped."""
    texts: list[str] = []
    labels: list[int] = []
    for file in document_files(Path(path), TSV_SUFFIXES):
        suffix = _base_suffix(file)
        if suffix == ".parquet":
            frame = pl.read_parquet(file, columns=[text_field, label_field])
            rows = [(t, lab, f"{file} row {i + 1}") for i, (t, lab) in enumerate(frame.iter_rows())]
        elif suffix in JSON_SUFFIXES:
            rows = []
            for i, line in enumerate(_open_text(file).splitlines()):
                if line.strip():
                    record = json.loads(line)
                    if label_field not in record:
                        raise ValueError(f"{file} line {i + 1}: no {label_field!r} field")
                    rows.append((record.get(text_field), record[label_field], f"{file} line {i + 1}"))
        elif suffix in TSV_SUFFIXES:
            rows = []
            for i, line in enumerate(_open_text(file).splitlines()):
                if not line.strip() or (i == 0 and line.split("\t", 1)[0].strip().lower() == label_field):
                    continue
                if "\t" not in line:
                    raise ValueError(f"{file} line {i + 1}: expected 'label<TAB>text'")
                label, text = line.split("\t", 1)
                rows.append((text, label, f"{file} line {i + 1}"))
        elif suffix in TEXT_SUFFIXES:
            rows = []
            for i, line in enumerate(_open_text(file).splitlines()):
                if not line.strip():
                    continue
                if not line.startswith("__label__"):
                    raise ValueError(f"{file} line {i + 1}: expected fastText format '__label__X text'")
                label, _, text = line.partition(" ")
                rows.append((text, label, f"{file} line {i + 1}"))
        else:
            raise ValueError(f"unsupported labelled file {file} (JSONL, Parquet, TSV or fastText lines)")
        for text, label, where in rows:
            if isinstance(text, str) and text.strip():
                texts.append(text)
                labels.append(parse_label(label, where))
    return texts, np.array(labels, dtype=np.int8)


def approximate_tokens(texts: list[str]) -> np.ndarray:
    """UTF-8 bytes / 4: a tokenizer-free stand-in for token counts (callers with a tokenizer pass their own)."""
    return np.array([len(t.encode("utf-8")) / 4 for t in texts], dtype=np.float64)


def human_evaluation(model: Path, texts: list[str], labels: np.ndarray, source: str,
                     token_counter: Callable[[list[str]], np.ndarray] | None = None,
                     unit: str | None = None, high: float | None = None, note: str = "") -> dict:
    """The model against labelled documents: ROC AUC, the calibrated `high` threshold (lowest score with >= 90%
    of the documents that pass the heuristic chain good) and, with that threshold or the given `high`, the
    tiers' agreement table."""
    from filters.classifiers.metrics import agreement_table, choose_high
    from filters.classifiers.quality import annotate_quality
    from filters.classifiers.tiers import tier_expr

    scorer = FastTextClassifier(model, POSITIVE_LABEL)
    table = annotate_quality(texts, scorer)
    scores, keep = table["quality_score"].to_numpy(), table["heuristic_keep"].to_numpy()
    both = 0 < labels.sum() < len(labels)
    chosen = choose_high(scores, keep, labels, CALIBRATION_PRECISION) if both else None
    out: dict = {"labels": source, "documents": len(labels), "good": int(labels.sum()),
                 "roc_auc": roc_auc(labels, scores) if both else None, "high_threshold": chosen}
    threshold = chosen if high is None else high
    if threshold is not None:
        tiers = table.select(tier_expr(threshold, None, guard=True))["tier"].to_numpy()
        tokens = (token_counter or approximate_tokens)(texts)
        out["agreement"] = agreement_table(tiers, labels, np.asarray(tokens), source,
                                           unit or "UTF-8 bytes / 4 (approximate tokens)", note)
    return out


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
    labelled: list[Path] | tuple[Path, ...] = (),
    label_field: str = "label",
    eval_labels: Path | None = None,
    token_counter: Callable[[list[str]], np.ndarray] | None = None,
    token_unit: str | None = None,
) -> dict:
    """Train `out` (a fastText `.bin`) on positives vs negatives; returns the card also written to `out`.json.

    Labels are `__label__hq` (positive) and `__label__cc` (negative), so the model plugs into the same scorer
    as DCLM's. `thread=1` plus `seed` make the split and the model reproducible. `labelled` files add documents
    with their own labels; `eval_labels` (human labels, never trained on) gives the card its agreement with
    people, calibration and agreement table; without it the calibration comes from the held-out split (same
    distribution as training) and the card says there is no agreement table. `token_counter` (texts -> token
    counts, `token_unit` its name) counts the agreement table's tokens; default: UTF-8 bytes / 4.
    """
    out = Path(out)
    data, docs = _training_documents(positive, negative, labelled, text_field, split, label_field)
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
    _fit(out, [f"{POSITIVE_LABEL if labels[i] else NEGATIVE_LABEL} {texts[i]}" for i in train], params)
    metrics = _held_out_metrics(out, [texts[i] for i in valid], labels[valid])
    eval_set = None
    if eval_labels is not None:
        eval_texts, eval_truth = read_labelled(Path(eval_labels), text_field, label_field)
        if not len(eval_truth):
            raise ValueError(f"no labelled documents in {eval_labels}")
        eval_set = (eval_texts, eval_truth, str(eval_labels))
    people, calibration = _calibrate(out, [docs[i][1] for i in valid], labels[valid], eval_set,
                                     token_counter, token_unit)
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
        "human_evaluation": people or {"available": False, "reason": "no --eval-labels given: agreement with "
                                                                     "people not measured"},
        "calibration": calibration,
        "agreement": (people or {}).get("agreement"),
        "model_bytes": out.stat().st_size,
    }
    card_path = out.with_suffix(".json")
    tmp_card = card_path.with_name(card_path.name + ".tmp")
    tmp_card.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp_card, card_path)
    return card


def _training_documents(positive: list[Path], negative: list[Path], labelled: list[Path] | tuple[Path, ...],
                        text_field: str, split: str, label_field: str) -> tuple[dict, list[tuple[int, str]]]:
    """The card's `data` block (per input file: documents, bytes) and every (label, text) in input order."""
    data: dict[str, list[dict]] = {"positive": [], "negative": [], "labelled": []}
    docs: list[tuple[int, str]] = []
    for side, paths, label in (("positive", positive, 1), ("negative", negative, 0)):
        for path in paths:
            texts = read_documents(Path(path), text_field, split)
            data[side].append({"path": str(path), "documents": len(texts),
                               "bytes": sum(len(t.encode("utf-8")) for t in texts)})
            docs.extend((label, t) for t in texts)
    for path in labelled:
        texts, labs = read_labelled(Path(path), text_field, label_field)
        data["labelled"].append({"path": str(path), "documents": len(texts), "good": int(labs.sum()),
                                 "bytes": sum(len(t.encode("utf-8")) for t in texts)})
        docs.extend(zip(labs.tolist(), texts))
    return data, docs


def _fit(out: Path, train_lines: list[str], params: dict) -> None:
    """Train on the fastText lines in a temporary file beside `out`, then move the model into place."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".train-") as tmp:
        train_file = Path(tmp) / "train.txt"
        with open(train_file, "w", encoding="utf-8") as fh:
            for line in train_lines:
                fh.write(f"{line}\n")
        tmp_model = Path(tmp) / "model.bin"
        train_fasttext_file(train_file, tmp_model, params)
        os.replace(tmp_model, out)
    load_fasttext.cache_clear()  # `out` may have replaced a model loaded earlier in this process


def _held_out_metrics(out: Path, valid_lines: list[str], truth: np.ndarray) -> dict:
    """Accuracy and ROC AUC on the held-out split (same distribution as training, not agreement with people)."""
    metrics: dict = {"valid_documents": int(len(truth)),
                     "population": "held-out split of the training data: same distribution as training, not "
                                   "agreement with people"}
    if len(truth):
        scores = FastTextClassifier(out, POSITIVE_LABEL).score(valid_lines)
        metrics["accuracy"] = float(np.mean((scores >= 0.5) == truth.astype(bool)))
        metrics["roc_auc"] = roc_auc(truth, scores) if 0 < truth.sum() < len(truth) else None
    return metrics


def _calibrate(out: Path, valid_texts: list[str], valid_truth: np.ndarray,
               eval_set: tuple[list[str], np.ndarray, str] | None,
               token_counter: Callable[[list[str]], np.ndarray] | None,
               token_unit: str | None) -> tuple[dict | None, dict | None]:
    """The card's human evaluation and `high` threshold: from the human labels when one reaches the precision,
    else from the held-out split (then the people's table is redone at that threshold)."""
    people = calibration = None
    if eval_set is not None:
        eval_texts, eval_truth, source = eval_set
        people = human_evaluation(out, eval_texts, eval_truth, source, token_counter, token_unit,
                                  note="measured on the labels that also chose the high threshold (optimistic)")
        if people["high_threshold"] is not None:
            calibration = {"high": people["high_threshold"], "low": None, "by_lang": {},
                           "rule": f"lowest score with >= {CALIBRATION_PRECISION:.0%} good documents among those "
                                   f"that pass the heuristic chain, on the human labels {source}"}
    if calibration is None and len(valid_truth):
        same = human_evaluation(out, valid_texts, valid_truth, "held-out split")
        if same["high_threshold"] is not None:
            why = ("no threshold reaches it on the human labels" if people is not None
                   else "give --eval-labels for a calibration against people")
            calibration = {"high": same["high_threshold"], "low": None, "by_lang": {},
                           "rule": f"lowest score with >= {CALIBRATION_PRECISION:.0%} positives among held-out "
                                   f"documents that pass the heuristic chain (same distribution as training; "
                                   f"{why})"}
        if eval_set is not None and calibration is not None:  # the people's table at the held-out threshold
            eval_texts, eval_truth, source = eval_set
            people = {**human_evaluation(out, eval_texts, eval_truth, source, token_counter, token_unit,
                                         high=calibration["high"],
                                         note="tiers at the threshold calibrated on the held-out split"),
                      "high_threshold": None}
    return people, calibration
