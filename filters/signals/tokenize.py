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

import numpy as np
import polars as pl

TABLES_PATH = Path(__file__).with_name("spacy_en_tables.json")
WS = r"\s\x{1c}-\x{1f}"  # Python's str.isspace(): Unicode White_Space plus the four separators \x1c-\x1f
SEP = " "  # joins tokens inside a chunk; chunks never contain whitespace, so it cannot clash
EXACT_ROUNDS = 4  # exact affix-stripping rounds; the rare chunks with longer affix runs are split in bulk


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
        f"|(?:(?:{host}[A-Za-z0-9\\u00a1-\\uffff_-]{{0,62}})?{host}\\.)+(?:[{al}]{{2,63}}))"
        r"(?::\d{2,5})?(?:[/?#]\S*)?$"
    )
    specials = {k: v for k, v in t["exceptions"].items() if k.strip() == k and k}
    return {
        "prefix": f"^({_alt(prefix)})",
        "prefix_alt": _alt(prefix),
        "suffix_bulk_alt": _alt([r"\.\.+", "……", "'s", "'S", "’s", "’S", *single, f"[{icons}]"]),
        "suffixes": suffixes,
        "infix_free": f"(\\.\\.+|…|[{icons}])",
        "infix_ctx": infixes,
        "infix_any": f"[.…+\\-\\*^,:<>=/~–—{icons}]",
        "url": url,
        "plain": r"^[\p{L}\p{N}]+$",
        "unit_tail": f"[0-9](?:{_alt([re.escape(u) for u in t['list_units']])})$",
        "special_keys": pl.Series(list(specials), dtype=pl.String),
        "matcher_windows": [SEP + SEP.join(v) + SEP for v in t["special_matcher"].values()],
        "matcher_by_len": {
            k: pl.Series([SEP.join(v) for v in t["special_matcher"].values() if len(v) == k], dtype=pl.String)
            for k in sorted({len(v) for v in t["special_matcher"].values()})
        },
        "special_pieces": pl.Series([SEP.join(v) for v in specials.values()], dtype=pl.String),
    }


def _split_affixes(chunks: pl.DataFrame) -> pl.DataFrame:
    """spaCy's `_split_affixes` loop, run in rounds: columns `cid`, `pre`, `core`, `suf`, `special`."""
    p = patterns()
    keys = p["special_keys"].implode()
    done: list[pl.DataFrame] = []
    act = chunks.select("cid", pl.lit("").alias("pre"), pl.col("chunk").alias("s"), pl.lit("").alias("suf"))
    s, lp, lx, ls = pl.col("s"), pl.col("lp"), pl.col("lx"), pl.col("ls")
    for _ in range(EXACT_ROUNDS):
        if act.height == 0:
            break
        act = act.with_columns(
            pl.when(s.str.starts_with("+") & ~s.str.contains(r"^\+[0-9]"))
            .then(pl.lit("+"))
            .otherwise(s.str.extract(p["prefix"], 1))
            .fill_null("")
            .alias("p"),
            s.is_in(keys).alias("special"),
            s.str.len_chars().alias("ls"),
        ).with_columns(pl.col("p").str.len_chars().alias("lp"))
        act = act.with_columns(s.str.slice(lp).alias("rest"))
        cands = [f"c{i}" for i in range(len(p["suffixes"]))]
        act = act.with_columns(
            pl.col("rest").str.extract(pat, 1).fill_null("").alias(c) for c, pat in zip(cands, p["suffixes"])
        )
        act = act.with_columns(pl.max_horizontal(pl.col(c).str.len_chars() for c in cands).alias("lx"))
        act = act.with_columns(
            pl.coalesce(pl.when(pl.col(c).str.len_chars() == lx).then(pl.col(c)) for c in cands)
            .fill_null("")
            .alias("x"),
            ((lp > 0) & (ls > lp) & s.str.slice(lp).is_in(keys)).alias("pre_special"),
        )
        act = act.with_columns(
            (~pl.col("pre_special") & (lx > 0) & (ls > lx) & s.str.slice(0, ls - lx).is_in(keys)).alias(
                "suf_special"
            ),
            (pl.col("special") | (s == "") | ((lp == 0) & (lx == 0))).alias("stop"),
        )
        act = act.with_columns(
            (~pl.col("stop") & (lp > 0) & ~pl.col("suf_special")).alias("take_pre"),
            (~pl.col("stop") & (lx > 0) & ~pl.col("pre_special")).alias("take_suf"),
        ).with_columns(
            pl.when("take_pre").then(lp).otherwise(0).alias("cut_l"),
            pl.when("take_suf").then(lx).otherwise(0).alias("cut_r"),
        )
        act = act.select(
            "cid",
            pl.when("take_pre").then(pl.col("pre") + pl.col("p") + SEP).otherwise(pl.col("pre")).alias("pre"),
            s.str.slice(pl.col("cut_l"), ls - pl.col("cut_l") - pl.col("cut_r")).alias("s"),
            pl.when("take_suf").then(SEP + pl.col("x") + pl.col("suf")).otherwise(pl.col("suf")).alias("suf"),
            (pl.col("stop") | pl.col("pre_special") | pl.col("suf_special")).alias("fin"),
            (pl.col("special") | pl.col("pre_special") | pl.col("suf_special")).alias("special"),
        )
        # a stripped remainder that is a plain word has nothing left to strip: spare it the next round
        act = act.with_columns(pl.col("fin") | _is_plain(pl.col("s")))
        done.append(act.filter("fin").select("cid", "pre", pl.col("s").alias("core"), "suf", "special"))
        act = act.filter(~pl.col("fin")).select("cid", "pre", "s", "suf")
    done.append(_bulk_affixes(act))
    return pl.concat(done)


