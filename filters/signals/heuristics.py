"""Signals behind datatrove's GopherQuality, GopherRepetition, C4Quality and FineWebQuality filters (defaults of
datatrove 0.10.1), computed for a whole batch with polars; `rules.decide` turns them into keep/drop decisions.

Why columns rather than decisions: a threshold can then be changed (`rules.decide`) without re-reading text.
Each signal reproduces the exact quantity the datatrove filter compares with its threshold, including its
quirks (which line split it uses, what it strips, what counts as a word). Ratios whose denominator is zero
(e.g. empty text) are 0.0, so every signal is finite; datatrove never reaches those comparisons there.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from datatrove.pipeline.filters.c4_filters import POLICY_SUBSTRINGS
from datatrove.pipeline.filters.gopher_quality_filter import STOP_WORDS
from datatrove.utils.text import PUNCTUATION_SET, TERMINAL_PUNCTUATION

from filters.signals.repetition import DOC_MIX, Ngrams, dup_ngram_chars, top_ngram_chars
from filters.signals.tokenize import WS, WS_CHARS, tables, tokenize_lines

TOP_NGRAMS = (2, 3, 4)
DUP_NGRAMS = (5, 6, 7, 8, 9, 10)
SHORT_LINE_LENGTH = 30  # FineWebQualityFilter(short_line_length=30)
C4_MIN_WORDS_PER_LINE = 3
C4_MAX_WORD_LENGTH = 1000
# Python's str.splitlines() boundaries, normalised to "\n" before splitting
_LINE_BREAKS = r"\r\n|[\r\x{0b}\x{0c}\x{1c}\x{1d}\x{1e}\x{85}\x{2028}\x{2029}]"
_CITATION = r"\[\d*]|\[edit]|\[citation needed]"  # C4QualityFilter's CITATION_REGEX
_SENTENCE_MARKS = pl.Series(tables()["sentence_punct_chars"], dtype=pl.String)
_STOP_WORDS = pl.Series(sorted(STOP_WORDS), dtype=pl.String)


def _cls(chars: set[str] | list[str]) -> str:
    """A regex character class body matching exactly these characters."""
    return "".join(f"\\x{{{ord(c):x}}}" for c in sorted(chars))


_PUNCT_CLASS = _cls(PUNCTUATION_SET)
_TERMINAL_CLASS = _cls(TERMINAL_PUNCTUATION)


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when(den > 0).then(num.cast(pl.Float64) / den).otherwise(0.0)


def _stripped(col: pl.Expr) -> pl.Expr:
    """Python's str.strip(): also strips \\x1c-\\x1f, which polars' strip_chars() keeps (so the characters are
    named; a char set is 2x faster than a regex replace)."""
    return col.str.strip_chars(WS_CHARS)


def _dup_stats(items: pl.DataFrame, by: str, value: str) -> pl.DataFrame:
    """datatrove's `find_duplicates` per group: repeated items and their characters (first sightings free)."""
    return (
        # first sighting within its group: a 64-bit hash of (group, value) stands in for the pair
        items.with_columns(
            (pl.col(value).hash() ^ (pl.col(by).cast(pl.UInt64) * DOC_MIX)).is_first_distinct().alias("_first")
        )
        .group_by(by)
        .agg(
            pl.len().alias("n"),
            (~pl.col("_first")).sum().alias("dup"),
            pl.col(value).str.len_chars().filter(~pl.col("_first")).sum().alias("dup_chars"),
        )
    )


def _per_doc(n_docs: int, frame: pl.DataFrame, fill: dict[str, object]) -> pl.DataFrame:
    """Left-join per-document aggregates onto 0..n_docs-1, filling documents that had no rows."""
    base = pl.DataFrame({"doc": pl.int_range(0, n_docs, eager=True, dtype=pl.UInt32)})
    return base.join(frame.with_columns(pl.col("doc").cast(pl.UInt32)), on="doc", how="left").with_columns(
        pl.col(k).fill_null(v) for k, v in fill.items()
    )


def split_lines(docs: pl.DataFrame) -> pl.DataFrame:
    """`text.splitlines()` per document: columns lid (line id in the batch), doc, line, ln (index in doc)."""
    text = pl.col("text").str.replace_all(_LINE_BREAKS, "\n")
    lines = text.str.split("\n")
    drop_last = (pl.col("text") == "") | pl.col("text").str.contains(f"(?:{_LINE_BREAKS}|\\n)$")
    lines = pl.when(drop_last).then(lines.list.slice(0, lines.list.len() - 1)).otherwise(lines)
    return (
        docs.select("doc", lines.alias("line"))
        .explode("line", keep_nulls=False)
        .with_columns(pl.int_range(pl.len()).over("doc").alias("ln"))
        .with_row_index("lid")
    )


