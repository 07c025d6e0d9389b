"""The synthetic demo crawl: deterministic gzipped WARC files with the kinds of pages a real crawl holds.

`quality-audit` runs on it when no `--input` is given, and load tests generate millions of records
with it, so it is (1) owned content: every sentence is composed from the project's own vocabularies
and templates, data files in `flows/demo/data/` (`flows.demo.content` loads them); (2) deterministic:
every choice is a pure function of (seed, capture index), so output is byte-identical for a seed and
any file can be written alone or in parallel; (3) streaming: records are generated and written one at
a time; (4) labelled: `demo_ground_truth` says what the crawl holds, by kind, status, language and
defect, without writing anything.

One *capture* is a `request` record plus a `response` record (occasionally followed by a `metadata`
record, or by a `request` + `revisit` pair for a re-visited page); `n_records` counts responses.

Speed comes from splicing precompressed deflate fragments (pool sentences, site chrome) into each
record's gzip member, so only the per-record parts are compressed at write time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import struct
import time
import unicodedata
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache, lru_cache
from math import gcd
from pathlib import Path
from typing import BinaryIO, NamedTuple

from flows.demo.content import LanguagePack, mix, packs

GENERATOR = "peakdata-demo-crawl/1"
TRUTH_FORMAT = "peakdata-demo-crawl-truth/1"
GZIP_LEVEL = 1  # per-record parts: fastest deflate (fragments are precompressed at level 6)
_STORE_BELOW = 2048  # per-record parts shorter than this are stored, not compressed
_MIX = mix()
BLOCK: int = _MIX["block"]  # kind proportions are exact in every block of this many captures
KIND_COUNTS: dict[str, int] = _MIX["kind_counts"]  # captures per block, by kind (documented in docs/readme/demo.md)
if sum(KIND_COUNTS.values()) != BLOCK:
    raise ValueError(f"flows/demo/data/mix.json: kind_counts sum to {sum(KIND_COUNTS.values())}, not block={BLOCK}")
ORIGINAL_TEXT_KINDS = frozenset(
    {"article_good", "article_mediocre", "listicle", "boilerplate", "keyword_spam", "no_punct", "lorem",
     "js_warning", "short"}
)
DUP_KINDS = frozenset({"dup_exact", "dup_recrawl", "dup_near"})
ENCODING_KINDS = frozenset({"enc_cp1252", "enc_shift_jis", "enc_mojibake", "enc_mixed", "charset_invalid"})
BROKEN_KINDS = frozenset({"enc_mojibake", "enc_mixed", "charset_invalid", "http_length_short",
                          "http_length_long"})
# Text/html 200 responses whose payload is readable: the records a reader should turn into documents.
HTML_TEXT_KINDS = ORIGINAL_TEXT_KINDS | DUP_KINDS | ENCODING_KINDS | {"http_length_short", "http_length_long"}
# The last capture of some files is written broken at the WARC/gzip level (only with include_broken).
TAIL_KINDS = ("warc_length_short", "warc_length_long", "truncated_gzip")
_DUP_SOURCES = frozenset({"article_good", "article_mediocre", "listicle", "boilerplate"})
_STATUS = {"http_404": (404, "Not Found"), "http_500": (500, "Internal Server Error"),
           "http_301": (301, "Moved Permanently")}
_MIME = {"nonhtml_jpeg": "image/jpeg", "nonhtml_pdf": "application/pdf", "nonhtml_json": "application/json"}

# Language of text pages, per 100 (a rough echo of Common Crawl, where English is about half).
LANG_SHARES: dict[str, int] = _MIX["lang_shares"]  # percent of HTML text pages
_LANG_TABLE = tuple(code for code, share in LANG_SHARES.items() for _ in range(share))
_LEGACY_LANGS: tuple[str, ...] = tuple(_MIX["legacy_langs"])  # written in windows-1252 by legacy sites
_SITES: dict[str, int] = _MIX["sites"]  # websites per language
_INVALID_CHARSETS: tuple[str, ...] = tuple(_MIX["invalid_charsets"])
_LOREM_WORDS: tuple[str, ...] = tuple(_MIX["lorem_words"])  # placeholder Latin of page templates
_BASE_TS = 1704067200  # 2024-01-01T00:00:00Z; WARC-Date = base + seed-dependent day + 3 s per capture
_SECONDS_PER_CAPTURE = 3
_POOL_SENTENCES = 2048
_POOL_PARAGRAPHS = 2048
_POOL_TITLES = 2048

_M64 = (1 << 64) - 1
_S_KIND, _S_CAP, _S_SRC, _S_RSRC, _S_CONTENT, _S_NEAR, _S_VARIANT = (0x1000 + i for i in range(7))


def _mix(x: int) -> int:
    """splitmix64 finaliser: cheap, platform-independent hashing so every choice is a function of (seed, g)."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def _h(seed: int, g: int, salt: int) -> int:
    return _mix(_mix((seed & _M64) ^ (salt << 48)) ^ (g & _M64))


_SLOTS: tuple[str, ...] = tuple(k for k, n in KIND_COUNTS.items() for _ in range(n))
_SLOTS = tuple(random.Random("peakdata-demo-slots").sample(_SLOTS, len(_SLOTS)))
_COPRIME = tuple(a for a in range(1, BLOCK) if gcd(a, BLOCK) == 1)


# --- the plan: what each capture is, without generating it ----------------------------------------


class Capture(NamedTuple):
    """One planned capture: enough to tally the ground truth and to generate the records."""

    g: int  # global capture index, in crawl order (file by file)
    file: int
    index: int  # capture index within its file
    kind: str
    lang: str | None  # language of the page text (None for JPEG/PDF); "la" for lorem ipsum
    source: int  # g of the page a dup_* repeats, else -1
    metadata: bool  # a metadata record follows the response
    revisit_of: int  # g of an earlier page re-visited right after this capture (request + revisit), else -1
    record_id: str  # WARC-Record-ID of the response record


def file_sizes(n_records: int, n_files: int) -> list[int]:
    """Responses per file: as even as possible, earlier files take the remainder."""
    base, extra = divmod(n_records, n_files)
    return [base + (1 if i < extra else 0) for i in range(n_files)]


def file_name(seed: int, index: int) -> str:
    return f"DEMO-CRAWL-{seed}-{index:05d}.warc.gz"


def truth_name(seed: int) -> str:
    """Not a `.json` name on purpose: `--input DIR` picks up .json files as documents."""
    return f"DEMO-CRAWL-{seed}.truth"


def _record_id(seed: int, g: int, part: int) -> str:
    """A UUID-4-shaped id; part: 0 request, 1 response, 2 metadata, 3 revisit's request, 4 revisit, 9 warcinfo."""
    s = hashlib.blake2b(b"%d/%d/%d" % (seed, g, part), digest_size=16).hexdigest()
    return f"<urn:uuid:{s[:8]}-{s[8:12]}-4{s[13:16]}-{'89ab'[int(s[16], 16) & 3]}{s[17:20]}-{s[20:32]}>"


