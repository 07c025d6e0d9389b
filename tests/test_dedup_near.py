"""Near-duplicate detection on real text: planted variants at known Jaccard similarity, the CS336 license
fixtures, signature quality, and agreement with datatrove's MinHash dedup on the same documents."""

from __future__ import annotations

import gzip
import json
import tarfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from filters.dedup import DedupParams, run_dedup
from filters.dedup.minhash import compute_signatures
from filters.dedup.normalize import shingle_text
from flows.deduplicate import commit_part

SHINGLE = 5
_LETTERS = np.array(list("bcdfghjklmnpqrstvwxz"))


def real_documents(shared_data: Path) -> list[str]:
    """Distinct real texts: WikiText-2 paragraphs, 250-word Gutenberg passages, CCNet web documents (each cut to
    its first 300 words to keep the file fast: datatrove shingles ~50 documents/s here)."""
    docs = [
        line.strip()
        for line in (shared_data / "reference_text" / "wikitext-2-raw-test.raw").read_text().splitlines()
        if len(line.split()) >= 100 and not line.strip().startswith("=")
    ]
    with tarfile.open(shared_data / "reference_text" / "nltk-gutenberg-13books.tar.gz") as tf:
        for member in sorted(tf.getmembers(), key=lambda m: m.name):
            if member.name.endswith(".txt") and "blake" not in member.name:  # Blake's two books share poems
                words = tf.extractfile(member).read().decode("latin-1").split()  # type: ignore[union-attr]
                docs += [" ".join(words[i : i + 250]) for i in range(1000, min(len(words), 26000) - 250, 2500)]
    for name in (
        "dolma-ccnet-cc_en_head-0091.jsonl.gz",
        "dolma-ccnet-cc_en_head-0174.jsonl.gz",
        "dolma-provided-documents-000.json.gz",
    ):
        with gzip.open(shared_data / "curated" / name, "rt") as f:
            docs += [t for t in (json.loads(line)["text"] for line in f) if len(t.split()) >= 60]
    return [" ".join(d.split()[:300]) for d in docs]


def shingle_sets(texts: list[str]) -> list[set[tuple[str, ...]]]:
    """Reference shingles: plain Python sets of word 5-grams of the normalised text (no hashing)."""
    norm = shingle_text(pl.Series(texts, dtype=pl.String)).to_list()
    return [{tuple(w[i : i + SHINGLE]) for i in range(len(w) - SHINGLE + 1)} for w in (n.split() for n in norm)]


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b)


