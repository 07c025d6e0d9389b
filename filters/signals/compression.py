"""Compression signals: how predictable a document's bytes are.

- `zstd_ratio`: UTF-8 bytes / zstd-compressed bytes (level 3, no checksum or size field); higher means more
  internal redundancy. The whole batch is compressed by one `multi_compress_to_buffer` call.
- `ref_bits_per_byte`: cross-entropy of the document's UTF-8 bytes under a byte 4-gram model of public-domain
  books (built by tools/build_reference.py); lower means closer to edited prose. Interpolated absolute discounting with
  Ney's discount per order, mixed with 1% uniform. The model is expanded once per process into lookup tables
  (-log2 p in 1/8-bit steps, one byte each, about 22 MB); every byte of a batch is then scored by NumPy gathers.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import polars as pl
import zstandard

from filters.utf8 import series_bytes

MODEL_PATH = Path(__file__).with_name("reference_ngram.bin")  # made by `python -m tools.build_reference`
ORDER = 3  # longest context of the reference model, in bytes: a byte 4-gram model

ZSTD_LEVEL = 3
_STEP = 8  # table entries are round(-log2 p * _STEP), one byte: up to 31.875 bits
# 1% of the probability spread evenly over the 256 byte values: the books are nearly all ASCII, and without
# this floor one byte they never show (most of UTF-8 beyond ASCII) would cost up to 62 bits and swamp a
# document's average. A round value fixed by that argument, not fitted (see docs/signals.md).
_UNIFORM = 0.01
_CHUNK = 1 << 20  # bytes scored per NumPy pass (bounds memory)


def zstd_ratio(texts: pl.Series) -> np.ndarray:
    """Per document: UTF-8 bytes / zstd bytes (0.0 for empty text)."""
    data, offsets = series_bytes(texts.cast(pl.String))
    sizes = np.diff(offsets)
    if sizes.sum() == 0:  # zstandard refuses a batch of nothing
        return np.zeros(len(sizes))
    segments = np.stack([offsets[:-1], sizes], axis=1).astype(np.uint64)
    buffer = zstandard.BufferWithSegments(data.tobytes(), segments.tobytes())
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_content_size=False)
    packed = np.array([len(frame) for frame in compressor.multi_compress_to_buffer(buffer)], dtype=np.float64)
    return sizes / packed


def _quantise(p: np.ndarray) -> np.ndarray:
    cost = np.rint(-np.log2((1 - _UNIFORM) * p + _UNIFORM / 256) * _STEP)
    if cost.max(initial=0) > 255:
        raise ValueError("a probability is below the table range: lower _STEP")
    return cost.astype(np.uint8)


def _interpolate(keys: np.ndarray, counts: np.ndarray, ctx: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """p(b | ctx) = max(c(ctx, b) - D, 0) / c(ctx) + D * N1+(ctx) / c(ctx) * lower(b | ctx minus its first
    byte), for the sorted contexts `ctx` (rows of `lower`) that the n-grams `keys` (context << 8 | b) have."""
    n1, n2 = (counts == 1).sum(), (counts == 2).sum()
    d = n1 / (n1 + 2 * n2)  # Ney's discount estimate
    row = np.searchsorted(ctx, keys >> 8)
    total = np.bincount(row, weights=counts, minlength=len(ctx))
    types = np.bincount(row, minlength=len(ctx))
    p = lower * (d * types / total)[:, None].astype(np.float32)
    p[row, keys & 0xFF] += ((counts - d) / total[row]).astype(np.float32)
    return p


class ReferenceModel:
    """Lookup tables of the shipped byte n-gram model: round(_STEP * -log2 p(byte | up to 3 previous bytes))."""

    def __init__(self) -> None:
        with np.load(MODEL_PATH) as z:
            unigram = z["unigram"].astype(np.float64)
            grams = {n: (z[f"keys{n}"].astype(np.int64), z[f"counts{n}"].astype(np.float64)) for n in (2, 3, 4)}
        assert ORDER == 3, "tables below are laid out for a 4-gram model"
        p0 = ((unigram + 1) / (unigram.sum() + 256)).astype(np.float32)  # add-one over the 256 byte values
        self.t0 = _quantise(p0)
        p1 = np.tile(p0, (256, 1))  # [previous byte, byte]; unseen contexts back off entirely
        ctx1 = np.unique(grams[2][0] >> 8)
        p1[ctx1] = _interpolate(*grams[2], ctx1, p1[ctx1])
        self.t1 = _quantise(p1)
        # order 2: a row per 2-byte context; unseen ones repeat the order-1 row of their last byte
        ctx2 = np.unique(grams[3][0] >> 8)
        p2_seen = _interpolate(*grams[3], ctx2, p1[ctx2 & 0xFF])
        self.t2 = np.tile(self.t1, (256, 1))
        self.t2[ctx2] = _quantise(p2_seen)
        # order 3: rows only for the books' 3-byte contexts, found through a hash of the context
        ctx3 = np.unique(grams[4][0] >> 8)
        lower = p1[ctx3 & 0xFF]
        i = np.searchsorted(ctx2, ctx3 & 0xFFFF)
        known = ctx2[np.minimum(i, len(ctx2) - 1)] == (ctx3 & 0xFFFF)
        lower[known] = p2_seen[i[known]]
        t3 = _quantise(_interpolate(*grams[4], ctx3, lower)).ravel()
        # t3's rows, then t2's: a position's cost is one look-up, in its 3-byte context's row or, for a context
        # the books lack, in the row of its last two bytes
        self.t23 = np.concatenate([t3, self.t2.ravel()])
        self.t2_at = len(t3)
        self.t1, self.t2 = self.t1.ravel(), self.t23[self.t2_at :]
        # where a 3-byte context (a, b, c)'s row starts in t23, in two direct look-ups (no hashing or probing):
        # block_at[a << 8 | b] + c indexes row_start. Blocks 0..255 serve 2-byte prefixes the books' 3-byte
        # contexts never start with: block b holds t2's rows of (b, c). Each of the ~2.3k other prefixes has a
        # block of its own, those fallbacks overwritten by t3's rows. Int32: 2.6 MB and 256 kB.
        prefixes = np.unique(ctx3 >> 8)
        fallback = (np.arange(1 << 16, dtype=np.int64) << 8) + self.t2_at  # t2's row of (b, c), at b << 8 | c
        block = np.searchsorted(prefixes, ctx3 >> 8)
        self.row_start = np.concatenate([fallback, fallback.reshape(256, 256)[prefixes & 0xFF].ravel()])
        self.row_start[(256 + block) * 256 + (ctx3 & 0xFF)] = np.arange(len(ctx3)) * 256
        self.row_start = self.row_start.astype(np.int32)
        self.block_at = (np.arange(1 << 16, dtype=np.int64) & 0xFF) * 256
        self.block_at[prefixes] = (256 + np.arange(len(prefixes))) * 256
        self.block_at = self.block_at.astype(np.int32)

    def bits(self, data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Per document: total bits (-log2 p summed over its bytes), in chunks of whole documents."""
        out = np.zeros(len(offsets) - 1)
        first = 0
        while first < len(offsets) - 1:
            last = int(np.searchsorted(offsets, offsets[first] + _CHUNK, side="right")) - 1
            last = max(last, first + 1)
            lo, hi = offsets[first], offsets[last]
            out[first:last] = self._chunk_bits(data[lo:hi].astype(np.int32), offsets[first : last + 1] - lo)
            first = last
        return out

    def _chunk_bits(self, b: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Contexts are taken as if documents ran on, then each document's first three bytes are redone."""
        cost = np.zeros(len(b), dtype=np.uint8)  # the first three bytes belong to a document start: redone below
        if len(b) == 0:
            return np.zeros(len(offsets) - 1)
        # the row of the 3 bytes before each position from 3 on (its own or its last two bytes' t2 row)
        row = self.row_start[self.block_at[(b[:-3] << 8) | b[1:-2]] + b[2:-1]]
        cost[3:] = self.t23[row + b[3:]]
        starts, ends = offsets[:-1], offsets[1:]
        for k, table in ((2, self.t2), (1, self.t1), (0, self.t0)):  # shortest context last wins
            i = starts[starts + k < ends] + k
            index = b[i].copy()
            for j in range(1, k + 1):
                index |= b[i - j] << (8 * j)
            cost[i] = table[index]
        sums = np.add.reduceat(cost, np.minimum(starts, len(b) - 1), dtype=np.int64)
        return np.where(ends > starts, sums, 0) / _STEP


@cache
def reference_model() -> ReferenceModel:
    """The shipped model, expanded once per process."""
    return ReferenceModel()


def ref_bits_per_byte(texts: pl.Series) -> np.ndarray:
    """Per document: cross-entropy in bits per UTF-8 byte under the reference model (0.0 for empty text)."""
    data, offsets = series_bytes(texts.cast(pl.String))
    sizes = np.diff(offsets)
    return reference_model().bits(data, offsets) / np.maximum(sizes, 1)


def compression_signals(texts: pl.Series) -> pl.DataFrame:
    """Both compression signals for a batch, one row per text."""
    return pl.DataFrame({"zstd_ratio": zstd_ratio(texts), "ref_bits_per_byte": ref_bits_per_byte(texts)})
