"""The demo crawl's plan: what every capture is (kind, language, duplicate source, ids), and the ground truth.

Every choice is a pure function of (seed, capture index), so the plan of any file (and the truth of the
whole crawl) is known without writing anything.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections import Counter
from collections.abc import Iterator
from math import gcd
from typing import NamedTuple

from flows.demo.content import mix

GENERATOR = "peakdata-demo-crawl/1"
TRUTH_FORMAT = "peakdata-demo-crawl-truth/1"
_MIX = mix()
BLOCK: int = _MIX["block"]  # kind proportions are exact in every block of this many captures
KIND_COUNTS: dict[str, int] = _MIX["kind_counts"]  # captures per block, by kind (documented in docs/demo.md)
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


