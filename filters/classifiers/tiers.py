"""high / medium / low tiers as the field uses the words, decided from stored columns (no model re-run).

- `low`: a FineWeb/RefinedWeb-style heuristic chain would drop the document (`heuristic_keep` false; the rules are
  in `guard_expr`), or its score is below the scorer's `low` threshold when one is set.
- `medium`: it passes the chain (what FineWeb/RefinedWeb/DCLM keep before their model step).
- `high`: it passes the chain *and* its `quality_score` reaches the scorer's `high` threshold for its language
  (DCLM keeps the top 10% of its fastText score, FineWeb-Edu a score >= 3, Nemotron-CC its top buckets).

Thresholds belong to the scorer that produced the scores: a model card's `calibration` (per-language `high`,
optional `low`), numbers given by the user, or percentiles of the run's own scores — within each language when
the frame has a `lang` column. A scorer with neither a calibration nor given thresholds is an error, never the
default model's numbers applied to another scale.

The heuristic chain (`guard_expr`), for documents in scripts written with spaces (Latin, Cyrillic, Greek, Arabic,
Devanagari, Hangul, …), is datatrove's Gopher quality, Gopher repetition, C4 and FineWeb rules with their
defaults, except where they assume English or spaces:

- Gopher's stop-word rule (>= 2 of the English "the be to of and that have with") also passes with >= 2 function
  words of the 28 languages of `features.FUNCTION_WORDS`, or when the document's 10 commonest tokens take >= 15%
  of its tokens (function words exist in every language; lists of names, products or links lack them); it is
  skipped for scripts other than Latin, Cyrillic, Greek and Han/Kana.
- Gopher's mean-word-length rule (3–10 characters) applies to Latin, Cyrillic and Greek text only.
- Gopher's ">= 80% of words contain a letter" counts words without punctuation marks (datatrove counts each
  punctuation mark as a word, which drops languages with long words, e.g. 32 of 62 Finnish Genesis passages).
- C4's >= 5 sentences also counts the terminal punctuation of other scripts (`features` `sentences`).

For scripts written without spaces (Han, Kana, Thai, Lao, Khmer, Myanmar, Tibetan: `script_nospace >= 0.5`), word
rules are replaced by character equivalents: >= 50 and <= 100,000 word-equivalent units (Gopher's word limits),
Gopher's bullet and ellipsis line rules, >= 2 function words (zh, ja), Gopher's duplicate line/paragraph rules, a
duplicated character 8-gram share <= 0.15 (20-grams for Thai-like scripts; Gopher's 5-gram rule), FineWeb's
line-punctuation and duplicate-line rules, <= 67% of lines under 5 units (FineWeb's short lines), <= 0.3 newlines
per unit (FineWeb's list ratio), C4's lorem-ipsum and curly-bracket rules and >= 5 sentences.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np
import polars as pl

TIERS = ("high", "medium", "low")
NOSPACE_SHARE = 0.5
ZIPF_SHARE = 0.15
LCG_SHARE = 0.5
# Columns the guard reads: datatrove rule decisions/signals (filters.signals) + script-aware features (qf_*).
GUARD_FEATURES = ("script_nospace", "script_cjk", "script_lcg", "units", "n_function", "sentences", "newlines",
                  "char_dup_ngram_frac", "frac_short_lines", "function_frac", "top10_share", "alpha_token_frac")


@dataclass(frozen=True)
class TierThresholds:
    """Thresholds as asked for; `tier_thresholds` resolves them to numbers (per language where calibrated)."""

    high: float | None = None
    low: float | None = None
    high_percentile: float | None = None
    low_percentile: float | None = None
    by_lang: dict[str, dict[str, float]] = field(default_factory=dict)
    source: str | None = None

    def __post_init__(self) -> None:
        for p in (self.high_percentile, self.low_percentile):
            if p is not None and not 0 <= p <= 100:
                raise ValueError(f"percentiles are between 0 and 100, got {p}")

    def as_dict(self) -> dict:
        return asdict(self)


def calibration_thresholds(calibration: dict | None, source: str) -> TierThresholds | None:
    """A model card's `calibration` block (`{"high": x, "low": y|None, "by_lang": {lang: {"high": ...}}}`)."""
    if not calibration:
        return None
    return TierThresholds(high=calibration.get("high"), low=calibration.get("low"),
                          by_lang={k: dict(v) for k, v in calibration.get("by_lang", {}).items()}, source=source)