def _bulk_affixes(act: pl.DataFrame) -> pl.DataFrame:
    """Split whole affix runs at once (no special-case checks inside a run, no context-dependent "." suffix):
    keeps the round count, and so the per-round overhead, bounded for chunks like "((((((" or "!!!!!!!!"."""
    p = patterns()
    runs = pl.col("s").str.extract_groups(f"^((?:{p['prefix_alt']})*)(.*?)((?:{p['suffix_bulk_alt']})*)$")
    act = act.with_columns(runs.alias("g")).unnest("g")
    return act.select(
        "cid",
        (pl.col("pre") + pl.col("1").str.extract_all(p["prefix_alt"]).list.join(SEP) + SEP).alias("pre"),
        pl.col("2").alias("core"),
        (SEP + pl.col("3").str.extract_all(p["suffix_bulk_alt"]).list.join(SEP) + pl.col("suf")).alias("suf"),
        pl.lit(False).alias("special"),
    )


def _infix_split(cores: pl.Series) -> pl.Series:
    """spaCy's infix split of cores that are neither special cases nor URLs: a space around every infix."""
    p = patterns()
    out = cores.str.replace_all(p["infix_free"], " ${1} ")
    for pat, rep in p["infix_ctx"]:
        for _ in range(2):  # consumed context characters hide adjacent matches from one pass
            out = out.str.replace_all(pat, rep)
    return out


def _attach(parts: pl.DataFrame) -> pl.DataFrame:
    """spaCy's `_attach_tokens`: special-case pieces, URL or infix split of the core; adds `tokens`."""
    p = patterns()
    core = pl.col("core")
    parts = parts.with_columns(
        (~pl.col("special") & core.str.contains(p["infix_any"]) & ~core.str.contains(p["url"])).alias("infix")
    )
    split = parts.filter("infix")
    split = split.with_columns(_infix_split(split["core"]).alias("core"))
    parts = pl.concat([parts.filter(~pl.col("infix")), split])
    body = pl.when(pl.col("special")).then(core.replace_strict(p["special_keys"], p["special_pieces"], default=None)).otherwise(core)
    return parts.select("cid", (pl.col("pre") + body + pl.col("suf")).alias("tokens"))


