"""Agreement with people: ROC AUC of quality scores against DCLM's human quality labels.

`dclm-human-agreement_data.jsonl` (DCLM repository, MIT) holds 281 web documents `{text, label}` with
label 1 = good (152) and 0 = bad (129), the subset where DCLM's annotators agreed. Length alone separates it
well (ROC AUC 0.86), so a second number is reported on the *length-ambiguous subset*: documents whose length
lies between the 10th percentile of good documents' lengths and the 90th percentile of bad documents'
lengths (82 documents, 51 good / 31 bad; length alone: 0.67 there).

Run: `python -m tools.evaluate_classifiers [--labels PATH] [--classifier SPEC ...] [--device cpu] [--cv]`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from filters.classifiers.metrics import agreement, length_ambiguous_mask
from tools.shared_data import shared_data_dir

LABELS_RELATIVE = Path("quality_labels") / "dclm-human-agreement_data.jsonl"


def load_human_labels(path: Path | None = None) -> tuple[list[str], np.ndarray]:
    """Texts and 0/1 labels (1 = good) of the human-labelled set."""
    path = path or shared_data_dir() / LABELS_RELATIVE
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["text"] for r in rows], np.array([int(r["label"]) for r in rows], dtype=np.int8)


def evaluate_specs(specs: list[str], device: str = "cpu", labels_path: Path | None = None) -> dict[str, dict]:
    """Agreement of each scorer spec (see `load_scorer`), plus the length baseline."""
    from filters.classifiers import load_scorer

    texts, labels = load_human_labels(labels_path)
    hard = length_ambiguous_mask(texts, labels)
    results = {"length (characters)": agreement(np.array([len(t) for t in texts], float), labels, hard)}
    for spec in specs:
        scorer = load_scorer(spec, device=device)
        results[scorer.name] = agreement(scorer.score(texts), labels, hard)
    return results


def cross_validated_features_auc(folds: int = 5, seeds: int = 5, l2: float = 1.0,
                                 labels_path: Path | None = None) -> dict:
    """Reference only: the default model's features fitted *on the human labels*, scored by k-fold CV.

    Shows how much a model tuned on people could gain; the shipped default is never fitted on these labels.
    """
    import polars as pl

    from filters.classifiers.features import FEATURES, quality_features
    from filters.classifiers.linear import fit_logistic

    texts, labels = load_human_labels(labels_path)
    hard = length_ambiguous_mask(texts, labels)
    x = quality_features(pl.Series(texts, dtype=pl.String)).select(FEATURES).to_numpy()
    runs = []
    for seed in range(seeds):
        fold = np.random.default_rng(seed).permutation(len(labels)) % folds
        scores = np.zeros(len(labels))
        for k in range(folds):
            model = fit_logistic(x[fold != k], labels[fold != k], l2=l2)
            scores[fold == k] = model.predict_proba(x[fold == k])
        runs.append(agreement(scores, labels, hard))
    return {"roc_auc": float(np.mean([r["roc_auc"] for r in runs])),
            "roc_auc_hard": float(np.mean([r["roc_auc_hard"] for r in runs])),
            "documents": len(labels), "hard_documents": int(hard.sum()), "folds": folds, "seeds": seeds}


def markdown_table(results: dict[str, dict]) -> str:
    """The evaluation as the markdown table used in docs/classifiers.md."""
    rows = ["| scorer | ROC AUC (281 docs) | ROC AUC, length-ambiguous subset |", "|---|---|---|"]
    rows += [f"| {name} | {r['roc_auc']:.3f} | {r['roc_auc_hard']:.3f} (n={r['hard_documents']}) |"
             for name, r in results.items()]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=None, help="human labels JSONL (default: shared data)")
    parser.add_argument("--classifier", action="append", default=None,
                        help="scorer spec (repeatable; default: default and embedding)")
    parser.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--cv", action="store_true",
                        help="add the reference row: features fitted on the labels themselves, 5-fold CV")
    args = parser.parse_args(argv)
    results = evaluate_specs(args.classifier or ["default", "embedding"], args.device, args.labels)
    if args.cv:
        results["features fitted on these labels (5-fold CV, reference)"] = cross_validated_features_auc(
            labels_path=args.labels)
    print(markdown_table(results))


if __name__ == "__main__":
    main()
