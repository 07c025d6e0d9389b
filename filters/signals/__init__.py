"""Per-document quality signals, vectorised over a batch: datatrove's Gopher quality/repetition, C4 and
FineWeb heuristics (with their keep/drop decisions) and compression signals. See docs/readme/signals.md."""

from __future__ import annotations

import polars as pl

from filters.signals.heuristics import heuristic_signals
from filters.signals.rules import DEFAULT_THRESHOLDS, RULESETS, decide

__all__ = ["DEFAULT_THRESHOLDS", "RULESETS", "annotate", "compute_signals", "decide"]


def annotate(texts: pl.Series) -> pl.DataFrame:
    """Signal columns only (no decisions), one row per text."""
    return heuristic_signals(texts)


def compute_signals(texts: pl.Series) -> pl.DataFrame:
    """Signal columns plus `<ruleset>_keep` / `<ruleset>_reason` under datatrove's default thresholds."""
    signals = annotate(texts)
    return pl.concat([signals, decide(signals)], how="horizontal")
