"""A string column's UTF-8 bytes as NumPy arrays and back, for the byte-level passes (hashes, compression,
piecewise normalisation) that NumPy does faster than per-string Python."""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa


def array_bytes(arr: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes of an Arrow string array (no copy when it is one large_string chunk), and the offset of each
    string in them (n + 1 offsets, from 0)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_string())
    _, off_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(off_buf, dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    return data[offsets[0] : offsets[-1]], offsets - offsets[0]


def series_bytes(texts: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes of all texts in one array, and the offset of each text in it (a null has no bytes)."""
    if texts.has_nulls():
        texts = texts.fill_null("")
    return array_bytes(texts.to_arrow(compat_level=pl.CompatLevel.oldest()))


def strings_from_bytes(data: np.ndarray, offsets: np.ndarray) -> pa.LargeStringArray:
    """Arrow strings over UTF-8 bytes (no copy): string i is data[offsets[i]:offsets[i + 1]]."""
    return pa.LargeStringArray.from_buffers(offsets.size - 1, pa.py_buffer(offsets), pa.py_buffer(data))
