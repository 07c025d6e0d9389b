"""tally-stocks: tokens per document, then token stocks by tier × language × crawl with intervals."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from prefect import flow, task

from flows import storage
from flows.crawl_sample import DEFAULT_OUT
from flows.lock import holds_run_dir
from flows.options import Runner
from flows.rundir import RunDir, finished_marker, load_finished, params_digest, prune, write_json, write_table
from flows.runners import local_input_bytes, run_tasks
from stats.stocks import QUALITY_FILE, REPLICATES_FILE, build_stock_tables
from stats.tokens import count_tokens, token_column

BATCH_ROWS = 5000
STOCK_COLUMNS = {"documents": ["doc_id", "source_file", "crawl", "lang", "tld", "n_bytes"], "tokens": None,
                 "tiers": None, "dedup": None}
"""What build_stock_tables reads of each table (None: every column)."""


@task(name="count-tokens", retries=1)
def count_shard_tokens(documents: str, tokens: str, tokenizer: str, digest: str) -> dict:
    """Token count of every document of one shard (skipped when already finished)."""
    finished = load_finished(tokens, digest)
    if finished is not None:
        return finished | {"reused": True}
    column = token_column(tokenizer)
    frames = []
    with storage.open_read(documents) as f:  # a path or a URL of the run directory's storage
        texts = pl.read_parquet(f, columns=["doc_id", "text"])
    for batch in texts.iter_slices(BATCH_ROWS):
        counts = count_tokens(batch["text"].to_list(), tokenizer)
        frames.append(batch.select("doc_id").with_columns(pl.Series(column, counts, dtype=pl.Int64)))
    frame = pl.concat(frames) if frames else pl.DataFrame(schema={"doc_id": pl.String, column: pl.Int64})
    write_table(tokens, frame.to_arrow())
    result = {"shard": storage.name(tokens), "documents": frame.height, "tokens": int(frame[column].sum()),
              "params_digest": digest}
    write_json(finished_marker(tokens), result)
    return result


@flow(name="tally-stocks", log_prints=True)
@holds_run_dir
def tally_stocks(
    out: str = DEFAULT_OUT,
    tokenizer: str = "cl100k_base",
    bootstrap: int = 1000,
    seed: int = 0,
    workers: int | None = None,
    runner: Runner = "auto",
    dask_address: str | None = None,
    storage_options: str | None = None,
    wait: bool = False,
) -> dict:
    """Count tokens and tally stocks; writes OUT/tokens/, stocks.parquet, stock_replicates.parquet, stocks.json.

    Refuses (ValueError, in plain words) the documents of a sampled crawl whose design manifest.json lacks.

    Args:
        out: Run directory holding documents/ (and dedup/, tiers/ when those stages ran).
        tokenizer: cl100k_base, o200k_base=PATH, or a .tiktoken / tokenizer.json file.
        bootstrap: Bootstrap replicates over files for the 90% intervals.
        seed: Seed of the bootstrap.
        workers: Parallel workers (default: the number of cores).
        runner: Task runner: auto (worker processes for large GIL-bound stages, else threads), threads,
            processes or dask.
        dask_address: Address of an existing Dask scheduler (with runner=dask).
        storage_options: JSON options of the --out file system, e.g. '{"endpoint_url": "http://h:9000"}'.
        wait: Wait for another writer of --out to finish instead of refusing to start.
    """
    run = RunDir(out)
    run.ensure("tokens")
    prune(run.table("tokens"), {storage.name(shard) for shard in run.shards("documents")})
    calls = [
        {"documents": shard, "tokens": run.path("tokens", storage.name(shard)), "tokenizer": tokenizer,
         "digest": params_digest({"tokenizer": tokenizer, "version": 1})}
        for shard in run.shards("documents")
    ]
    results = run_tasks(count_shard_tokens, calls, runner, workers, dask_address, gil_bound=True,
                        work_bytes=local_input_bytes([c["documents"] for c in calls]))
    failures = [{"shard": c["documents"], "error": f"{type(r).__name__}: {r}"}
                for c, r in zip(calls, results) if isinstance(r, BaseException)]
    # Whole-run estimation reads narrow columns; an object-store run is staged to this machine for it.
    with run.local_view(STOCK_COLUMNS, files=("manifest.json", QUALITY_FILE)) as view:
        frame, stocks, replicates = build_stock_tables(view, tokenizer=tokenizer, seed=seed, bootstrap=bootstrap)
    write_stock_outputs(run.root, frame, stocks, replicates)
    return {"stocks": stocks, "failures": failures}


def write_stock_outputs(out: str | Path, frame: pl.DataFrame, stocks: dict,
                        replicates: pl.DataFrame | None = None) -> tuple[str, str]:
    """stocks.parquet, stock_replicates.parquet and stocks.json of a run directory (a path or URL), each committed
    through the storage layer; stocks.json last, as it names the replicates file. Returns the first and last."""
    run = RunDir(out)
    write_table(run.path("stocks.parquet"), frame.to_arrow())
    if replicates is not None:
        write_table(run.path(REPLICATES_FILE), replicates.to_arrow())
    storage.write_text(run.path("stocks.json"), json.dumps(stocks, indent=2, allow_nan=False) + "\n")
    return run.path("stocks.parquet"), run.path("stocks.json")