class _Planner:
    """Pure functions of (seed, g), plus the file layout that decides where the broken tails go."""

    def __init__(self, seed: int, n_records: int, n_files: int, include_broken: bool) -> None:
        if n_files < 1 or n_records < 0:
            raise ValueError("n_files must be >= 1 and n_records >= 0")
        self.seed, self.include_broken = seed, include_broken
        self.sizes = file_sizes(n_records, n_files)
        self.starts = [sum(self.sizes[:i]) for i in range(n_files)]
        self.tails: dict[int, str] = {}
        self._block = (-1, 0, 0)
        if include_broken:
            for f, size in enumerate(self.sizes):
                if size == 0:
                    continue
                last = self.starts[f] + size - 1
                if f == n_files - 1:
                    self.tails[last] = "truncated_gzip"
                elif f < 2:
                    self.tails[last] = TAIL_KINDS[f]

    def base_kind(self, g: int) -> str:
        """The kind scheduled for g: a per-block affine permutation of a fixed list of 200 slots."""
        blk, pos = divmod(g, BLOCK)
        if self._block[0] != blk:
            hb = _h(self.seed, blk, _S_KIND)
            self._block = (blk, _COPRIME[hb % len(_COPRIME)], hb >> 20)
        _, a, b = self._block
        kind = _SLOTS[(a * pos + b) % BLOCK]
        if not self.include_broken and kind in BROKEN_KINDS:
            return "article_mediocre"
        return kind

    def lang_of(self, g: int, kind: str) -> str | None:
        h = _h(self.seed, g, _S_CAP) & 0xFFFF
        if kind in ("nonhtml_jpeg", "nonhtml_pdf"):
            return None
        if kind == "lorem":
            return "la"
        if kind == "enc_shift_jis":
            return "ja"
        if kind in ("enc_cp1252", "enc_mojibake", "enc_mixed"):
            return _LEGACY_LANGS[h % len(_LEGACY_LANGS)]
        return _LANG_TABLE[h % 100]

    def find_source(self, g: int, salt: int, near: bool) -> int:
        """An earlier original page to repeat, or -1 when none turns up within a few probes."""
        if g < 1:
            return -1
        for i in range(12):
            cand = _h(self.seed, g * 16 + i, salt) % g
            kind = self.base_kind(cand)
            ok = kind == "article_good" if near else kind in _DUP_SOURCES
            if ok and cand not in self.tails:
                return cand
        return -1

    def capture(self, g: int, file: int, index: int) -> Capture:
        seed = self.seed
        tail = self.tails.get(g)
        kind = tail or self.base_kind(g)
        source = -1
        if kind in DUP_KINDS:
            source = self.find_source(g, _S_SRC, kind == "dup_near")
            if source < 0:
                kind = "article_good"
        h = _h(seed, g, _S_CAP)  # bits 0-15 language, 16-31 metadata, 32-47 revisit, 48-63 site
        if tail:
            lang = _LANG_TABLE[(h & 0xFFFF) % 100]
        elif source >= 0:
            lang = self.lang_of(source, self.base_kind(source))
        else:
            lang = self.lang_of(g, kind)
        text = kind in HTML_TEXT_KINDS and not tail
        metadata = text and (h >> 16 & 0xFFFF) % 100 < 5
        revisit_of = -1
        if text and (h >> 32 & 0xFFFF) % 100 < 1:
            revisit_of = self.find_source(g, _S_RSRC, False)
        return Capture(g, file, index, kind, lang, source, metadata, revisit_of, _record_id(seed, g, 1))

    def iter_file(self, f: int) -> Iterator[Capture]:
        start = self.starts[f]
        for i in range(self.sizes[f]):
            yield self.capture(start + i, f, i)


def iter_demo_plan(n_records: int = 2000, n_files: int = 4, seed: int = 0,
                   include_broken: bool = True) -> Iterator[Capture]:
    """Every capture of the crawl in file order, without generating pages (per-record ground truth)."""
    planner = _Planner(seed, n_records, n_files, include_broken)
    for f in range(n_files):
        yield from planner.iter_file(f)


# --- ground truth ---------------------------------------------------------------------------------


class _Tally:
    """Counts what the plan puts in the crawl; the generator and `demo_ground_truth` share it."""

    def __init__(self) -> None:
        self.records: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.status: Counter[str] = Counter()
        self.mime: Counter[str] = Counter()
        self.langs: Counter[str] = Counter()
        self.good_langs: Counter[str] = Counter()

    def warcinfo(self) -> None:
        self.records["warcinfo"] += 1

    def add(self, cap: Capture) -> None:
        kind = cap.kind
        self.records["request"] += 1
        self.records["response"] += 1
        if cap.metadata:
            self.records["metadata"] += 1
        if cap.revisit_of >= 0:
            self.records["request"] += 1
            self.records["revisit"] += 1
        self.kinds[kind] += 1
        self.status[str(_STATUS.get(kind, (200,))[0])] += 1
        self.mime[_MIME.get(kind, "text/html")] += 1
        if kind in HTML_TEXT_KINDS:
            self.langs[cap.lang or "unknown"] += 1
        if kind == "article_good":
            self.good_langs[cap.lang or "unknown"] += 1

    def merge(self, other: _Tally) -> None:
        for mine, theirs in ((self.records, other.records), (self.kinds, other.kinds), (self.status, other.status),
                             (self.mime, other.mime), (self.langs, other.langs), (self.good_langs, other.good_langs)):
            mine.update(theirs)

    def as_dict(self) -> dict:
        k = self.kinds
        return {
            "warc_records": dict(sorted(self.records.items())) | {"total": sum(self.records.values())},
            "responses": {
                "total": self.records["response"],
                "by_kind": dict(sorted(k.items())),
                "by_status": dict(sorted(self.status.items())),
                "by_content_type": dict(sorted(self.mime.items())),
            },
            "html_text": sum(k[x] for x in HTML_TEXT_KINDS),
            "non_html": sum(k[x] for x in _MIME),
            "http_errors": sum(k[x] for x in _STATUS),
            "languages": dict(sorted(self.langs.items())),
            "good_articles_by_language": dict(sorted(self.good_langs.items())),
            "duplicates": {
                "exact_other_url": k["dup_exact"], "recrawl_same_url": k["dup_recrawl"],
                "near": k["dup_near"], "revisit_records": self.records["revisit"],
            },
            "encodings": {
                "windows-1252": k["enc_cp1252"], "shift_jis": k["enc_shift_jis"],
                "mojibake_utf8_read_as_cp1252": k["enc_mojibake"], "mixed_utf8_cp1252": k["enc_mixed"],
                "invalid_charset_label": k["charset_invalid"],
            },
            "broken": {
                "http_content_length_short": k["http_length_short"],
                "http_content_length_long": k["http_length_long"],
                "invalid_charset_label": k["charset_invalid"], "mojibake": k["enc_mojibake"],
                "mixed_encoding": k["enc_mixed"], "warc_content_length_short": k["warc_length_short"],
                "warc_content_length_long": k["warc_length_long"], "truncated_gzip": k["truncated_gzip"],
            },
        }


def demo_ground_truth(n_records: int = 2000, n_files: int = 4, seed: int = 0,
                      include_broken: bool = True) -> dict:
    """What `write_demo_crawl` with the same arguments writes, counted from the plan (no files written).

    The `.truth` file written next to the WARCs holds the same dict plus byte sizes and the offset of the
    truncated gzip member in `files[]`.
    """
    planner = _Planner(seed, n_records, n_files, include_broken)
    total = _Tally()
    files = []
    for f in range(n_files):
        tally = _Tally()
        tally.warcinfo()
        for cap in planner.iter_file(f):
            tally.add(cap)
        total.merge(tally)
        files.append(_file_entry(planner, f, tally))
    return _truth_dict(seed, n_records, n_files, include_broken, total, files)


def _file_entry(planner: _Planner, f: int, tally: _Tally) -> dict:
    last = planner.starts[f] + planner.sizes[f] - 1
    return {"name": file_name(planner.seed, f), "responses": planner.sizes[f],
            "warc_records": sum(tally.records.values()), "tail": planner.tails.get(last)}


def _truth_dict(seed: int, n_records: int, n_files: int, include_broken: bool, total: _Tally,
                files: list[dict]) -> dict:
    return {
        "format": TRUTH_FORMAT, "generator": GENERATOR, "synthetic": True,
        "seed": seed, "n_records": n_records, "n_files": n_files, "include_broken": include_broken,
        "warc_date_start": _iso(_capture_ts(seed, 0)),
        **total.as_dict(),
        "files": files,
    }

# --- text ---------------------------------------------------------------------------------------------


class _Filler(dict):
    """format_map mapping that draws a phrase for each slot the template uses (and only those)."""

    __slots__ = ("rng", "slots", "n")

    def __init__(self, rng: random.Random, slots: dict[str, tuple[str, ...]], n: int = 0) -> None:
        super().__init__()
        self.rng, self.slots, self.n = rng, slots, n

    def __missing__(self, key: str) -> str:
        if key == "n":
            return str(self.n)
        words = self.slots[key.lower()]
        word = words[int(self.rng.random() * len(words))]
        return word[:1].upper() + word[1:] if key[0].isupper() else word


