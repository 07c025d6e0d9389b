"""Closed forms linking compute, parameters and data (Hoffmann et al. 2022; Muennighoff et al. 2023)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

TOKENS_PER_PARAM = 20.0  # Chinchilla-optimal tokens per parameter (Hoffmann et al. 2022)
FLOP_PER_PARAM_TOKEN = 6.0  # training FLOP per parameter per token
R_STAR = 15.4  # Muennighoff et al. 2023: decay constant of the value of repeated epochs


def chinchilla_tokens(compute: ArrayLike, overtrain: float = 1.0, tokens_per_param: float = TOKENS_PER_PARAM,
                      flop_per_param_token: float = FLOP_PER_PARAM_TOKEN) -> np.ndarray:
    """Training tokens for a compute budget: D = sqrt(20k * C / 6) = sqrt(k) * 20 * sqrt(C / 120).

    k-fold overtraining (k * 20 tokens per parameter) at fixed compute uses sqrt(k) times more data.
    """
    c = np.asarray(compute, dtype=np.float64)
    return np.sqrt(tokens_per_param * overtrain * c / flop_per_param_token)


def chinchilla_compute(tokens: ArrayLike, overtrain: float = 1.0, tokens_per_param: float = TOKENS_PER_PARAM,
                       flop_per_param_token: float = FLOP_PER_PARAM_TOKEN) -> np.ndarray:
    """Inverse of `chinchilla_tokens`: the compute at which a run would use `tokens`: C = 6 D^2 / (20k)."""
    d = np.asarray(tokens, dtype=np.float64)
    return flop_per_param_token * d**2 / (tokens_per_param * overtrain)


def muennighoff_multiplier(epochs: ArrayLike, r_star: float = R_STAR) -> np.ndarray:
    """Effective data per unique token when training `epochs` passes: D'/U = 1 + R* (1 - exp(-R/R*)), R = epochs - 1.

    Saturates at 1 + R* (about 16x); up to ~4 epochs it is close to the epoch count.
    """
    e = np.asarray(epochs, dtype=np.float64)
    if np.any(e < 1):
        raise ValueError("epochs must be >= 1")
    return 1.0 + r_star * (1.0 - np.exp(-(e - 1.0) / r_star))


def muennighoff_effective(unique_tokens: ArrayLike, epochs: ArrayLike, r_star: float = R_STAR) -> np.ndarray:
    """D' = U + U R* (1 - exp(-R/R*)): the unique-data-equivalent of repeating U tokens for `epochs` passes."""
    return np.asarray(unique_tokens, dtype=np.float64) * muennighoff_multiplier(epochs, r_star)
