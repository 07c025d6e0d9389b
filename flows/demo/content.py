"""Load the demo crawl's vocabularies, templates and mix from the data files in `flows/demo/data/`.

The content is data the project owns (written for it, not taken from any corpus), so it can be read,
reviewed and extended without touching the generator: one JSON file per language (`<code>.json`, a
`LanguagePack`) and `mix.json` (kinds per block, language shares, sites, server names). Each pack is
sized so that generated prose reads as the language to fastText lid.176 and so that two generated
articles almost never share a sentence by accident.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"
LANGUAGES = ("en", "de", "fr", "es", "ru", "zh", "ja")


@dataclass(frozen=True)
class LanguagePack:
    """Everything the generator needs to write pages in one language.

    Sentence templates use the slots {s} subject, {v} verb, {o} object, {p} adverbial, {c} connector,
    {src} source, {r} trailing clause, and {s2} {v2} {o2} for a second clause; an upper-case slot name
    ({S}, {P}, ...) capitalises its phrase. Title templates use the same slots plus {n} (a number).
    """

    code: str
    subjects: tuple[str, ...]
    verbs: tuple[str, ...]
    objects: tuple[str, ...]
    adverbials: tuple[str, ...]
    connectors: tuple[str, ...]
    sources: tuple[str, ...]
    clauses: tuple[str, ...]
    templates: tuple[str, ...]
    title_templates: tuple[str, ...]
    listicle_titles: tuple[str, ...]
    openers: tuple[str, ...]
    closers: tuple[str, ...]
    comments: tuple[str, ...]
    nav: tuple[str, ...]
    footer_links: tuple[str, ...]
    cookie_text: str
    cookie_buttons: tuple[str, ...]
    rights: str
    related: str
    most_read: str
    newsletter: tuple[str, ...]  # heading, text, button
    share: tuple[str, ...]
    read_more: str
    search: str
    byline: str  # format with {name} and {date}
    date_format: str  # format with {d} {m} {month} {y}
    months: tuple[str, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    js_warning: tuple[str, ...]
    not_found: tuple[str, ...]  # title, text
    server_error: tuple[str, ...]  # title, text
    updated_note: str  # near-duplicate edit, format with {date}
    spam_keywords: tuple[str, ...]
    spam_places: tuple[str, ...]
    product_nouns: tuple[str, ...]
    product_adjs: tuple[str, ...]
    colors: tuple[str, ...]
    size_word: str
    price_format: str  # format with {whole} and {cents}
    domain_words: tuple[str, ...]
    domain_suffixes: tuple[str, ...]
    tlds: tuple[str, ...]
    sections: tuple[str, ...]
    accept_language: str
    sep: str = " "  # between words of a line; "" for Chinese and Japanese

    def slots(self) -> dict[str, tuple[str, ...]]:
        """Slot name -> phrase list, the lower-case names only."""
        return {
            "s": self.subjects, "v": self.verbs, "o": self.objects, "p": self.adverbials,
            "c": self.connectors, "src": self.sources, "r": self.clauses,
            "s2": self.subjects, "v2": self.verbs, "o2": self.objects,
        }


def _read(name: str) -> dict[str, Any]:
    path = DATA_DIR / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"demo data file {path} cannot be read as JSON: {exc}") from exc


def pack_from_dict(data: dict[str, Any], source: str = "<dict>") -> LanguagePack:
    """A pack from its JSON form (lists become tuples; keys starting with "_" are notes, ignored)."""
    names = {f.name for f in fields(LanguagePack)}
    values = {k: v for k, v in data.items() if not k.startswith("_")}
    unknown, missing = sorted(values.keys() - names), sorted(names - values.keys() - {"sep"})
    if unknown or missing:
        raise ValueError(f"demo language pack {source}: unknown fields {unknown}, missing fields {missing}")
    for key, value in values.items():
        if isinstance(value, list):
            if not value or not all(isinstance(x, str) and x for x in value):
                raise ValueError(f"demo language pack {source}: {key} must be a non-empty list of non-empty strings")
            values[key] = tuple(value)
    return LanguagePack(**values)


@cache
def packs() -> dict[str, LanguagePack]:
    """All language packs by ISO 639-1 code."""
    return {code: pack_from_dict(_read(f"{code}.json"), f"{code}.json") for code in LANGUAGES}


@cache
def mix() -> dict[str, Any]:
    """The crawl's composition (`mix.json`): kinds per block, language shares, sites, servers, charsets."""
    return _read("mix.json")
