"""The datatrove parity reference as a golden file: datatrove's outputs on a fixed sample of real pages.

Why: running datatrove's four filters (and their spaCy tokenizer) on the sample takes minutes, and the
answer changes only when its inputs do: the sampled texts, datatrove's version, spaCy's version. So it
is computed once, here, and `tests/test_signals.py` compares `compute_signals` with the stored answer.
The file holds no text of the pages (they stay in the shared data): per document, datatrove's decision
per rule set, a SHA-256 of its word list, the length of C4's rewritten text and the quantities its
filters compare with thresholds. With it is the key of its inputs; the test fails, saying how to
regenerate, when the key no longer matches.

Run: `python -m tools.parity_golden [--docs 500] [--seed 0]` (needs the shared data, see `tools.shared_data`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

from tools.shared_data import REPO_ROOT, require_shared_data

GOLDEN_PATH = REPO_ROOT / "tests" / "golden" / "datatrove_parity.json"
FORMAT = "peakdata-datatrove-parity/1"
REGENERATE = "python -m tools.parity_golden"


def parity_sample(shared: Path, docs: int, seed: int) -> list[str]:
    """Every Common Crawl page plus a seeded sample of the 1,033 evaluation pages, `docs` in all (0: all)."""
    from benchmarks.signals import WARCS, real_texts

    texts = real_texts(shared)
    common_crawl = [t for name in WARCS[1:] for t in texts[name]]
    pages = texts[WARCS[0]]
    n_pages = len(pages) if docs == 0 else max(0, docs - len(common_crawl))
    return common_crawl + random.Random(seed).sample(pages, min(n_pages, len(pages)))


def words_digest(words: list[str]) -> str:
    """SHA-256 of a word list (unit-separator joined): compares word lists without storing them."""
    return hashlib.sha256("\x1f".join(words).encode("utf-8", errors="surrogatepass")).hexdigest()


def inputs_key(texts: list[str]) -> dict[str, str]:
    """What the reference depends on: the sampled texts and the versions of datatrove and spaCy."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).digest())
    return {"texts_sha256": digest.hexdigest(), "datatrove": version("datatrove"), "spacy": version("spacy")}


def datatrove_quantities(text: str, words: list[str]) -> dict[str, float]:
    """Quantities datatrove compares with thresholds, computed with its own helpers."""
    from datatrove.pipeline.filters.gopher_quality_filter import STOP_WORDS
    from datatrove.pipeline.filters.gopher_repetition_filter import (
        find_all_duplicate,
        find_duplicates,
        find_top_duplicate,
        get_n_grams,
    )
    from datatrove.utils.text import PUNCTUATION_SET

    non_symbol = [w for w in words if any(ch not in PUNCTUATION_SET for ch in w)]
    lines = re.split("\n+", text)
    paragraphs = re.split(r"\n{2,}", text.strip())
    fineweb_lines = [line for line in text.split("\n") if line.strip()]
    return {
        "n_words": len(words),
        "gopher_quality_n_non_symbol_words": len(non_symbol),
        "gopher_quality_alpha_words_ratio": sum(any(c.isalpha() for c in w) for w in words) / len(words)
        if words
        else 0.0,
        "gopher_quality_n_stop_words": len(set(STOP_WORDS) & set(words)),
        "gopher_repetition_dup_line_frac": find_duplicates(lines)[0] / len(lines),
        "gopher_repetition_dup_para_frac": find_duplicates(paragraphs)[0] / len(paragraphs),
        "gopher_repetition_dup_para_char_frac": find_duplicates(paragraphs)[1] / len(text) if text else 0.0,
        "gopher_repetition_top_2_gram_char_frac": find_top_duplicate(get_n_grams(words, 2)) / len(text)
        if len(words) >= 2
        else 0.0,
        "gopher_repetition_dup_5_gram_char_frac": find_all_duplicate(words, 5) / len(text) if text else 0.0,
        "gopher_repetition_dup_10_gram_char_frac": find_all_duplicate(words, 10) / len(text) if text else 0.0,
        "fineweb_char_dup_ratio": find_duplicates(fineweb_lines)[1] / len(text.replace("\n", ""))
        if fineweb_lines
        else 0.0,
    }


def build_golden(shared: Path, docs: int = 500, seed: int = 0) -> dict[str, Any]:
    """Run datatrove on the sample (minutes: its spaCy calls) and return the golden file's content."""
    from benchmarks.signals import datatrove_reference
    from filters.signals.rules import RULESETS

    texts = parity_sample(shared, docs, seed)
    rows = []
    for text, ref in zip(texts, datatrove_reference(texts), strict=True):
        rows.append({
            **{name: list(ref[name]) for name in RULESETS},
            "words_sha256": words_digest(ref["words"]),
            "c4_chars": None if ref["c4_text"] is None else len(ref["c4_text"]),
            "quantities": datatrove_quantities(text, ref["words"]),
        })
    return {"format": FORMAT, "docs": docs, "seed": seed, "inputs": inputs_key(texts), "rows": rows}


def load_golden(path: Path = GOLDEN_PATH) -> dict[str, Any]:
    """The stored reference; a plain-words error when it is missing or not one."""
    try:
        golden = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"golden file {path} cannot be read ({exc}); regenerate it with `{REGENERATE}`") from exc
    if golden.get("format") != FORMAT:
        raise ValueError(f"golden file {path} is not {FORMAT}; regenerate it with `{REGENERATE}`")
    return golden


def stale_reason(golden: dict[str, Any], texts: list[str]) -> str | None:
    """Why the golden file no longer describes these inputs (None when it does)."""
    stored = golden["inputs"]
    changed = [f"{k}: stored {stored.get(k)!r}, now {v!r}" for k, v in inputs_key(texts).items() if stored.get(k) != v]
    if len(golden["rows"]) != len(texts):
        changed.append(f"documents: stored {len(golden['rows'])}, now {len(texts)}")
    if not changed:
        return None
    return (f"the datatrove parity golden file is stale ({'; '.join(changed)}); regenerate it with "
            f"`{REGENERATE} --docs {golden['docs']} --seed {golden['seed']}` and commit tests/golden/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=500, help="documents in the sample (0: all 1,050)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=GOLDEN_PATH)
    args = parser.parse_args()
    golden = build_golden(require_shared_data(), args.docs, args.seed)
    rows = ",\n".join(json.dumps(row, ensure_ascii=False) for row in golden.pop("rows"))
    head = json.dumps(golden, ensure_ascii=False)[:-1]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(f'{head}, "rows": [\n{rows}\n]}}\n', encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
