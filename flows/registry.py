"""The flows users can run by name, imported on demand so `flows list` stays fast."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prefect import Flow

FLOWS: dict[str, tuple[str, str, str]] = {
    # name: (module, attribute, one-line description)
    "crawl-sample": ("flows.crawl_sample", "crawl_sample",
                     "Read WARC/WET/JSONL/Parquet (local or Common Crawl) into Parquet documents"),
    "deduplicate": ("flows.deduplicate", "deduplicate", "Exact, URL and MinHash near-duplicate clusters"),
    "quality-classify": ("flows.quality_classify", "quality_classify",
                         "Quality signals, quality_score and high/medium/low tiers per document"),
    "tally-stocks": ("flows.tally_stocks", "tally_stocks", "Token counts and token stocks with 90% intervals"),
    "forecast": ("flows.forecast", "forecast", "Monte Carlo depletion forecast per quality tier"),
    "report": ("flows.report", "report", "Self-contained Plotly HTML report of a run directory"),
    "quality-audit": ("flows.quality_audit", "quality_audit",
                      "All of the above, end to end, with manifest.json (demo crawl without --input)"),
    "train-classifier": ("flows.train_classifier", "train_classifier",
                         "Train a fastText quality classifier from positive/negative text"),
    "audit-latest-crawl": ("flows.deployments", "audit_latest_crawl",
                           "quality-audit of the newest Common Crawl snapshot into RUNS/<crawl>/"),
}


def load_flow(name: str) -> Flow:
    """Import and return the flow registered under `name`."""
    module, attribute, _ = FLOWS[name]
    return getattr(importlib.import_module(module), attribute)
