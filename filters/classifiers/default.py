"""The project's default quality score: a logistic regression over script-aware, bounded document features.

Made by `python tools/build_default_model.py` (see that script for the data, weighting and licences); the
shipped `default_quality_model.json` holds the feature means, scales, coefficients and intercept, the tier
calibration (per-language `high` thresholds) and the agreement table with human labels (the model card). The
score is p(good) on the proxy task — higher is better — and runs on the CPU as NumPy/polars (no model download,
no torch), so it suits every run; CPU and GPU runs give identical scores because it never leaves the CPU.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl

from filters.classifiers.base import Classifier
from filters.classifiers.features import quality_features
from filters.classifiers.linear import LogisticModel
from filters.classifiers.tiers import TierThresholds, calibration_thresholds

DEFAULT_MODEL = Path(__file__).resolve().parent / "default_quality_model.json"


class FeatureScorer(Classifier):
    """p(good) of a `logistic-features` model file over the features of `features.py`."""

    device = "cpu"
    batch_size = 20_000

    def __init__(self, path: str | Path = DEFAULT_MODEL):
        self.path = Path(path)
        spec = json.loads(self.path.read_text(encoding="utf-8"))
        if spec.get("kind") != "logistic-features":
            raise ValueError(f"{self.path} is not a logistic-features model")
        self.features: list[str] = spec["features"]
        self.model = LogisticModel.from_dict(spec)
        self.name = spec.get("name", self.path.stem)
        self.spec = spec
        self.calibration: TierThresholds | None = calibration_thresholds(spec.get("calibration"), self.name)
        self.agreement: dict | None = spec.get("agreement")

    def feature_frame(self, texts: Sequence[str] | pl.Series) -> pl.DataFrame:
        """The model's input features, one row per text."""
        series = texts if isinstance(texts, pl.Series) else pl.Series("text", list(texts), dtype=pl.String)
        return quality_features(series).select(self.features)

    def score(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros(0, dtype=np.float64)
        return self.model.predict_proba(self.feature_frame(texts).to_numpy())

    def score_from_features(self, features: pl.DataFrame) -> np.ndarray:
        """Scores from an already computed `quality_features` frame (the flow computes it once for the guard)."""
        if features.height == 0:
            return np.zeros(0, dtype=np.float64)
        return self.model.predict_proba(features.select(self.features).to_numpy())


@lru_cache(maxsize=1)
def default_scorer() -> FeatureScorer:
    """The default quality scorer (`.score(texts)` → p(good), `.name`), loaded once per process."""
    return FeatureScorer(DEFAULT_MODEL)
