"""train-classifier: a supervised fastText quality classifier from positive and negative text (or labelled
files), with held-out metrics (same distribution as training) and, given human labels, agreement with people."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from prefect import flow

from filters.classifiers.training import train_classifier as train


@flow(name="train-classifier", log_prints=True)
def train_classifier(
    positive: list[str] | None = None,
    negative: list[str] | None = None,
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
    labelled: list[str] | None = None,
    label_field: str = "label",
    eval_labels: str | None = None,
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
        labelled: Files whose documents carry their own labels: JSONL/Parquet (text + label fields), TSV
            (label<TAB>text) or fastText lines (__label__X text).
        label_field: Label field of JSONL/Parquet labelled files.
        eval_labels: Human labels (same formats as labelled) to evaluate against, never trained on: the card
            then holds agreement with people, the tier calibration and the agreement table.
    """
    from stats.tokens import DEFAULT_TOKENIZER, count_tokens

    if not (positive or negative or labelled):
        raise ValueError("give --positive and --negative files, or --labelled files")
    card = train([Path(p) for p in positive or []], [Path(n) for n in negative or []], Path(out), epochs=epochs,
                 lr=lr, word_ngrams=word_ngrams, dim=dim, min_count=min_count, seed=seed,
                 valid_fraction=valid_fraction, bucket=bucket, minn=minn, maxn=maxn, text_field=text_field,
                 split=split, labelled=[Path(p) for p in labelled or []], label_field=label_field,
                 eval_labels=Path(eval_labels) if eval_labels else None,
                 token_counter=lambda texts: count_tokens(texts, DEFAULT_TOKENIZER),
                 token_unit=f"{DEFAULT_TOKENIZER} tokens")
    metrics = card["metrics"]
    auc = metrics.get("roc_auc")
    print(f"model: {out} · held-out split (same distribution as training): accuracy "
          f"{metrics.get('accuracy', float('nan')):.3f}, ROC AUC {auc if auc is None else f'{auc:.3f}'}")
    people = card["human_evaluation"]
    if people.get("roc_auc") is not None:
        print(f"against human labels {people['labels']} ({people['documents']} documents): ROC AUC "
              f"{people['roc_auc']:.3f}; high threshold {people['high_threshold']}")
    else:
        print(f"against human labels: {people.get('reason', 'not measurable (one class only)')}")
    return card
