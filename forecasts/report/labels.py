"""Words for what the report shows: plain signal names with units, tier names, and number formats that say
what cannot be estimated instead of printing a zero-width interval.

Signal columns are named by their rule sets (`gopher_repetition_dup_5_gram_char_frac`); a reader needs
"characters in repeated 5-grams (fraction of characters)". Known columns get a written label; others get
their name in words and a unit guessed from it, never calling a ratio that can exceed 1 a fraction.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from forecasts.units import si

CUMULATIVE = {"medium_or_better": "medium or better", "low_or_better": "low or better"}
# Not a tier: the measured supply that people would judge good (tier shares × their agreement with human labels).
JUDGED_GOOD = "judged_good"


def tier_name(tier: str) -> str:
    """A tier as readers say it: cumulative tiers spelled out ("medium or better"), underscores as spaces."""
    if tier == JUDGED_GOOD:
        return "judged good by people"
    return CUMULATIVE.get(tier) or str(tier).replace("_", " ")


@dataclass(frozen=True)
class Signal:
    """A signal's plain name, the unit of its y-axis, and bounds the axis must not leave (None: free)."""

    name: str
    unit: str
    low: float | None = None
    high: float | None = None


_F = 0.0, 1.0  # a true fraction: the axis stays within 0–1
SIGNALS: dict[str, Signal] = {
    "n_chars": Signal("Document length", "characters", 0.0),
    "n_words": Signal("Words per document", "words", 0.0),
    "gopher_quality_n_non_symbol_words": Signal("Words that are not symbols (Gopher)", "words", 0.0),
    "gopher_quality_mean_word_length": Signal("Mean word length (Gopher)", "characters per word", 0.0),
    "gopher_quality_hash_ratio": Signal("'#' per word (Gopher)", "ratio to words", 0.0),
    "gopher_quality_ellipsis_ratio": Signal("Ellipses per word (Gopher)", "ratio to words", 0.0),
    "gopher_quality_bullet_lines_ratio": Signal("Lines starting with a bullet (Gopher)", "fraction of lines", *_F),
    "gopher_quality_end_ellipsis_lines_ratio": Signal("Lines ending in an ellipsis (Gopher)", "fraction of lines",
                                                      *_F),
    "gopher_quality_alpha_words_ratio": Signal("Words with a letter (Gopher)", "fraction of words", *_F),
    "gopher_quality_n_stop_words": Signal("English stop words (Gopher)", "words", 0.0),
    "gopher_repetition_dup_para_frac": Signal("Duplicate paragraphs (Gopher)", "fraction of paragraphs", *_F),
    "gopher_repetition_dup_para_char_frac": Signal("Duplicate paragraphs' characters (Gopher)",
                                                   "fraction of characters", *_F),
    "gopher_repetition_dup_line_frac": Signal("Duplicate lines (Gopher)", "fraction of lines", *_F),
    "gopher_repetition_dup_line_char_frac": Signal("Duplicate lines' characters (Gopher)",
                                                   "fraction of characters", *_F),
    "c4_n_lines": Signal("Lines (C4)", "lines", 0.0),
    "c4_n_lines_kept": Signal("Lines C4 keeps", "lines", 0.0),
    "c4_frac_lines_removed": Signal("Lines C4 removes", "fraction of lines", *_F),
    "c4_frac_chars_removed": Signal("Characters C4 removes", "fraction of characters", *_F),
    "c4_n_sentences": Signal("Sentences (C4)", "sentences", 0.0),
    "c4_lorem_ipsum_line": Signal("First 'lorem ipsum' line (C4)", "line number", 0.0),
    "c4_curly_bracket_line": Signal("First line with '{' (C4)", "line number", 0.0),
    "fineweb_n_lines": Signal("Lines (FineWeb)", "lines", 0.0),
    "fineweb_line_punct_ratio": Signal("Lines ending in punctuation (FineWeb)", "fraction of lines", *_F),
    "fineweb_short_line_ratio": Signal("Lines under 30 characters (FineWeb)", "fraction of lines", *_F),
    "fineweb_char_dup_ratio": Signal("Duplicate lines' characters (FineWeb)", "fraction of characters", *_F),
    "fineweb_list_ratio": Signal("Line breaks per word (FineWeb list ratio)", "ratio to words", 0.0),
    "zstd_ratio": Signal("Compression ratio (zstd)", "original ÷ compressed size", 0.0),
    "ref_bits_per_byte": Signal("Surprise under a reference model", "bits per byte", 0.0),
    "qf_script_nospace": Signal("Letters of scripts without spaces", "fraction of letters", *_F),
    "qf_script_cjk": Signal("Chinese/Japanese/Korean letters", "fraction of letters", *_F),
    "qf_script_lcg": Signal("Latin/Cyrillic/Greek letters", "fraction of letters", *_F),
    "qf_units": Signal("Words (a CJK character = 1 word)", "words", 0.0),
    "qf_tokens": Signal("Word tokens", "tokens", 0.0),
    "qf_n_function": Signal("Function words", "words", 0.0),
    "qf_function_frac": Signal("Function words", "fraction of word tokens", *_F),
    "qf_top10_share": Signal("Ten most frequent words", "fraction of word tokens", *_F),
    "qf_richness": Signal("Vocabulary richness", "types ÷ √tokens ÷ 20, capped at 1", *_F),
    "qf_sentences": Signal("Sentences", "sentences", 0.0),
    "qf_newlines": Signal("Line breaks", "line breaks", 0.0),
    "qf_char_dup_ngram_frac": Signal("Repeated character n-grams", "fraction of characters", *_F),
    "qf_frac_short_lines": Signal("Short lines, under 5 words", "fraction of lines", *_F),
    "qf_alpha_token_frac": Signal("Word tokens with a letter", "fraction of word tokens", *_F),
    "lang_score": Signal("Language identification confidence", "probability", *_F),
}
_NGRAM = re.compile(r"gopher_repetition_(top|dup)_(\d+)_gram_char_frac")


