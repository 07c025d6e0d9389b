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
from filters.classifiers.tiers import TierThresholds, assign_tiers, tier_expr, tier_thresholds, tiers_frame
from filters.classifiers.training import read_documents, train_classifier

BACKENDS = ("auto", "fasttext", "torch")
EMBEDDING_NAMES = ("embedding", "minilm")

__all__ = [
    "BACKENDS", "Classifier", "FastTextClassifier", "FeatureScorer", "TierThresholds", "assign_tiers",
    "cuda_available", "default_scorer", "detect_positive_label", "load_scorer", "read_documents",
    "resolve_device", "tier_expr", "tier_thresholds", "tiers_frame", "torch_available", "train_classifier",
]


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
        return EmbeddingClassifier(head, device=device)
    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"classifier {spec!r} is neither a known name nor a file")
    if path.suffix == ".json":
        kind = json.loads(path.read_text(encoding="utf-8")).get("kind")
        if kind == "logistic-features":
            return FeatureScorer(path)
        from filters.classifiers.embedding import EmbeddingClassifier

        return EmbeddingClassifier(path, device=device)
    if backend == "fasttext":
        if device == "cuda":
            raise ValueError("the native fastText backend runs on the CPU only (use backend='torch' for cuda)")
        return FastTextClassifier(path, positive_label)
    resolved = resolve_device(device)
    if backend == "torch" or resolved == "cuda":
        if backend == "auto" and load_fasttext(str(path)).is_quantized():
            return FastTextClassifier(path, positive_label)  # .ftz matrices are product-quantized: CPU only
        from filters.classifiers.fasttext_torch import TorchFastTextClassifier

        return TorchFastTextClassifier(path, positive_label, device=resolved)
    return FastTextClassifier(path, positive_label)