def _fresh(pack: LanguagePack, rng: random.Random, templates: tuple[str, ...] | None = None, n: int = 0) -> str:
    """A newly composed sentence (about 10^7 combinations per template): keeps every page unique."""
    tpl = templates or pack.templates
    text = tpl[int(rng.random() * len(tpl))].format_map(_Filler(rng, _slot_map(pack.code), n))
    return text[:1].upper() + text[1:]


@cache
def _pack(code: str) -> LanguagePack:
    return packs()[code]


@cache
def _slot_map(code: str) -> dict[str, tuple[str, ...]]:
    return _pack(code).slots()


class _SlugTable(dict):
    """str.translate table: ASCII letters and digits kept (lower-cased), accents folded, anything else a space."""

    def __missing__(self, code: int) -> str:
        folded = unicodedata.normalize("NFKD", chr(code)).encode("ascii", "ignore").decode().lower()
        value = folded if folded.isalnum() else " "
        self[code] = value
        return value


_SLUG = _SlugTable()


def _slug(title: str) -> str:
    """URL slug of a title: up to 8 ASCII words joined by '-' (empty for non-Latin scripts)."""
    return "-".join(title.translate(_SLUG).split()[:8])


class _Frag(NamedTuple):
    """Bytes with their raw-deflate form: byte-aligned, never final, no back-references outside itself."""

    raw: bytes
    z: bytes


def _frags(texts: Iterable[str], level: int = 6) -> tuple[_Frag, ...]:
    """Precompress texts as independent fragments. A fresh compressor per call keeps the bytes a function
    of the texts alone (not of what was compressed before), so output stays identical across processes."""
    comp = zlib.compressobj(level, zlib.DEFLATED, -15)
    out = []
    for text in texts:
        raw = text.encode("utf-8")
        out.append(_Frag(raw, comp.compress(raw) + comp.flush(zlib.Z_FULL_FLUSH)))
    return tuple(out)


Part = bytes | _Frag  # a piece of a record: bytes to compress now, or a precompressed fragment


@cache
def _pool(code: str) -> tuple[str, ...]:
    """Per-language sentence pool, built once per process from a fixed seed (the same for every crawl)."""
    rng = random.Random(f"peakdata-demo-pool-{code}")
    pack = _pack(code)
    sentences = tuple(_fresh(pack, rng) for _ in range(_POOL_SENTENCES))
    if any(c in s for s in sentences for c in "<>&"):
        raise ValueError(f"{code}: vocabulary must be HTML-safe")
    return sentences


@cache
def _pool_frags(code: str) -> tuple[_Frag, ...]:
    """Pool sentences as fragments, each followed by the word separator."""
    sep = _pack(code).sep
    return _frags(s + sep for s in _pool(code))


@cache
def _paragraph_frags(code: str) -> tuple[_Frag, ...]:
    """Paragraphs of 3-6 pool sentences, as `<p>...</p>` fragments: the body of most articles."""
    rng = random.Random(f"peakdata-demo-paragraphs-{code}")
    pool, sep = _pool(code), _pack(code).sep
    paragraphs = []
    for _ in range(_POOL_PARAGRAPHS):
        sentences = [pool[int(rng.random() * _POOL_SENTENCES)] for _ in range(3 + int(rng.random() * 4))]
        paragraphs.append(f"<p>{sep.join(sentences)}</p>\n")
    return _frags(paragraphs)


@cache
def _titles(code: str) -> tuple[tuple[str, str], ...]:
    """Per-language headline pool: (title, URL slug)."""
    rng = random.Random(f"peakdata-demo-titles-{code}")
    pack = _pack(code)
    out = []
    for _ in range(_POOL_TITLES):
        title = _fresh(pack, rng, pack.title_templates)
        out.append((title, _slug(title)))
    return tuple(out)


@cache
def _subhead_frags(code: str) -> tuple[_Frag, ...]:
    return _frags(f"<h2>{t}</h2>\n" for t, _ in _titles(code))


@cache
def _link_frags(code: str) -> tuple[_Frag, ...]:
    return _frags(f'<li><a href="/{s or i}">{t}</a></li>' for i, (t, s) in enumerate(_titles(code)))




def _pick(rng: random.Random, seq: tuple[str, ...] | list[str]) -> str:
    """rng.choice without its overhead (hot paths pick dozens of phrases per page)."""
    return seq[int(rng.random() * len(seq))]


def _date_text(pack: LanguagePack, ts: int) -> str:
    t = time.gmtime(ts)
    return pack.date_format.format(d=t.tm_mday, m=t.tm_mon, month=pack.months[t.tm_mon - 1], y=t.tm_year)


def _capture_ts(seed: int, g: int) -> int:
    return _BASE_TS + (seed % 366) * 86400 + g * _SECONDS_PER_CAPTURE


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _iso(ts: int) -> str:
    t = time.gmtime(ts)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}Z"


def _http_date(ts: int) -> str:
    t = time.gmtime(ts)
    return (f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONS[t.tm_mon - 1]} {t.tm_year} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT")


# --- sites ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Site:
    lang: str
    scheme: str
    host: str
    name: str
    ip: str
    server: str
    sections: tuple[str, ...]
    path_style: int
    header: _Frag  # light chrome: logo and navigation
    footer: _Frag
    heavy_header: _Frag  # cookie banner, mega menu, search
    heavy_footer: _Frag  # newsletter box, link columns


_SERVERS: tuple[str, ...] = tuple(_MIX["servers"])


def _link(text: str, i: int, prefix: str = "/") -> str:
    return f'<li><a href="{prefix}{_slug(text) or i}/">{text}</a></li>'


@cache
def _chrome(code: str) -> dict[str, object]:
    """Language-level chrome pieces; a site only adds its name and picks its menu."""
    pack = _pack(code)
    mega = "".join(
        f'<li class="menu-item"><a href="/{_slug(n) or i}/">{n}</a><ul class="sub-menu">'
        + "".join(_link(s.title(), k, f"/{_slug(n) or i}/") for k, s in enumerate(pack.sections[:4]))
        + "</ul></li>"
        for i, n in enumerate(pack.nav)
    )
    cols = "".join(
        f'<div class="footer-col"><h4>{pack.nav[j]}</h4><ul>'
        + "".join(_link(x, k) for k, x in enumerate(pack.nav[j + 1:j + 6])) + "</ul></div>"
        for j in (0, 6, 12)
    )
    return {
        "nav": tuple(_link(n, i) for i, n in enumerate(pack.nav)),
        "foot": tuple(_link(x, i) for i, x in enumerate(pack.footer_links)),
        "mega": mega,
        "cookie": (f'<div id="cookie-consent" class="cookie-banner" role="dialog"><p>{pack.cookie_text}</p>'
                   + "".join(f'<button class="cookie-btn">{b}</button>' for b in pack.cookie_buttons) + "</div>\n"),
        "newsletter": (f'<div class="newsletter"><h3>{pack.newsletter[0]}</h3><p>{pack.newsletter[1]}</p>'
                       f'<form><input type="email" name="email"><button>{pack.newsletter[2]}</button></form></div>\n'),
        "cols": cols,
    }


def _site_for(seed: int, g: int, lang: str) -> _Site:
    return _site(seed, lang, (_h(seed, g, _S_CAP) >> 48) % _SITES[lang])


