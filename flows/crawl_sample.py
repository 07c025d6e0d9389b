"""crawl-sample: read WARC/WET/JSONL/Parquet inputs into documents shards, one Prefect task per file."""

from __future__ import annotations

import math
import random
from pathlib import Path

from prefect import flow, task

from flows.options import Extractor, Runner
from flows.rundir import RunDir, load_finished, params_digest, shard_key
from flows.runners import run_tasks
from flows.sources.local import expand_inputs
from flows.sources.shards import ReadOptions, merge_accounting, read_into_shard

DEFAULT_OUT = "peakdata-out"


@task(name="read-file", retries=2, retry_delay_seconds=[2, 10])
def read_file(source: str, shard: str, options: ReadOptions, digest: str) -> dict:
    """Read one input file into its documents shard (skipped when already finished)."""
    finished = load_finished(Path(shard), digest)
    if finished is not None:
        return finished | {"reused": True}
    return read_into_shard(source, Path(shard), options, digest)


def draw_local_files(files: list[str], file_fraction: float | None, seed: int) -> list[str]:
    """Uniform sample of ceil(F·N) files without replacement (all files when no fraction is given)."""
    if file_fraction is None or file_fraction == 1:
        return files
    if not 0 < file_fraction < 1:
        raise ValueError("--file-fraction must be in (0, 1]")
    n = max(1, math.ceil(file_fraction * len(files)))
    return sorted(random.Random(seed).sample(files, n))


def local_design(population: list[str], parts: list[dict], seed: int) -> dict:
    """Sampling design of local inputs: one stratum, files drawn uniformly, every record read."""
    sampled = len(parts)
    inclusion = sampled / len(population) if population else 1.0
    stratum = {"format": "mixed", "population_files": len(population), "sampled_files": sampled, "seed": seed}
    files = [
        {"source_file": p["source_file"], "stratum": "local", "inclusion_prob": inclusion, "record_rate": 1.0,
         "records_read": p["records_read"], "records_available": p["records_read"]}
        for p in parts
    ]
    return {"strata": {"local": stratum}, "files": files}


@flow(name="crawl-sample", log_prints=True)
def crawl_sample(
    input: list[str] | None = None,
    out: str = DEFAULT_OUT,
    file_fraction: float | None = None,
    extractor: Extractor = "resiliparse",
    text_field: str = "text",
    crawl_name: str | None = None,
    seed: int = 0,
    workers: int | None = None,
    runner: Runner = "threads",
    dask_address: str | None = None,
) -> dict:
    """Read crawl files (WARC/WET, JSONL, Parquet) into Parquet documents with exact accounting.

    Args:
        input: Files, directories or globs to read (local paths or URLs).
        out: Run directory; documents go to OUT/documents/part-*.parquet.
        file_fraction: Read a seeded uniform sample of this fraction of the input files.
        extractor: HTML to text extractor: resiliparse (fast) or trafilatura (precise).
        text_field: Name of the text field in JSONL/Parquet inputs.
        crawl_name: Crawl name to record for every document (default: from paths or warcinfo).
        seed: Seed of every random choice.
        workers: Parallel workers (default: the number of cores).
        runner: Task runner: threads, processes or dask.
        dask_address: Address of an existing Dask scheduler (with runner=dask).
    """
    run = RunDir(out)
    run.ensure("documents")
    population = expand_inputs(input or [])
    sources = draw_local_files(population, file_fraction, seed)
    options = ReadOptions(extractor=extractor, text_field=text_field, crawl=crawl_name)
    calls = []
    for source in sources:
        shard = run.table("documents") / f"part-{shard_key(source)}.parquet"
        digest = params_digest({"source": source, "options": options.__dict__, "version": 1})
        calls.append({"source": source, "shard": str(shard), "options": options, "digest": digest})
    results = run_tasks(read_file, calls, runner, workers, dask_address)
    parts = sorted((r for r in results if isinstance(r, dict)), key=lambda p: p["source_file"])
    failures = [
        {"source_file": call["source"], "error": f"{type(r).__name__}: {r}"}
        for call, r in zip(calls, results)
        if isinstance(r, BaseException)
    ]
    design = local_design(population, parts, seed)
    return {"counts": merge_accounting(parts), "sampling": design, "shards": parts, "failures": failures}
