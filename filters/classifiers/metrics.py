"""Agreement of scores and tiers with labels: ROC AUC without scikit-learn (the rank statistic, ties counted as
half), the length-ambiguous subset, the precision-based high threshold and the per-tier agreement table."""

from __future__ import annotations

import numpy as np


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks with ties sharing their average rank (as scipy's `rankdata(method="average")`)."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    starts = np.r_[True, sorted_values[1:] != sorted_values[:-1]]
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    counts = np.diff(np.r_[first, len(values)])
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = first[group] + (counts[group] + 1) / 2.0
    return ranks


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (Mann–Whitney U / n1·n0)."""
    labels = np.asarray(labels).astype(bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("ROC AUC needs both positive and negative examples")
    ranks = average_ranks(np.asarray(scores, dtype=np.float64))
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def length_ambiguous_mask(texts: list[str], labels: np.ndarray, low_q: float = 10, high_q: float = 90) -> np.ndarray:
    """Documents whose length falls where both classes are common (see the module docstring)."""
    lengths = np.array([len(t) for t in texts], dtype=np.float64)
    lo = np.percentile(lengths[labels == 1], low_q)
    hi = np.percentile(lengths[labels == 0], high_q)
    return (lengths >= lo) & (lengths <= hi)


def agreement(scores: np.ndarray, labels: np.ndarray, hard: np.ndarray) -> dict:
    """ROC AUC on all documents and on the length-ambiguous subset."""
    return {"roc_auc": roc_auc(labels, scores), "roc_auc_hard": roc_auc(labels[hard], scores[hard]),
            "documents": int(len(labels)), "hard_documents": int(hard.sum())}


def choose_high(scores: np.ndarray, keep: np.ndarray, labels: np.ndarray, precision: float = 0.9) -> float | None:
    """Lowest threshold at which the documents that pass the heuristic chain (`keep`) and score at or above it
    are at least `precision` good (by documents); None when no threshold reaches it."""
    best = None
    for t in np.unique(scores[keep])[::-1]:
        selected = keep & (scores >= t)
        if labels[selected].mean() >= precision:
            best = float(t)
    return best


def agreement_table(tiers: np.ndarray, labels: np.ndarray, tokens: np.ndarray, source: str, unit: str,
                    note: str) -> dict:
    """Per tier: labelled documents and tokens, those people judged good, and Kish's effective number of
    documents of the token weights (for stats/misclassification.py)."""
    table = {}
    for tier in ("high", "medium", "low"):
        m = tiers == tier
        t = tokens[m].astype(np.float64)
        table[tier] = {"documents": int(m.sum()), "good_documents": int(labels[m].sum()),
                       "tokens": int(t.sum()), "good_tokens": int(tokens[m & (labels == 1)].sum()),
                       "effective_documents": float(t.sum() ** 2 / (t ** 2).sum()) if t.sum() > 0 else 0.0}
    return {"labels": source, "unit": unit, "tiers": table, "note": note}
