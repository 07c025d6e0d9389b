"""Dump the pieces of spaCy's English tokenizer that `tokenize.py` re-implements as polars regexes.

Why: datatrove counts words with spaCy's blank English tokenizer; we emulate it in vectorised form without
importing spaCy at run time, so its character classes, affix lists, special cases and sentence-final marks
are shipped as data (`spacy_en_tables.json`, derived from spaCy, MIT licence, (c) Explosion AI).

Run: `python -m filters.signals.build_tokenizer_tables` (needs spaCy; the test suite checks the file is current).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TABLES_PATH = Path(__file__).with_name("spacy_en_tables.json")


def spacy_tables() -> dict[str, Any]:
    """The tables as the installed spaCy defines them."""
    import spacy
    from spacy.lang import char_classes as cc
    from spacy.pipeline.sentencizer import Sentencizer
    from spacy.symbols import ORTH

    rules = spacy.blank("en").tokenizer.rules
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
        "sentence_punct_chars": list(Sentencizer.default_punct_chars),
    }


def main() -> None:
    TABLES_PATH.write_text(json.dumps(spacy_tables(), ensure_ascii=False, indent=0, sort_keys=True) + "\n")
    print(f"wrote {TABLES_PATH}")


if __name__ == "__main__":
    main()
