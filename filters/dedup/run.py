"""`run_dedup`: exact, URL and near-duplicate clusters over document shards, written to `out_dir/dedup/`.

One streaming pass reads the shards in batches and hashes them (text hash, URL hash, MinHash signature to a
scratch file, LSH band buckets to Parquet partitions). Clustering then works on partitions and on small
per-document arrays, so texts and signatures are never all in memory at once.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from filters.dedup.components import flatten, union_edges
from filters.dedup.lsh import BucketWriter, candidate_edges, num_ranges
from filters.dedup.minhash import band_keys, compute_signatures
from filters.dedup.normalize import exact_text_expr, hash_texts, url_key_expr
from filters.dedup.params import DedupParams

KINDS = ("exact", "url", "near")
_VERIFY_EDGES = 1 << 16  # candidate pairs compared at a time (2 x 448 bytes each with 112 hashes)
_INPUT_SCHEMA = {
    "doc_id": pl.String,
    "url": pl.String,
    "crawl": pl.String,
    "fetch_date": pl.Datetime("us", "UTC"),
    "text": pl.String,
    "n_bytes": pl.Int64,
}
OUTPUT_SCHEMA = {
    "doc_id": pl.String,
    "text_hash": pl.UInt64,
    "exact_cluster": pl.String,
    "is_exact_duplicate": pl.Boolean,
    "url_cluster": pl.String,
    "is_url_duplicate": pl.Boolean,
    "near_cluster": pl.String,
    "is_near_duplicate": pl.Boolean,
    "dup_cluster": pl.String,
    "is_duplicate": pl.Boolean,
    "first_crawl": pl.String,
    "seen_in_earlier_crawl": pl.Boolean,
}


def _batches(shard: Path, batch_size: int) -> Iterator[pl.DataFrame]:
    """Batches of the columns dedup needs; optional columns absent from the shard come back as nulls."""
    pf = pq.ParquetFile(shard)
    present = [c for c in _INPUT_SCHEMA if c in pf.schema_arrow.names]
    for batch in pf.iter_batches(batch_size=batch_size, columns=present):
        df = pl.from_arrow(batch)
        assert isinstance(df, pl.DataFrame)
        missing = [pl.lit(None, dtype).alias(c) for c, dtype in _INPUT_SCHEMA.items() if c not in present]
        df = df.with_columns(missing).with_columns(pl.col("text").fill_null(""))
        if "n_bytes" not in present:
            df = df.with_columns(n_bytes=pl.col("text").str.len_bytes().cast(pl.Int64))
        yield df.select([pl.col(c).cast(t) for c, t in _INPUT_SCHEMA.items()])


def _hash_or_null(keys: pl.Series) -> pl.Series:
    """xxh3 of each key, null where the key is null."""
    hashes = pl.Series(keys.name, hash_texts(keys.fill_null("")), dtype=pl.UInt64)
    return pl.select(pl.when(keys.is_not_null()).then(hashes)).to_series()


def _group_roots(keys: pl.Series, rank: np.ndarray) -> np.ndarray:
    """Per document, the best rank among documents with the same key (its own rank when the key is null)."""
    df = pl.DataFrame({"k": keys, "r": rank})
    root = pl.when(pl.col("k").is_null()).then(pl.col("r")).otherwise(pl.col("r").min().over("k"))
    return df.select(root).to_series().to_numpy()


def _verified(sigs: np.ndarray, a: np.ndarray, b: np.ndarray, threshold: float) -> np.ndarray:
    """Mask of pairs whose signatures agree on at least `threshold` of their hashes (estimated Jaccard)."""
    keep = np.zeros(a.size, dtype=bool)
    for lo in range(0, a.size, _VERIFY_EDGES):
        sl = slice(lo, lo + _VERIFY_EDGES)
        keep[sl] = (sigs[a[sl]] == sigs[b[sl]]).mean(axis=1) >= threshold
    return keep


def _kind_stats(roots: np.ndarray, n_bytes: np.ndarray, rank: np.ndarray) -> dict:
    """Documents, clusters (singletons included), clusters with 2+ documents, duplicates and their bytes."""
    dup = roots != rank
    sizes = np.bincount(roots, minlength=rank.size)
    return {
        "documents": int(rank.size),
        "clusters": int(np.count_nonzero(sizes)),
        "duplicate_clusters": int(np.count_nonzero(sizes > 1)),
        "duplicates": int(dup.sum()),
        "duplicate_bytes": int(n_bytes[dup].sum()),
    }


def _crawl_overlap(crawl: pl.Series, roots: np.ndarray, dup: np.ndarray, n_bytes: np.ndarray) -> tuple[
        list[dict], pl.Series, np.ndarray]:  # fmt: skip
    """Per crawl (by name, i.e. chronologically for CC-MAIN-YYYY-WW): share of documents and bytes whose
    duplicate cluster already has a document in an earlier crawl. Also returns each document's first crawl
    and whether it was seen earlier."""
    names = sorted(crawl.drop_nulls().unique().to_list())
    code = crawl.replace_strict(names, list(range(len(names))), default=len(names), return_dtype=pl.Int32)
    first = pl.DataFrame({"c": code, "r": roots}).select(pl.col("c").min().over("r")).to_series().to_numpy()
    code_np = code.to_numpy()
    seen = (code_np < len(names)) & (first < code_np)
    first_crawl = pl.Series("first_crawl", names + [None], dtype=pl.String).gather(first)
    rows = []
    for i, name in enumerate(names):
        sel = code_np == i
        docs, total = int(sel.sum()), int(n_bytes[sel].sum())
        seen_docs, seen_bytes = int((sel & seen).sum()), int(n_bytes[sel & seen].sum())
        rows.append({
            "crawl": name,
            "documents": docs,
            "bytes": total,
            "seen_documents": seen_docs,
            "seen_bytes": seen_bytes,
            "share_documents_seen": seen_docs / docs if docs else 0.0,
            "share_bytes_seen": seen_bytes / total if total else 0.0,
            "duplicates_within_crawl": int((sel & dup & ~seen).sum()),
        })  # fmt: skip
    return rows, first_crawl, seen


def _nulls(n: int) -> pl.Series:
    """A column for a disabled kind: null says "not computed", unlike false ("not a duplicate")."""
    return pl.repeat(None, n, dtype=pl.Null, eager=True)


def _write_atomic(df: pl.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    df.write_parquet(tmp, compression="zstd")
    os.replace(tmp, path)


def run_dedup(document_shards: list[Path], out_dir: Path, params: DedupParams | None = None) -> dict:
    """Annotate every document with its exact, URL, near and combined duplicate cluster.

    Writes `out_dir/dedup/part-NNNNN.parquet`, one per input shard in the same row order (schema:
    `OUTPUT_SCHEMA`); returns counts per kind, LSH statistics and the cross-crawl overlap. Each cluster is a
    connected component; its representative (the one document with `is_*duplicate` false, whose doc_id is the
    cluster id) is the first by: earliest crawl, earliest fetch_date, most bytes, smallest doc_id. The
    combined `dup_cluster` is the connected component over the union of every enabled kind's clusters.
    """
    p = params or DedupParams()
    shards = [Path(s) for s in document_shards]
    dedup_dir = Path(out_dir) / "dedup"
    dedup_dir.mkdir(parents=True, exist_ok=True)
    scratch_root = Path(p.work_dir) if p.work_dir else dedup_dir
    scratch_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".work-", dir=scratch_root))
    timings: dict[str, float] = {}
    try:
        t0 = time.perf_counter()
        n_total = sum(pq.ParquetFile(s).metadata.num_rows for s in shards)
        if n_total >= 2**32:
            raise ValueError("run_dedup handles fewer than 2^32 documents per run")
        ranges = num_ranges(n_total, p.lsh_memory_mb)
        writer = BucketWriter(work / "lsh", p.num_bands, ranges)
        frames, text_hashes, url_keys, shard_rows = [], [], [], []
        with_sig = start = 0
        with open(work / "signatures.u32", "wb") as sig_file:
            for shard in shards:
                rows = 0
                for df in _batches(shard, p.batch_size):
                    frames.append(df.select("doc_id", "crawl", "fetch_date", "n_bytes"))
                    rows += df.height
                    if p.exact:
                        text_hashes.append(hash_texts(df.select(exact_text_expr(pl.col("text"), p)).to_series()))
                    if p.url:
                        url_keys.append(_hash_or_null(df.select(url_key_expr(pl.col("url"), p)).to_series()))
                    if p.near:
                        sig, has = compute_signatures(df["text"], p)
                        sig_file.write(sig.tobytes())
                        writer.add(band_keys(sig[has], p.num_bands, p.rows_per_band), start + np.flatnonzero(has))
                        with_sig += int(has.sum())
                    start += df.height
                shard_rows.append(rows)
        timings["read_and_hash"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        meta = pl.concat(frames) if frames else pl.DataFrame(schema={c: _INPUT_SCHEMA[c] for c in
                                                                     ("doc_id", "crawl", "fetch_date", "n_bytes")})
        del frames
        n = meta.height
        order = (
            meta.with_row_index("i")
            .sort(["crawl", "fetch_date", "n_bytes", "doc_id"], descending=[False, False, True, False],
                  nulls_last=True)["i"]
            .to_numpy()
            .astype(np.int64)
        )  # fmt: skip
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
        n_bytes = meta["n_bytes"].fill_null(0).to_numpy()
        roots: dict[str, np.ndarray] = {}
        if p.exact:
            roots["exact"] = _group_roots(pl.Series(np.concatenate(text_hashes or [np.zeros(0, np.uint64)])), rank)
        if p.url:
            roots["url"] = _group_roots(pl.concat(url_keys) if url_keys else pl.Series([], dtype=pl.UInt64), rank)
        near_stats: dict = {}
        if p.near:
            parent = np.arange(n, dtype=np.int64)
            candidates = verified = 0
            sigs = (
                np.memmap(work / "signatures.u32", dtype=np.uint32, mode="r", shape=(n, p.num_hashes))
                if n
                else np.zeros((0, p.num_hashes), np.uint32)
            )
            for partition in writer.partitions():
                u, v = candidate_edges(partition, rank)
                candidates += u.size
                if p.near_threshold is not None and u.size:
                    keep = _verified(sigs, order[u], order[v], p.near_threshold)
                    u, v = u[keep], v[keep]
                verified += u.size
                union_edges(parent, u, v)
            del sigs
            roots["near"] = flatten(parent)[rank]
            near_stats = {
                "documents_with_signature": with_sig,
                "candidate_edges": candidates,
                "verified_edges": verified,
                "lsh_ranges_per_band": ranges,
                "lsh_threshold": round(p.lsh_threshold, 4),
            }
        parent = np.arange(n, dtype=np.int64)
        for kind_roots in roots.values():
            union_edges(parent, rank, kind_roots)
        roots["all"] = flatten(parent)[rank]
        is_dup = roots["all"] != rank
        overlap, first_crawl, seen = _crawl_overlap(meta["crawl"], roots["all"], is_dup, n_bytes)
        timings["cluster"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        ids_by_rank = meta["doc_id"].gather(order)
        cols: dict[str, pl.Series] = {"doc_id": meta["doc_id"]}
        cols["text_hash"] = pl.Series(np.concatenate(text_hashes)) if p.exact and n else _nulls(n)
        for kind, cluster_col, flag_col in (("exact", "exact_cluster", "is_exact_duplicate"),
                                            ("url", "url_cluster", "is_url_duplicate"),
                                            ("near", "near_cluster", "is_near_duplicate"),
                                            ("all", "dup_cluster", "is_duplicate")):  # fmt: skip
            if kind in roots:
                cols[cluster_col] = ids_by_rank.gather(roots[kind])
                cols[flag_col] = pl.Series(roots[kind] != rank)
            else:
                cols[cluster_col] = cols[flag_col] = _nulls(n)
        cols["first_crawl"] = first_crawl
        cols["seen_in_earlier_crawl"] = pl.Series(seen)
        out = pl.DataFrame([s.alias(c).cast(OUTPUT_SCHEMA[c]) for c, s in cols.items()])
        written = []
        lo = 0
        for i, rows in enumerate(shard_rows):
            path = dedup_dir / f"part-{i:05d}.parquet"
            _write_atomic(out.slice(lo, rows), path)
            written.append(path)
            lo += rows
        for stale in set(dedup_dir.glob("part-*.parquet")) - set(written):
            stale.unlink()
        timings["write"] = time.perf_counter() - t0
    finally:
        shutil.rmtree(work, ignore_errors=True)

    kinds = {k: _kind_stats(r, n_bytes, rank) for k, r in roots.items()}
    return {
        "documents": n,
        "bytes": int(n_bytes.sum()),
        "kinds": kinds,
        "near": near_stats,
        "crawl_overlap": overlap,
        "representative_rule": "earliest crawl, earliest fetch_date, most bytes, smallest doc_id",
        "params": p.to_dict(),
        "outputs": [str(w) for w in written],
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }
