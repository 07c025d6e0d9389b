"""deduplicate: exact, URL and near-duplicate (MinHash-LSH) clusters over all documents of a run."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from prefect import flow

from filters.dedup import DedupParams, run_dedup
from flows.crawl_sample import DEFAULT_OUT
from flows.rundir import RunDir


@flow(name="deduplicate", log_prints=True)
def deduplicate(
    out: str = DEFAULT_OUT,
    exact: bool = True,
    url: bool = True,
    near: bool = True,
    shingle_size: int | None = None,
    num_bands: int | None = None,
    rows_per_band: int | None = None,
    near_threshold: float | None = None,
    lsh_memory_mb: int | None = None,
    seed: int = 1,
) -> dict:
    """Annotate every document with its exact, URL and near-duplicate cluster (nothing is dropped).

    Args:
        out: Run directory holding documents/; writes OUT/dedup/part-*.parquet.
        exact: Cluster documents whose normalised text is identical.
        url: Cluster documents whose normalised URL is identical.
        near: Cluster near-duplicates with MinHash-LSH.
        shingle_size: Words per MinHash shingle (default in DedupParams).
        num_bands: LSH bands (default in DedupParams).
        rows_per_band: Hashes per LSH band (default in DedupParams).
        near_threshold: Estimated Jaccard a candidate pair must reach to be linked (default in DedupParams).
        lsh_memory_mb: Memory budget of the LSH grouping; larger bands are split into ranges.
        seed: Seed of the MinHash permutations.
    """
    run = RunDir(out)
    shards = run.shards("documents")
    if not shards:
        raise FileNotFoundError(f"no documents in {run.table('documents')}: run crawl-sample first")
    chosen = {"exact": exact, "url": url, "near": near, "shingle_size": shingle_size, "num_bands": num_bands,
              "rows_per_band": rows_per_band, "near_threshold": near_threshold, "lsh_memory_mb": lsh_memory_mb,
              "seed": seed}
    known = {f.name for f in fields(DedupParams)}
    params = DedupParams(**{k: v for k, v in chosen.items() if v is not None and k in known})
    return run_dedup(shards, Path(out), params)
