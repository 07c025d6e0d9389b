"""One batch of texts → the quality table: datatrove rule signals, script-aware guard features, the scorer's
`quality_score` and the heuristic-chain decision (`heuristic_keep`, `heuristic_reason`) that tiers build on.

Why one function: the flow, the benchmarks and the tests must tier documents the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from filters.classifiers.base import Classifier
from filters.classifiers.features import quality_features
from filters.classifiers.tiers import GUARD_FEATURES, TierThresholds, guard_expr, tier_thresholds, tiers_frame


def annotate_quality(texts: pl.Series | Sequence[str], scorer: Classifier,
                     lang: pl.Series | Sequence[str | None] | None = None) -> pl.DataFrame:
    """Signal columns + `qf_*` guard features + `quality_score` + `heuristic_keep`/`heuristic_reason`
    (+ `lang` when given), one row per text."""
    from filters.signals import compute_signals  # datatrove's word lists: loaded by the stage that uses them

    series = texts if isinstance(texts, pl.Series) else pl.Series("text", list(texts), dtype=pl.String)
    series = series.cast(pl.String).fill_null("")
    features = quality_features(series, extra=True)
    scores = scorer.score_from_features(features) if hasattr(scorer, "score_from_features") else \
        scorer.score(series.to_list())
    table = pl.concat([
        compute_signals(series),
        features.select([pl.col(c).alias(f"qf_{c}") for c in GUARD_FEATURES]),
    ], how="horizontal").with_columns(quality_score=pl.Series(np.asarray(scores, dtype=np.float64)))
    if lang is not None:
        table = table.with_columns(lang=pl.Series(list(lang) if not isinstance(lang, pl.Series) else lang,
                                                  dtype=pl.String))
    return table.with_columns(guard_expr())


def classify_texts(texts: pl.Series | Sequence[str], scorer: Classifier,
                   lang: pl.Series | Sequence[str | None] | None = None,
                   thresholds: TierThresholds | None = None) -> pl.DataFrame:
    """`annotate_quality` plus `tier`, with `thresholds` or the scorer's own calibration (percentiles are taken
    over these texts)."""
    table = annotate_quality(texts, scorer, lang)
    resolved = tier_thresholds(table, thresholds, calibration=getattr(scorer, "calibration", None))
    return tiers_frame(table, resolved)