def gopher_quality(docs: pl.DataFrame, lines: pl.DataFrame, tokens: pl.DataFrame) -> pl.DataFrame:
    """GopherQualityFilter's signals (word counts over spaCy tokens, line shapes over splitlines())."""
    token, doc = tokens["token"], tokens["doc"].to_numpy()
    n_docs = docs.height
    alpha = token.str.contains(r"\p{L}").to_numpy()
    # a word with a letter is not a symbol (no letter is in PUNCTUATION_SET): the long class checks the rest only
    non_symbol = alpha.copy()
    rest = np.flatnonzero(~alpha)
    non_symbol[rest] = token.gather(rest).str.contains(f"[^{_PUNCT_CLASS}]").to_numpy()
    chars = token.str.len_chars().to_numpy()
    stop = np.flatnonzero(token.is_in(_STOP_WORDS.implode()).to_numpy())
    stop_words = (
        pl.DataFrame({"doc": doc[stop], "token": token.gather(stop)}).group_by("doc").agg(pl.col("token").n_unique())
    )
    n_stop = np.zeros(n_docs, dtype=np.int64)
    n_stop[stop_words["doc"].to_numpy()] = stop_words["token"].to_numpy()
    w = pl.DataFrame(
        {
            "n_words": np.bincount(doc, minlength=n_docs),
            "gopher_quality_n_non_symbol_words": np.bincount(doc, weights=non_symbol, minlength=n_docs),
            "_non_symbol_chars": np.bincount(doc, weights=np.where(non_symbol, chars, 0), minlength=n_docs),
            "_alpha_words": np.bincount(doc, weights=alpha, minlength=n_docs),
            "gopher_quality_n_stop_words": n_stop,
        }
    )
    line = pl.col("line")
    shapes = lines.group_by("doc").agg(
        pl.len().alias("n_lines"),
        line.str.contains(f"^[{WS}]*[•-]").sum().alias("_bullets"),
        line.str.contains(f"(?:\\.\\.\\.|…)[{WS}]*$").sum().alias("_end_ellipsis"),
    )
    s = _per_doc(n_docs, shapes, {c: 0 for c in shapes.columns if c != "doc"})
    text = docs["text"]
    n_words = w["n_words"]
    return pl.DataFrame(
        {
            "n_words": n_words.cast(pl.Int64),
            "gopher_quality_n_non_symbol_words": w["gopher_quality_n_non_symbol_words"].cast(pl.Int64),
            "gopher_quality_mean_word_length": w.select(
                _ratio(pl.col("_non_symbol_chars"), pl.col("gopher_quality_n_non_symbol_words"))
            ).to_series(),
            "gopher_quality_hash_ratio": _ratio_series(text.str.count_matches("#", literal=True), n_words),
            "gopher_quality_ellipsis_ratio": _ratio_series(
                text.str.count_matches("...", literal=True) + text.str.count_matches("…", literal=True), n_words
            ),
            "gopher_quality_bullet_lines_ratio": _ratio_series(s["_bullets"], s["n_lines"]),
            "gopher_quality_end_ellipsis_lines_ratio": _ratio_series(s["_end_ellipsis"], s["n_lines"]),
            "gopher_quality_alpha_words_ratio": _ratio_series(w["_alpha_words"], n_words),
            "gopher_quality_n_stop_words": w["gopher_quality_n_stop_words"].cast(pl.Int64),
        }
    )


def _ratio_series(num: pl.Series, den: pl.Series) -> pl.Series:
    return pl.select(_ratio(pl.lit(num), pl.lit(den))).to_series()


def newline_pieces(docs: pl.DataFrame) -> pl.DataFrame:
    """`text.split("\n")` per document (columns doc, line): FineWeb's lines and, minus the empty ones, the
    non-empty pieces of Gopher repetition's `re.split("\n+", text)`."""
    return docs.select("doc", pl.col("text").str.split("\n").alias("line")).explode("line", keep_nulls=False)