def plant_variants(texts: list[str], targets: np.ndarray, rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    """One variant per text, made by replacing words (scattered, or one contiguous span) with fresh words;
    the number of replaced words is binary-searched (for all texts at once) so that the shingle Jaccard with
    the original is as close to the target as the edits allow. Returns the variants and their true Jaccard."""
    words = [t.split() for t in texts]
    base = shingle_sets(texts)
    positions, fresh = [], []
    for w in words:
        if rng.random() < 0.5:
            positions.append(rng.permutation(len(w)))
        else:
            positions.append((int(rng.integers(0, len(w))) + np.arange(len(w))) % len(w))
        fresh.append(["".join(r) for r in _LETTERS[rng.integers(0, _LETTERS.size, size=(len(w), 7))]])

    def edited(ks: np.ndarray) -> tuple[list[str], np.ndarray]:
        variants = []
        for w, pos, new, k in zip(words, positions, fresh, ks, strict=True):
            out = list(w)
            for i in pos[:k]:
                out[i] = new[i]
            variants.append(" ".join(out))
        return variants, np.array([jaccard(a, b) for a, b in zip(base, shingle_sets(variants), strict=True)])

    lo, hi = np.zeros(len(texts), np.int64), np.array([len(w) for w in words])  # J(lo) >= target > J(hi)
    while (hi - lo > 1).any():
        mid = (lo + hi) // 2
        above = edited(mid)[1] >= targets
        active = hi - lo > 1
        lo, hi = np.where(active & above, mid, lo), np.where(active & ~above, mid, hi)
    (v_lo, j_lo), (v_hi, j_hi) = edited(lo), edited(hi)
    take_lo = np.abs(j_lo - targets) <= np.abs(j_hi - targets)
    return [a if t else b for a, b, t in zip(v_lo, v_hi, take_lo, strict=True)], np.where(take_lo, j_lo, j_hi)


def planted_corpus(
    shared_data: Path, bins: list[tuple[float, float, int]], seed: int
) -> tuple[list[str], list[tuple[int, int, float]]]:
    """Originals followed by one variant each; `bins` = (low, high, count): target Jaccards drawn uniformly."""
    rng = np.random.default_rng(seed)
    targets = np.concatenate([rng.uniform(lo, hi, size=n) for lo, hi, n in bins])
    originals = real_documents(shared_data)
    chosen = [originals[i] for i in rng.choice(len(originals), size=targets.size, replace=False)]
    variants, j = plant_variants(chosen, targets, rng)
    n = len(chosen)
    return chosen + variants, [(i, n + i, float(j[i])) for i in range(n)]


def write_documents(folder: Path, texts: list[str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    df = pl.DataFrame({"doc_id": [f"doc{i:05d}" for i in range(len(texts))], "text": texts})
    df = df.with_columns(n_bytes=pl.col("text").str.len_bytes().cast(pl.Int64))
    half = df.height // 2
    df.slice(0, half).write_parquet(folder / "part-00000.parquet")
    df.slice(half).write_parquet(folder / "part-00001.parquet")
    return [folder / "part-00000.parquet", folder / "part-00001.parquet"]


def near_labels(texts: list[str], tmp: Path, params: DedupParams) -> np.ndarray:
    run_dedup(write_documents(tmp / "documents", texts), tmp, params, write_part=commit_part)
    clusters = pl.read_parquet(sorted((tmp / "dedup").glob("part-*.parquet")))["near_cluster"]
    return clusters.str.slice(3).cast(pl.Int64).to_numpy()


@pytest.fixture(scope="module")
def planted(shared_data: Path) -> tuple[list[str], list[tuple[int, int, float]]]:
    return planted_corpus(
        shared_data, [(0.805, 0.9, 150), (0.9, 1.0, 100), (0.5, 0.8, 100), (0.2, 0.35, 100), (0.35, 0.495, 150)], seed=7
    )


def test_planted_near_duplicates_recall_and_false_positives(planted, tmp_path: Path) -> None:
    texts, pairs = planted
    labels = near_labels(texts, tmp_path, DedupParams(exact=False, url=False))
    found = np.array([labels[a] == labels[b] for a, b, _ in pairs])
    j = np.array([p[2] for p in pairs])
    high, low = j >= 0.8, j <= 0.5
    assert high.sum() >= 240 and low.sum() >= 240  # enough pairs for the rates to mean something
    assert found[high].mean() >= 0.95
    assert found[low].mean() <= 0.01
    # No pair outside the planted ones is merged unless it really is similar (the originals are real text).
    sets = shingle_sets(texts)
    planted_pairs = {frozenset((a, b)) for a, b, _ in pairs}
    merged = [(int(labels[i]), i) for i in range(len(texts)) if labels[i] != i]
    unplanted = [(r, i) for r, i in merged if frozenset((r, i)) not in planted_pairs]
    assert all(jaccard(sets[r], sets[i]) > 0.5 for r, i in unplanted)


def test_signature_estimates_are_unbiased(planted) -> None:
    texts, pairs = planted
    sig, has = compute_signatures(pl.Series(texts), DedupParams())
    assert has.all()
    sets = shingle_sets(texts)
    true = np.array([jaccard(sets[a], sets[b]) for a, b, _ in pairs])
    est = np.array([(sig[a] == sig[b]).mean() for a, b, _ in pairs])
    sd = np.sqrt(true * (1 - true) / sig.shape[1])
    assert abs((est - true).mean()) < 0.01
    assert np.mean(np.abs(est - true) > 4 * sd + 1e-9) <= 0.01


def test_license_fixtures_cluster_as_expected(shared_data: Path, tmp_path: Path) -> None:
    with tarfile.open(shared_data / "dedup" / "cs336-fuzzy-duplicate-licenses.tar.gz") as tf:
        texts = {Path(m.name).stem: tf.extractfile(m).read().decode() for m in tf.getmembers() if m.isfile()}  # type: ignore[union-attr]
    names = sorted(texts)
    assert names == ["pytorch_license", "rails_mit_license", "react_mit_license"]
    sets = shingle_sets([texts[n] for n in names])
    assert jaccard(sets[1], sets[2]) == pytest.approx(0.919, abs=0.001)  # the two MIT licenses
    assert jaccard(sets[0], sets[1]) < 0.01
    labels = near_labels([texts[n] for n in names], tmp_path, DedupParams())
    assert labels[1] == labels[2] and labels[0] == 0 and labels[1] != 0


def test_agrees_with_datatrove_minhash(shared_data: Path, tmp_path: Path) -> None:
    """Same documents, same parameters (5-grams, 14 bands x 8 rows, no verification): the clusters differ only
    where two independent draws of hash functions may: pairs inside the S-curve's transition."""
    from datatrove.data import Document
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupSignature,
    )
    from datatrove.utils.hashing import HashConfig

    texts, pairs = planted_corpus(shared_data, [(0.3, 1.0, 100)], seed=11)
    # datatrove's default xxhash config passes str to xxhash, which xxhash >= 4 rejects: use its sha1 option.
    cfg = MinhashConfig(n_grams=5, num_buckets=14, hashes_per_bucket=8, seed=1, hash_config=HashConfig(hash_fc="sha1"))
    MinhashDedupSignature(str(tmp_path / "sigs"), config=cfg).run(
        iter(Document(text=t, id=str(i)) for i, t in enumerate(texts)), rank=0, world_size=1
    )
    for bucket in range(cfg.num_buckets):
        MinhashDedupBuckets(str(tmp_path / "sigs"), str(tmp_path / "buckets"), config=cfg).run(
            rank=bucket, world_size=cfg.num_buckets
        )
    MinhashDedupCluster(str(tmp_path / "buckets"), str(tmp_path / "clusters"), config=cfg, save_cluster_id=True).run()
    dt_labels = -np.arange(1, len(texts) + 1)  # singletons: unique negative labels
    raw = np.fromfile(tmp_path / "clusters" / "000000.clusters", dtype="<u4").reshape(-1, 2)
    dt_labels[raw[:, 0]] = raw[:, 1]

    params = DedupParams(exact=False, url=False, num_bands=14, rows_per_band=8, near_threshold=None)
    ours = near_labels(texts, tmp_path / "ours", params)
    j = np.array([p[2] for p in pairs])
    same_dt = np.array([dt_labels[a] == dt_labels[b] for a, b, _ in pairs])
    same_ours = np.array([ours[a] == ours[b] for a, b, _ in pairs])
    # Both find every pair at J >= 0.9 and no pair at J <= 0.4 (S-curve: P >= 0.9995 and <= 0.009).
    assert same_dt[j >= 0.9].all() and same_ours[j >= 0.9].all()
    assert not same_dt[j <= 0.4].any() and not same_ours[j <= 0.4].any()
    # In between, each pair is found with probability p = 1 - (1 - J^8)^14 by each tool independently, so
    # they disagree on 2p(1-p) of the pairs on average; allow four standard deviations of that count.
    p = np.array([params.candidate_probability(x) for x in j])
    q = 2 * p * (1 - p)
    disagree = int((same_dt != same_ours).sum())
    assert disagree <= q.sum() + 4 * np.sqrt((q * (1 - q)).sum()) + 1
    # Clusters beyond the planted pairs (originals that are themselves similar) are the same in both.
    originals = np.arange(len(texts) // 2)
    pairs_dt = {(a, b) for a in originals for b in originals if a < b and dt_labels[a] == dt_labels[b]}
    pairs_ours = {(a, b) for a in originals for b in originals if a < b and ours[a] == ours[b]}
    assert pairs_dt == pairs_ours