def signal(column: str) -> Signal:
    """The plain name and unit of a quality/ column."""
    if column in SIGNALS:
        return SIGNALS[column]
    if m := _NGRAM.fullmatch(column):
        what = f"Most frequent {m.group(2)}-gram" if m.group(1) == "top" else f"Repeated {m.group(2)}-grams"
        return Signal(f"{what} (Gopher)", "fraction of characters", *_F)
    name = column.replace("_", " ").strip()
    words = set(column.lower().split("_"))
    if words & {"frac", "fraction", "share", "prop"}:
        return Signal(name, "fraction", *_F)
    if words & {"pct", "percent"}:
        return Signal(name, "percent", 0.0, 100.0)
    if "ratio" in words:
        return Signal(name, "ratio", 0.0)
    if "bits" in words:
        return Signal(name, "bits", 0.0)
    if "bytes" in words:
        return Signal(name, "bytes", 0.0)
    if words & {"chars", "char", "length", "len"}:
        return Signal(name, "characters", 0.0)
    if words & {"n", "count", "num", "lines", "words"}:
        return Signal(name, "count", 0.0)
    if words & {"score", "prob", "probability"}:
        return Signal(name, "score")
    return Signal(name, "value")


# ------------------------------------------------------------------------------------------ numbers


def num(value: Any) -> float | None:
    """A finite number, or None (bools, strings, NaN and infinities are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def size(value: Any) -> str:
    """Bytes as B / KB / MB / GB / TB (decimal units, as disk and network sizes are quoted)."""
    v = num(value)
    if v is None:
        return "–"
    for div, unit in ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "KB")):
        if abs(v) >= div:
            return f"{v / div:,.3g} {unit}" if v / div < 1000 else f"{v / div:,.0f} {unit}"
    return f"{v:,.0f} B"


def share(value: Any) -> str:
    """A fraction as a percentage."""
    v = num(value)
    return "–" if v is None else f"{v:.1%}" if abs(v) < 0.9995 or v == 1 else f"{v:.2%}"


def flat(ci: Sequence[Any] | None) -> bool:
    """Whether an interval has (numerically) no width: nothing was estimated, whatever its numbers say."""
    if not ci or len(ci) != 2 or num(ci[0]) is None or num(ci[1]) is None:
        return False
    lo, hi = float(ci[0]), float(ci[1])
    return abs(hi - lo) <= 1e-9 * max(abs(lo), abs(hi), 1e-300)


def interval(ci: Sequence[Any] | None, fmt: Any = si, why: str = "not estimated") -> str:
    """`lo – hi`, or `n/a (why)` for a missing or zero-width interval (never "1.87M – 1.87M")."""
    if not ci or len(ci) != 2 or num(ci[0]) is None or num(ci[1]) is None:
        return f"n/a ({why})"
    if flat(ci):
        return f"n/a ({why})"
    return f"{fmt(ci[0])} – {fmt(ci[1])}"


def estimate(value: Any, ci: Sequence[Any] | None, fmt: Any = si, level: str = "90%",
             why: str = "not estimated") -> str:
    """`value [level: lo – hi]`, or `value (level interval n/a: why)`."""
    if num(value) is None:
        return "n/a"
    if not ci or flat(ci) or num(ci[0]) is None or num(ci[1]) is None:
        return f"{fmt(value)} ({level} interval n/a: {why})"
    return f"{fmt(value)} [{level}: {fmt(ci[0])} – {fmt(ci[1])}]"


@dataclass
class Cells:
    """Formats `estimate [lo – hi]` table cells; a cell without an interval shows its estimate alone and the
    table's caption says once why (`note`), instead of repeating "n/a (…)" in every cell."""

    why: str
    missing: bool = False

    def __call__(self, value: Any, ci: Sequence[Any] | None, fmt: Any = si) -> str:
        if num(value) is None:
            return "n/a"
        if not ci or len(ci) != 2 or flat(ci) or num(ci[0]) is None or num(ci[1]) is None:
            self.missing = True
            return fmt(value)
        return f"{fmt(value)} [{fmt(ci[0])} – {fmt(ci[1])}]"

    def note(self) -> str:
        return f"; where no interval is shown it is n/a ({self.why})" if self.missing else ""


