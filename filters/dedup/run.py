"""`run_dedup`: exact, URL and near-duplicate clusters over document shards, written to `out_dir/dedup/`.

One streaming pass reads the shards in batches and hashes them (text hash, URL hash, MinHash signature to a
scratch file, LSH band buckets to Parquet partitions). Clustering then works on partitions and on small
per-document arrays, so texts and signatures are never all in memory at once.
"""

from __future__ import annotations

import mmap
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from filters.dedup.components import flatten, union_edges
from filters.dedup.lsh import BucketWriter, candidate_edges, num_ranges
from filters.dedup.minhash import band_keys, compute_signatures
from filters.dedup.normalize import exact_text, hash_texts, url_keys
from filters.dedup.params import DedupParams

_META = ["doc_id", "crawl", "fetch_date", "n_bytes"]
_KIND_COLUMNS = (
    ("exact", "exact_cluster", "is_exact_duplicate"),
    ("url", "url_cluster", "is_url_duplicate"),
    ("near", "near_cluster", "is_near_duplicate"),
    ("all", "dup_cluster", "is_duplicate"),
)
_VERIFY_EDGES = 1 << 13  # candidate pairs compared at a time: <= 2 pages each mapped, so <= 64 MB
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


def _verified(sig_path: Path, n_hashes: int, a: np.ndarray, b: np.ndarray, threshold: float) -> np.ndarray:
    """Mask of pairs whose signatures agree on at least `threshold` of their hashes (estimated Jaccard).

    Signatures are read through a memory map in chunks of pairs sorted by their first row; the map is marked
    random-access (no read-ahead) and its pages are released after every chunk, so the process holds at most
    a chunk's pages (the rest stays in the kernel's page cache, which it may drop)."""
    keep = np.zeros(a.size, dtype=bool)
    by_row = np.argsort(a, kind="stable")
    with open(sig_path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        mm.madvise(mmap.MADV_RANDOM)
        sigs = np.frombuffer(mm, dtype=np.uint32).reshape(-1, n_hashes)
        for lo in range(0, a.size, _VERIFY_EDGES):
            idx = by_row[lo : lo + _VERIFY_EDGES]
            keep[idx] = (sigs[a[idx]] == sigs[b[idx]]).mean(axis=1) >= threshold
            mm.madvise(mmap.MADV_DONTNEED)
        del sigs
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


def _crawl_overlap(
    crawl: pl.Series, roots: np.ndarray, dup: np.ndarray, n_bytes: np.ndarray
) -> tuple[list[dict], pl.Series, np.ndarray]:
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
        rows.append(
            {
                "crawl": name,
                "documents": docs,
                "bytes": total,
                "seen_documents": seen_docs,
                "seen_bytes": seen_bytes,
                "share_documents_seen": seen_docs / docs if docs else 0.0,
                "share_bytes_seen": seen_bytes / total if total else 0.0,
                "duplicates_within_crawl": int((sel & dup & ~seen).sum()),
            }
        )
    return rows, first_crawl, seen


def _nulls(n: int) -> pl.Series:
    """A column for a disabled kind: null says "not computed", unlike false ("not a duplicate")."""
    return pl.repeat(None, n, dtype=pl.Null, eager=True)



@dataclass
class _Hashed:
    """What the streaming pass keeps per document (read order), plus the LSH partitions it wrote."""

    meta: pl.DataFrame  # doc_id, crawl, fetch_date, n_bytes
    text_hash: np.ndarray | None
    url_hash: pl.Series | None
    shard_rows: list[int]
    buckets: BucketWriter
    with_signature: int


def _hash_pass(shards: list[Path], p: DedupParams, work: Path) -> _Hashed:
    """Read every shard once, batch by batch: text hashes, URL hashes, signatures (to a scratch file indexed by
    read order) and LSH band buckets (to Parquet partitions). Texts are dropped after their batch."""
    n_total = sum(pq.ParquetFile(s).metadata.num_rows for s in shards)
    if n_total >= 2**32:
        raise ValueError("run_dedup handles fewer than 2^32 documents per run")
    buckets = BucketWriter(work / "lsh", p.num_bands, num_ranges(n_total, p.lsh_memory_mb))
    frames, text_hashes, url_hashes, shard_rows = [], [], [], []
    with_sig = start = 0
    shared = p.exact and p.exact_lowercase and p.near  # then texts are lower-cased once for both kinds
    with open(work / "signatures.u32", "wb") as sig_file:
        for shard in shards:
            rows = 0
            for df in _batches(shard, p.batch_size):
                frames.append(df.select(_META))
                lowered = df["text"].str.to_lowercase() if shared else None
                if p.exact:
                    text_hashes.append(hash_texts(exact_text(df["text"], p, lowered)))
                if p.url:
                    url_hashes.append(_hash_or_null(url_keys(df["url"], p)))
                if p.near:
                    sig, has = compute_signatures(df["text"], p, lowered)
                    sig_file.write(sig.tobytes())
                    buckets.add(band_keys(sig[has], p.num_bands, p.rows_per_band), start + np.flatnonzero(has))
                    with_sig += int(has.sum())
                rows += df.height
                start += df.height
            shard_rows.append(rows)
    return _Hashed(
        meta=pl.concat(frames) if frames else pl.DataFrame(schema={c: _INPUT_SCHEMA[c] for c in _META}),
        text_hash=(np.concatenate(text_hashes) if text_hashes else np.zeros(0, np.uint64)) if p.exact else None,
        url_hash=(pl.concat(url_hashes) if url_hashes else pl.Series([], dtype=pl.UInt64)) if p.url else None,
        shard_rows=shard_rows,
        buckets=buckets,
        with_signature=with_sig,
    )


def _near_roots(
    h: _Hashed, sig_path: Path, rank: np.ndarray, order: np.ndarray, p: DedupParams
) -> tuple[np.ndarray, dict]:
    """Union-find over the LSH candidate edges of each partition in turn, each edge kept only if the two
    signatures agree on `near_threshold` of their hashes. Returns roots (rank space, read order) and stats."""
    n = rank.size
    parent = np.arange(n, dtype=np.int64)
    candidates = verified = 0
    for partition in h.buckets.partitions():
        u, v = candidate_edges(partition, rank)
        candidates += u.size
        if p.near_threshold is not None and u.size:
            keep = _verified(sig_path, p.num_hashes, order[u], order[v], p.near_threshold)
            u, v = u[keep], v[keep]
        verified += u.size
        union_edges(parent, u, v)
    stats = {
        "documents_with_signature": h.with_signature,
        "candidate_edges": candidates,
        "verified_edges": verified,
        "lsh_ranges_per_band": h.buckets.ranges,
        "lsh_threshold": round(p.lsh_threshold, 4),
    }
    return flatten(parent)[rank], stats


def _write_outputs(
    h: _Hashed,
    roots: dict[str, np.ndarray],
    rank: np.ndarray,
    order: np.ndarray,
    first_crawl: pl.Series,
    seen: np.ndarray,
    dedup_dir: Path,
    write: Callable[[pl.DataFrame, Path], None],
) -> list[Path]:
    """One part per input shard, same rows in the same order; cluster ids are representatives' doc_ids.
    Parts of an earlier run beyond this run's shard count are removed."""
    ids_by_rank = h.meta["doc_id"].gather(order)
    written, lo = [], 0
    for i, rows in enumerate(h.shard_rows):
        sl = slice(lo, lo + rows)
        cols: dict[str, pl.Series] = {
            "doc_id": h.meta["doc_id"].slice(lo, rows),
            "text_hash": pl.Series(h.text_hash[sl]) if h.text_hash is not None else _nulls(rows),
        }
        for kind, cluster_col, flag_col in _KIND_COLUMNS:
            if kind in roots:
                cols[cluster_col] = ids_by_rank.gather(roots[kind][sl])
                cols[flag_col] = pl.Series(roots[kind][sl] != rank[sl])
            else:
                cols[cluster_col] = cols[flag_col] = _nulls(rows)
        cols["first_crawl"] = first_crawl.slice(lo, rows)
        cols["seen_in_earlier_crawl"] = pl.Series(seen[sl])
        path = dedup_dir / f"part-{i:05d}.parquet"
        write(pl.DataFrame([s.alias(c).cast(OUTPUT_SCHEMA[c]) for c, s in cols.items()]), path)
        written.append(path)
        lo += rows
    for stale in set(dedup_dir.glob("part-*.parquet")) - set(written):
        stale.unlink()
    return written


def _cluster(h: _Hashed, p: DedupParams, work: Path) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, dict]:
    """Cluster roots per kind (exact, url, near) and over their union ("all"), with the rank order behind them.

    Node ids are ranks under the representative rule, so every component's smallest id is its representative.
    Returns (roots by kind, rank of each document, documents in rank order, near-dedup LSH statistics).
    """
    order = (
        h.meta.with_row_index("i")
        .sort(["crawl", "fetch_date", "n_bytes", "doc_id"], descending=[False, False, True, False], nulls_last=True)
        .get_column("i")
        .to_numpy()
        .astype(np.int64)
    )
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    roots: dict[str, np.ndarray] = {}
    if h.text_hash is not None:
        roots["exact"] = _group_roots(pl.Series(h.text_hash), rank)
    if h.url_hash is not None:
        roots["url"] = _group_roots(h.url_hash, rank)
    near_stats: dict = {}
    if p.near:
        roots["near"], near_stats = _near_roots(h, work / "signatures.u32", rank, order, p)
    parent = np.arange(rank.size, dtype=np.int64)
    for kind_roots in roots.values():
        union_edges(parent, rank, kind_roots)
    roots["all"] = flatten(parent)[rank]
    return roots, rank, order, near_stats