@lru_cache(maxsize=1024)
def _site(seed: int, lang: str, idx: int) -> _Site:
    """A website: host and chrome (navigation, footer, cookie banner) shared by all its pages."""
    pack = _pack(lang)
    parts = _chrome(lang)
    rng = random.Random(f"{seed}/{lang}/{idx}")
    w1, w2 = rng.choice(pack.domain_words), rng.choice(pack.domain_suffixes)
    num = str(rng.randint(2, 99)) if rng.random() < 0.15 else ""
    www = "www." if rng.random() < 0.6 else ""
    dash = "-" if rng.random() < 0.2 else ""
    host = f"{www}{w1}{dash}{w2}{num}.{rng.choice(pack.tlds)}"
    name = f"{w1.title()} {w2.title()}{num}"
    scheme = "https" if rng.random() < 0.9 else "http"
    ip = f"{rng.randint(5, 220)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    sections = tuple(rng.sample(pack.sections, 3))
    nav = "".join(rng.sample(parts["nav"], rng.randint(6, 9)))
    foot = "".join(rng.sample(parts["foot"], 5))
    copyright_line = f'<p class="copyright">© 2024 {name}. {pack.rights}</p></footer>\n'
    header = (f'<header class="site-header"><a class="logo" href="/">{name}</a>\n'
              f'<nav class="main-nav"><ul>{nav}</ul></nav></header>\n')
    footer = f'<footer class="site-footer"><ul class="footer-links">{foot}</ul>\n{copyright_line}'
    heavy_header = (f'{parts["cookie"]}<header class="site-header"><div class="top-bar"><a class="logo" href="/">'
                    f'{name}</a><form class="search" action="/search"><input type="search" name="q" '
                    f'placeholder="{pack.search}"><button>{pack.search}</button></form></div>\n'
                    f'<nav class="mega-menu"><ul>{parts["mega"]}</ul></nav></header>\n')
    heavy_footer = (f'{parts["newsletter"]}<footer class="site-footer">{parts["cols"]}<ul class="footer-links">'
                    f'{"".join(parts["foot"])}</ul>\n{copyright_line}')
    chrome = _frags((header, footer, heavy_header, heavy_footer))
    return _Site(lang, scheme, host, name, ip, rng.choice(_SERVERS), sections, rng.randrange(3), *chrome)


# --- pages ---------------------------------------------------------------------------------------------


class _Page(NamedTuple):
    url: str
    status: int
    reason: str
    content_type: str | None  # HTTP Content-Type header value
    parts: tuple[Part, ...]  # the body, in pieces
    body: bytes  # the body, joined
    extra_headers: str  # further HTTP header lines, each ending in \r\n
    declared_length: int  # HTTP Content-Length header value


def _page(url: str, parts: tuple[Part, ...], content_type: str = "text/html; charset=utf-8", status: int = 200,
          reason: str = "OK", extra_headers: str = "") -> _Page:
    body = b"".join(p if type(p) is bytes else p.raw for p in parts)
    return _Page(url, status, reason, content_type, parts, body, extra_headers, len(body))


class _Builder:
    """Collects a body as text runs and fragments (adjacent text is joined into one part)."""

    __slots__ = ("parts", "text")

    def __init__(self) -> None:
        self.parts: list[Part] = []
        self.text: list[str] = []

    def add(self, text: str) -> None:
        self.text.append(text)

    def frag(self, frag: _Frag) -> None:
        if self.text:
            self.parts.append("".join(self.text).encode("utf-8"))
            self.text = []
        self.parts.append(frag)

    def done(self) -> tuple[Part, ...]:
        if self.text:
            self.parts.append("".join(self.text).encode("utf-8"))
            self.text = []
        return tuple(self.parts)


@dataclass
class _Article:
    title: str
    slug: str
    lede: list[str]  # freshly composed opening sentences (what makes each article unique)
    paragraphs: list[int]  # indices into the language's paragraph pool
    closing: list[str]  # freshly composed closing sentences
    subheads: dict[int, int]  # paragraph index -> title-pool index of the heading before it
    author: str
    ts: int


def _url(site: _Site, g: int, slug: str, ts: int) -> str:
    t = time.gmtime(ts)
    section = site.sections[g % len(site.sections)]
    ident = 100000 + g
    if site.path_style == 0 and slug:
        path = f"/{section}/{t.tm_year}/{t.tm_mon:02d}/{slug}-{ident}.html"
    elif site.path_style == 1 and slug:
        path = f"/{section}/{slug}-{ident}"
    else:
        path = f"/{section}/{t.tm_year}{t.tm_mon:02d}/{ident}.html"
    return f"{site.scheme}://{site.host}{path}"


