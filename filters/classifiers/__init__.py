"""Quality classifiers: one interface (`score(texts) -> np.ndarray`, higher = better) over several backends.

- `default_scorer()`: the project's own feature-based score (CPU, no torch) — see `default.py`.
- fastText models (`.bin`/`.ftz`, e.g. DCLM's): native fastText on the CPU, or the same weights in PyTorch on
  CPU/GPU (`fasttext_torch.py`), probabilities equal to fastText's within 1e-4.
- an embedding classifier: all-MiniLM-L6-v2 embeddings + a logistic head (`embedding.py`), torch required.

`load_scorer(spec, device=...)` turns a CLI-style spec into one of them. torch is imported only by the
torch-backed classes, so this package imports and scores with fastText or the default scorer without it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from filters.classifiers.base import Classifier, cuda_available, resolve_device, torch_available
from filters.classifiers.default import FeatureScorer, default_scorer
from filters.classifiers.fasttext_native import FastTextClassifier, detect_positive_label, load_fasttext
from filters.classifiers.tiers import (
    TierThresholds,
    assign_tiers,
    calibration_thresholds,
    tier_expr,
    tier_thresholds,
    tiers_frame,
)
from filters.classifiers.training import read_documents, train_classifier

BACKENDS = ("auto", "fasttext", "torch")
EMBEDDING_NAMES = ("embedding", "minilm")

__all__ = [
    "BACKENDS", "Classifier", "FastTextClassifier", "FeatureScorer", "TierThresholds", "assign_tiers",
    "cuda_available", "default_scorer", "detect_positive_label", "load_scorer", "read_documents",
    "model_card", "resolve_device", "tier_expr", "tier_thresholds", "tiers_frame", "torch_available",
    "train_classifier",
]


def model_card(path: Path) -> dict | None:
    """The JSON card beside a model file (`MODEL.json` for `MODEL.bin`), or the head JSON itself."""
    card = path if path.suffix == ".json" else path.with_suffix(".json")
    if not card.is_file():
        return None
    try:
        return json.loads(card.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"model card {card} is not readable JSON: {exc}") from exc


def _with_card(scorer: Classifier, path: Path | None) -> Classifier:
    """`scorer` with the calibration and agreement table of its model card (when it has them)."""
    card = model_card(path) if path is not None else None
    if card:
        scorer.calibration = calibration_thresholds(card.get("calibration"), scorer.name)
        scorer.agreement = card.get("agreement")
    return scorer


@lru_cache(maxsize=16)
def load_scorer(spec: str | None = None, device: str = "auto", positive_label: str | None = None,
                backend: str = "auto") -> Classifier:
    """A scorer from a spec (cached per process, so per-shard tasks load a model once).

    spec: `None`/`"default"` → the default scorer (CPU whatever `device` says: it is string statistics);
    `"embedding"`/`"minilm"` → the MiniLM classifier with the shipped head; `"embedding:HEAD.json"` or a head
    `.json` → MiniLM with that head; a `logistic-features` `.json` → a feature scorer; any other path → a
    fastText model. For fastText, `backend="auto"` runs PyTorch when the resolved device is `cuda` and
    fastText's own code otherwise; `"fasttext"` and `"torch"` force one (the native one is CPU-only).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if spec is None or spec == "default":
        return default_scorer()
    if spec in EMBEDDING_NAMES or spec.startswith("embedding:"):
        from filters.classifiers.embedding import EmbeddingClassifier

        head = spec.split(":", 1)[1] if ":" in spec else None
        scorer = EmbeddingClassifier(head, device=device)
        return _with_card(scorer, scorer.head_path)
    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"classifier {spec!r} is neither a known name nor a file")
    if path.suffix == ".json":
        kind = json.loads(path.read_text(encoding="utf-8")).get("kind")
        if kind == "logistic-features":
            return FeatureScorer(path)
        from filters.classifiers.embedding import EmbeddingClassifier

        return _with_card(EmbeddingClassifier(path, device=device), path)
    if backend == "fasttext":
        if device == "cuda":
            raise ValueError("the native fastText backend runs on the CPU only (use backend='torch' for cuda)")
        return _with_card(FastTextClassifier(path, positive_label), path)
    resolved = resolve_device(device)
    if backend == "torch" or resolved == "cuda":
        if backend == "auto" and load_fasttext(str(path)).is_quantized():
            # .ftz matrices are product-quantized: CPU only
            return _with_card(FastTextClassifier(path, positive_label), path)
        from filters.classifiers.fasttext_torch import TorchFastTextClassifier

        return _with_card(TorchFastTextClassifier(path, positive_label, device=resolved), path)
    return _with_card(FastTextClassifier(path, positive_label), path)
