"""MinHash dedup benchmark: signature throughput against datatrove, and peak memory of a whole `run_dedup`.

    .venv/bin/python -m benchmarks.minhash                        # memory run on 1,000,000 documents
    .venv/bin/python -m benchmarks.minhash --docs 250000 1000000  # two sizes: also the per-document slope
    .venv/bin/python -m benchmarks.minhash --docs                 # throughput only

1. Signatures per CPU second (polars limited to one thread: per core, and less sensitive than wall time to
   other jobs on a shared machine) on the same real documents (WikiText-2 paragraphs, Gutenberg passages,
   CCNet web documents from ../shared/data) for peakdata and for datatrove's `MinhashDedupSignature` (its
   per-document shingling and signature, i.e. the work of its `run`).
2. Peak RSS of `run_dedup` (exact + URL + near, default parameters) on N synthetic documents with planted exact,
   near and URL duplicates across three crawls, measured inside a fresh process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import multiprocessing as mp
import os
import platform
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("POLARS_MAX_THREADS", "1")  # per-core numbers; must be set before polars is imported

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from filters.dedup import DedupParams, run_dedup  # noqa: E402
from filters.dedup.minhash import compute_signatures  # noqa: E402
from flows.deduplicate import commit_part  # noqa: E402
from tools.shared_data import shared_data_dir  # noqa: E402

CRAWLS = ("CC-MAIN-2024-10", "CC-MAIN-2024-22", "CC-MAIN-2024-33")


def real_documents(shared: Path) -> list[str]:
    """The benchmark's real texts (same sources as tests/test_dedup_near.py, all passages)."""
    docs = [
        line.strip()
        for line in (shared / "reference_text" / "wikitext-2-raw-test.raw").read_text().splitlines()
        if len(line.split()) >= 20 and not line.strip().startswith("=")
    ]
    with tarfile.open(shared / "reference_text" / "nltk-gutenberg-13books.tar.gz") as tf:
        for member in sorted(tf.getmembers(), key=lambda m: m.name):
            if member.name.endswith(".txt"):
                words = tf.extractfile(member).read().decode("latin-1").split()  # type: ignore[union-attr]
                docs += [" ".join(words[i : i + 400]) for i in range(0, len(words) - 400, 400)]
    for name in (
        "dolma-ccnet-cc_en_head-0091.jsonl.gz",
        "dolma-ccnet-cc_en_head-0174.jsonl.gz",
        "dolma-provided-documents-000.json.gz",
    ):
        with gzip.open(shared / "curated" / name, "rt") as f:
            docs += [json.loads(line)["text"] for line in f]
    return docs


def peakdata_rate(docs: list[str], params: DedupParams, repeats: int = 3) -> float:
    """Documents per CPU second (best of `repeats`), in batches of `params.batch_size`."""
    series = pl.Series(docs)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        for lo in range(0, len(docs), params.batch_size):
            compute_signatures(series.slice(lo, params.batch_size), params)
        best = min(best, time.process_time() - t0)
    return len(docs) / best


def datatrove_rate(docs: list[str]) -> float:
    """datatrove 0.10's signature step on the same texts: spaCy word tokens of simplified text, n-gram hashes,
    112 permutations. Its default xxhash config fails with xxhash >= 4 (str input), so sha1 (64-bit) is used."""
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
    from datatrove.utils.hashing import HashConfig

    step = MinhashDedupSignature(tempfile.mkdtemp(), config=MinhashConfig(hash_config=HashConfig(hash_fc="sha1")))
    step.get_signature(step.get_shingles(docs[0]))  # load spaCy outside the timing
    t0 = time.process_time()
    for text in docs:
        shingles = step.get_shingles(text)
        if shingles.size:
            step.get_signature(shingles)
    return len(docs) / (time.process_time() - t0)


