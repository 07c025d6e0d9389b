"""Dump the pieces of spaCy's English tokenizer that `tokenize.py` re-implements as polars regexes.

Why: datatrove counts words with spaCy's blank English tokenizer; we emulate it in vectorised form without
importing spaCy at run time, so its character classes, affix lists, special cases and sentence-final marks
are shipped as data (`spacy_en_tables.json`, derived from spaCy, MIT licence, (c) Explosion AI).

Run: `python -m tools.build_tokenizer_tables` (needs spaCy; the test suite checks the file is current).
"""

from __future__ import annotations

import json
from typing import Any

from filters.signals.tokenize import TABLES_PATH


def spacy_tables() -> dict[str, Any]:
    """The tables as the installed spaCy defines them."""
    import spacy
    from spacy.lang import char_classes as cc
    from spacy.pipeline.sentencizer import Sentencizer
    from spacy.symbols import ORTH
    from spacy.tokenizer import Tokenizer

    tok = spacy.blank("en").tokenizer
    rules = tok.rules
    # spaCy's second pass re-merges special cases that affix rules split apart; it matches each special case
    # by its tokenization *without* special cases (Tokenizer.add_special_case, faster_heuristics=True).
    bare = Tokenizer(tok.vocab, {}, tok.prefix_search, tok.suffix_search, tok.infix_finditer, None, tok.url_match)
    matcher = {}
    for key in rules:
        if key.strip() == key and (tok.find_prefix(key) or tok.find_infix(key) or tok.find_suffix(key)):
            pattern = [t.text for t in bare(key)]
            if len(pattern) > 1:
                matcher[key] = pattern
    return {
        "source": f"spaCy {spacy.__version__} blank English tokenizer + Sentencizer (MIT licence, (c) Explosion AI)",
        "alpha": cc.ALPHA,
        "alpha_lower": cc.ALPHA_LOWER,
        "alpha_upper": cc.ALPHA_UPPER,
        "concat_quotes": cc.CONCAT_QUOTES,
        "punct": cc.PUNCT,
        "icons": cc.ICONS,
        "list_punct": cc.LIST_PUNCT,
        "list_quotes": [q for q in cc.LIST_QUOTES if q.strip()],
        "list_currency": cc.LIST_CURRENCY,
        "list_units": cc.LIST_UNITS,
        "list_hyphens": cc.LIST_HYPHENS,
        "exceptions": {key: [piece[ORTH] for piece in pieces] for key, pieces in sorted(rules.items())},
        "special_matcher": dict(sorted(matcher.items())),
        "sentence_punct_chars": list(Sentencizer.default_punct_chars),
    }


def main() -> None:
    TABLES_PATH.write_text(json.dumps(spacy_tables(), ensure_ascii=False, indent=0, sort_keys=True) + "\n")
    print(f"wrote {TABLES_PATH}")


if __name__ == "__main__":
    main()
