"""Property tests: compute_signals never raises and yields finite signals on arbitrary text; the word
tokenizer equals spaCy's on arbitrary short chunks of tricky characters."""

from __future__ import annotations

import math
from functools import cache

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filters.signals import RULESETS, compute_signals
from filters.signals.tokenize import tokenize_lines

FRAGMENTS = [
    " ",
    "  ",
    "\n",
    "\n\n",
    "\r\n",
    "\t",
    "\x00",
    "\x0b",
    "\x1c",
    "\x85",
    "\u2028",
    "\xa0",
    "\u3000",
    "...",
    "…",
    "#",
    "•",
    "- ",
    "{",
    "}",
    "[1]",
    "[edit]",
    "lorem ipsum",
    "javascript",
    "cookie policy",
    "http://example.com/a-b).",
    "don't",
    "z.B.",
    "e.g.",
    ":)",
    "(:",
    "10a.m.",
    "U.S.",
    "Mr.",
    "😀",
    "中文。",
    "العربية",
    "русский",
    "ελληνικά",
    "हिन्दी",
    "\u0301",
    "ﬁ",
    "İ",
    "ß",
    "\ufeff",
    "\ud7ff",
    "\U0010ffff",
    "the",
    "and",
    "of",
    ".",
    "!",
    "?",
    '"',
    "'",
    "x" * 1001,
    "word " * 60,
    "a" * 5000,
    "\n" * 50,
]
texts = st.one_of(
    st.text(max_size=300),  # any code points but surrogates
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=40).map("".join),
    st.sampled_from(["", " ", "\n", "\t\t", "a" * 200_000, ("Line of text. " * 3000).strip(), "\n".join(["x"] * 3000)]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(texts, min_size=1, max_size=6))
def test_any_text_gives_finite_signals(batch: list[str]) -> None:
    out = compute_signals(pl.Series(batch, dtype=pl.String))
    assert out.height == len(batch)
    for name, dtype in out.schema.items():
        column = out[name]
        if name in ("c4_lorem_ipsum_line", "c4_curly_bracket_line") or name.endswith("_reason"):
            continue  # null by design: no such line / kept
        assert column.null_count() == 0, name
        if dtype.is_float():
            assert all(math.isfinite(v) and v >= 0 for v in column.to_list()), name
        elif dtype.is_integer():
            assert column.min() >= 0, name
    for name in RULESETS:
        assert (out[f"{name}_keep"] == out[f"{name}_reason"].is_null()).all()
    for name in FRACTIONS:  # (top n-gram "fractions" and the hash ratio can exceed 1 in datatrove too)
        assert out[name].max() <= 1.0, name


FRACTIONS = [
    *(f"gopher_quality_{s}_ratio" for s in ("bullet_lines", "end_ellipsis_lines", "alpha_words")),
    *(f"gopher_repetition_dup_{s}_frac" for s in ("para", "para_char", "line", "line_char")),
    *(f"gopher_repetition_dup_{n}_gram_char_frac" for n in range(5, 11)),
    "c4_frac_lines_removed",
    "c4_frac_chars_removed",
    "fineweb_line_punct_ratio",
    "fineweb_short_line_ratio",
    "fineweb_char_dup_ratio",
]


CHUNK_CHARS = list("abcXYZ0195.,;:!?'\"()[]{}-–—/\\*#&%$€+=<>_~`´’“”„«»…😀中é") + ["n't", "'s", ":)", "e.g.", "U.S."]


@cache
def _blank_english():  # what datatrove's English word tokenizer builds on
    return pytest.importorskip("spacy").blank("en")


chunk = st.lists(st.sampled_from(CHUNK_CHARS), min_size=1, max_size=5).map("".join)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(chunk, max_size=8).map(" ".join), min_size=1, max_size=30))
def test_tokenizer_equals_spacy_on_short_chunks(texts: list[str]) -> None:
    """Chunks of up to 5 pieces stay within the exact affix rounds (longer affix runs are split in bulk)."""
    nlp = _blank_english()
    lines = pl.DataFrame({"lid": range(len(texts)), "line": texts}, schema={"lid": pl.UInt32, "line": pl.String})
    ours = tokenize_lines(lines).filter(~pl.col("space")).group_by("lid", maintain_order=True).agg("token")
    got = dict(zip(ours["lid"].to_list(), ours["token"].to_list(), strict=True))
    for i, text in enumerate(texts):
        assert got.get(i, []) == [t.text for t in nlp.tokenizer(text) if t.text.strip()], text
