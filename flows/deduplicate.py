"""deduplicate: exact, URL and near-duplicate (MinHash-LSH) clusters over all documents of a run."""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import fields
from pathlib import Path

import polars as pl
from prefect import flow

from filters.dedup import DedupParams, run_dedup
from flows import storage
from flows.crawl_sample import DEFAULT_OUT
from flows.lock import holds_run_dir
from flows.rundir import RunDir, prune, write_table


@flow(name="deduplicate", log_prints=True)
@holds_run_dir
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
    seed: int = 0,
    storage_options: str | None = None,
    wait: bool = False,
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
        storage_options: JSON options of the --out file system, e.g. '{"endpoint_url": "http://h:9000"}'.
        wait: Wait for another writer of --out to finish instead of refusing to start.
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

    def write_part(frame: object, path: Path) -> None:  # every part through the storage layer
        write_table(run.path("dedup", path.name), frame.to_arrow())  # type: ignore[attr-defined]

    run.ensure("dedup")
    with run.local_view({"documents": None}) as view, tempfile.TemporaryDirectory(prefix="peakdata-dedup-") as work:
        if not run.local:  # scratch (signatures, LSH partitions) on this machine, never on the object store
            params = dataclasses.replace(params, work_dir=Path(work))
        local_shards = sorted((view / "documents").glob("part-*.parquet"))
        result = run_dedup(local_shards, view, params, write_part=write_part)
    prune(run.table("dedup"), {storage.name(p) for p in result["outputs"]})
    result["outputs"] = [run.path("dedup", storage.name(p)) for p in result["outputs"]]
    return result


def commit_part(frame: pl.DataFrame, path: Path) -> None:
    """A dedup part committed where run_dedup names it, through the storage layer (for callers other than the
    flow, which maps parts into its run directory)."""
    write_table(str(path), frame.to_arrow())
