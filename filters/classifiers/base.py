"""The classifier interface every quality scorer implements, and the `--device auto|cpu|cuda` rule.

torch is an optional extra (`peakdata[gpu]`): nothing here imports it at module load, so the package and
the native fastText path work without it.
"""

from __future__ import annotations

import importlib.util
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice

import numpy as np

DEVICES = ("auto", "cpu", "cuda")


def torch_available() -> bool:
    """Whether torch can be imported (without importing it)."""
    return importlib.util.find_spec("torch") is not None


def cuda_available() -> bool:
    """Whether torch is installed and sees a CUDA device."""
    if not torch_available():
        return False
    import torch

    return bool(torch.cuda.is_available())


def resolve_device(device: str = "auto") -> str:
    """`auto` → `cuda` when torch sees a GPU, else `cpu`; `cuda` without one is an error, not a silent fallback."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    if device == "auto":
        return "cuda" if cuda_available() else "cpu"
    if device == "cuda" and not cuda_available():
        reason = "torch is not installed (pip install 'peakdata[gpu]')" if not torch_available() else \
            "torch sees no CUDA device"
        raise RuntimeError(f"device 'cuda' requested but {reason}")
    return device


def chunks(texts: Iterable[str], size: int) -> Iterator[list[str]]:
    """Consecutive lists of at most `size` texts; batching bounds memory on crawl-size inputs."""
    it = iter(texts)
    while batch := list(islice(it, size)):
        yield batch


class Classifier(ABC):
    """A quality scorer: `score` returns one float per text, higher = better quality."""

    name: str = "classifier"
    device: str = "cpu"
    batch_size: int = 1024
    # Tier thresholds for this scorer's scale (a `tiers.TierThresholds`) and its agreement table with human
    # labels (see stats/misclassification.py), read from its model card; None when the card has none.
    calibration = None
    agreement: dict | None = None

    @abstractmethod
    def score(self, texts: Sequence[str]) -> np.ndarray:
        """Scores of `texts` (float64, higher = better), in input order."""

    def score_batches(self, texts: Iterable[str], batch_size: int | None = None) -> Iterator[np.ndarray]:
        """Scores of a stream of texts, one array per batch, so callers can write results as they go."""
        for batch in chunks(texts, batch_size or self.batch_size):
            yield self.score(batch)

