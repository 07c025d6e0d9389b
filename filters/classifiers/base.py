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
import polars as pl

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


def device_name(device: str) -> str:
    """Human-readable name of the device (GPU model, or the CPU brand), for benchmark tables and manifests."""
    if device == "cuda":
        import torch

        return str(torch.cuda.get_device_name(0))
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "cpu"


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

    @abstractmethod
    def score(self, texts: Sequence[str]) -> np.ndarray:
        """Scores of `texts` (float64, higher = better), in input order."""

    def score_batches(self, texts: Iterable[str], batch_size: int | None = None) -> Iterator[np.ndarray]:
        """Scores of a stream of texts, one array per batch, so callers can write results as they go."""
        for batch in chunks(texts, batch_size or self.batch_size):
            yield self.score(batch)

    def score_series(self, texts: pl.Series, name: str = "quality_score") -> pl.Series:
        """Scores of a polars text column as a Float64 column (nulls score as empty text)."""
        values = texts.fill_null("").to_list()
        parts = list(self.score_batches(values))
        scores = np.concatenate(parts) if parts else np.zeros(0)
        return pl.Series(name, scores, dtype=pl.Float64)
