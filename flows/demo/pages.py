"""The demo crawl's pages: sentences composed from the language packs, websites with their chrome, and one
renderer per page kind (`_RENDERERS`, an explicit table), including the non-HTML responses (JPEG, PDF, JSON).

Pool sentences, paragraphs and headlines and each site's chrome are precompressed once as byte-aligned deflate
fragments (`_Frag`), which the writer splices into each record's gzip member.
"""

from __future__ import annotations

import json
import random
import struct
import time
import unicodedata
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import NamedTuple

from flows.demo.content import LanguagePack, packs
from flows.demo.plan import (
    _INVALID_CHARSETS,
    _LOREM_WORDS,
    _MIX,
    _POOL_PARAGRAPHS,
    _POOL_SENTENCES,
    _POOL_TITLES,
    _S_CAP,
    _S_CONTENT,
    _S_NEAR,
    _S_VARIANT,
    _SITES,
    _STATUS,
    DUP_KINDS,
    Capture,
    _capture_ts,
    _h,
    _iso,
    _Planner,
)


def _stored(data: bytes) -> bytes:
    """Data as non-final stored deflate blocks (starting and ending byte-aligned)."""
    if len(data) <= 0xFFFF:
        return b"\x00" + struct.pack("<HH", len(data), len(data) ^ 0xFFFF) + data
    return b"".join(_stored(data[i:i + 0xFFFF]) for i in range(0, len(data), 0xFFFF))


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


