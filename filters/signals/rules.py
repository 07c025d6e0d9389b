"""Keep/drop decisions of the four datatrove rule sets, re-derived from stored signal columns.

Why separate from the signals: annotate once, then decide as often as needed (other thresholds, other rule
subsets) without touching text. Each rule set's checks run in datatrove's order and the first failing check
names the drop reason, with datatrove's reason strings. A threshold set to None (or 0; C4's
min_num_sentences: -1) disables its check, as in datatrove. Parameters that act per line or per word (all of
C4's line rules, including its lorem-ipsum and curly-bracket rules; FineWeb's short-line length and stop
characters; the stop-word list; the n-gram sizes) are fixed when the signals are computed; see heuristics.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from filters.signals.heuristics import DUP_NGRAMS, TOP_NGRAMS

RULESETS = ("gopher_quality", "gopher_repetition", "c4", "fineweb")

DEFAULT_THRESHOLDS: dict[str, dict[str, Any]] = {
    "gopher_quality": {
        "min_doc_words": 50,
        "max_doc_words": 100_000,
        "min_avg_word_length": 3,
        "max_avg_word_length": 10,
        "max_symbol_word_ratio": 0.1,
        "max_bullet_lines_ratio": 0.9,
        "max_ellipsis_lines_ratio": 0.3,
        "max_non_alpha_words_ratio": 0.8,
        "min_stop_words": 2,
    },
    "gopher_repetition": {
        "dup_line_frac": 0.3,
        "dup_para_frac": 0.3,
        "dup_line_char_frac": 0.2,
        "dup_para_char_frac": 0.2,
        "top_n_grams": ((2, 0.2), (3, 0.18), (4, 0.16)),
        "dup_n_grams": ((5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10)),
    },
    "c4": {"min_num_sentences": 5},
    "fineweb": {
        "line_punct_thr": 0.12,
        "line_punct_exclude_zero": False,
        "short_line_thr": 0.67,
        "char_duplicates_ratio": 0.01,
        "new_line_ratio": 0.3,
    },
}

Check = tuple[pl.Expr, str]  # (drop condition, reason)


def _gopher_quality(t: Mapping[str, Any]) -> list[Check]:
    c = pl.col
    words = c("gopher_quality_n_non_symbol_words")
    avg = c("gopher_quality_mean_word_length")
    # (parameter, signal, drop when the signal is below (-1) or above (+1) it, reason), in datatrove's order
    checks = [
        ("min_doc_words", words, -1, "gopher_short_doc"),
        ("max_doc_words", words, 1, "gopher_long_doc"),
        ("min_avg_word_length", avg, -1, "gopher_below_avg_threshold"),
        ("max_avg_word_length", avg, 1, "gopher_above_avg_threshold"),
        ("max_symbol_word_ratio", c("gopher_quality_hash_ratio"), 1, "gopher_too_many_hashes"),
        ("max_symbol_word_ratio", c("gopher_quality_ellipsis_ratio"), 1, "gopher_too_many_ellipsis"),
        ("max_bullet_lines_ratio", c("gopher_quality_bullet_lines_ratio"), 1, "gopher_too_many_bullets"),
        ("max_ellipsis_lines_ratio", c("gopher_quality_end_ellipsis_lines_ratio"), 1, "gopher_too_many_end_ellipsis"),
        ("max_non_alpha_words_ratio", c("gopher_quality_alpha_words_ratio"), -1, "gopher_below_alpha_threshold"),
        ("min_stop_words", c("gopher_quality_n_stop_words"), -1, "gopher_enough_stop_words"),
    ]
    return [
        ((signal < t[param]) if side < 0 else (signal > t[param]), reason)
        for param, signal, side, reason in checks
        if t[param]
    ]


def _gopher_repetition(t: Mapping[str, Any]) -> list[Check]:
    c = pl.col
    out: list[Check] = [(c("n_chars") == 0, "empty")]
    for name in ("dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac"):
        if t[name]:
            out.append((c(f"gopher_repetition_{name}") > t[name], name))
    for kind, sizes, allowed, reason in (
        ("top", t["top_n_grams"], TOP_NGRAMS, "top_{n}_gram"),
        ("dup", t["dup_n_grams"], DUP_NGRAMS, "duplicated_{n}_n_grams"),
    ):
        for n, frac in sizes:
            if n not in allowed:
                raise ValueError(f"{kind} n-gram size {n} was not computed (have {allowed})")
            out.append((c(f"gopher_repetition_{kind}_{n}_gram_char_frac") > frac, reason.format(n=n)))
    return out


def _c4(t: Mapping[str, Any]) -> list[Check]:
    lorem, curly = pl.col("c4_lorem_ipsum_line"), pl.col("c4_curly_bracket_line")
    out: list[Check] = [
        # datatrove returns at the first line that trips either document rule
        (lorem.is_not_null() & (curly.is_null() | (lorem < curly)), "lorem_ipsum"),
        (curly.is_not_null(), "curly_bracket"),
    ]
    if t["min_num_sentences"] != -1:
        out.append((pl.col("c4_n_sentences") < t["min_num_sentences"], "too_few_sentences"))
    return out


def _fineweb(t: Mapping[str, Any]) -> list[Check]:
    c = pl.col
    punct = c("fineweb_line_punct_ratio")
    exclude_zero = (punct == 0) & t["line_punct_exclude_zero"]
    return [
        (c("fineweb_n_lines") == 0, "empty"),
        ((punct < t["line_punct_thr"]) & ~exclude_zero, "line_punct_ratio"),
        (c("fineweb_short_line_ratio") > t["short_line_thr"], "short_line_ratio"),
        (c("fineweb_char_dup_ratio") > t["char_duplicates_ratio"], "char_dup_ratio"),
        (c("fineweb_list_ratio") > t["new_line_ratio"], "list_ratio"),
    ]


_CHECKS = {"gopher_quality": _gopher_quality, "gopher_repetition": _gopher_repetition, "c4": _c4, "fineweb": _fineweb}


def decide(signals: pl.DataFrame, thresholds: Mapping[str, Mapping[str, Any]] | None = None) -> pl.DataFrame:
    """`<ruleset>_keep` (bool) and `<ruleset>_reason` (datatrove's drop reason, null when kept) for every rule
    set, from signal columns; `thresholds` overrides DEFAULT_THRESHOLDS per rule set and parameter."""
    thresholds = thresholds or {}
    unknown = set(thresholds) - set(RULESETS)
    if unknown:
        raise ValueError(f"unknown rule sets {sorted(unknown)}; expected some of {RULESETS}")
    cols: list[pl.Expr] = []
    for name in RULESETS:
        params = {**DEFAULT_THRESHOLDS[name], **thresholds.get(name, {})}
        bad = set(params) - set(DEFAULT_THRESHOLDS[name])
        if bad:
            raise ValueError(f"unknown {name} thresholds {sorted(bad)}")
        reason = pl.lit(None, dtype=pl.String)
        for cond, why in reversed(_CHECKS[name](params)):
            reason = pl.when(cond).then(pl.lit(why)).otherwise(reason)
        cols += [reason.is_null().alias(f"{name}_keep"), reason.alias(f"{name}_reason")]
    return signals.select(cols)
