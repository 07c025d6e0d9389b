"""train-classifier: a supervised fastText quality classifier from positive and negative text."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from prefect import flow

from filters.classifiers.training import train_classifier as train


@flow(name="train-classifier", log_prints=True)
def train_classifier(
    positive: list[str],
    negative: list[str],
    out: str = "quality-classifier.bin",
    epochs: int = 5,
    lr: float = 0.1,
    word_ngrams: int = 2,
    dim: int = 64,
    min_count: int = 2,
    valid_fraction: float = 0.2,
    bucket: int = 200_000,
    minn: int = 0,
    maxn: int = 0,
    text_field: str = "text",
    split: Literal["auto", "block", "line", "file"] = "auto",
    seed: int = 0,
) -> dict:
    """Train a fastText quality classifier; writes the model and a JSON card beside it.

    Args:
        positive: Files of reference-quality text (plain text, JSONL or Parquet).
        negative: Files of ordinary crawl text (e.g. a random crawl sample).
        out: Path of the model file to write (.bin); the card goes to the same name with .json.
        epochs: Training epochs.
        lr: Learning rate.
        word_ngrams: Word n-gram length (2 = bigrams).
        dim: Embedding dimension.
        min_count: Minimal word count in the training data.
        valid_fraction: Share of documents held out for accuracy and ROC AUC.
        bucket: Hash buckets for word n-grams.
        minn: Shortest character n-gram (0: no subwords).
        maxn: Longest character n-gram (0: no subwords).
        text_field: Text field of JSONL/Parquet inputs.
        split: How plain-text files split into documents: auto, block (blank-line separated), line or file.
        seed: Seed of the split and of training.
    """
    card = train([Path(p) for p in positive], [Path(n) for n in negative], Path(out), epochs=epochs, lr=lr,
                 word_ngrams=word_ngrams, dim=dim, min_count=min_count, seed=seed, valid_fraction=valid_fraction,
                 bucket=bucket, minn=minn, maxn=maxn, text_field=text_field, split=split)
    metrics = card["metrics"]
    print(f"model: {out} · held-out accuracy {metrics['accuracy']:.3f} · ROC AUC {metrics['roc_auc']:.3f}")
    return card
