"""Text and URL normalisation of whole batches (polars Series), so the work runs in Rust, not per document.

Exact dedup and near dedup normalise differently on purpose: exact keys must not merge texts that differ in
letters (so diacritics stay), while MinHash shingles should ignore accents and number values the way
datatrove's `simplify_text` does.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import polars as pl
import pyarrow as pa
import xxhash

from filters.dedup.params import DedupParams
from filters.utf8 import array_bytes, series_bytes, strings_from_bytes

# A run of 2+ punctuation, symbol, control or space characters, or one such character other than " ".
_PUNCT_OR_SPACES = r"[\p{P}\p{S}\p{Cc}\p{Cf}\s]{2,}|[\p{P}\p{S}\p{Cc}\p{Cf}\s&&[^ ]]"
_NUMBER = r"\p{Nd}+(?:[.,،٫]\p{Nd}+)*"
_CJK_CHAR = r"([\p{Han}\p{Hiragana}\p{Katakana}])"
_DEFAULT_PORTS = {"http": "80", "https": "443", "ftp": "21"}
# scheme, host (userinfo dropped), port, path, query; the fragment is dropped.
_URL_RE = r"^\s*(?:([A-Za-z][A-Za-z0-9+.\-]*):)?//(?:[^@/?#]*@)?([^/?#:]*)(?::(\d*))?([^?#]*)(?:\?([^#]*))?"


def _collapse(texts: pl.Series) -> pl.Series:
    # Touch only runs of 2+ whitespace and single non-space whitespace: replacing every " " is ~6x slower.
    return texts.str.replace_all(r"\s{2,}|[^\S ]", " ").str.strip_chars()


def _words(texts: pl.Series) -> pl.Series:
    """Words separated by single spaces: `_collapse` of the texts with punctuation runs replaced by spaces, in one
    pass instead of two (every maximal run of punctuation and spaces becomes one space either way)."""
    return texts.str.replace_all(_PUNCT_OR_SPACES, " ").str.strip_chars()


def _map_non_ascii(texts: pl.Series, transform: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """Apply `transform` to the runs of non-ASCII characters only, each with the character before it.

    polars normalises Unicode at ~40 ns/byte, and even texts with some non-ASCII characters are mostly ASCII.
    Normalising piecewise is exact: ASCII is invariant under every form, has combining class 0 and is never the
    second character of a composition, so a text can be cut before any ASCII character; the character before a
    run is kept with it because it may compose with the run (e + U+0301 -> é). `transform` must be piecewise in
    that sense too (removing or padding non-ASCII characters is).
    """
    data, offsets = series_bytes(texts)
    high = data >= 0x80
    high_at = np.flatnonzero(high)
    if high_at.size == 0:
        return texts
    breaks = np.flatnonzero(np.diff(high_at) != 1)
    starts = high_at[np.concatenate(([0], breaks + 1))]
    ends = high_at[np.append(breaks, -1)] + 1
    inner = offsets[(offsets > 0) & (offsets < data.size)]
    cuts = np.unique(inner[high[inner - 1] & high[inner]])
    if cuts.size:  # a run must not span two texts: cut it where a text starts
        starts = np.sort(np.concatenate((starts, cuts)))
        ends = np.sort(np.concatenate((ends, cuts)))
    starts -= offsets[np.searchsorted(offsets, starts)] != starts  # the character before, if in the same text
    n_runs = starts.size
    bounds = np.empty(2 * n_runs + 2, dtype=np.int64)
    bounds[0], bounds[1:-1:2], bounds[2:-1:2], bounds[-1] = 0, starts, ends, data.size
    pieces = strings_from_bytes(data, bounds)  # gap, run, gap, run, ..., gap
    runs = transform(pl.Series(pieces.take(np.arange(1, 2 * n_runs, 2))))  # type: ignore[arg-type]
    candidates = pa.concat_arrays([pieces, runs.to_arrow(compat_level=pl.CompatLevel.oldest()).cast(pa.large_string())])
    order = np.arange(2 * n_runs + 1)
    order[1::2] = 2 * n_runs + 1 + np.arange(n_runs)  # every run replaced by its transformed form
    out, _ = array_bytes(candidates.take(order))
    grown = np.concatenate(([0], np.cumsum(runs.str.len_bytes().to_numpy() - (ends - starts))))  # before run k
    out_texts = pl.Series(texts.name, strings_from_bytes(out, offsets + grown[np.searchsorted(starts, offsets)]))
    return pl.select(pl.when(texts.is_not_null()).then(out_texts)).to_series() if texts.has_nulls() else out_texts


def exact_text(texts: pl.Series, p: DedupParams, lowered: pl.Series | None = None) -> pl.Series:
    """Key text for exact dedup: case, Unicode form, punctuation, digit values and spacing are ignored.
    `lowered` is `texts.str.to_lowercase()` when the caller has it (shingle_text needs it too)."""
    if p.exact_lowercase:
        texts = texts.str.to_lowercase() if lowered is None else lowered
    if p.exact_unicode:
        texts = _map_non_ascii(texts, lambda runs: runs.str.normalize(p.exact_unicode))  # type: ignore[arg-type]
    if p.exact_digits_to_zero:
        texts = texts.str.replace_all(_NUMBER, "0")
    return _words(texts) if p.exact_strip_punctuation else _collapse(texts)


def shingle_text(texts: pl.Series, split_cjk: bool = True, lowered: pl.Series | None = None) -> pl.Series:
    """Text whose space-separated words MinHash shingles: lower-case, no accents, numbers as 0, no punctuation.
    `lowered` is `texts.str.to_lowercase()` when the caller has it.

    Accents and CJK characters are handled on the non-ASCII runs only. Spacing CJK characters before (not after)
    replacing numbers and punctuation gives the same words: no CJK character is a digit or a number separator,
    and the spaces around a CJK punctuation mark merge with the space that replaces it.
    """

    def fold(runs: pl.Series) -> pl.Series:
        runs = runs.str.normalize("NFKD").str.replace_all(r"\p{Mn}+", "")
        return runs.str.replace_all(_CJK_CHAR, " ${1} ") if split_cjk else runs

    texts = _map_non_ascii(texts.str.to_lowercase() if lowered is None else lowered, fold)
    return _words(texts.str.replace_all(_NUMBER, "0"))


def hash_texts(texts: pl.Series) -> np.ndarray:
    """xxh3-64 of each UTF-8 string: stable across runs, machines and library versions (unlike `Series.hash`)."""
    return np.fromiter((xxhash.xxh3_64_intdigest((t or "").encode()) for t in texts), dtype=np.uint64, count=len(texts))


def _tracking_regex(params: tuple[str, ...]) -> str:
    parts = [re.escape(t[:-1]) + r"[^=]*" if t.endswith("*") else re.escape(t) for t in params]
    return r"(?i)^(?:" + "|".join(parts) + r")(?:=|$)"


def url_keys(urls: pl.Series, p: DedupParams) -> pl.Series:
    """Canonical URL: lower-case host without `www.`, no default port, userinfo, fragment or trailing slash,
    query parameters sorted with tracking parameters removed. Null for a missing or empty URL.

    Percent-encoding and path case are kept (servers may treat them as different pages).
    """
    url = pl.col("u")
    parts = url.str.extract_groups(_URL_RE)
    scheme = parts.struct.field("1").str.to_lowercase().fill_null("")
    host = parts.struct.field("2").str.to_lowercase().str.strip_chars_end(".")
    if p.url_strip_www:
        host = host.str.replace(r"^www\d*\.", "")
    port = parts.struct.field("3").fill_null("")
    default_port = scheme.replace_strict(_DEFAULT_PORTS, default="")
    port = pl.when((port == default_port) | (port == "")).then(pl.lit("")).otherwise(pl.lit(":") + port)
    path = parts.struct.field("4").fill_null("").str.replace(r"/+$", "")
    key = pl.concat_str([pl.lit("//") if p.url_ignore_scheme else scheme + "://", host, port, path])
    if not p.url_drop_query:
        query = (
            parts.struct.field("5")
            .fill_null("")
            .str.split("&")
            .list.eval(
                pl.element()
                .filter((pl.element() != "") & ~pl.element().str.contains(_tracking_regex(p.url_tracking_params)))
                .sort()
            )
            .list.join("&")
        )
        key = pl.when(query == "").then(key).otherwise(key + "?" + query)
    # Strings without "//" (not absolute URLs) are kept as they are, trimmed and lower-cased.
    fallback = url.str.strip_chars().str.to_lowercase()
    key = pl.when(parts.struct.field("2").is_null()).then(fallback).otherwise(key)
    key = pl.when(url.str.strip_chars().str.len_bytes() > 0).then(key).otherwise(None)
    return urls.cast(pl.String).to_frame("u").select(key).to_series()
