"""crawl-sample: read crawl files (local, or a Common Crawl sample over fsspec) into Parquet shards.

One Prefect task per file. Documents go to OUT/documents/, WAT metadata rows to OUT/wat/; the sampling
design (files drawn from which population, records kept per file, file sizes) goes to OUT/manifest.json,
written by this flow itself, for the estimators.
"""

from __future__ import annotations

import math
import os
import random
from pathlib import Path
from typing import Literal

from prefect import flow, task

from flows import storage
from flows.lock import holds_run_dir
from flows.options import Extractor, Runner
from flows.rundir import RunDir, load_finished, params_digest, prune, shard_key, write_json
from flows.runners import local_input_bytes, run_tasks
from flows.sources.commoncrawl import DEFAULT_BASE_URL, FileRead, draw_files, read_listing, sampling_manifest
from flows.sources.local import expand_inputs
from flows.sources.shards import ReadOptions, is_wat, merge_accounting, read_into_shard

DEFAULT_OUT = "peakdata-out"
LOCAL_STRATUM = "local"
TAKE_ALL_STRATUM = "local:take-all"  # local files larger than the sampling interval, read with certainty


@task(name="read-file", retries=2, retry_delay_seconds=[2, 10])
def read_file(source: str, shard: str, options: ReadOptions, digest: str) -> dict:
    """Read one input file into its shard (skipped when already finished with the same parameters)."""
    finished = load_finished(shard, digest)
    if finished is not None:
        return finished | {"reused": True}
    return read_into_shard(source, shard, options, digest)


def draw_local_files(files: list[str], n_files: int | None, file_fraction: float | None, seed: int,
                     sizes: dict[str, int] | None = None) -> list[str]:
    """Sample of min(n, ceil(F·N)) local files without replacement (all files by default).

    With every file's size known, files larger than the sampling interval (the bytes left / the draws left) are
    taken with certainty (`take_all_files`) and the rest drawn uniformly: one huge file left out of a sample
    would otherwise decide the estimate and its interval.
    """
    n = len(files)
    if file_fraction is not None:
        if not 0 < file_fraction <= 1:
            raise ValueError("--file-fraction must be in (0, 1]")
        n = min(n, max(1, math.ceil(round(file_fraction * len(files), 9))))
    if n_files is not None:
        n = min(n, n_files)
    if n == len(files):
        return files
    certain = take_all_files(files, sizes, n)
    rest = [f for f in files if f not in certain]
    return sorted(certain | set(random.Random(seed).sample(rest, n - len(certain))))


def take_all_files(files: list[str], sizes: dict[str, int] | None, n: int) -> set[str]:
    """Files at least as large as the sampling interval, largest first, leaving at least one draw for the rest."""
    if not sizes or n >= len(files):
        return set()
    certain: set[str] = set()
    remaining = float(sum(sizes[f] for f in files))
    for f in sorted(files, key=lambda f: (-sizes[f], f)):
        draws_left = n - len(certain)
        if draws_left < 2 or sizes[f] < remaining / draws_left:
            break
        certain.add(f)
        remaining -= sizes[f]
    return certain


MAX_REMOTE_SIZES = 10_000  # input URLs whose sizes are asked for (one listing or HEAD each at most)


def file_sizes(files: list[str]) -> dict[str, int] | None:
    """Size in bytes of every file, or None when one cannot be known (a vanished file, a server without sizes).

    The sizes are the ratio estimator's auxiliary: tokens per byte varies far less between files than tokens per
    file, so the stratum's known total bytes sharpen the estimate (stats/estimators.py). Local files: the file
    system; URLs (object stores, HTTP): the store's listing or a HEAD request, for up to MAX_REMOTE_SIZES files.
    """
    sizes = {}
    if sum(storage.is_url(f) for f in files) > MAX_REMOTE_SIZES:
        return None
    for f in files:
        try:
            if storage.is_url(f):
                fs, path = storage.filesystem(f)
                size = fs.size(path)
            else:
                size = os.stat(f).st_size
        except Exception:  # sizes are optional: without them the estimator is Horvitz-Thompson (any store error)
            return None
        if size is None:
            return None
        sizes[f] = int(size)
    return sizes


