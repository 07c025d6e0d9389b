"""Vectorised emulation of datatrove's English word tokenizer (spaCy's blank "en" tokenizer).

Why: datatrove's Gopher and FineWeb filters count, and take n-grams of, the words spaCy's tokenizer yields
(minus whitespace tokens). Calling spaCy once per document is the slowest part of those filters, so this module
re-implements its algorithm (`spacy/tokenizer.pyx`: whitespace split, prefix/suffix stripping with special
cases, URL match, infix split) with polars string expressions over all whitespace-delimited chunks of a batch at
once. Rust's regex engine has no look-around, so look-behinds are matched as a consumed context character and
iterative stripping runs in rounds over the (quickly shrinking) set of chunks that still have affixes.

Known gaps (measured in docs/readme/signals.md): spaCy's second special-case pass (`_apply_special_cases`, which
re-merges emoticons split by affix rules, e.g. "word:)") is not emulated, and the URL pattern drops spaCy's
private-IP exclusions.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import polars as pl

TABLES_PATH = Path(__file__).with_name("spacy_en_tables.json")
WS = r"\s\x{1c}-\x{1f}"  # Python's str.isspace(): Unicode White_Space plus the four separators \x1c-\x1f
SEP = " "  # joins tokens inside a chunk; chunks never contain whitespace, so it cannot clash
MAX_ROUNDS = 64  # affix-stripping rounds; longer affix runs than this are left attached (never seen on real text)


@cache
def tables() -> dict:
    """spaCy's tables, dumped by `build_tokenizer_tables.py`."""
    return json.loads(TABLES_PATH.read_text())


def _alt(pieces: list[str]) -> str:
    return "|".join(pieces)


@cache
def patterns() -> dict[str, object]:
    """Rust-regex versions of spaCy's English prefix, suffix, infix and URL rules (built once)."""
    t = tables()
    a, al, au, q, icons = t["alpha"], t["alpha_lower"], t["alpha_upper"], t["concat_quotes"], t["icons"]
    # lang/punctuation.py TOKENIZER_PREFIXES, in order (the "+" prefix, `\+(?![0-9])`, is handled apart).
    prefix = ["§", "%", "=", "—", "–", *t["list_punct"], r"\.\.+", "…", *t["list_quotes"], *t["list_currency"]]
    prefix.append(f"[{icons}]")
    # TOKENIZER_SUFFIXES: suffix_search finds the leftmost, i.e. longest, matching tail; every alternative is
    # one of these shapes, so the longest of their matches is the suffix.
    single = [p for p in [*t["list_punct"], *t["list_quotes"], "—", "–"] if len(p.replace("\\", "")) == 1]
    units_currency = _alt([r"\+", *t["list_currency"], *(re.escape(u) for u in t["list_units"])])
    dot_after = f"[0-9{al}%²\\-\\+{t['punct']}(?:{q})]"  # the character class spaCy writes, verbatim
    suffixes = [
        r"(\.\.+)$",
        r"(……|'s|'S|’s|’S)$",
        f"((?:{_alt(single)})|[{icons}])$",
        f"[0-9]({units_currency})$",
        r"°[FfCcKk](\.)$",
        f"{dot_after}(\\.)$",
        f"[{au}][{au}](\\.)$",
    ]
    hyphens = _alt(t["list_hyphens"])
    # lang/en/punctuation.py TOKENIZER_INFIXES; context characters are captured and put back.
    infixes = [
        (f"([0-9])([+\\-\\*^])([0-9-])", "${1} ${2} ${3}"),
        (f"([{al}{q}])(\\.)([{au}{q}])", "${1} ${2} ${3}"),
        (f"([{a}])(,)([{a}])", "${1} ${2} ${3}"),
        (f"([{a}0-9])({hyphens})([{a}])", "${1} ${2} ${3}"),
        (f"([{a}0-9])([:<>=/])([{a}])", "${1} ${2} ${3}"),
    ]
    host = r"[A-Za-z0-9\u00a1-\uffff]"
    url = (
        r"^(?:(?:[\w\+\-\.]{2,})://)?(?:\S+(?::\S*)?@)?(?:"
        r"(?:[1-9]\d?|1\d\d|2[01]\d|22[0-3])(?:\.(?:1?\d{1,2}|2[0-4]\d|25[0-5])){2}"
        r"(?:\.(?:[1-9]\d?|1\d\d|2[0-4]\d|25[0-4]))"
        f"|(?:(?:{host}[A-Za-z0-9\\u00a1-\\uffff_-]*)?{host}\\.)+(?:[{al}]{{2,63}}))"
        r"(?::\d{2,5})?(?:[/?#]\S*)?$"
    )
    specials = {k: v for k, v in t["exceptions"].items() if k.strip() == k and k}
    return {
        "prefix": f"^({_alt(prefix)})",
        "suffixes": suffixes,
        "infix_free": f"(\\.\\.+|…|[{icons}])",
        "infix_ctx": infixes,
        "infix_any": f"[.…+\\-\\*^,:<>=/~–—{icons}]",
        "url": url,
        "plain": f"^[{a}0-9]+$",
        "unit_tail": f"[0-9](?:{_alt([re.escape(u) for u in t['list_units']])})$",
        "special_keys": pl.Series(list(specials), dtype=pl.String),
        "special_pieces": pl.Series([SEP.join(v) for v in specials.values()], dtype=pl.String),
    }