def write_synthetic_shards(folder: Path, n_docs: int, docs_per_shard: int, seed: int) -> list[Path]:
    """Documents shards (contract columns) of Zipf-distributed words, ~290 words a document on average; 8% exact
    copies, 8% near copies (5% of words replaced), 4% of URLs reused; shards cycle through three crawls."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = pl.Series(["".join(letters[rng.integers(0, 26, rng.integers(3, 11))]) for _ in range(50_000)])
    weights = 1.0 / np.arange(1, vocab.len() + 1) ** 1.1
    cdf = np.cumsum(weights / weights.sum())
    folder.mkdir(parents=True, exist_ok=True)
    paths, pool = [], []  # pool: word ids of documents from earlier shards, for cross-crawl copies
    for shard, lo in enumerate(range(0, n_docs, docs_per_shard)):
        n = min(docs_per_shard, n_docs - lo)
        lengths = np.clip(rng.lognormal(5.5, 0.6, n).astype(np.int64), 20, 3000)
        kinds = rng.choice(3, size=n, p=[0.84, 0.08, 0.08])  # new, exact copy, near copy
        docs: list[np.ndarray] = []
        for i in range(n):
            source = pool if (rng.random() < 0.5 and pool) else docs
            if kinds[i] == 0 or not source:
                docs.append(np.searchsorted(cdf, rng.random(lengths[i])))
                continue
            words = source[int(rng.integers(0, len(source)))].copy()
            if kinds[i] == 2:
                edit = rng.random(words.size) < 0.05
                words[edit] = np.searchsorted(cdf, rng.random(int(edit.sum())))
            docs.append(words)
        flat = pl.DataFrame(
            {
                "doc": np.repeat(np.arange(n), [d.size for d in docs]),
                "w": vocab.gather(np.concatenate(docs)),
            }
        )
        texts = flat.group_by("doc", maintain_order=True).agg(pl.col("w").str.join(" "))["w"]
        ids = np.arange(lo, lo + n)
        url_ids = np.where(rng.random(n) < 0.04, rng.integers(0, lo + n, n), ids)
        df = pl.DataFrame(
            {
                "doc_id": [f"syn-{i:09d}" for i in ids],
                "url": [f"https://www.site{u % 5000}.com/page/{u}?utm_source=feed" for u in url_ids],
                "crawl": CRAWLS[shard % len(CRAWLS)],
                "fetch_date": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(days=30 * shard),
                "text": texts,
            }
        ).with_columns(n_bytes=pl.col("text").str.len_bytes().cast(pl.Int64))
        paths.append(folder / f"part-{shard:05d}.parquet")
        df.write_parquet(paths[-1])
        pool.extend(docs[:: max(1, n // 2000)])
        pool = pool[-4000:]
    return paths


def _status_mb(field: str) -> float:
    """A memory field of /proc/self/status in MB (VmHWM: peak RSS of this process, not inherited from the
    parent as ru_maxrss is; RssAnon: anonymous memory, i.e. without memory-mapped file pages)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _measure(shards: list[str], out: str, queue: mp.Queue) -> None:
    """Child process: RSS after imports, then the whole dedup, then peak RSS and peak anonymous memory (sampled
    every 20 ms: signature pages read through mmap count in RSS but are page cache the kernel can drop)."""
    base = _status_mb("VmHWM")
    peak_anon = [0.0]

    def sample() -> None:
        while True:
            peak_anon[0] = max(peak_anon[0], _status_mb("RssAnon"))
            time.sleep(0.02)

    threading.Thread(target=sample, daemon=True).start()
    t0 = time.perf_counter()
    summary = run_dedup([Path(s) for s in shards], Path(out), write_part=commit_part)
    queue.put(
        {
            "baseline_rss_mb": base,
            "peak_rss_mb": _status_mb("VmHWM"),
            "peak_anon_mb": peak_anon[0],
            "seconds": time.perf_counter() - t0,
            "docs": summary["documents"],
            "summary": summary,
        }
    )


def memory_runs(sizes: list[int], workdir: Path, seed: int) -> list[dict]:
    """Generate max(sizes) documents once (50,000 a shard), then dedup the first shards covering each size, each
    in a fresh process, so the per-document slope of the peak can be read off."""
    per_shard = min(50_000, -(-min(sizes) // 6))
    t0 = time.perf_counter()
    shards = write_synthetic_shards(workdir / "documents", max(sizes), per_shard, seed)
    generated = time.perf_counter() - t0
    ctx = mp.get_context("spawn")
    results = []
    for size in sorted(sizes):
        use = shards[: -(-size // per_shard)]
        queue = ctx.Queue()
        out = workdir / f"run-{size}"
        proc = ctx.Process(target=_measure, args=([str(s) for s in use], str(out), queue))
        proc.start()
        result = queue.get()
        proc.join()
        result["generate_seconds"] = generated
        result["input_mb"] = sum(s.stat().st_size for s in use) / 2**20
        results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--docs", type=int, nargs="*", default=[1_000_000], help="synthetic documents for the memory run(s)"
    )
    parser.add_argument("--datatrove-docs", type=int, default=500, help="real documents timed for datatrove")
    parser.add_argument(
        "--shared-data",
        type=Path,
        default=shared_data_dir(),
    )
    parser.add_argument("--workdir", type=Path, default=None, help="scratch folder (default: a temp dir)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    print(
        f"# {dt.date.today()} {platform.node()} {platform.processor() or platform.machine()} "
        f"cores={os.cpu_count()} POLARS_MAX_THREADS={os.environ['POLARS_MAX_THREADS']}"
    )
    docs = real_documents(args.shared_data)
    subset = [docs[i] for i in np.random.default_rng(args.seed).permutation(len(docs))[: args.datatrove_docs]]
    params = DedupParams()
    ours_all = peakdata_rate(docs, params)
    ours_subset = peakdata_rate(subset, params)
    theirs = datatrove_rate(subset)
    mean_words = np.mean([len(d.split()) for d in docs])
    print(f"real documents: {len(docs)} (mean {mean_words:.0f} words); datatrove timed on {len(subset)}")
    print(
        f"signatures/s/core  peakdata all={ours_all:.0f}  peakdata subset={ours_subset:.0f}  "
        f"datatrove subset={theirs:.1f}  speed-up={ours_subset / theirs:.0f}x"
    )

    if args.docs:
        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
            results = memory_runs(args.docs, Path(tmp), args.seed)
        for res in results:
            summary = res.pop("summary")
            print(
                f"run_dedup on {summary['documents']} synthetic documents ({res['input_mb']:.0f} MB Parquet): "
                f"{res['seconds']:.0f} s, peak RSS {res['peak_rss_mb']:.0f} MB, peak anonymous "
                f"{res['peak_anon_mb']:.0f} MB (after imports {res['baseline_rss_mb']:.0f} MB)"
            )
        print(f"(documents generated in {results[0]['generate_seconds']:.0f} s)")
        if len(results) > 1:
            (a, b) = results[0], results[-1]
            for key in ("peak_rss_mb", "peak_anon_mb"):
                slope = (b[key] - a[key]) / (b["docs"] - a["docs"]) * 1e6
                print(f"{key} slope: {slope:.0f} MB per million documents")
        print(json.dumps({k: summary[k] for k in ("kinds", "near", "crawl_overlap", "timings_s")}, indent=1))


if __name__ == "__main__":
    main()