def local_design(population: list[str], parts: list[dict], seed: int, certain: set[str] | None = None,
                 sizes: dict[str, int] | None = None) -> dict:
    """Local inputs: the take-all files (a census stratum) and the rest drawn uniformly (stratum `local`).

    Files that failed to open count as non-response. Records each file's size and, when every population
    file's size is known, each stratum's total bytes (the ratio estimator's auxiliary).
    """
    certain = certain or set()
    read = [p for p in parts if not p.get("file_errors")]
    strata: dict[str, dict] = {}
    files: list[dict] = []
    for name, members in ((LOCAL_STRATUM, [f for f in population if f not in certain]),
                          (TAKE_ALL_STRATUM, [f for f in population if f in certain])):
        mine = [p for p in read if (p["source_file"] in certain) == (name == TAKE_ALL_STRATUM)]
        if not members:
            continue
        inclusion = len(mine) / len(members)
        strata[name] = {"format": "mixed", "population_files": len(members), "sampled_files": len(mine),
                        "seed": seed}
        if sizes is not None:
            strata[name]["population_bytes"] = sum(sizes[f] for f in members)
        files += [
            {"source_file": p["source_file"], "stratum": name, "inclusion_prob": inclusion,
             "record_rate": p["records_read"] / p["records_available"] if p.get("records_available") else 1.0,
             "records_read": p["records_read"], "records_available": p.get("records_available", p["records_read"]),
             "bytes": (sizes or {}).get(p["source_file"], p.get("bytes_read"))}
            for p in mine
        ]
    return {"strata": strata, "files": files}


def design_entries(result: dict) -> dict:
    """The manifest entries that carry a crawl-sample's design: counts, sampling and failures.

    crawl-sample writes them to manifest.json itself; quality-audit puts the same entries into its manifest.
    """
    return {"counts": result["counts"], "sampling": result["sampling"], "failures": result["failures"]}


def record_design(run: RunDir, result: dict) -> None:
    """Merge the design entries into the run's manifest.json (other stages' entries are kept) and write it."""
    manifest: dict = {}
    if storage.exists(run.manifest):
        try:
            found = storage.read_json(run.manifest)
            manifest = found if isinstance(found, dict) else {}
        except ValueError:
            manifest = {}  # an unreadable manifest is replaced: the design must be readable
    manifest.setdefault("flow", "crawl-sample")
    write_json(run.manifest, manifest | design_entries(result))


def _merge_designs(local: dict | None, remote: dict | None) -> dict:
    strata, files = {}, []
    for design in (local, remote):
        if design:
            strata |= design["strata"]
            files += design["files"]
    return {"strata": strata, "files": files}


