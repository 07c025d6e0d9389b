"""Deduplication: exact (normalised text hash), URL (normalised URL) and near (MinHash-LSH) clusters.

Entry point: `run_dedup(document_shards, out_dir, params, write_part=...)`; parameters and defaults: `DedupParams`.
User documentation: docs/dedup.md.
"""

from filters.dedup.params import DedupParams
from filters.dedup.run import OUTPUT_SCHEMA, run_dedup

__all__ = ["OUTPUT_SCHEMA", "DedupParams", "run_dedup"]