def _article(pack: LanguagePack, rng: random.Random, ts: int, n_par: tuple[int, int]) -> _Article:
    """A lede and a closing sentence composed afresh around paragraphs from the pool."""
    title, slug = _titles(pack.code)[int(rng.random() * _POOL_TITLES)]
    lede = [_fresh(pack, rng) for _ in range(1 + (rng.random() < 0.5))]
    lo, hi = n_par
    paragraphs = [int(rng.random() * _POOL_PARAGRAPHS) for _ in range(lo + int(rng.random() * (hi - lo + 1)))]
    closing = [_fresh(pack, rng)]
    subheads = {}
    if len(paragraphs) >= 4 and rng.random() < 0.6:
        for j in (1, len(paragraphs) - 1):
            subheads[j] = int(rng.random() * _POOL_TITLES)
    i = int(rng.random() * len(pack.first_names))  # name lists alternate genders: keep first and family name matched
    last = pack.last_names[int(rng.random() * (len(pack.last_names) // 2)) * 2 + i % 2]
    author = f"{pack.first_names[i]} {last}" if pack.sep else f"{last}{pack.first_names[i]}"  # family name first
    return _Article(title, slug, lede, paragraphs, closing, subheads, author, ts - 3600 - int(rng.random() * 3e6))


def _add_article(b: _Builder, pack: LanguagePack, art: _Article) -> None:
    byline = pack.byline.format(name=art.author, date=_date_text(pack, art.ts))
    sep = pack.sep
    b.add(f'<article class="post">\n<h1>{art.title}</h1>\n<p class="byline">{byline}</p>\n'
          f"<p>{sep.join(art.lede)}</p>\n")
    paragraphs, subheads = _paragraph_frags(pack.code), _subhead_frags(pack.code)
    for j, para in enumerate(art.paragraphs):
        head = art.subheads.get(j)
        if head is not None:
            b.frag(subheads[head])
        b.frag(paragraphs[para])
    b.add(f"<p>{sep.join(art.closing)}</p>\n</article>\n")


def _head(pack: LanguagePack, site: _Site, title: str, charset: str = "utf-8", extra: str = "") -> str:
    meta = (f'<meta charset="{charset}">' if charset != "Shift_JIS"
            else f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">')
    return (f'<!DOCTYPE html>\n<html lang="{pack.code}">\n<head>\n{meta}\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title} | {site.name}</title>\n{extra}</head>\n<body>\n")


_TAIL = "</body>\n</html>\n"


def _simple(url: str, pack: LanguagePack, site: _Site, title: str, main: str, head_extra: str = "") -> _Page:
    """A page made of light chrome around `main`."""
    b = _Builder()
    b.add(_head(pack, site, title, extra=head_extra))
    b.frag(site.header)
    b.add(main)
    b.frag(site.footer)
    b.add(_TAIL)
    return _page(url, b.done())


class _Renderer:
    """Renders the page of any capture (and re-renders earlier pages for duplicates and revisits)."""

    def __init__(self, planner: _Planner) -> None:
        self.planner = planner
        self.seed = planner.seed

    def original(self, g: int, kind: str | None = None, lang: str | None = None) -> _Page:
        """The page first published at capture g (for an original, the page that capture fetched)."""
        planner = self.planner
        if kind is None:
            kind = planner.base_kind(g)
            lang = planner.lang_of(g, kind)
        seed = self.seed
        rng = random.Random(_h(seed, g, _S_CONTENT))
        ts = _capture_ts(seed, g)
        code = lang if lang in _SITES else "en"
        pack = _pack(code)
        site = _site_for(seed, g, code)
        render = _RENDERERS.get(kind)
        if render is None:  # encoding kinds, broken kinds and tails carry ordinary articles
            return self._article_page(g, kind, pack, site, rng, ts)
        return render(self, g, pack, site, rng, ts)

    # -- HTML 200 text pages --

    def _article_good(self, g: int, pack: LanguagePack, site: _Site, rng: random.Random, ts: int) -> _Page:
        art = _article(pack, rng, ts, (4, 7))
        return self._render_article(_url(site, g, art.slug, art.ts), pack, site, art)

    def _render_article(self, url: str, pack: LanguagePack, site: _Site, art: _Article) -> _Page:
        b = _Builder()
        b.add(_head(pack, site, art.title))
        b.frag(site.header)
        b.add('<main id="content">\n')
        _add_article(b, pack, art)
        b.add("</main>\n")
        b.frag(site.footer)
        b.add(_TAIL)
        return _page(url, b.done())

    def _article_mediocre(self, g: int, pack: LanguagePack, site: _Site, rng: random.Random, ts: int) -> _Page:
        title, slug = _titles(pack.code)[int(rng.random() * _POOL_TITLES)]
        sep = pack.sep
        pool = _pool(pack.code)
        sents = [_fresh(pack, rng)] + [pool[int(rng.random() * _POOL_SENTENCES)]
                                       for _ in range(rng.randint(1, 3))] + [_fresh(pack, rng)]
        opener = rng.choice(pack.openers)
        if opener[-1].isalpha() or opener[-1] == ",":  # "Honestly, the council ..." continues the sentence
            sents[0] = sents[0][:1].lower() + sents[0][1:]
        comments = "".join(f'<li class="comment">{c}</li>' for c in rng.sample(pack.comments, rng.randint(0, 3)))
        main = (f'<main>\n<div class="post"><h1>{title}</h1>\n<p>{opener}{sep}{sep.join(sents)}</p>\n'
                f'<p>{rng.choice(pack.closers)}</p></div>\n<ul class="comments">{comments}</ul>\n</main>\n')
        return _simple(_url(site, g, slug, ts), pack, site, title, main)

    def _listicle(self, g: int, pack: LanguagePack, site: _Site, rng: random.Random, ts: int) -> _Page:
        n = rng.randint(5, 12)
        title = _fresh(pack, rng, pack.listicle_titles, n)
        titles, pool = _titles(pack.code), _pool_frags(pack.code)
        b = _Builder()
        b.add(_head(pack, site, title))
        b.frag(site.header)
        b.add(f'<main>\n<article class="listicle">\n<h1>{title}</h1>\n<p>{_fresh(pack, rng)}</p>\n')
        for i, j in enumerate(rng.sample(range(_POOL_TITLES), n), 1):
            b.add(f"<h2>{i}. {titles[j][0]}</h2>\n<p>")
            b.frag(pool[int(rng.random() * _POOL_SENTENCES)])
            b.add("</p>\n")
        b.add("</article>\n</main>\n")
        b.frag(site.footer)
        b.add(_TAIL)
        return _page(_url(site, g, _slug(title), ts), b.done())

    def _boilerplate(self, g: int, pack: LanguagePack, site: _Site, rng: random.Random, ts: int) -> _Page:
        """Little content inside a lot of chrome: cookie banner, mega menu, share bars, lists, newsletter."""
        art = _article(pack, rng, ts, (1, 2))
        links = _link_frags(pack.code)
        share = "".join(f'<a class="share-btn" href="#">{s}</a>' for s in pack.share)
        b = _Builder()
        b.add(_head(pack, site, art.title))
        b.frag(site.heavy_header)
        b.add(f'<div class="breadcrumb"><a href="/">{pack.nav[0]}</a> › <a href="/{site.sections[0]}/">'
              f'{site.sections[0].title()}</a></div>\n<div class="layout"><main id="content">\n'
              f'<div class="share-bar">{share}</div>\n')
        _add_article(b, pack, art)
        b.add(f'<div class="share-bar">{share}</div>\n<section class="related"><h3>{pack.related}</h3><ul>')
        for j in rng.sample(range(_POOL_TITLES), 8):
            b.frag(links[j])
        b.add(f'</ul></section>\n</main>\n<aside class="sidebar"><div class="widget"><h3>{pack.most_read}</h3><ol>')
        for j in rng.sample(range(_POOL_TITLES), 5):
            b.frag(links[j])
        b.add('</ol></div><div class="ad-slot" data-ad="sidebar-1"></div></aside></div>\n')
        b.frag(site.heavy_footer)
        b.add(_TAIL)
        return _page(_url(site, g, art.slug, art.ts), b.done())

    def _keyword_spam(self, g: int, pack: LanguagePack, site: _Site, rng: random.Random, ts: int) -> _Page:
        kws = rng.sample(pack.spam_keywords, 3)
        places = pack.spam_places
        top = kws[0]
        title = f"{top} {rng.choice(places)} | {top} | {kws[1]} {kws[2]}"
        lines = []
        rand = rng.random
        for _ in range(4 + int(rand() * 5)):
            words = [kws[int(rand() * 3)] + (" " + places[int(rand() * len(places))] if rand() < 0.4 else "")
                     for _ in range(8 + int(rand() * 9))]
            lines.append(f"<p>{' '.join(words)}</p>")
        links = "".join(f'<li><a href="/{_slug(top) or "k"}-{i}">{top} {p}</a></li>'
                        for i, p in enumerate(rng.sample(places, 8)))
        main = (f"<h1>{top} {top} {kws[1]}</h1>\n" + "\n".join(lines)
                + f'\n<ul class="seo-links">{links}</ul>\n<p class="tags">{" , ".join(kws * 3)}</p>\n')
        head = f'<meta name="keywords" content="{", ".join(kws * 4)}">\n'
        body = (_head(pack, site, title, extra=head) + main + _TAIL).encode("utf-8")
        return _page(_url(site, g, _slug(top), ts), (body,))

    def _no_punct(self, g: int, pack: LanguagePack, site: _Site, rng: random.Random, ts: int) -> _Page:
        """A product listing: many short lines, none ending in punctuation."""
        noun = rng.choice(pack.product_nouns)
        rows = []
        rand, fmt, size = rng.random, pack.price_format.format, pack.size_word
        adjs, nouns, colors = pack.product_adjs, pack.product_nouns, pack.colors
        for _ in range(15 + int(rand() * 21)):
            price = fmt(whole=5 + int(rand() * 295), cents=f"{int(rand() * 100):02d}")
            rows.append(f'<div class="item">{_pick(rng, adjs)} {_pick(rng, nouns)} {_pick(rng, colors)} '
                        f"{size} {34 + int(rand() * 15)} {price}</div>")
        title = f"{noun[:1].upper()}{noun[1:]} {rng.choice(pack.colors)}"
        main = f'<main>\n<h1>{title}</h1>\n<div class="products">\n' + "\n".join(rows) + "\n</div>\n</main>\n"
        return _simple(_url(site, g, _slug(title), ts), pack, site, title, main)

    def _lorem(self, g: int, pack: LanguagePack, site: _Site, rng: random.Random, ts: int) -> _Page:
        """An unfinished theme demo: placeholder Latin."""
        paras = []
        for _ in range(rng.randint(2, 5)):
            sents = []
            for _ in range(rng.randint(3, 6)):
                words = rng.choices(_LOREM_WORDS, k=rng.randint(6, 14))
                sents.append(" ".join(words).capitalize() + ".")
            paras.append(f"<p>{' '.join(sents)}</p>")
        body = ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Lorem ipsum</title>\n'
                '</head>\n<body>\n<header><a class="logo" href="/">Site Title</a><nav><ul><li><a href="/">Home</a>'
                '</li><li><a href="/sample-page/">Sample Page</a></li></ul></nav></header>\n<main>\n'
                "<h1>Lorem ipsum dolor sit amet</h1>\n" + "\n".join(paras) + "\n</main>\n" + _TAIL)
        return _page(_url(site, g, "sample-page", ts), (body.encode("utf-8"),))

    def _js_warning(self, g: int, pack: LanguagePack, site: _Site, rng: random.Random, ts: int) -> _Page:
        """A client-rendered app: a headline, a teaser and "enable JavaScript"."""
        title = _fresh(pack, rng, pack.title_templates)
        state = json.dumps({"page": g, "route": f"/{site.sections[0]}", "lang": pack.code,
                            "build": rng.getrandbits(32)})
        body = (f'{_head(pack, site, title)}<noscript>{pack.js_warning[0]}</noscript>\n<div id="root"><main>'
                f'<h1>{title}</h1>\n<p>{_fresh(pack, rng)}</p>\n<p class="js-warning">{pack.js_warning[0]} '
                f'{pack.js_warning[1]}</p></main></div>\n<script>window.__INITIAL_STATE__={state};</script>\n'
                f'<script src="/static/js/main.{rng.getrandbits(32):08x}.js" defer></script>\n{_TAIL}')
        return _page(_url(site, g, _slug(title), ts), (body.encode("utf-8"),))

    def _short(self, g: int, pack: LanguagePack, site: _Site, rng: random.Random, ts: int) -> _Page:
        title = _fresh(pack, rng, pack.title_templates)
        text = pack.sep.join(_fresh(pack, rng) for _ in range(rng.randint(1, 2)))
        main = f"<main>\n<h1>{title}</h1>\n<p>{text}</p>\n</main>\n"
        return _simple(_url(site, g, _slug(title), ts), pack, site, title, main)

    def _article_page(self, g: int, kind: str, pack: LanguagePack, site: _Site, rng: random.Random,
                      ts: int) -> _Page:
        """An ordinary article, for the encoding, broken-length and broken-tail kinds."""
        art = _article(pack, rng, ts, (2, 4))
        url = _url(site, g, art.slug, art.ts)
        if kind == "charset_invalid":
            label = _INVALID_CHARSETS[g % len(_INVALID_CHARSETS)]
            page = self._render_article(url, pack, site, art)
            body = page.body.replace(b'<meta charset="utf-8">', f'<meta charset="{label}">'.encode(), 1)
            return _page(url, (body,), f"text/html; charset={label}")
        if kind in ("enc_cp1252", "enc_shift_jis", "enc_mojibake", "enc_mixed"):
            return self._encoded(url, kind, pack, site, art)
        page = self._render_article(url, pack, site, art)
        if kind == "http_length_short":
            return page._replace(declared_length=len(page.body) // 2)
        if kind == "http_length_long":
            return page._replace(declared_length=len(page.body) + 1000 + g % 1000)
        return page

    def _encoded(self, url: str, kind: str, pack: LanguagePack, site: _Site, art: _Article) -> _Page:
        html = self._render_article(url, pack, site, art).body.decode("utf-8")
        if kind == "enc_cp1252":
            html = html.replace('<meta charset="utf-8">', '<meta charset="windows-1252">', 1)
            return _page(url, (html.encode("cp1252", "xmlcharrefreplace"),), "text/html; charset=windows-1252")
        if kind == "enc_shift_jis":
            meta = '<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">'
            html = html.replace('<meta charset="utf-8">', meta, 1)
            return _page(url, (html.encode("shift_jis", "xmlcharrefreplace"),), "text/html; charset=Shift_JIS")
        if kind == "enc_mojibake":  # UTF-8 bytes once decoded as windows-1252, then saved as UTF-8
            return _page(url, (html.encode("utf-8").decode("latin-1").translate(_CP1252_FIX).encode("utf-8"),))
        # enc_mixed: a UTF-8 page with one paragraph (the first with accented letters) pasted in as windows-1252
        end = html.index('class="byline"')
        while True:
            start = html.index("<p>", end)
            end = html.index("</p>", start)
            if not html[start:end].isascii() or html.find("<p>", end) < 0:
                break
        body = (html[:start].encode("utf-8") + html[start:end].encode("cp1252", "xmlcharrefreplace")
                + html[end:].encode("utf-8"))
        return _page(url, (body,))

    # -- other responses --

    def _nonhtml_jpeg(self, g: int, pack: LanguagePack, site: _Site, rng: random.Random, ts: int) -> _Page:
        body = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00"
                + rng.randbytes(rng.randint(1500, 9000)) + b"\xff\xd9")
        url = f"{site.scheme}://{site.host}/media/{ts // 86400}/{rng.getrandbits(48):012x}.jpg"
        return _page(url, (_Frag(body, _stored(body)),), "image/jpeg")  # random bytes do not compress

    def _nonhtml_pdf(self, g: int, pack: LanguagePack, site: _Site, rng: random.Random, ts: int) -> _Page:
        lines = [_fresh(_pack("en"), rng) for _ in range(rng.randint(3, 8))]
        return _page(f"{site.scheme}://{site.host}/files/report-{100000 + g}.pdf", (_pdf(lines),), "application/pdf")

    def _nonhtml_json(self, g: int, pack: LanguagePack, site: _Site, rng: random.Random, ts: int) -> _Page:
        titles = _titles(pack.code)
        doc = {"id": 100000 + g, "title": titles[int(rng.random() * _POOL_TITLES)][0], "lang": pack.code,
               "published": _iso(ts - 7200), "summary": _fresh(pack, rng), "tags": rng.sample(pack.nav, 3),
               "related": [{"id": rng.randint(1000, 999999), "title": titles[j][0]}
                           for j in rng.sample(range(_POOL_TITLES), 3)]}
        body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
        url = f"{site.scheme}://{site.host}/api/v1/articles/{100000 + g}"
        return _page(url, (body,), "application/json; charset=utf-8")

    def _error_page(self, pack: LanguagePack, site: _Site, status: int, text: tuple[str, ...], path: str,
                    detail: str) -> _Page:
        main = f'<main><h1>{text[0]}</h1><p>{text[1]}</p><p class="detail">{detail}</p></main>\n'
        page = _simple(f"{site.scheme}://{site.host}{path}", pack, site, text[0], main)
        return page._replace(status=status, reason=_STATUS[f"http_{status}"][1])

    def _http_404(self, g: int, pack: LanguagePack, site: _Site, rng: random.Random, ts: int) -> _Page:
        path = f"/{site.sections[0]}/{_titles(pack.code)[int(rng.random() * _POOL_TITLES)][1] or 'page'}-{g}"
        return self._error_page(pack, site, 404, pack.not_found, path, path)

    def _http_500(self, g: int, pack: LanguagePack, site: _Site, rng: random.Random, ts: int) -> _Page:
        path = f"/{site.sections[1]}/?p={100000 + g}"
        return self._error_page(pack, site, 500, pack.server_error, path, f"Request ID: {rng.getrandbits(64):016x}")

    def _http_301(self, g: int, pack: LanguagePack, site: _Site, rng: random.Random, ts: int) -> _Page:
        new = f"https://{site.host}/{site.sections[0]}/{100000 + g}/"
        return _page(f"{site.scheme}://{site.host}/?p={100000 + g}", (), status=301, reason="Moved Permanently",
                     extra_headers=f"Location: {new}\r\n")

    # -- duplicates --

    def page(self, cap: Capture) -> _Page:
        """The page that capture `cap` fetched."""
        kind = cap.kind
        if kind not in DUP_KINDS:
            return self.original(cap.g, kind, cap.lang)
        if kind == "dup_near":
            return self._near(cap)
        src = self.original(cap.source)
        if kind == "dup_recrawl":
            return src
        variant = _h(self.seed, cap.g, _S_VARIANT) % 3
        scheme, _, rest = src.url.partition("://")
        host, _, path = rest.partition("/")
        mirror = _site_for(self.seed, cap.g, cap.lang or "en")
        # Every variant carries this capture's index, so no two captures share a URL unless designed to.
        if variant == 2 and mirror.host != host:  # a scraper copying the page byte for byte
            return src._replace(url=f"{mirror.scheme}://{mirror.host}/archive/{100000 + cap.g}/{path}")
        sep = "&" if "?" in src.url else "?"
        if variant == 1:  # the www / non-www twin, reached through a shared link
            twin = host[4:] if host.startswith("www.") else "www." + host
            return src._replace(url=f"{scheme}://{twin}/{path}{sep}fbclid=IwAR{cap.g:x}")
        return src._replace(url=f"{src.url}{sep}utm_source=newsletter&utm_medium=email&utm_campaign={cap.g}")

    def _near(self, cap: Capture) -> _Page:
        """The source article republished on another site with small edits (a lede sentence, a note)."""
        seed, g, src = self.seed, cap.g, cap.source
        pack = _pack(cap.lang or "en")
        art = _article(pack, random.Random(_h(seed, src, _S_CONTENT)), _capture_ts(seed, src), (4, 7))
        rng = random.Random(_h(seed, g, _S_NEAR))
        art.lede[-1] = _fresh(pack, rng)  # a rewritten lede sentence
        art.closing.append(pack.updated_note.format(date=_date_text(pack, _capture_ts(seed, g))))
        site = _site_for(seed, g, pack.code)
        return self._render_article(_url(site, g, art.slug, art.ts), pack, site, art)


_CP1252_FIX = {b: bytes([b]).decode("cp1252") for b in range(0x80, 0xA0) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}


_Render = Callable[[_Renderer, int, LanguagePack, _Site, random.Random, int], _Page]
_RENDERERS: dict[str, _Render] = {
    "article_good": _Renderer._article_good,
    "article_mediocre": _Renderer._article_mediocre,
    "listicle": _Renderer._listicle,
    "boilerplate": _Renderer._boilerplate,
    "keyword_spam": _Renderer._keyword_spam,
    "no_punct": _Renderer._no_punct,
    "lorem": _Renderer._lorem,
    "js_warning": _Renderer._js_warning,
    "short": _Renderer._short,
    "nonhtml_jpeg": _Renderer._nonhtml_jpeg,
    "nonhtml_pdf": _Renderer._nonhtml_pdf,
    "nonhtml_json": _Renderer._nonhtml_json,
    "http_404": _Renderer._http_404,
    "http_500": _Renderer._http_500,
    "http_301": _Renderer._http_301,
}
"""The kinds with a page of their own; every other kind (encodings, broken records) is an ordinary article."""



def _pdf(lines: list[str]) -> bytes:
    """A small valid one-page PDF 1.4 with the lines as text (ASCII only)."""
    text = " ".join(lines).encode("ascii", "replace").decode()
    rows, row = [], ""
    for word in text.split():
        if len(row) + len(word) > 80:
            rows.append(row)
            row = ""
        row = f"{row} {word}".strip()
    rows.append(row)
    ops = "BT /F1 11 Tf 14 TL 72 770 Td " + " ".join(f"({r}) '" for r in rows) + " ET"
    objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(ops)} >>\nstream\n{ops}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{obj}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# --- WARC records and gzip members --------------------------------------------------------------------

_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no name, mtime 0, OS unknown: reproducible
_FINAL_EMPTY_BLOCK = b"\x03\x00"  # a final fixed-Huffman block holding only end-of-block
_B32_PAIRS = tuple(a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def _digest(data: bytes) -> str:
    """`sha1:` + base32, as Common Crawl writes WARC-Payload-Digest (base64.b32encode is slow Python)."""
    n = int.from_bytes(hashlib.sha1(data).digest(), "big")
    return "sha1:" + "".join([_B32_PAIRS[(n >> s) & 1023] for s in range(150, -1, -10)])


class _MemberWriter:
    """Writes one gzip member per record, as Common Crawl does.

    A member is a gzip header, the record's raw deflate data, a final empty block and the CRC/size
    trailer. Its deflate data is spliced from precompressed fragments and parts compressed now, each
    ending in a full flush (byte-aligned, no back-references across parts), so any sequence of them is
    valid deflate; one compressor serves the whole file because creating one costs ~80 us.
    """

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.offset = 0
        self.comp = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -15)

    def write(self, record: bytes) -> None:
        """Write a record that is all bytes as one member."""
        self._emit((_GZIP_HEADER, self._deflate(record), _FINAL_EMPTY_BLOCK,
                    struct.pack("<II", zlib.crc32(record), len(record) & 0xFFFFFFFF)))

    def write_parts(self, head: bytes, parts: tuple[Part, ...], body: bytes, cut: float | None = None) -> int:
        """Write head + body (+ record end) as one member, `body` given in parts; returns the member's offset.

        `body` is the parts joined (pages keep both: the digest needs it). With `cut`, only that fraction of
        the member's bytes is written, as if the file had been cut short.
        """
        crc = zlib.crc32(_RECORD_END, zlib.crc32(body, zlib.crc32(head)))
        size = len(head) + len(body) + len(_RECORD_END)
        first, last = head, _RECORD_END
        if parts and type(parts[0]) is bytes:
            first, parts = head + parts[0], parts[1:]
        if parts and type(parts[-1]) is bytes:
            last, parts = parts[-1] + _RECORD_END, parts[:-1]
        deflate = self._deflate
        out = [_GZIP_HEADER, deflate(first)]
        out.extend([p.z if type(p) is _Frag else deflate(p) for p in parts])
        out += (deflate(last), _FINAL_EMPTY_BLOCK, struct.pack("<II", crc, size & 0xFFFFFFFF))
        return self._emit(out, cut)

    def _emit(self, pieces: Iterable[bytes], cut: float | None = None) -> int:
        member = b"".join(pieces)
        if cut is not None:
            member = member[: max(20, int(len(member) * cut))]
        at = self.offset
        self.fh.write(member)
        self.offset += len(member)
        return at

    def _deflate(self, data: bytes) -> bytes:
        """Deflate data ending byte-aligned; short data goes into stored blocks (compressing costs more time
        than the bytes it saves are worth: this is what keeps the generator fast)."""
        if len(data) >= _STORE_BELOW:
            return self.comp.compress(data) + self.comp.flush(zlib.Z_FULL_FLUSH)
        return _stored(data)


def _stored(data: bytes) -> bytes:
    """Data as non-final stored deflate blocks (starting and ending byte-aligned)."""
    if len(data) <= 0xFFFF:
        return b"\x00" + struct.pack("<HH", len(data), len(data) ^ 0xFFFF) + data
    return b"".join(_stored(data[i:i + 0xFFFF]) for i in range(0, len(data), 0xFFFF))


def _warc_head(fields: str, length: int) -> bytes:
    return f"WARC/1.0\r\n{fields}Content-Length: {length}\r\n\r\n".encode()


_RECORD_END = b"\r\n\r\n"


def _request_block(url: str, lang: str | None) -> bytes:
    rest = url.split("://", 1)[1]
    host, _, path = rest.partition("/")
    accept_lang = _pack(lang).accept_language if lang in _SITES else "en-US,en;q=0.9"
    return (f"GET /{path} HTTP/1.1\r\nHost: {host}\r\n"
            f"User-Agent: peakdata-demo-bot/1.0 (synthetic demo crawl)\r\n"
            f"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
            f"Accept-Language: {accept_lang}\r\nAccept-Encoding: br,gzip\r\nConnection: Keep-Alive\r\n\r\n"
            ).encode()


def _http_head(page: _Page, ts: int, server: str) -> bytes:
    ctype = f"Content-Type: {page.content_type}\r\n" if page.content_type else ""
    return (f"HTTP/1.1 {page.status} {page.reason}\r\nDate: {_http_date(ts)}\r\nServer: {server}\r\n"
            f"{ctype}Content-Length: {page.declared_length}\r\n{page.extra_headers}"
            f"Cache-Control: max-age=300\r\nConnection: close\r\n\r\n").encode()


class _FileWriter:
    """Writes the captures of one file; everything it needs is derived from (seed, g)."""

    def __init__(self, planner: _Planner, f: int, path: Path) -> None:
        self.planner, self.f, self.path = planner, f, path
        self.renderer = _Renderer(planner)
        self.seed = planner.seed
        self.warcinfo_id = _record_id(self.seed, f, 9)

    def run(self) -> tuple[_Tally, dict]:
        planner, f = self.planner, self.f
        tally = _Tally()
        truncated_at = None
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb", buffering=1 << 20) as fh:
            out = _MemberWriter(fh)
            out.write(self._warcinfo())
            tally.warcinfo()
            for cap in planner.iter_file(f):
                tally.add(cap)
                at = self._capture(out, cap)
                if at is not None:
                    truncated_at = at
            size = out.offset
        os.replace(tmp, self.path)
        entry = _file_entry(planner, f, tally) | {"bytes": size, "truncated_member_offset": truncated_at}
        return tally, entry

    def _warcinfo(self) -> bytes:
        seed, f = self.seed, self.f
        block = (f"software: {GENERATOR} (peakdata flows.demo)\r\n"
                 f"isPartOf: DEMO-CRAWL-{seed}\r\n"
                 f"description: SYNTHETIC demo crawl generated from the project's own vocabularies; "
                 f"not real web data\r\n"
                 f"operator: peakdata\r\nformat: WARC File Format 1.0\r\n"
                 f"conformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.0/\r\n"
                 f"seed: {seed}\r\n").encode()
        fields = (f"WARC-Type: warcinfo\r\nWARC-Date: {_iso(_capture_ts(seed, self.planner.starts[f]))}\r\n"
                  f"WARC-Filename: {file_name(seed, f)}\r\nWARC-Record-ID: {self.warcinfo_id}\r\n"
                  f"Content-Type: application/warc-fields\r\n")
        return _warc_head(fields, len(block)) + block + _RECORD_END

    def _capture(self, out: _MemberWriter, cap: Capture) -> int | None:
        """Write the records of one capture; returns the offset of a truncated member, if this wrote one."""
        seed, g = self.seed, cap.g
        page = self.renderer.page(cap)
        ts = _capture_ts(seed, g)
        date = _iso(ts)
        site = _site_for(seed, g, cap.lang if cap.lang in _SITES else "en")
        request_id = _record_id(seed, g, 0)
        out.write(self._request(page.url, cap.lang, date, request_id, site.ip))
        http = _http_head(page, ts, site.server)
        length = len(http) + len(page.body)
        fields = (f"WARC-Type: response\r\nWARC-Date: {date}\r\nWARC-Record-ID: {cap.record_id}\r\n"
                  f"Content-Type: application/http; msgtype=response\r\nWARC-Warcinfo-ID: {self.warcinfo_id}\r\n"
                  f"WARC-Concurrent-To: {request_id}\r\nWARC-IP-Address: {site.ip}\r\n"
                  f"WARC-Target-URI: {page.url}\r\nWARC-Payload-Digest: {_digest(page.body)}\r\n"
                  f"WARC-Identified-Payload-Type: {(page.content_type or 'text/html').split(';')[0]}\r\n")
        cut = None
        if cap.kind == "warc_length_short":  # declared length ends in the middle of the body
            length = len(http) + len(page.body) // 2
        elif cap.kind == "warc_length_long":  # declared length runs past the end of the file
            length += 4096
        elif cap.kind == "truncated_gzip":  # the file ends in the middle of this member
            cut = 0.6
        at = out.write_parts(_warc_head(fields, length) + http, page.parts, page.body, cut)
        if cap.metadata:
            out.write(self._metadata(cap, page, date))
        if cap.revisit_of >= 0:
            self._revisit(out, cap, ts + 1)
        return at if cut is not None else None

    def _request(self, url: str, lang: str | None, date: str, record_id: str, ip: str) -> bytes:
        block = _request_block(url, lang)
        fields = (f"WARC-Type: request\r\nWARC-Date: {date}\r\nWARC-Record-ID: {record_id}\r\n"
                  f"Content-Type: application/http; msgtype=request\r\nWARC-Warcinfo-ID: {self.warcinfo_id}\r\n"
                  f"WARC-IP-Address: {ip}\r\nWARC-Target-URI: {url}\r\n")
        return _warc_head(fields, len(block)) + block + _RECORD_END

    def _metadata(self, cap: Capture, page: _Page, date: str) -> bytes:
        h = _h(self.seed, cap.g, _S_VARIANT)
        charset = page.content_type.rsplit("=", 1)[-1].upper() if page.content_type else "UTF-8"
        block = (f"fetchTimeMs: {40 + h % 900}\r\ncharset-detected: {charset}\r\n"
                 f'languages-demo: {{"languages":[{{"code":"{cap.lang}","text-covered":0.9}}]}}\r\n').encode()
        fields = (f"WARC-Type: metadata\r\nWARC-Date: {date}\r\nWARC-Record-ID: {_record_id(self.seed, cap.g, 2)}\r\n"
                  f"Content-Type: application/warc-fields\r\nWARC-Warcinfo-ID: {self.warcinfo_id}\r\n"
                  f"WARC-Concurrent-To: {cap.record_id}\r\nWARC-Target-URI: {page.url}\r\n")
        return _warc_head(fields, len(block)) + block + _RECORD_END

    def _revisit(self, out: _MemberWriter, cap: Capture, ts: int) -> None:
        """A later visit of an earlier page whose payload had not changed (identical-payload-digest)."""
        seed, src = self.seed, cap.revisit_of
        page = self.renderer.original(src)
        lang = self.planner.lang_of(src, self.planner.base_kind(src))
        site = _site_for(seed, src, lang if lang in _SITES else "en")
        date = _iso(ts)
        request_id = _record_id(seed, cap.g, 3)
        out.write(self._request(page.url, lang, date, request_id, site.ip))
        http = _http_head(page, ts, site.server)
        fields = (f"WARC-Type: revisit\r\nWARC-Date: {date}\r\nWARC-Record-ID: {_record_id(seed, cap.g, 4)}\r\n"
                  f"Content-Type: application/http; msgtype=response\r\nWARC-Warcinfo-ID: {self.warcinfo_id}\r\n"
                  f"WARC-Concurrent-To: {request_id}\r\nWARC-IP-Address: {site.ip}\r\n"
                  f"WARC-Target-URI: {page.url}\r\n"
                  f"WARC-Profile: http://netpreserve.org/warc/1.0/revisit/identical-payload-digest\r\n"
                  f"WARC-Refers-To: {_record_id(seed, src, 1)}\r\nWARC-Refers-To-Target-URI: {page.url}\r\n"
                  f"WARC-Refers-To-Date: {_iso(_capture_ts(seed, src))}\r\n"
                  f"WARC-Payload-Digest: {_digest(page.body)}\r\n")
        out.write(_warc_head(fields, len(http)) + http + _RECORD_END)


# --- entry points -------------------------------------------------------------------------------------


def _write_one(args: tuple[int, int, int, bool, int, str]) -> tuple[_Tally, dict]:
    seed, n_records, n_files, include_broken, f, out_dir = args
    planner = _Planner(seed, n_records, n_files, include_broken)
    return _FileWriter(planner, f, Path(out_dir) / file_name(seed, f)).run()


def write_demo_crawl(out_dir: Path, n_records: int = 2000, n_files: int = 4, seed: int = 0, *,
                     include_broken: bool = True, workers: int = 1) -> list[Path]:
    """Write the demo crawl as `n_files` gzipped WARC files (plus `DEMO-CRAWL-<seed>.truth`, JSON).

    n_records: response records in all (each with its request record); include_broken: add the
    deliberately broken records (see docs/readme/demo.md); workers: processes writing files in parallel
    (output does not depend on it). Returns the WARC paths in file order.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _Planner(seed, n_records, n_files, include_broken)  # validate arguments before any work
    jobs = [(seed, n_records, n_files, include_broken, f, str(out_dir)) for f in range(n_files)]
    if workers > 1 and n_files > 1:
        with ProcessPoolExecutor(max_workers=min(workers, n_files)) as pool:
            results = list(pool.map(_write_one, jobs))
    else:
        results = [_write_one(job) for job in jobs]
    total = _Tally()
    for tally, _ in results:
        total.merge(tally)
    truth = _truth_dict(seed, n_records, n_files, include_broken, total, [entry for _, entry in results])
    tmp = out_dir / (truth_name(seed) + ".tmp")
    tmp.write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, out_dir / truth_name(seed))
    return [out_dir / file_name(seed, f) for f in range(n_files)]


def main(argv: list[str] | None = None) -> int:
    """`python -m flows.demo OUT_DIR --records N --files F --seed S` (load-test generation)."""
    parser = argparse.ArgumentParser(prog="python -m flows.demo", description=main.__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--records", type=int, default=2000, help="response records in all (default 2000)")
    parser.add_argument("--files", type=int, default=4, help="WARC files (default 4)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1, help="processes writing files in parallel")
    parser.add_argument("--no-broken", action="store_true", help="leave out the deliberately broken records")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    paths = write_demo_crawl(args.out_dir, args.records, args.files, args.seed,
                             include_broken=not args.no_broken, workers=args.workers)
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in paths)
    print(json.dumps({"files": [str(p) for p in paths], "truth": str(args.out_dir / truth_name(args.seed)),
                      "records": args.records, "bytes": size, "seconds": round(seconds, 3),
                      "records_per_s": round(args.records / seconds) if seconds else None}, indent=1))
    return 0

