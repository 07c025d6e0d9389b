"""Vectorised emulation of datatrove's English word tokenizer (spaCy's blank "en" tokenizer).

Why: datatrove's Gopher and FineWeb filters count, and take n-grams of, the words spaCy's tokenizer yields
(minus whitespace tokens), and C4 counts spaCy's sentences. Calling spaCy once per document is the slowest part
of those filters, so this module re-implements its algorithm (`spacy/tokenizer.pyx`: whitespace split,
prefix/suffix stripping with special cases, URL match, infix split, the second special-case pass) with polars
string expressions over all chunks of a batch at once. Rust's regex engine has no look-around, so look-behinds
are matched as a consumed context character, and the iterative stripping runs in rounds over the (quickly
shrinking) set of chunks that still have affixes.

Known gaps (see docs/signals.md): past EXACT_ROUNDS affix tokens at one end of a chunk, the rest of the
run is split in bulk; spaCy's URL pattern is used without its private-IP exclusions.
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
WS_CHARS = "".join(c for c in map(chr, range(0x3001)) if c.isspace())  # the same set, spelled out (none above)
SEP = " "  # joins tokens inside a chunk; chunks never contain whitespace, so it cannot clash
_SPACE = "\t"  # stands for a whitespace token: no chunk can equal it
EXACT_ROUNDS = 8  # exact affix-stripping rounds; the rare chunks with longer affix runs are split in bulk


@cache
def tables() -> dict:
    """spaCy's tables, dumped by `tools/build_tokenizer_tables.py`."""
    return json.loads(TABLES_PATH.read_text())


def _alt(pieces: list[str]) -> str:
    return "|".join(pieces)