def _score_frame(scores: pl.LazyFrame | pl.DataFrame | pl.Series | np.ndarray, column: str) -> pl.DataFrame:
    if isinstance(scores, pl.LazyFrame):
        names = scores.collect_schema().names()
        return scores.select([c for c in (column, "lang") if c in names]).collect()
    if isinstance(scores, pl.DataFrame):
        return scores.select([c for c in (column, "lang") if c in scores.columns])
    return pl.DataFrame({column: np.asarray(scores, dtype=np.float64)})


def tier_thresholds(scores: pl.LazyFrame | pl.DataFrame | pl.Series | np.ndarray,
                    spec: TierThresholds | None = None, column: str = "quality_score",
                    calibration: TierThresholds | None = None, per_language: bool = True) -> TierThresholds:
    """`spec` resolved to numbers: given numbers win, then percentiles of `scores` (within each `lang` when
    `per_language` and the frame has one), then the scorer's `calibration`. Nothing to go on is an error."""
    spec = spec or TierThresholds()
    if spec.high is not None and spec.high_percentile is not None:
        raise ValueError("give either a high threshold or a high percentile, not both")
    if spec.low is not None and spec.low_percentile is not None:
        raise ValueError("give either a low threshold or a low percentile, not both")
    high, low = spec.high, spec.low
    by_lang: dict[str, dict[str, float]] = {}
    source = spec.source or ("given" if high is not None or low is not None else None)
    if spec.high_percentile is not None or spec.low_percentile is not None:
        frame = _score_frame(scores, column).filter(pl.col(column).is_not_null() & pl.col(column).is_not_nan())
        if frame.is_empty():
            raise ValueError("percentile thresholds need at least one score")
        values = frame[column]
        for end, p in (("high", spec.high_percentile), ("low", spec.low_percentile)):
            if p is None:
                continue
            overall = float(values.quantile(p / 100, interpolation="linear"))
            high, low = (overall, low) if end == "high" else (high, overall)
            if per_language and "lang" in frame.columns:
                q = frame.group_by("lang").agg(pl.col(column).quantile(p / 100, interpolation="linear").alias("q"))
                for lang, value in q.drop_nulls("lang").iter_rows():
                    by_lang.setdefault(lang, {})[end] = float(value)
        source = "percentile of this run" + (" within language" if by_lang else "")
    if high is None and calibration is not None:
        high, by_lang, source = calibration.high, {**calibration.by_lang, **by_lang}, calibration.source
        low = calibration.low if low is None else low
    if high is None:
        raise ValueError("no high threshold: this scorer has no calibration in its model card; give "
                         "--high-threshold or --high-percentile (its scores are on its own scale)")
    if low is not None and low > high:
        raise ValueError(f"low threshold {low} is above high threshold {high}")
    return replace(spec, high=high, low=low, by_lang=by_lang, source=source)


def tier_expr(high: float, low: float | None, column: str = "quality_score",
              by_lang: dict[str, dict[str, float]] | None = None, guard: bool = False) -> pl.Expr:
    """The tier of each row (String; null where the score is null). With `by_lang`, a row's `lang` picks its
    thresholds (others use `high`/`low`); with `guard`, rows whose `heuristic_keep` is false are `low`."""
    score = pl.col(column)
    hi: pl.Expr = pl.lit(high)
    lo: pl.Expr = pl.lit(low if low is not None else -np.inf)
    if by_lang:
        langs = list(by_lang)
        hi = pl.col("lang").replace_strict(langs, [by_lang[k].get("high", high) for k in langs], default=high,
                                           return_dtype=pl.Float64)
        lo_default = low if low is not None else -np.inf
        lo = pl.col("lang").replace_strict(langs, [by_lang[k].get("low", lo_default) for k in langs],
                                           default=lo_default, return_dtype=pl.Float64)
    expr = pl.when(score.is_null() | score.is_nan()).then(pl.lit(None, pl.String))
    if guard:
        expr = expr.when(~pl.col("heuristic_keep")).then(pl.lit("low"))
    return (expr.when(score < lo).then(pl.lit("low"))
            .when(score >= hi).then(pl.lit("high"))
            .otherwise(pl.lit("medium"))
            .alias("tier"))


def assign_tiers(scores: np.ndarray, high: float, low: float | None) -> np.ndarray:
    """Tier strings for an array of scores (the same rule as `tier_expr`, no guard)."""
    frame = pl.DataFrame({"quality_score": np.asarray(scores, dtype=np.float64)})
    return frame.select(tier_expr(high, low))["tier"].to_numpy()