def _split_affixes(chunks: pl.DataFrame) -> pl.DataFrame:
    """spaCy's `_split_affixes` loop, run in rounds: columns `cid`, `pre`, `core`, `suf`, `special`."""
    p = patterns()
    keys = p["special_keys"]
    done: list[pl.DataFrame] = []
    act = chunks.select("cid", pl.lit("").alias("pre"), pl.col("chunk").alias("s"), pl.lit("").alias("suf"))
    for _ in range(MAX_ROUNDS):
        if act.height == 0:
            break
        s = pl.col("s")
        pre = (
            pl.when(s.str.starts_with("+") & ~s.str.contains(r"^\+[0-9]"))
            .then(pl.lit("+"))
            .otherwise(s.str.extract(p["prefix"], 1))
            .fill_null("")
        )
        act = act.with_columns(pre.alias("p"), s.is_in(keys).alias("special"))
        rest = s.str.slice(pl.col("p").str.len_chars())
        cands = [rest.str.extract(pat, 1).fill_null("") for pat in p["suffixes"]]
        longest = pl.max_horizontal([c.str.len_chars() for c in cands])
        suf = pl.coalesce([pl.when(c.str.len_chars() == longest).then(c) for c in cands])
        act = act.with_columns(pl.when(longest > 0).then(suf).otherwise(pl.lit("")).alias("x"))
        lp, lx, ls = pl.col("p").str.len_chars(), pl.col("x").str.len_chars(), s.str.len_chars()
        minus_pre, minus_suf = s.str.slice(lp), s.str.slice(0, ls - lx)
        pre_special = (lp > 0) & (minus_pre != "") & minus_pre.is_in(keys)
        suf_special = ~pre_special & (lx > 0) & (minus_suf != "") & minus_suf.is_in(keys)
        stop = pl.col("special") | (s == "") | ((lp == 0) & (lx == 0))
        take_pre = ~stop & (lp > 0) & ~suf_special
        take_suf = ~stop & (lx > 0) & ~pre_special
        act = act.with_columns(
            pl.when(take_pre).then(pl.col("pre") + pl.col("p") + SEP).otherwise(pl.col("pre")).alias("pre"),
            pl.when(take_suf).then(SEP + pl.col("x") + pl.col("suf")).otherwise(pl.col("suf")).alias("suf"),
            s.str.slice(pl.when(take_pre).then(lp).otherwise(0), ls - pl.when(take_pre).then(lp).otherwise(0)
                        - pl.when(take_suf).then(lx).otherwise(0)).alias("s"),
            (stop | pre_special | suf_special).alias("fin"),
            (pl.col("special") | pre_special | suf_special).alias("special"),
        )
        done.append(act.filter("fin").select("cid", "pre", pl.col("s").alias("core"), "suf", "special"))
        act = act.filter(~pl.col("fin")).select("cid", "pre", "s", "suf")
    done.append(act.select("cid", "pre", pl.col("s").alias("core"), "suf", pl.lit(False).alias("special")))
    return pl.concat(done)


def _attach(parts: pl.DataFrame) -> pl.DataFrame:
    """spaCy's `_attach_tokens`: special-case pieces, URL or infix split of the core; adds `tokens`."""
    p = patterns()
    core = pl.col("core")
    split = core
    needs_infix = core.str.contains(p["infix_any"])
    split = pl.when(needs_infix).then(core.str.replace_all(p["infix_free"], " ${1} ")).otherwise(core)
    for pat, rep in p["infix_ctx"]:
        for _ in range(2):  # consumed context characters hide adjacent matches from one pass
            split = pl.when(needs_infix).then(split.str.replace_all(pat, rep)).otherwise(split)
    pieces = core.replace_strict(p["special_keys"], p["special_pieces"], default=None)
    body = (
        pl.when(pl.col("special"))
        .then(pieces)
        .when(core.str.contains(p["url"]))
        .then(core)
        .otherwise(split)
    )
    return parts.select("cid", (pl.col("pre") + body + pl.col("suf")).alias("tokens"))


def tokenize_chunks(chunks: pl.Series) -> pl.Series:
    """Tokens of each whitespace-free chunk, joined by single spaces (extra spaces may appear; split and drop
    empties). Plain alphanumeric chunks, the vast majority, skip the affix machinery."""
    p = patterns()
    df = pl.DataFrame({"chunk": chunks}).with_row_index("cid")
    c = pl.col("chunk")
    plain = c.str.contains(p["plain"]) & ~c.is_in(p["special_keys"]) & ~c.str.contains(p["unit_tail"])
    df = df.with_columns(plain.alias("plain"))
    hard = df.filter(~pl.col("plain"))
    out = _attach(_split_affixes(hard.select("cid", "chunk")))
    easy = df.filter("plain").select("cid", pl.col("chunk").alias("tokens"))
    return pl.concat([easy, out]).sort("cid")["tokens"]