def why_no_interval(stocks: Mapping[str, Any] | None) -> str:
    """Why the measured intervals of a run can have no width: one file, or a census of every file read."""
    stocks = stocks or {}
    design = stocks.get("design") or {}
    files = num(design.get("files_sampled"))
    if files is None:
        files = num(((stocks.get("total") or {}).get("sample") or {}).get("files"))
    strata = [s for s in (design.get("strata") or {}).values() if isinstance(s, dict)]
    census = bool(strata) and all(str(s.get("variance", "")).startswith("none") for s in strata)
    if files is not None and files <= 1:
        return "1 file"
    if census and files is not None:
        return f"census of all {files:,.0f} files"
    if files is not None:
        return f"no spread across {files:,.0f} files"
    return "not estimated"


# ------------------------------------------------------------------------------------------ summaries


_KEY_WORDS = {"n": "number of", "frac": "share", "pct": "percent", "lsh": "LSH", "url": "URL", "cjk": "CJK",
              "nfkc": "NFKC", "mb": "MB", "s": "seconds", "id": "ID", "ids": "IDs", "utm": "UTM"}


def key_words(key: str) -> str:
    """A snake_case key as words for a table header: 'duplicate_bytes' -> 'duplicate size'."""
    parts = [p for p in str(key).split("_") if p]
    if parts and parts[-1] == "bytes":
        parts[-1] = "size"
    if len(parts) == 3 and parts[0] == "share" and parts[2] == "seen":  # share_bytes_seen
        parts = ["share of", "size" if parts[1] == "bytes" else parts[1], "seen"]
    words = [_KEY_WORDS.get(p, p) for p in parts]
    text = " ".join(words) or str(key)
    return text[:1].upper() + text[1:]


def value_text(key: str, value: Any, limit: int = 300) -> str:
    """A summary value as text a person reads: sizes for bytes, percentages for shares, lists joined, nested
    mappings as `name: value` pairs — never JSON."""
    k = str(key).lower()
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if (v := num(value)) is not None:
        if k.endswith("bytes") or k == "bytes":
            return size(v)
        if any(w in k for w in ("share", "frac", "fraction", "ratio")) and abs(v) <= 1:
            return share(v)
        if k.endswith(("_s", "seconds")):
            return f"{v:,.2f} s"
        return f"{v:,.0f}" if v == int(v) else f"{v:,.4g}"
    if isinstance(value, Mapping):
        suffix = "_s" if k.endswith("_s") else ""  # timings_s: {stage: seconds}
        text = "; ".join(f"{key_words(kk).lower()}: {value_text(f'{kk}{suffix}', vv, limit)}"
                         for kk, vv in value.items())
    elif isinstance(value, list | tuple):
        text = ", ".join(value_text(k, v, limit) for v in value) or "none"
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
