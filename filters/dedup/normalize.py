"""Text and URL normalisation of whole batches (polars Series), so the work runs in Rust, not per document.

Exact dedup and near dedup normalise differently on purpose: exact keys must not merge texts that differ in
letters (so diacritics stay), while MinHash shingles should ignore accents and number values the way
datatrove's `simplify_text` does.
"""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import xxhash

from filters.dedup.params import DedupParams

_PUNCT_SYMBOLS = r"[\p{P}\p{S}\p{Cc}\p{Cf}]+"
_NUMBER = r"\p{Nd}+(?:[.,،٫]\p{Nd}+)*"
_CJK_CHAR = r"([\p{Han}\p{Hiragana}\p{Katakana}])"
_DEFAULT_PORTS = {"http": "80", "https": "443", "ftp": "21"}
# scheme, host (userinfo dropped), port, path, query; the fragment is dropped.
_URL_RE = r"^\s*(?:([A-Za-z][A-Za-z0-9+.\-]*):)?//(?:[^@/?#]*@)?([^/?#:]*)(?::(\d*))?([^?#]*)(?:\?([^#]*))?"


def _collapse(texts: pl.Series) -> pl.Series:
    # Touch only runs of 2+ whitespace and single non-space whitespace: replacing every " " is ~6x slower.
    return texts.str.replace_all(r"\s{2,}|[^\S ]", " ").str.strip_chars()


def _unicode(texts: pl.Series, form: str) -> pl.Series:
    """Unicode normalisation of the texts that need it: ASCII is invariant under every form, and polars
    normalises at ~40 ns/byte against ~0.1 ns/byte for the ASCII check (much web text is plain ASCII)."""
    non_ascii = texts.str.len_bytes() != texts.str.len_chars()
    if not non_ascii.any():
        return texts
    return texts.clone().scatter(non_ascii.arg_true(), texts.filter(non_ascii).str.normalize(form))  # type: ignore[arg-type]


def exact_text(texts: pl.Series, p: DedupParams, lowered: pl.Series | None = None) -> pl.Series:
    """Key text for exact dedup: case, Unicode form, punctuation, digit values and spacing are ignored.
    `lowered` is `texts.str.to_lowercase()` when the caller has it (shingle_text needs it too)."""
    if p.exact_lowercase:
        texts = texts.str.to_lowercase() if lowered is None else lowered
    if p.exact_unicode:
        texts = _unicode(texts, p.exact_unicode)
    if p.exact_digits_to_zero:
        texts = texts.str.replace_all(_NUMBER, "0")
    if p.exact_strip_punctuation:
        texts = texts.str.replace_all(_PUNCT_SYMBOLS, " ")
    return _collapse(texts)


def shingle_text(texts: pl.Series, split_cjk: bool = True, lowered: pl.Series | None = None) -> pl.Series:
    """Text whose space-separated words MinHash shingles: lower-case, no accents, numbers as 0, no punctuation.
    `lowered` is `texts.str.to_lowercase()` when the caller has it."""
    texts = _unicode(texts.str.to_lowercase() if lowered is None else lowered, "NFKD").str.replace_all(r"\p{Mn}+", "")
    texts = texts.str.replace_all(_NUMBER, "0").str.replace_all(_PUNCT_SYMBOLS, " ")
    if split_cjk:
        texts = texts.str.replace_all(_CJK_CHAR, " ${1} ")
    return _collapse(texts)


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
