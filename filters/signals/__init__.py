"""Per-document quality signals, vectorised over a batch: the signals of datatrove's Gopher quality, Gopher
repetition, C4 and FineWeb filters (with their keep/drop decisions) and compression signals.

`annotate` computes signal columns; `decide` turns stored signal columns into decisions under any thresholds;
`compute_signals` does both with datatrove's defaults. See docs/signals.md.
"""

from __future__ import annotations

import polars as pl

from filters.signals.compression import compression_signals
from filters.signals.heuristics import heuristic_signals
from filters.signals.rules import DEFAULT_THRESHOLDS, RULESETS, decide

__all__ = ["DEFAULT_THRESHOLDS", "RULESETS", "annotate", "compute_signals", "decide"]


def annotate(texts: pl.Series) -> pl.DataFrame:
    """Signal columns only, one row per text (null texts read as empty)."""
    return pl.concat([heuristic_signals(texts), compression_signals(texts)], how="horizontal")


def compute_signals(texts: pl.Series) -> pl.DataFrame:
    """Signal columns plus `<ruleset>_keep` (bool) and `<ruleset>_reason` (str, null when kept) for each rule
    set in RULESETS, under datatrove's default thresholds."""
    signals = annotate(texts)
    return pl.concat([signals, decide(signals)], how="horizontal")