def gopher_repetition(docs: pl.DataFrame, pieces: pl.DataFrame, tokens: pl.DataFrame) -> pl.DataFrame:
    """GopherRepetitionFilter's signals: duplicate paragraphs/lines and word n-gram repetition."""
    n_docs = docs.height
    text = pl.col("text")
    # re.split(r"\n{2,}", text.strip()): pieces between blank-line runs (a literal split once the rare runs of 3+
    # are shortened: 3x faster than extracting the pieces with a regex); an empty stripped text is one piece
    paras = docs.select("doc", _stripped(text).str.replace_all(r"\n{3,}", "\n\n").str.split("\n\n").alias("p"))
    paras = paras.explode("p")
    para = _per_doc(n_docs, _dup_stats(paras, "doc", "p"), {"n": 1, "dup": 0, "dup_chars": 0})
    # re.split("\n+", text): non-empty pieces, plus "" at either end when the text starts/ends with "\n"
    lines = pieces.filter(pl.col("line") != "")
    line = _per_doc(n_docs, _dup_stats(lines, "doc", "line"), {"n": 0, "dup": 0, "dup_chars": 0})
    edges = docs.select(
        text.str.starts_with("\n").cast(pl.Int64).alias("a"), text.str.ends_with("\n").cast(pl.Int64).alias("b")
    )
    n_lines = line["n"] + edges["a"] + edges["b"]
    dup_lines = line["dup"] + (edges["a"] & edges["b"])
    n_chars = docs["text"].str.len_chars()
    ng = Ngrams(
        tokens["doc"].to_numpy(),
        tokens["token"].hash().to_numpy(),
        tokens["token"].str.len_chars().to_numpy(),
        n_docs,
        max(DUP_NGRAMS),
    )
    out = {
        "gopher_repetition_dup_para_frac": _ratio_series(para["dup"], para["n"]),
        "gopher_repetition_dup_para_char_frac": _ratio_series(para["dup_chars"], n_chars),
        "gopher_repetition_dup_line_frac": _ratio_series(dup_lines, n_lines),
        "gopher_repetition_dup_line_char_frac": _ratio_series(line["dup_chars"], n_chars),
    }
    n_chars_np = np.maximum(n_chars.to_numpy(), 1)
    for n in TOP_NGRAMS:
        out[f"gopher_repetition_top_{n}_gram_char_frac"] = pl.Series(top_ngram_chars(ng, n) / n_chars_np)
    for n, chars in dup_ngram_chars(ng, DUP_NGRAMS).items():
        out[f"gopher_repetition_dup_{n}_gram_char_frac"] = pl.Series(chars / n_chars_np)
    return pl.DataFrame(out)


def _sentence_counts(lid: np.ndarray, space: np.ndarray, token: pl.Series, n_lines: int) -> np.ndarray:
    """Sentences spaCy's Sentencizer finds in each line (indexed by lid; 0 for lines without tokens): one plus
    one per boundary, a boundary being a token that is neither punctuation nor a sentence mark, with a sentence
    mark since the previous such token. Each line's tokens (`lid`, `space`, `token`: one per token) must be
    contiguous and in order."""
    start = np.r_[True, lid[1:] != lid[:-1]]
    end = np.r_[lid[1:] != lid[:-1], True]
    # C4 strips its lines: whitespace tokens at either end of a line are not there
    keep = np.flatnonzero(~(space & (start | end))) if len(lid) else np.zeros(0, dtype=np.int64)
    lid = lid[keep]
    out = np.zeros(n_lines, dtype=np.int64)
    if len(lid) == 0:
        return out
    start = np.r_[True, lid[1:] != lid[:-1]]
    # sentence marks are single punctuation characters: only punctuation tokens need the look-up
    punct = np.flatnonzero(token.str.contains(r"^\p{P}+$").to_numpy()[keep])
    is_mark = np.zeros(len(lid), dtype=bool)
    is_mark[punct] = token.gather(keep[punct]).is_in(_SENTENCE_MARKS.implode()).to_numpy()
    is_word = np.ones(len(lid), dtype=bool)
    is_word[punct] = False
    word = np.flatnonzero(is_word)
    marks = np.cumsum(is_mark)  # marks up to and including each token
    line_start = np.maximum.accumulate(np.where(start, np.arange(len(lid)), 0))
    before_line = marks[line_start] - is_mark[line_start]
    prev = np.r_[-1, word[:-1]]
    same_line = (prev >= 0) & (prev >= line_start[word])
    since = np.where(same_line, marks[np.maximum(prev, 0)], before_line[word])
    line_no = np.cumsum(start) - 1
    out[lid[start]] = 1 + np.bincount(line_no[word[marks[word] > since]], minlength=int(start.sum()))
    return out


