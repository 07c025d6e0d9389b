"""Vocabularies and sentence templates of the synthetic demo crawl, one module per language.

Written for this project (not taken from any corpus): the demo crawl must be owned, redistributable
content. Each pack is sized so that generated prose reads as the language to fastText lid.176 and so
that two generated articles almost never share a sentence by accident.
"""

from __future__ import annotations

from dataclasses import dataclass


def split(text: str) -> tuple[str, ...]:
    """Phrase lists are written as one '|'-separated string to keep the packs readable."""
    return tuple(part.strip() for part in text.split("|") if part.strip())


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


def packs() -> dict[str, LanguagePack]:
    """All language packs by ISO 639-1 code (imported lazily: only the generator needs them)."""
    from flows.sources.demo_content import de, en, es, fr, ja, ru, zh

    return {m.PACK.code: m.PACK for m in (en, de, fr, es, ru, zh, ja)}


# Placeholder Latin of the kind page templates ship with ("lorem ipsum"): a word list, composed at random.
LOREM_WORDS = split(
    "lorem|ipsum|dolor|sit|amet|consectetur|adipiscing|elit|sed|do|eiusmod|tempor|incididunt|ut|labore|"
    "et|dolore|magna|aliqua|enim|ad|minim|veniam|quis|nostrud|exercitation|ullamco|laboris|nisi|aliquip|"
    "ex|ea|commodo|consequat|duis|aute|irure|in|reprehenderit|voluptate|velit|esse|cillum|fugiat|nulla|"
    "pariatur|excepteur|sint|occaecat|cupidatat|non|proident|sunt|culpa|qui|officia|deserunt|mollit|anim|"
    "id|est|laborum|curabitur|pretium|tincidunt|lacus|nunc|vitae|mauris|integer|porta|viverra|felis|"
    "maecenas|ligula|massa|varius|semper|sapien|fusce|blandit|tellus|risus|vestibulum|ante|primis|"
    "faucibus|orci|luctus|ultrices|posuere|cubilia|aenean|placerat|volutpat|sagittis|tristique|senectus"
)
