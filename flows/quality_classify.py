"""quality-classify: quality signals, the heuristic-chain decision and a quality score per document (annotate),
then tiers (decide): low = fails the chain, medium = passes it, high = passes it and reaches the scorer's
calibrated threshold for the document's language (docs/classifiers.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl
from prefect import flow, task

from filters.classifiers import load_scorer
from filters.classifiers.quality import annotate_quality
from filters.classifiers.tiers import TierThresholds, tier_thresholds, tiers_frame
from flows import storage
from flows.crawl_sample import DEFAULT_OUT
from flows.lock import holds_run_dir
from flows.options import Device, Runner
from flows.rundir import (
    RunDir,
    ShardWriter,
    finished_marker,
    load_finished,
    params_digest,
    prune,
    write_json,
    write_table,
)
from flows.runners import run_tasks
from stats.stocks import QUALITY_FILE

BATCH_ROWS = 2000


@task(name="score-shard", retries=1)
def score_shard(documents: str, quality: str, scorer_spec: dict, digest: str) -> dict:
    """Signals and quality_score of one documents shard (skipped when already finished)."""
    finished = load_finished(quality, digest)
    if finished is not None:
        return finished | {"reused": True}
    scorer = load_scorer(**scorer_spec)
    writer = None
    rows = 0
    with storage.open_read(documents) as f:  # a path or a URL of the run directory's storage
        texts = pl.read_parquet(f)
    names = [c for c in ("doc_id", "text", "lang") if c in texts.columns]
    for batch in texts.select(names).iter_slices(BATCH_ROWS):
        # signals, guard features, quality_score, heuristic_keep/_reason (and lang): filters/classifiers/quality.py
        annotated = annotate_quality(batch["text"], scorer, batch["lang"] if "lang" in names else None)
        table = pl.concat([batch.select("doc_id"), annotated], how="horizontal").to_arrow()
        writer = writer or ShardWriter(quality, table.schema)
        writer.write(table)
        rows += table.num_rows
    if writer is None:  # an empty documents shard still gets an empty quality shard, with every column
        none = pl.Series("text", [], dtype=pl.String)
        empty = annotate_quality(none, scorer, none.alias("lang") if "lang" in names else None)
        ids = pl.DataFrame(schema={"doc_id": pl.String})
        write_table(quality, pl.concat([ids, empty], how="horizontal").to_arrow())
    else:
        writer.commit()
    result = {"shard": storage.name(quality), "documents": rows, "scorer": scorer.name, "device": scorer.device,
              "lang": "lang" in names, "params_digest": digest}
    write_json(finished_marker(quality), result)
    return result


def _scan(locations: list[str], columns: list[str]) -> pl.LazyFrame:
    """Columns of Parquet files that are local paths or URLs (read through the storage layer)."""
    if all(not storage.is_url(loc) for loc in locations):
        return pl.scan_parquet(locations).select(columns)
    frames = []
    for location in locations:
        with storage.open_read(location) as f:
            frames.append(pl.read_parquet(f, columns=columns))
    return pl.concat(frames).lazy()


def _file_identity(path: Path | None) -> str | None:
    """Size and modification time of a model file: a retrained model invalidates stored scores."""
    if path is None:
        return None
    stat = path.stat()
    return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def quality_record(scorer: str, identity: dict, thresholds: dict, given: dict, agreement: dict | None,
                   shards: int, failed: int) -> dict:
    """quality.json: what made the tiers, so that tally-stocks run alone can turn them into judged-good tokens.

    The agreement table was measured with the tiers of the scorer's own calibration; tiers cut at other
    thresholds (given numbers or percentiles) are other tiers, and the table does not apply to them.
    """
    asked = {k: v for k, v in given.items() if v is not None}
    reason = None
    if not agreement:
        reason = f"no human labels: the scorer {scorer!r} has no agreement table in its model card"
    elif asked:
        reason = (f"the tiers use thresholds other than the scorer's calibration ({', '.join(sorted(asked))} given), "
                  "and its agreement table was measured with the calibrated tiers")
    return {"written_by": "quality-classify", "scorer": scorer, "model": identity.get("model"),
            "positive_label": identity.get("positive_label"), "thresholds": thresholds,
            "thresholds_given": asked, "agreement": agreement, "agreement_applies": reason is None,
            "agreement_reason": reason, "shards": {"scored": shards, "failed": failed, "unit": "shards"}}


@flow(name="quality-classify", log_prints=True)
@holds_run_dir
def quality_classify(
    out: str = DEFAULT_OUT,
    classifier: str | None = None,
    device: Device = "auto",
    backend: Literal["auto", "fasttext", "torch"] = "auto",
    positive_label: str | None = None,
    high_threshold: float | None = None,
    low_threshold: float | None = None,
    high_percentile: float | None = None,
    low_percentile: float | None = None,
    per_language: bool = True,
    workers: int | None = None,
    runner: Runner = "auto",
    dask_address: str | None = None,
    storage_options: str | None = None,
    wait: bool = False,
) -> dict:
    """Score every document (signals as columns + quality_score) and assign high/medium/low tiers.

    Args:
        out: Run directory holding documents/; writes OUT/quality/ and OUT/tiers/.
        classifier: Scorer: default, embedding (MiniLM + shipped head), embedding:HEAD.json, or a fastText
            .bin/.ftz model such as DCLM's.
        device: Where classifiers run: auto (GPU when present), cpu or cuda.
        backend: fastText backend: auto (PyTorch on a GPU, native on the CPU), fasttext or torch.
        positive_label: The fastText label meaning good quality (auto-detected, e.g. __label__hq).
        high_threshold: quality_score at or above which a document that passes the heuristic chain is high
            (default: the scorer's calibration in its model card; required for a scorer without one).
        low_threshold: quality_score below which a document is low even when it passes the chain.
        high_percentile: Instead of high_threshold: the top (100 - P)% of scores are high.
        low_percentile: Instead of low_threshold: the bottom P% of scores are low.
        per_language: Take percentiles within each language (lang column) rather than over the whole run.
        workers: Parallel workers (default: the number of cores).
        runner: Task runner: auto (worker processes for large GIL-bound stages, else threads), threads,
            processes or dask.
        dask_address: Address of an existing Dask scheduler (with runner=dask).
        storage_options: JSON options of the --out file system, e.g. '{"endpoint_url": "http://h:9000"}'.
        wait: Wait for another writer of --out to finish instead of refusing to start.
    """
    run = RunDir(out)
    run.ensure("quality", "tiers")
    documents = run.shards("documents")
    if not documents:
        raise FileNotFoundError(f"no documents in {run.table('documents')}: run crawl-sample first")
    spec = {"spec": classifier, "device": device, "backend": backend, "positive_label": positive_label}
    # The scorer's name and the model file's identity decide whether stored scores may be reused.
    model = Path(classifier) if classifier and Path(classifier).is_file() else None
    scorer = load_scorer(**spec)
    identity = {"scorer": scorer.name, "model": _file_identity(model), "positive_label": positive_label,
                "version": 2}
    for table in ("quality", "tiers"):
        prune(run.table(table), {storage.name(shard) for shard in documents})
    calls = []
    for shard in documents:
        calls.append({"documents": shard, "quality": storage.join(run.table("quality"), storage.name(shard)),
                      "scorer_spec": spec, "digest": params_digest(identity)})
    results = run_tasks(score_shard, calls, runner, workers, dask_address)
    failures = [{"shard": c["documents"], "error": f"{type(r).__name__}: {r}"}
                for c, r in zip(calls, results) if isinstance(r, BaseException)]
    scored = [r for r in results if isinstance(r, dict)]
    if not scored:
        return {"shards": scored, "failures": failures, "thresholds": None, "scorer": None, "device": None}
    columns = ["doc_id", "quality_score", "heuristic_keep", "heuristic_reason"]
    columns += ["lang"] if all(r.get("lang") for r in scored) else []
    # thresholds belong to the scorer: given numbers or percentiles (within language), else its model card's
    # calibration; a scorer with neither is a plain error (filters/classifiers/tiers.py)
    thresholds = tier_thresholds(
        _scan([run.path("quality", r["shard"]) for r in scored], columns[1:]),
        TierThresholds(high=high_threshold, low=low_threshold, high_percentile=high_percentile,
                       low_percentile=low_percentile),
        calibration=scorer.calibration, per_language=per_language,
    )
    for r in scored:
        frame = _scan([run.path("quality", r["shard"])], columns).collect()
        write_table(run.path("tiers", r["shard"]), tiers_frame(frame, thresholds).to_arrow())
    given = {"high_threshold": high_threshold, "low_threshold": low_threshold, "high_percentile": high_percentile,
             "low_percentile": low_percentile}
    write_json(run.path(QUALITY_FILE), quality_record(scorer.name, identity, thresholds.as_dict(), given,
                                                      scorer.agreement, len(scored), len(failures)))
    return {"shards": scored, "failures": failures, "thresholds": thresholds.as_dict(),
            "scorer": scored[0]["scorer"], "device": scored[0]["device"], "agreement": scorer.agreement}
