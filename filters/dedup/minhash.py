"""MinHash signatures for a batch of texts, vectorised with NumPy (no per-document or per-word Python loop).

Per batch: normalised texts (one Arrow byte buffer) -> word hashes (a polynomial over each word's bytes, read
off a prefix sum) -> shingle hashes (n consecutive words of one document) -> a `hashes x shingles` matrix of
multiply-add permutations -> `np.minimum.reduceat` per document. All arithmetic is uint64 with wrap-around,
so signatures are identical on every platform and library version.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import polars as pl

from filters.dedup.normalize import shingle_text
from filters.dedup.params import DedupParams
from filters.utf8 import series_bytes

_U64 = np.uint64
_BYTE_BASE = 0x100000001B3  # FNV-64 prime: multiplier of the per-word polynomial (odd, so invertible)
_WORD_BASE = _U64(0x9E3779B97F4A7C15)  # golden-ratio constant: multiplier combining words into shingles
_BYTES_PER_STEP = 1 << 20  # normalised bytes hashed at a time: bounds the per-byte uint64 scratch (~40 MB)
_EMPTY = np.iinfo(np.uint32).max


def splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: turns structured uint64 values into well-mixed ones (returns a new array)."""
    z = x + _U64(0x9E3779B97F4A7C15)
    z ^= z >> _U64(30)
    z *= _U64(0xBF58476D1CE4E5B9)
    z ^= z >> _U64(27)
    z *= _U64(0x94D049BB133111EB)
    z ^= z >> _U64(31)
    return z


def permutation_params(num_hashes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Multipliers (odd) and offsets of the hash functions h_i(x) = (a_i * x + b_i mod 2^64) >> 32."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2**64, size=num_hashes, dtype=np.uint64) | _U64(1)
    b = rng.integers(0, 2**64, size=num_hashes, dtype=np.uint64)
    return a, b


@lru_cache(maxsize=2)
def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """B^i and B^-i mod 2^64 for i < n (one size serves every normal step, so the cache is reused)."""
    inv = pow(_BYTE_BASE, -1, 2**64)
    pw = np.empty(n, np.uint64)
    ipw = np.empty(n, np.uint64)
    pw[0] = ipw[0] = 1
    np.multiply.accumulate(np.full(n - 1, _BYTE_BASE, np.uint64), out=pw[1:])
    np.multiply.accumulate(np.full(n - 1, inv, np.uint64), out=ipw[1:])
    return pw, ipw


def word_hashes(texts: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Hash every space-separated word; returns (hashes, document index of each word).

    Each text must end with a space, so no word runs across two documents.
    """
    data, offsets = series_bytes(texts)
    word_byte = data != 32
    edges = np.diff(word_byte.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    if starts.size == 0:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    pw, ipw = _powers(1 << max(int(data.size).bit_length(), _BYTES_PER_STEP.bit_length()))
    prefix = np.zeros(data.size + 1, np.uint64)
    np.cumsum((data + _U64(1)) * pw[: data.size], out=prefix[1:])
    poly = (prefix[ends] - prefix[starts]) * ipw[starts]  # sum of (byte+1) * B^(position in word)
    return splitmix64(poly), np.searchsorted(offsets, starts, side="right") - 1


def shingle_hashes(words: np.ndarray, docs: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of the n-word shingles that lie inside one document; returns (hashes, document index)."""
    m = words.size - n + 1
    if m <= 0:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    acc = words[:m].copy()
    for j in range(1, n):
        acc *= _WORD_BASE
        acc += words[j : j + m]
    inside = docs[:m] == docs[n - 1 :]
    return splitmix64(acc[inside]), docs[:m][inside]


def min_hash(
    shingles: np.ndarray, shingle_docs: np.ndarray, n_docs: int, a: np.ndarray, b: np.ndarray, chunk: int
) -> np.ndarray:
    """Signatures uint32 [n_docs, hashes]: per document, the min over its shingles of every hash function.

    Documents without shingles keep the all-ones sentinel. Shingles are processed `chunk` at a time, so scratch
    memory is 8 * hashes * chunk bytes whatever the documents' sizes; the min is taken on the full 64-bit value
    and shifted afterwards (floor division by 2^32 is monotone, so the result is the same, one pass cheaper).
    """
    sig = np.full((n_docs, a.size), _EMPTY, dtype=np.uint32)
    if shingles.size == 0:
        return sig
    counts = np.bincount(shingle_docs, minlength=n_docs)
    has = np.flatnonzero(counts)
    seg_start = np.concatenate(([0], np.cumsum(counts[has])[:-1]))
    scratch = np.empty((a.size, chunk), dtype=np.uint64)
    for c0 in range(0, shingles.size, chunk):
        c1 = min(shingles.size, c0 + chunk)
        buf = scratch[:, : c1 - c0]
        np.multiply(a[:, None], shingles[None, c0:c1], out=buf)
        buf += b[:, None]
        d0 = int(np.searchsorted(seg_start, c0, side="right")) - 1
        d1 = int(np.searchsorted(seg_start, c1, side="left"))
        part = np.minimum.reduceat(buf, np.maximum(seg_start[d0:d1], c0) - c0, axis=1)
        part >>= _U64(32)
        rows = has[d0:d1]
        sig[rows] = np.minimum(sig[rows], part.T)
    return sig


def compute_signatures(
    texts: pl.Series, p: DedupParams, lowered: pl.Series | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Signatures of raw texts, and a mask of the texts that have one (at least `shingle_size` words).
    `lowered` is `texts.str.to_lowercase()` when the caller has it."""
    norm = shingle_text(texts, p.split_cjk, lowered) + " "
    a, b = permutation_params(p.num_hashes, p.seed)
    sig = np.full((len(texts), p.num_hashes), _EMPTY, dtype=np.uint32)
    has = np.zeros(len(texts), dtype=bool)
    cum = np.cumsum(norm.str.len_bytes().to_numpy())
    lo = 0
    while lo < len(texts):
        base = cum[lo - 1] if lo else 0
        hi = max(lo + 1, int(np.searchsorted(cum, base + _BYTES_PER_STEP, side="right")))
        words, docs = word_hashes(norm.slice(lo, hi - lo))
        shingles, shingle_docs = shingle_hashes(words, docs, p.shingle_size)
        sig[lo:hi] = min_hash(shingles, shingle_docs, hi - lo, a, b, p.hash_chunk)
        has[lo:hi] = np.bincount(shingle_docs, minlength=hi - lo) > 0
        lo = hi
    return sig, has


def band_keys(sig: np.ndarray, num_bands: int, rows: int) -> np.ndarray:
    """One uint64 bucket key per (document, band): a hash of the band's `rows` minhash values.

    Two different bands collide with probability ~2^-64; the Jaccard check of candidate pairs catches it anyway.
    """
    keys = np.zeros((sig.shape[0], num_bands), dtype=np.uint64)
    bands = sig.reshape(sig.shape[0], num_bands, rows).astype(np.uint64)
    for r in range(rows):
        keys *= _WORD_BASE
        keys += bands[:, :, r]
        keys = splitmix64(keys)
    return keys