def c4_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """C4QualityFilter's line rules (split_paragraph=True), which need no tokens: `lines` plus the stripped line,
    the line without citations (`clean`), and whether the line is kept or trips the lorem-ipsum or
    curly-bracket rule."""
    stripped = _stripped(pl.col("line"))
    lines = lines.with_columns(stripped.alias("stripped")).with_columns(
        pl.col("stripped").str.replace_all(_CITATION, "").alias("clean")
    )
    # at least C4_MIN_WORDS_PER_LINE words: a search that stops at the third word, not a count of them all
    enough_words = pl.col("stripped").str.contains(
        f"[^{WS}]+" + f"[{WS}]+[^{WS}]+" * (C4_MIN_WORDS_PER_LINE - 1)
    )
    long_lines = lines.filter(pl.col("stripped").str.len_chars() > C4_MAX_WORD_LENGTH)
    long_word = long_lines.filter(
        pl.col("stripped")
        .str.extract_all(f"[^{WS}]+")
        .list.eval(pl.element().str.len_chars() > C4_MAX_WORD_LENGTH)
        .list.any()
    )["lid"]
    clean = pl.col("clean")
    passes = (
        clean.str.contains(r"""[.?!"']$""")
        & ~clean.str.ends_with("...")
        & enough_words
        & ~pl.col("lid").is_in(long_word.implode())
    )
    # the phrase rules only look at lines that passed the shape rules
    lower = pl.col("_lower")
    lorem = lower.str.contains("lorem ipsum", literal=True)
    javascript = lower.str.contains("javascript", literal=True)
    curly = clean.str.contains("{", literal=True)
    policy = lower.str.contains_any(list(POLICY_SUBSTRINGS))
    rules = (
        lines.filter(passes)
        .select("lid", "clean", clean.str.to_lowercase().alias("_lower"))
        .select(
            "lid",
            lorem.alias("_lorem"),
            (~lorem & ~javascript & curly).alias("_curly"),
            (~lorem & ~javascript & ~curly & ~policy).alias("_kept"),
        )
    )
    return lines.join(rules, on="lid", how="left", maintain_order="left").with_columns(
        pl.col("_lorem", "_curly", "_kept").fill_null(False)
    )


def c4_recut(lines: pl.DataFrame) -> pl.DataFrame:
    """The kept lines whose citations were cut out (columns doc, lid, line): their sentences are counted on
    their own tokens."""
    recut = lines.filter(pl.col("_kept") & (pl.col("clean") != pl.col("stripped")))
    return recut.select("doc", "lid", pl.col("clean").alias("line"))


def c4(docs: pl.DataFrame, lines: pl.DataFrame, tokens: pl.DataFrame, recut: pl.DataFrame) -> pl.DataFrame:
    """C4QualityFilter (split_paragraph=True) over `c4_lines`: which lines it keeps, the sentences in them (from
    the document's `tokens`, or the `recut` tokens of `c4_recut`), and where a document-dropping rule (lorem
    ipsum, curly bracket) first fires. datatrove rewrites the kept text as the kept lines joined by "\\n"; that
    is recorded as the fractions of lines and characters removed."""
    clean = pl.col("clean")
    as_is = lines.select(pl.col("_kept") & (clean == pl.col("stripped"))).to_series().to_numpy()
    lid = tokens["lid"].to_numpy()
    at = np.flatnonzero(as_is[lid])
    sentences = _sentence_counts(
        np.concatenate([lid[at], recut["lid"].to_numpy()]),
        np.concatenate([tokens["space"].to_numpy()[at], recut["space"].to_numpy()]),
        pl.concat([tokens["token"].gather(at), recut["token"]]),
        lines.height,
    )
    per_doc = (
        lines.with_columns(pl.Series("n_sentences", sentences))
        .group_by("doc")
        .agg(
            pl.len().alias("c4_n_lines"),
            pl.col("_kept").sum().alias("c4_n_lines_kept"),
            pl.col("n_sentences").sum().alias("c4_n_sentences"),
            pl.col("ln").filter("_lorem").min().alias("c4_lorem_ipsum_line"),
            pl.col("ln").filter("_curly").min().alias("c4_curly_bracket_line"),
            # len("\n".join(kept).strip()): kept lines end in punctuation, but the first may start with
            # the whitespace a removed citation left
            (
                clean.str.len_chars().cast(pl.Int64).filter("_kept").sum()
                + (pl.col("_kept").sum().cast(pl.Int64) - 1).clip(0)
                - (clean.str.len_chars() - clean.str.replace(f"^[{WS}]+", "").str.len_chars())
                .filter("_kept")
                .first()
                .fill_null(0)
            ).alias("_kept_chars"),
        )
    )
    d = _per_doc(docs.height, per_doc, {"c4_n_lines": 0, "c4_n_lines_kept": 0, "c4_n_sentences": 0, "_kept_chars": 0})
    n_chars = docs["text"].str.len_chars().cast(pl.Int64)
    return pl.DataFrame(
        {
            "c4_n_lines": d["c4_n_lines"].cast(pl.Int64),
            "c4_n_lines_kept": d["c4_n_lines_kept"].cast(pl.Int64),
            "c4_frac_lines_removed": _ratio_series(d["c4_n_lines"] - d["c4_n_lines_kept"], d["c4_n_lines"]),
            "c4_frac_chars_removed": _ratio_series(n_chars - d["_kept_chars"], n_chars),
            "c4_n_sentences": d["c4_n_sentences"].cast(pl.Int64),
            "c4_lorem_ipsum_line": d["c4_lorem_ipsum_line"].cast(pl.Int32),
            "c4_curly_bracket_line": d["c4_curly_bracket_line"].cast(pl.Int32),
        }
    )


def fineweb(docs: pl.DataFrame, pieces: pl.DataFrame, n_words: pl.Series) -> pl.DataFrame:
    """FineWebQualityFilter's signals over `text.split("\\n")` minus blank lines."""
    lines = pieces.filter(_stripped(pl.col("line")) != "")
    line = pl.col("line")
    stats = lines.group_by("doc").agg(
        pl.len().alias("n"),
        line.str.contains(f"[{_TERMINAL_CLASS}]$").sum().alias("punct"),
        (line.str.len_chars() <= SHORT_LINE_LENGTH).sum().alias("short"),
    )
    dups = _dup_stats(lines, "doc", "line").select("doc", "dup_chars")
    d = _per_doc(docs.height, stats.join(dups, on="doc"), {"n": 0, "punct": 0, "short": 0, "dup_chars": 0})
    text = docs["text"]
    return pl.DataFrame(
        {
            "fineweb_n_lines": d["n"].cast(pl.Int64),
            "fineweb_line_punct_ratio": _ratio_series(d["punct"], d["n"]),
            "fineweb_short_line_ratio": _ratio_series(d["short"], d["n"]),
            "fineweb_char_dup_ratio": _ratio_series(
                d["dup_chars"], text.str.len_chars() - text.str.count_matches("\n", literal=True)
            ),
            "fineweb_list_ratio": _ratio_series(text.str.count_matches("\n", literal=True), n_words),
        }
    )


def heuristic_signals(texts: pl.Series) -> pl.DataFrame:
    """All heuristic signal columns for a batch, one row per text (nulls read as empty text)."""
    docs = pl.DataFrame({"text": texts.cast(pl.String).fill_null("")}).with_row_index("doc")
    lines = c4_lines(split_lines(docs))
    # one tokenizer pass for the lines and C4's recut ones, numbered after them so that their tokens come last
    recut = c4_recut(lines)
    n_lines = lines.height
    renumbered = recut.with_columns(pl.int_range(n_lines, n_lines + recut.height, dtype=pl.UInt32).alias("lid"))
    tokens = tokenize_lines(pl.concat([lines.select("doc", "lid", "line"), renumbered]))
    split = int(np.searchsorted(tokens["lid"].to_numpy(), n_lines))
    recut_tokens = tokens.slice(split).with_columns(recut["lid"].gather(tokens["lid"].slice(split) - n_lines))
    tokens = tokens.slice(0, split)
    words = tokens.filter(~pl.col("space"))
    pieces = newline_pieces(docs)
    gq = gopher_quality(docs, lines, words)
    return pl.concat(
        [
            pl.DataFrame({"n_chars": docs["text"].str.len_chars().cast(pl.Int64)}),
            gq,
            gopher_repetition(docs, pieces, words),
            c4(docs, lines, tokens, recut_tokens),
            fineweb(docs, pieces, gq["n_words"]),
        ],
        how="horizontal",
    )