def tiers_frame(frame: pl.DataFrame, thresholds: TierThresholds, column: str = "quality_score") -> pl.DataFrame:
    """`frame` (doc_id, quality_score[, lang][, heuristic_keep]) with a `tier` column, from resolved thresholds."""
    if thresholds.high is None:
        thresholds = tier_thresholds(frame, thresholds, column)
    by_lang = thresholds.by_lang if "lang" in frame.columns else None
    return frame.with_columns(tier_expr(thresholds.high, thresholds.low, column, by_lang,
                                        guard="heuristic_keep" in frame.columns))


def _reason(checks: list[tuple[pl.Expr, str]]) -> pl.Expr:
    reason = pl.lit(None, dtype=pl.String)
    for cond, why in reversed(checks):
        reason = pl.when(cond.fill_null(False)).then(pl.lit(why)).otherwise(reason)
    return reason


def guard_expr() -> list[pl.Expr]:
    """`heuristic_keep` (bool) and `heuristic_reason` (first failed rule, null when kept) from the datatrove
    signal/decision columns of `filters.signals.compute_signals` and the `qf_*` feature columns
    (`features.quality_features(extra=True)`, prefixed). The rules are listed in the module docstring."""
    c = pl.col
    nospace = c("qf_script_nospace") >= NOSPACE_SHARE
    lcg = c("qf_script_lcg") >= LCG_SHARE
    cjk = c("qf_script_cjk") >= NOSPACE_SHARE
    covered = lcg | cjk
    gq, gr, fw, c4 = c("gopher_quality_reason"), c("gopher_repetition_reason"), c("fineweb_reason"), c("c4_reason")
    # Zipf fallback for languages the lists miss: in running text of any language the 10 commonest words take
    # >= 15% of the tokens (function words); in lists of names, products or links they do not
    stop_ok = ((c("gopher_quality_n_stop_words") >= 2) | (c("qf_n_function") >= 2) | ~covered
               | (c("qf_top10_share") >= ZIPF_SHARE))
    spaced = [
        (gq.is_in(["gopher_short_doc", "gopher_long_doc"]), "gopher_length"),
        (lcg & gq.is_in(["gopher_below_avg_threshold", "gopher_above_avg_threshold"]), "gopher_word_length"),
        (gq.is_in(["gopher_too_many_hashes", "gopher_too_many_ellipsis", "gopher_too_many_bullets",
                   "gopher_too_many_end_ellipsis"]), "gopher_symbols"),
        (c("qf_alpha_token_frac") < 0.8, "gopher_alpha_words"),
        # a drop for missing English stop words stands only if no other language's function words are there
        (gq.is_not_null() & ~stop_ok, "gopher_stop_words"),
        (gr.is_not_null(), "gopher_repetition"),
        (c4.is_in(["lorem_ipsum", "curly_bracket"]), "c4_code_or_placeholder"),
        ((c("c4_n_sentences") < 5) & (c("qf_sentences") < 5), "c4_too_few_sentences"),
        (fw.is_not_null(), "fineweb"),
    ]
    unspaced = [
        ((c("qf_units") < 50) | (c("qf_units") > 100_000), "gopher_length"),
        (gq.is_in(["gopher_too_many_bullets", "gopher_too_many_end_ellipsis"]), "gopher_symbols"),
        (c("qf_alpha_token_frac") < 0.8, "gopher_alpha_words"),
        (cjk & (c("qf_n_function") < 2), "gopher_stop_words"),
        (gr.is_in(["empty", "dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac"]),
         "gopher_repetition"),
        (c("qf_char_dup_ngram_frac") > 0.15, "gopher_repetition_chars"),
        (c4.is_in(["lorem_ipsum", "curly_bracket"]), "c4_code_or_placeholder"),
        (c("qf_sentences") < 5, "c4_too_few_sentences"),
        (fw.is_in(["empty", "line_punct_ratio", "char_dup_ratio"]), "fineweb"),
        (c("qf_frac_short_lines") > 0.67, "fineweb"),
        (c("qf_newlines") > 0.3 * c("qf_units"), "fineweb"),
    ]
    reason = pl.when(nospace).then(_reason(unspaced)).otherwise(_reason(spaced))
    return [reason.is_null().alias("heuristic_keep"), reason.alias("heuristic_reason")]