def _merge_specials(df: pl.DataFrame) -> pl.DataFrame:
    """spaCy's `_apply_special_cases`: special cases whose pieces the affix rules split (e.g. "z.B." -> "z" "."
    "B." re-merged to "z." "B.", or "):") become one token again; longest match first, then leftmost."""
    p = patterns()
    padded = SEP + pl.col("tokens").str.replace_all(" +", SEP) + SEP
    cand = df.filter(padded.str.contains_any(p["matcher_windows"]))
    if cand.height == 0:
        return df
    toks = (
        cand.select("cid", pl.col("tokens").str.split(SEP))
        .explode("tokens")
        .filter(pl.col("tokens") != "")
        .with_columns(pl.int_range(pl.len()).over("cid").alias("i"))
    )
    found = []
    for k, patterns_k in p["matcher_by_len"].items():
        window = pl.concat_str([pl.col("tokens").shift(-j).over("cid") for j in range(k)], separator=SEP)
        hit = toks.with_columns(window.alias("w")).filter(pl.col("w").is_in(patterns_k.implode()))
        found.append(hit.select("cid", "i", pl.lit(k).alias("k"), pl.col("w").str.replace_all(SEP, "").alias("key")))
    hits = pl.concat(found).sort(["cid", "k", "i"], descending=[False, True, False])
    # drop any match overlapping one of higher priority (longer, or as long and further left)
    hits = hits.with_row_index("rank")
    clash = hits.join(hits, on="cid", suffix="_o").filter(
        (pl.col("rank_o") < pl.col("rank"))
        & (pl.col("i_o") < pl.col("i") + pl.col("k"))
        & (pl.col("i") < pl.col("i_o") + pl.col("k_o"))
    )
    hits = hits.join(clash.select("cid", "rank").unique(), on=["cid", "rank"], how="anti")
    covered = hits.select("cid", pl.int_ranges("i", pl.col("i") + pl.col("k")).alias("i"), "key").explode("i")
    merged = (
        toks.join(covered, on=["cid", "i"], how="left")
        .join(hits.select("cid", "i", pl.lit(True).alias("start")), on=["cid", "i"], how="left")
        .filter(pl.col("key").is_null() | pl.col("start").is_not_null())
        .with_columns(
            pl.when(pl.col("key").is_null())
            .then(pl.col("tokens"))
            .otherwise(pl.col("key").replace_strict(p["special_keys"], p["special_pieces"], default=None))
        )
        .sort("cid", "i")
        .group_by("cid")
        .agg(pl.col("tokens").str.join(SEP).alias("merged"))
    )
    return (
        df.join(merged, on="cid", how="left")
        .with_columns(pl.coalesce("merged", "tokens").alias("tokens"))
        .drop("merged")
    )


def _is_plain(c: pl.Expr) -> pl.Expr:
    """Letters and digits only, not a special case, no unit after a digit: a single token, no affixes."""
    p = patterns()
    return c.str.contains(p["plain"]) & ~c.is_in(p["special_keys"].implode()) & ~c.str.contains(p["unit_tail"])


def tokenize_chunks(chunks: pl.Series) -> pl.Series:
    """Tokens of each whitespace-free chunk, joined by single spaces (extra spaces may appear; split and drop
    empties). Plain alphanumeric chunks, the vast majority, skip the affix machinery."""
    plain = chunks.to_frame("chunk").select(_is_plain(pl.col("chunk"))).to_series()
    hard = chunks.filter(~plain)
    # web text repeats its punctuated chunks ("the,", "(see"): tokenize each distinct one once
    distinct = hard.unique().to_frame("chunk").with_row_index("cid")
    done = _merge_specials(distinct.join(_attach(_split_affixes(distinct)), on="cid"))
    tokens = hard.to_frame("chunk").join(done.select("chunk", "tokens"), on="chunk", how="left", maintain_order="left")
    return chunks.clone().scatter(np.flatnonzero(~plain.to_numpy()), tokens["tokens"])