def _url_rule(alpha_lower: str) -> str:
    """spaCy's URL_PATTERN (tokenizer_exceptions.py): an IPv4 address or a host name with a top-level domain."""
    host = r"[A-Za-z0-9\u00a1-\uffff]"
    return (
        r"^(?:(?:[\w\+\-\.]{2,})://)?(?:\S+(?::\S*)?@)?(?:"
        r"(?:[1-9]\d?|1\d\d|2[01]\d|22[0-3])(?:\.(?:1?\d{1,2}|2[0-4]\d|25[0-5])){2}"
        r"(?:\.(?:[1-9]\d?|1\d\d|2[0-4]\d|25[0-4]))"
        f"|(?:(?:{host}[A-Za-z0-9\\u00a1-\\uffff_-]{{0,62}})?{host}\\.)+(?:[{alpha_lower}]{{2,63}}))"
        r"(?::\d{2,5})?(?:[/?#]\S*)?$"
    )


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
        ("([0-9])([+\\-\\*^])([0-9-])", "${1} ${2} ${3}"),
        (f"([{al}{q}])(\\.)([{au}{q}])", "${1} ${2} ${3}"),
        (f"([{a}])(,)([{a}])", "${1} ${2} ${3}"),
        (f"([{a}0-9])({hyphens})([{a}])", "${1} ${2} ${3}"),
        (f"([{a}0-9])([:<>=/])([{a}])", "${1} ${2} ${3}"),
    ]
    specials = {k: v for k, v in t["exceptions"].items() if k.strip() == k and k}
    # marks that the suffix rules split off any word, whatever precedes them: the single-character alternative,
    # less "…" (the "……" rule) and "$" (currencies like "US$" are longer suffixes)
    marks = {m.replace("\\", "") for m in single} - {"…", "$"}
    return {
        "simple": f"^[\\p{{L}}\\p{{N}}]+(?:[{''.join(re.escape(m) for m in sorted(marks))}]|\\.)$",
        "dot_split": f"(?:{dot_after}|[{au}][{au}])\\.$",  # the two suffix rules for "." that may follow a word
        "prefix": f"^({_alt(prefix)})",
        "prefix_bulk_alt": _alt([*prefix, r"\+"]),
        "suffix_bulk_alt": _alt([r"\.\.+", "……", "'s", "'S", "’s", "’S", *single, f"[{icons}]"]),
        "suffixes": suffixes,
        "infix_free": f"(\\.\\.+|…|[{icons}])",
        "infix_ctx": infixes,
        "infix_any": f"[.…+\\-\\*^,:<>=/~–—{icons}]",
        "url": _url_rule(al),
        "plain": r"^[\p{L}\p{N}]+$",
        "unit_tail": f"[0-9](?:{_alt([re.escape(u) for u in t['list_units']])})$",
        "special_keys": pl.Series(list(specials), dtype=pl.String),
        "matcher_first": pl.Series(sorted({v[0] for v in t["special_matcher"].values()}), dtype=pl.String),
        "matcher_two": pl.Series(sorted({SEP.join(v[:2]) for v in t["special_matcher"].values()}), dtype=pl.String),
        "matcher_patterns": pl.Series([SEP.join(v) for v in t["special_matcher"].values()], dtype=pl.String),
        "matcher_pieces": pl.Series([SEP.join(t["exceptions"][k]) for k in t["special_matcher"]], dtype=pl.String),
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
            (~pl.col("pre_special") & (lx > 0) & (ls > lx) & s.str.slice(0, ls - lx).is_in(keys)).alias("suf_special"),
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
    runs = pl.col("s").str.extract_groups(f"^((?:{p['prefix_bulk_alt']})*)(.*?)((?:{p['suffix_bulk_alt']})*)$")
    act = act.with_columns(runs.alias("g")).unnest("g")
    return act.select(
        "cid",
        (pl.col("pre") + pl.col("1").str.extract_all(p["prefix_bulk_alt"]).list.join(SEP) + SEP).alias("pre"),
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
    body = (
        pl.when(pl.col("special"))
        .then(core.replace_strict(p["special_keys"], p["special_pieces"], default=None))
        .otherwise(core)
    )
    return parts.select("cid", (pl.col("pre") + body + pl.col("suf")).alias("tokens"))


def _windows(vocab: pl.Series, src: np.ndarray, starts: np.ndarray, k: int) -> pl.Series:
    """The k tokens from each start, joined by SEP."""
    cols = pl.DataFrame({str(j): vocab.gather(src[starts + j]) for j in range(k)})
    return cols.select(pl.concat_str(pl.all(), separator=SEP)).to_series()


def _spread(counts: np.ndarray, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Item r repeated counts[r] times (0 drops it), its j-th copy pointing at first[r] + j: per copy, the item
    and where it points. Token streams are index arrays until the end, so every column is gathered once."""
    item = np.repeat(np.arange(len(counts)), counts)
    return item, first[item] + np.arange(len(item)) - (np.cumsum(counts) - counts)[item]


def _merge_specials(
    vocab: pl.Series, src: np.ndarray, lid: np.ndarray, cid: np.ndarray
) -> tuple[pl.Series, np.ndarray, np.ndarray]:
    """spaCy's `_apply_special_cases` over a token sequence, token t being vocab[src[t]] of line lid[t] and
    chunk cid[t] (-1 for whitespace): every run of tokens spelling a special case's affix-split pattern is a
    match, whether or not whitespace separates its tokens; matches overlapping a longer (or as long and further
    left) one are dropped; the rest, where no whitespace intervenes, become the special case's pieces again
    (e.g. "z.B." -> "z" "." "B." -> "z." "B.", or "):"). Returns the vocabulary with those pieces added, each
    output token's place in it, and the input token each output token stems from."""
    p = patterns()
    n = len(src)
    first = np.flatnonzero(vocab.is_in(p["matcher_first"].implode()).to_numpy()[src])
    first = first[first + 1 < n]
    first = first[lid[first + 1] == lid[first]]
    first = first[_windows(vocab, src, first, 2).is_in(p["matcher_two"].implode()).to_numpy()]  # first two tokens
    found = []
    for k, patterns_k in p["matcher_by_len"].items():
        s = first[first + k <= n]
        s = s[lid[s + k - 1] == lid[s]]
        window = _windows(vocab, src, s, k)
        hit = window.is_in(patterns_k.implode()).to_numpy()
        found.append(
            pl.DataFrame({"lid": lid[s[hit]], "i": s[hit], "k": np.full(hit.sum(), k), "w": window.filter(hit)})
        )
    hits = pl.concat(found)
    if hits.height == 0:
        return vocab, src, np.arange(n)
    hits = hits.sort(["k", "i"], descending=[True, False]).with_row_index("rank")
    clash = hits.join(hits, on="lid", suffix="_o").filter(
        (pl.col("rank_o") < pl.col("rank"))
        & (pl.col("i_o") < pl.col("i") + pl.col("k"))
        & (pl.col("i") < pl.col("i_o") + pl.col("k_o"))
    )
    hits = hits.join(clash.select("rank").unique(), on="rank", how="anti")
    i, k = hits["i"].to_numpy(), hits["k"].to_numpy()
    hits = hits.filter(pl.Series((cid[i] == cid[i + k - 1]) & (cid[i] >= 0)))  # no whitespace inside
    i, k = hits["i"].to_numpy(), hits["k"].to_numpy()
    drop = np.zeros(n, dtype=bool)
    for j in range(1, int(k.max(initial=1))):
        drop[(i + j)[j < k]] = True
    # a match becomes its special case's pieces, one or several ("10a.m." -> "10", "a.m."), in place
    pieces = hits["w"].replace_strict(p["matcher_patterns"], p["matcher_pieces"]).str.split(SEP)
    n_pieces = pieces.list.len().to_numpy()
    counts = (~drop).astype(np.int64)
    counts[i] = n_pieces
    start = src.copy()
    start[i] = len(vocab) + np.cumsum(n_pieces) - n_pieces
    stem, src = _spread(counts, start)
    # one chunk: the caller gathers every output token from it, 4x slower from two chunks
    return pl.concat([vocab, pieces.explode()], rechunk=True), src, stem


def _is_plain(c: pl.Expr) -> pl.Expr:
    """Letters and digits only, not a special case, no unit after a digit: a single token, no affixes."""
    p = patterns()
    return c.str.contains(p["plain"]) & ~c.is_in(p["special_keys"].implode()) & ~c.str.contains(p["unit_tail"])


def _simple_split(distinct: pl.DataFrame) -> pl.DataFrame:
    """Tokens (columns cid, tokens) of the chunks that are a plain word and one mark that the suffix rules split
    off ("word," "word)" "word." after a lower-case letter): what the rounds of `_split_affixes` and `_attach`
    make of them, derived from the same rules, for about half of a page's distinct punctuated chunks."""
    p = patterns()
    chunk = pl.col("chunk")
    word, mark = chunk.str.slice(0, chunk.str.len_chars() - 1), chunk.str.slice(-1)
    simple = (
        distinct.filter(chunk.str.contains(p["simple"]))
        .filter(
            _is_plain(word)
            & ~chunk.is_in(p["special_keys"].implode())
            & chunk.str.extract(p["prefix"], 1).is_null()
            & ((mark != ".") | chunk.str.contains(p["dot_split"]))
        )
    )
    return simple.select("cid", (word + SEP + mark).alias("tokens"))


def _hard_tokens(hard: pl.Series) -> tuple[np.ndarray, pl.Series, np.ndarray]:
    """Tokens of chunks that need the affix and infix rules: per chunk, how many tokens and where they start in
    the returned token Series. Web text repeats its punctuated chunks ("the,", "(see"): each distinct one is
    tokenized once."""
    distinct = hard.unique().to_frame("chunk").with_row_index("cid")
    simple = _simple_split(distinct)
    rest = distinct.join(simple, on="cid", how="anti")
    flat = (
        pl.concat([simple, _attach(_split_affixes(rest))])
        .sort("cid")
        .select("cid", pl.col("tokens").str.split(SEP).alias("token"))
        .explode("token")
        .filter(pl.col("token") != "")  # the infix split may leave extra spaces
    )
    n = np.bincount(flat["cid"].to_numpy(), minlength=distinct.height)
    cid = hard.to_frame("chunk").join(distinct, on="chunk", how="left", maintain_order="left")["cid"].to_numpy()
    return n[cid], flat["token"], (np.cumsum(n) - n)[cid]


def tokenize_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """spaCy-English tokens of every line (columns lid, line; lines of one text in order): columns of `lines`
    but line, plus token and space, one row per token in text order.

    spaCy also makes a token of every whitespace run other than a single " "; datatrove drops those from its
    word lists, but its sentence splitter sees them, so they are kept here, flagged `space`, as one "\\t" each
    (only their place matters). Chunks are cut by a replace and a literal split, 2x faster than a regex
    `extract_all` of chunks and whitespace runs."""
    keys = [c for c in lines.columns if c != "line"]
    spaced = pl.col("line").str.replace_all(f"[{WS}]{{2,}}|[{WS}--\\x{{20}}]", f" {_SPACE} ")
    pieces = lines.select(*keys, spaced.str.split(" ").alias("token")).explode("token").filter(pl.col("token") != "")
    space = pieces["token"] == _SPACE
    chunk = pieces["token"]
    # plain alphanumeric chunks, the vast majority, are one token each and skip the affix machinery
    plain = chunk.to_frame("chunk").select(_is_plain(pl.col("chunk"))).to_series()
    hard = np.flatnonzero(~(space | plain).to_numpy())
    n_tokens, hard_tokens, first = _hard_tokens(chunk.gather(hard))
    counts = np.ones(len(chunk), dtype=np.int64)
    counts[hard] = n_tokens
    start = np.arange(len(chunk))  # where each piece's first token is in chunk + hard_tokens
    start[hard] = len(chunk) + first
    piece, src = _spread(counts, start)
    space = space.to_numpy()
    lid, cid = pieces["lid"].to_numpy()[piece], np.where(space[piece], -1, piece)
    # one contiguous vocabulary: the special-case windows gather from it many times
    vocab, src, stem = _merge_specials(pl.concat([chunk, hard_tokens], rechunk=True), src, lid, cid)
    piece = piece[stem]
    return pieces.select(keys)[piece].with_columns(vocab.gather(src).alias("token"), pl.Series("space", space[piece]))
