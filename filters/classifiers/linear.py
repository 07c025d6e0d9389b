"""L2-regularised logistic regression in NumPy: the head of the default scorer and of the embedding classifier.

Small, exact and dependency-free (Newton's method on standardised inputs), so the shipped models are a few
numbers in JSON that anyone can read and re-fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class LogisticModel:
    """p(good | x) = sigmoid(((x - mean) / scale) · coef + intercept)."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def decision(self, x: np.ndarray) -> np.ndarray:
        """The linear score (log-odds)."""
        return ((np.asarray(x, dtype=np.float64) - self.mean) / self.scale) @ self.coef + self.intercept

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """The probability of the positive class."""
        return 1.0 / (1.0 + np.exp(-self.decision(x)))

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist(), "coef": self.coef.tolist(),
                "intercept": float(self.intercept)}

    @classmethod
    def from_dict(cls, d: dict) -> LogisticModel:
        return cls(np.asarray(d["mean"], dtype=np.float64), np.asarray(d["scale"], dtype=np.float64),
                   np.asarray(d["coef"], dtype=np.float64), float(d["intercept"]))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, sample_weight: np.ndarray | None = None,
                 standardize: bool = True, max_iter: int = 100, tol: float = 1e-10) -> LogisticModel:
    """Minimise weighted log-loss + l2/2·|coef|² (intercept not penalised) by Newton's method.

    `sample_weight` lets callers balance classes or sources so no single corpus dominates the fit.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    w = w * len(y) / w.sum()
    mean = np.average(x, axis=0, weights=w) if standardize else np.zeros(x.shape[1])
    scale = np.sqrt(np.average((x - mean) ** 2, axis=0, weights=w)) if standardize else np.ones(x.shape[1])
    # A (near-)constant input, e.g. an embedding dimension that is always ~1e-33, is left unscaled: dividing by
    # its spread would turn float noise (or fp16 rounding) into huge standardised values.
    scale = np.where(scale > 1e-6, scale, 1.0)
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    beta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-(z @ beta)))
        grad = z.T @ (w * (p - y)) + penalty * beta
        hess = (z * (w * p * (1 - p))[:, None]).T @ z + np.diag(penalty) + 1e-9 * np.eye(len(beta))
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.max(np.abs(step)) < tol:
            break
    return LogisticModel(mean, scale, beta[:-1], float(beta[-1]))
