"""tally-stocks: tokens per document, then token stocks by tier × language × crawl with intervals."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from prefect import flow, task

from flows.crawl_sample import DEFAULT_OUT
from flows.options import Runner
from flows.rundir import RunDir, finished_marker, load_finished, params_digest, prune, write_json, write_table
from flows.runners import local_input_bytes, run_tasks
from stats.stocks import build_stocks, write_stocks
from stats.tokens import count_tokens, token_column

BATCH_ROWS = 5000


@task(name="count-tokens", retries=1)
def count_shard_tokens(documents: str, tokens: str, tokenizer: str, digest: str) -> dict:
    """Token count of every document of one shard (skipped when already finished)."""
    finished = load_finished(Path(tokens), digest)
    if finished is not None:
        return finished | {"reused": True}
    column = token_column(tokenizer)
    frames = []
    for batch in pl.read_parquet(documents, columns=["doc_id", "text"]).iter_slices(BATCH_ROWS):
        counts = count_tokens(batch["text"].to_list(), tokenizer)
        frames.append(batch.select("doc_id").with_columns(pl.Series(column, counts, dtype=pl.Int64)))
    frame = pl.concat(frames) if frames else pl.DataFrame(schema={"doc_id": pl.String, column: pl.Int64})
    write_table(Path(tokens), frame.to_arrow())
    result = {"shard": Path(tokens).name, "documents": frame.height, "tokens": int(frame[column].sum()),
              "params_digest": digest}
    write_json(finished_marker(Path(tokens)), result)
    return result


@flow(name="tally-stocks", log_prints=True)
def tally_stocks(
    out: str = DEFAULT_OUT,
    tokenizer: str = "cl100k_base",
    bootstrap: int = 1000,
    seed: int = 0,
    workers: int | None = None,
    runner: Runner = "auto",
    dask_address: str | None = None,
) -> dict:
    """Count tokens and tally stocks; writes OUT/tokens/, OUT/stocks.parquet and OUT/stocks.json.

    Args:
        out: Run directory holding documents/ (and dedup/, tiers/ when those stages ran).
        tokenizer: cl100k_base, o200k_base=PATH, or a .tiktoken / tokenizer.json file.
        bootstrap: Bootstrap replicates over files for the 90% intervals.
        seed: Seed of the bootstrap.
        workers: Parallel workers (default: the number of cores).
        runner: Task runner: auto (worker processes for large GIL-bound stages, else threads), threads,
            processes or dask.
        dask_address: Address of an existing Dask scheduler (with runner=dask).
    """
    run = RunDir(out)
    run.ensure("tokens")
    prune(run.table("tokens"), {shard.name for shard in run.shards("documents")})
    calls = [
        {"documents": str(shard), "tokens": str(run.table("tokens") / shard.name), "tokenizer": tokenizer,
         "digest": params_digest({"tokenizer": tokenizer, "version": 1})}
        for shard in run.shards("documents")
    ]
    results = run_tasks(count_shard_tokens, calls, runner, workers, dask_address, gil_bound=True,
                        work_bytes=local_input_bytes([c["documents"] for c in calls]))
    failures = [{"shard": c["documents"], "error": f"{type(r).__name__}: {r}"}
                for c, r in zip(calls, results) if isinstance(r, BaseException)]
    frame, stocks = build_stocks(Path(out), tokenizer=tokenizer, seed=seed, bootstrap=bootstrap)
    write_stocks(Path(out), frame, stocks)
    return {"stocks": stocks, "failures": failures}