@flow(name="crawl-sample", log_prints=True)
@holds_run_dir
def crawl_sample(
    input: list[str] | None = None,
    out: str = DEFAULT_OUT,
    crawl: list[str] | None = None,
    format: Literal["warc", "wet", "wat"] = "warc",
    files: int | None = None,
    file_fraction: float | None = None,
    records_per_file: int | None = None,
    census: bool = False,
    base_url: str = DEFAULT_BASE_URL,
    listing: str | None = None,
    extractor: Extractor = "resiliparse",
    text_field: str = "text",
    crawl_name: str | None = None,
    seed: int = 0,
    workers: int | None = None,
    runner: Runner = "auto",
    dask_address: str | None = None,
    storage_options: str | None = None,
    wait: bool = False,
) -> dict:
    """Read crawl files (WARC/WET/WAT, JSONL, Parquet) into Parquet shards with exact accounting.

    Args:
        input: Local files, directories or globs (or URLs) to read.
        out: Run directory; documents go to OUT/documents/, WAT metadata to OUT/wat/.
        crawl: Common Crawl snapshot(s) to sample, e.g. CC-MAIN-2025-33 (one stratum each).
        format: Which files of a crawl to read: warc, wet or wat.
        files: Files to draw per crawl (or from the local inputs), uniformly without replacement.
        file_fraction: Fraction of the listing's (or local inputs') files to draw.
        records_per_file: Keep a seeded simple random sample of this many records per file.
        census: Read every file of each --crawl (without it, --crawl needs --files or --file-fraction).
        base_url: Where listings and files are read from (HTTPS mirror, s3://commoncrawl/, a local folder).
        listing: A local listing file (.paths.gz or plain) instead of the one under --base-url.
        extractor: HTML to text extractor: resiliparse (fast) or trafilatura (precise).
        text_field: Name of the text field in JSONL/Parquet inputs.
        crawl_name: Crawl name to record for local inputs (default: from paths or warcinfo).
        seed: Seed of every random choice.
        workers: Parallel workers (default: the number of cores).
        runner: Task runner: auto (worker processes for large GIL-bound stages, else threads), threads,
            processes or dask.
        dask_address: Address of an existing Dask scheduler (with runner=dask).
        storage_options: JSON options of the --out (and input) file system, e.g. '{"endpoint_url": "http://h:9000"}'.
        wait: Wait for another writer of --out to finish instead of refusing to start.
    """
    if not input and not crawl:
        raise ValueError("give --input (local files) or --crawl (a Common Crawl snapshot)")
    if crawl and files is None and file_fraction is None and not census:
        raise ValueError("--crawl without --files or --file-fraction reads every file of the crawl: give a sample "
                         "size, or --census to read them all on purpose")
    run = RunDir(out)
    run.ensure("documents")
    # Absolute paths or URLs before any task is submitted: a Dask worker elsewhere has another working directory.
    population = [s if storage.is_url(s) else storage.absolute(s) for s in expand_inputs(input or [])]
    sizes = file_sizes(population)
    local_sources = draw_local_files(population, files, file_fraction, seed, sizes)
    certain = take_all_files(population, sizes, len(local_sources)) if len(local_sources) < len(population) else set()
    designs, listing_errors = [], {}
    for name in crawl or []:
        listed = read_listing(name, format, base_url, Path(listing) if listing else None)
        for reason, n in listed.rejected.items():
            listing_errors[reason] = listing_errors.get(reason, 0) + n
        designs.append(draw_files(listed, files, file_fraction, seed))
    jobs = [(s, crawl_name) for s in local_sources] + [(f.url, d.crawl) for d in designs for f in d.files]
    calls = []
    for source, crawl_of_source in jobs:
        table = "wat" if is_wat(source) else "documents"
        run.ensure(table)
        options = ReadOptions(extractor=extractor, text_field=text_field, crawl=crawl_of_source,
                              records_per_file=records_per_file, seed=seed)
        digest = params_digest({"source": source, "options": options.__dict__, "version": 3})
        shard = storage.join(run.table(table), f"part-{shard_key(source)}.parquet")
        calls.append({"source": source, "shard": shard, "options": options, "digest": digest})
    for table in ("documents", "wat"):
        prune(run.table(table), {Path(c["shard"]).name for c in calls if Path(c["shard"]).parent.name == table})
    results = run_tasks(read_file, calls, runner, workers, dask_address, gil_bound=True,
                        work_bytes=local_input_bytes([c["source"] for c in calls]))
    parts = sorted((r for r in results if isinstance(r, dict)), key=lambda p: p["source_file"])
    failures = [{"source_file": c["source"], "error": f"{type(r).__name__}: {r}"}
                for c, r in zip(calls, results) if isinstance(r, BaseException)]
    documents = [p for p in parts if not is_wat(p["source_file"])]
    wat = [p for p in parts if is_wat(p["source_file"])]
    local = [p for p in documents + wat if p["source_file"] in set(local_sources)]
    reads = {p["source_file"]: FileRead(p["records_read"], p.get("records_available", p["records_read"]))
             for p in documents + wat if not p.get("file_errors")}
    remote = sampling_manifest(designs, reads) if designs else None
    bytes_read = {p["source_file"]: p.get("bytes_read") for p in parts}
    for entry in (remote or {}).get("files", []):
        entry["bytes"] = bytes_read.get(entry["source_file"])  # bytes read = the file's size when read to its end
    design = _merge_designs(local_design(population, local, seed, certain, sizes) if population else None, remote)
    counts = merge_accounting(documents) | {"listing_errors": listing_errors}
    if wat:
        counts["wat"] = merge_accounting(wat)
    result = {"counts": counts, "sampling": design, "shards": parts, "failures": failures}
    record_design(run, result)  # the design travels with the data: every later stage finds it
    return result
