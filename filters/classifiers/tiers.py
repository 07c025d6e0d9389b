"""high / medium / low tiers from stored `quality_score`s: changing a threshold never re-runs a model.

A document is `high` when `quality_score >= high`, `low` when `quality_score < low`, else `medium`
(a missing score gives a missing tier). Thresholds are fixed numbers or percentiles of the run's own scores:
`high_percentile=90` puts the top 10% in `high` (DCLM keeps the top 10% of its fastText scores);
`low_percentile=50` puts the bottom half in `low`.

Default thresholds (for the default scorer, a probability): `high = 0.9`, `low = 0.5`, chosen on DCLM's 281
human-labelled documents so that each end is about 95% pure there: 122 documents score >= 0.9 (96% of them
good), 98 score < 0.5 (95% of them bad), 61 are medium. Other scorers are on other scales (a fastText
probability, a user's model): pass thresholds or percentiles for them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import polars as pl

DEFAULT_HIGH = 0.9
DEFAULT_LOW = 0.5
TIERS = ("high", "medium", "low")


@dataclass(frozen=True)
class TierThresholds:
    """Thresholds as asked for (numbers or percentiles); `tier_thresholds` resolves them to numbers."""

    high: float | None = None
    low: float | None = None
    high_percentile: float | None = None
    low_percentile: float | None = None

    def __post_init__(self) -> None:
        for p in (self.high_percentile, self.low_percentile):
            if p is not None and not 0 <= p <= 100:
                raise ValueError(f"percentiles are between 0 and 100, got {p}")

    def as_dict(self) -> dict:
        return asdict(self)


def _score_values(scores: pl.LazyFrame | pl.DataFrame | pl.Series | np.ndarray, column: str) -> pl.Series:
    if isinstance(scores, pl.LazyFrame):
        return scores.select(column).collect()[column]
    if isinstance(scores, pl.DataFrame):
        return scores[column]
    return pl.Series(column, np.asarray(scores, dtype=np.float64))


def tier_thresholds(scores: pl.LazyFrame | pl.DataFrame | pl.Series | np.ndarray,
                    spec: TierThresholds | None = None, column: str = "quality_score") -> TierThresholds:
    """`spec` with `high`/`low` filled in: given numbers, percentiles of `scores`, or the defaults.

    The percentiles are kept in the result so a run records how its thresholds were chosen.
    """
    spec = spec or TierThresholds()
    if spec.high is not None and spec.high_percentile is not None:
        raise ValueError("give either a high threshold or a high percentile, not both")
    if spec.low is not None and spec.low_percentile is not None:
        raise ValueError("give either a low threshold or a low percentile, not both")
    high, low = spec.high, spec.low
    if spec.high_percentile is not None or spec.low_percentile is not None:
        values = _score_values(scores, column).drop_nulls().drop_nans()
        if values.is_empty():
            raise ValueError("percentile thresholds need at least one score")
        if spec.high_percentile is not None:
            high = float(values.quantile(spec.high_percentile / 100, interpolation="linear"))
        if spec.low_percentile is not None:
            low = float(values.quantile(spec.low_percentile / 100, interpolation="linear"))
    high = DEFAULT_HIGH if high is None else high
    low = DEFAULT_LOW if low is None else low
    if low > high:
        raise ValueError(f"low threshold {low} is above high threshold {high}")
    return replace(spec, high=high, low=low)


def tier_expr(high: float, low: float, column: str = "quality_score") -> pl.Expr:
    """The tier of each row as a polars expression (String; null where the score is null)."""
    score = pl.col(column)
    return (pl.when(score.is_null() | score.is_nan()).then(pl.lit(None, pl.String))
            .when(score >= high).then(pl.lit("high"))
            .when(score < low).then(pl.lit("low"))
            .otherwise(pl.lit("medium"))
            .alias("tier"))


def assign_tiers(scores: np.ndarray, high: float, low: float) -> np.ndarray:
    """Tier strings for an array of scores (the same rule as `tier_expr`)."""
    frame = pl.DataFrame({"quality_score": np.asarray(scores, dtype=np.float64)})
    return frame.select(tier_expr(high, low))["tier"].to_numpy()


def tiers_frame(frame: pl.DataFrame, thresholds: TierThresholds, column: str = "quality_score") -> pl.DataFrame:
    """`frame` (e.g. doc_id + quality_score) with a `tier` column, from resolved thresholds."""
    if thresholds.high is None or thresholds.low is None:
        thresholds = tier_thresholds(frame, thresholds, column)
    return frame.with_columns(tier_expr(thresholds.high, thresholds.low, column))