def run_dedup(document_shards: list[Path], out_dir: Path, params: DedupParams | None = None, *,
              write_part: Callable[[pl.DataFrame, Path], None]) -> dict:
    """Annotate every document with its exact, URL, near and combined duplicate cluster.

    Writes `out_dir/dedup/part-NNNNN.parquet`, one per input shard in the same row order (schema:
    `OUTPUT_SCHEMA`); returns counts per kind, LSH statistics and the cross-crawl overlap. Each cluster is a
    connected component; its representative (the one document with `is_*duplicate` false, whose doc_id is the
    cluster id) is the first by: earliest crawl, earliest fetch_date, most bytes, smallest doc_id. The
    combined `dup_cluster` is the connected component over the union of every enabled kind's clusters.
    `write_part(frame, path)` writes each part: the caller's storage layer commits it (filters compute, flows
    write).
    """
    p = params or DedupParams()
    dedup_dir = Path(out_dir) / "dedup"
    dedup_dir.mkdir(parents=True, exist_ok=True)
    scratch_root = Path(p.work_dir) if p.work_dir else dedup_dir
    scratch_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".work-", dir=scratch_root))
    timings: dict[str, float] = {}
    try:
        t0 = time.perf_counter()
        h = _hash_pass([Path(s) for s in document_shards], p, work)
        timings["read_and_hash"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        roots, rank, order, near_stats = _cluster(h, p, work)
        n_bytes = h.meta["n_bytes"].fill_null(0).to_numpy()
        overlap, first_crawl, seen = _crawl_overlap(h.meta["crawl"], roots["all"], roots["all"] != rank, n_bytes)
        timings["cluster"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        written = _write_outputs(h, roots, rank, order, first_crawl, seen, dedup_dir, write_part)
        timings["write"] = time.perf_counter() - t0
    finally:
        shutil.rmtree(work, ignore_errors=True)

    return {
        "documents": int(rank.size),
        "bytes": int(n_bytes.sum()),
        "kinds": {k: _kind_stats(r, n_bytes, rank) for k, r in roots.items()},
        "near": near_stats,
        "crawl_overlap": overlap,
        "representative_rule": "earliest crawl, earliest fetch_date, most bytes, smallest doc_id",
        "params": p.to_dict(),
        "outputs": [str(w) for w in written],
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }
