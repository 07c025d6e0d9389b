"""Document-shape features of the default quality scorer, computed as polars expressions over a whole batch.

Why these: people label short, fragmented, list-like or boilerplate-heavy pages as low quality and long runs
of prose as high quality. Each feature measures one of those properties; all are cheap string statistics.

| feature | definition |
|---|---|
| `log_chars` | ln(1 + characters) |
| `log_mean_line_chars` | ln(1 + mean characters per non-empty line) |
| `log_longest_line` | ln(1 + characters of the longest line) |
| `frac_lines_end_punct` | share of non-empty lines ending in `. ! ? " ” '` |
| `frac_short_lines` | share of non-empty lines with fewer than 5 words |
| `log_prose_chars` | ln(1 + characters in lines of at least 20 words) |
| `frac_prose_chars` | characters in lines of at least 20 words / characters |
| `stopword_frac` | share of words that are one of 16 English function words |
| `alpha_word_frac` | share of words containing a letter |
| `unique_word_frac` | distinct words / words |
| `mean_word_chars` | mean characters per word |
| `digit_frac` | digits / characters |
| `upper_frac` | upper-case letters / characters |
| `log_sentences` | ln(1 + sentence ends: `.`, `!` or `?` followed by whitespace or the end) |

Words are runs of non-whitespace; lines are split at `\\n` and stripped. Empty texts give 0 everywhere.
"""

from __future__ import annotations

import polars as pl

STOPWORDS = ("the", "be", "to", "of", "and", "that", "have", "with", "a", "in", "is", "it", "for", "on", "was",
             "as")
SHORT_LINE_WORDS = 5
PROSE_LINE_WORDS = 20
FEATURES = ("log_chars", "log_mean_line_chars", "log_longest_line", "frac_lines_end_punct", "frac_short_lines",
            "log_prose_chars", "frac_prose_chars", "stopword_frac", "alpha_word_frac", "unique_word_frac",
            "mean_word_chars", "digit_frac", "upper_frac", "log_sentences")


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when(den > 0).then(num / den).otherwise(0.0)


def quality_features(texts: pl.Series) -> pl.DataFrame:
    """One row per text, one Float64 column per name in `FEATURES`."""
    el = pl.element()
    text = pl.col("text").fill_null("")
    lines = text.str.split("\n").list.eval(el.str.strip_chars()).list.eval(el.filter(el.str.len_chars() > 0))
    line_words = el.str.count_matches(r"\S+")
    words = text.str.extract_all(r"\S+")
    counts = pl.DataFrame({"text": texts}).lazy().select(
        chars=text.str.len_chars(),
        n_lines=lines.list.len(),
        mean_line=lines.list.eval(el.str.len_chars()).list.mean(),
        longest_line=lines.list.eval(el.str.len_chars()).list.max(),
        end_punct=lines.list.eval(el.str.contains(r"[.!?\"”']$").cast(pl.Int64)).list.sum(),
        short_lines=lines.list.eval((line_words < SHORT_LINE_WORDS).cast(pl.Int64)).list.sum(),
        prose_chars=lines.list.eval(
            pl.when(line_words >= PROSE_LINE_WORDS).then(el.str.len_chars()).otherwise(0)).list.sum(),
        n_words=words.list.len(),
        stop=words.list.eval(el.str.to_lowercase().is_in(STOPWORDS).cast(pl.Int64)).list.sum(),
        alpha=words.list.eval(el.str.contains(r"\p{L}").cast(pl.Int64)).list.sum(),
        unique=words.list.n_unique(),
        word_chars=words.list.eval(el.str.len_chars()).list.sum(),
        digits=text.str.count_matches(r"\d"),
        upper=text.str.count_matches(r"\p{Lu}"),
        sentences=text.str.count_matches(r"[.!?](\s|$)"),
    ).with_columns(pl.all().cast(pl.Float64).fill_null(0.0))
    chars, n_lines, n_words = pl.col("chars"), pl.col("n_lines"), pl.col("n_words")
    return counts.select(
        log_chars=chars.log1p(),
        log_mean_line_chars=pl.col("mean_line").log1p(),
        log_longest_line=pl.col("longest_line").log1p(),
        frac_lines_end_punct=_ratio(pl.col("end_punct"), n_lines),
        frac_short_lines=_ratio(pl.col("short_lines"), n_lines),
        log_prose_chars=pl.col("prose_chars").log1p(),
        frac_prose_chars=_ratio(pl.col("prose_chars"), chars),
        stopword_frac=_ratio(pl.col("stop"), n_words),
        alpha_word_frac=_ratio(pl.col("alpha"), n_words),
        unique_word_frac=_ratio(pl.col("unique"), n_words),
        mean_word_chars=_ratio(pl.col("word_chars"), n_words),
        digit_frac=_ratio(pl.col("digits"), chars),
        upper_frac=_ratio(pl.col("upper"), chars),
        log_sentences=pl.col("sentences").log1p(),
    ).collect()
