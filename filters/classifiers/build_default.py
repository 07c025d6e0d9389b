"""Re-fit the default quality scorer (and the MiniLM head) from third-party text: the reproducible recipe.

    python -m filters.classifiers.build_default [--shared-data ../shared/data]    # default_quality_model.json
    python -m filters.classifiers.build_default --embedding-head                  # + minilm_quality_head.json
    python -m filters.classifiers.build_default --export-proxy DIR   # the proxy task as JSONL (for train-classifier)

What it fits, on a *proxy* task built from real text (never on the human labels it is evaluated on):

- positives (good): the main content (resiliparse, `main_content=True`) of the English pages among the 1,033 real
  web pages of trafilatura's evaluation set, and the 62 WikiText-2 test articles (detokenised);
- negatives (bad): the boilerplate of the same English pages (the lines of the full-page text that are not in
  the main content: menus, footers, comment widgets, cookie notices) and every 10th message of the SMS Spam
  Collection (short, informal text).

Each of the four sources gets the same total weight, so neither class nor any corpus dominates. The model is a
logistic regression (L2 = 1 on standardised features) over the 14 features of `features.py`. It ships as
`default_quality_model.json`: 14 means, 14 scales, 14 coefficients and an intercept, plus this provenance — no
text. `--embedding-head` fits the MiniLM classifier's head on the same proxy task and weighting (logistic
regression, L2 = 100 on standardised embeddings; MiniLM in float32 on the CPU) into `minilm_quality_head.json`
(384 means, scales and coefficients).

Training-data licences: trafilatura repository Apache-2.0 (the pages are third-party web content kept there for
testing); WikiText-2 CC-BY-SA-3.0 / GFDL; SMS Spam Collection CC BY 4.0. The shipped files hold fitted numbers
only, no text from these sources.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tarfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import polars as pl

from filters.classifiers.evaluate import agreement, length_ambiguous_mask, load_human_labels, shared_data_dir
from filters.classifiers.features import FEATURES, quality_features
from filters.classifiers.linear import fit_logistic

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_MODEL = PACKAGE_DIR / "default_quality_model.json"
EMBEDDING_HEAD = PACKAGE_DIR / "minilm_quality_head.json"
HTML_PAGES = Path("html") / "trafilatura-eval-990pages.tar.gz"
WIKITEXT = Path("reference_text") / "wikitext-2-raw-test.raw"
SMS = Path("low_quality") / "SMSSpamCollection.tsv"
SMS_EVERY = 10
L2 = 1.0
_WIKI_HEADING = re.compile(r"^ = [^=].* = $")


def detokenize_wikitext(line: str) -> str:
    """Undo WikiText's tokenisation (` @-@ `, ` , `, ` 's`) so the text reads like ordinary prose."""
    s = line.replace(" @-@ ", "-").replace(" @,@ ", ",").replace(" @.@ ", ".")
    s = re.sub(r" ([.,;:!?)\]}])", r"\1", s)
    s = re.sub(r"([(\[{]) ", r"\1", s)
    return s.replace(" 's", "'s").replace(" n't", "n't").replace(" ' ", "' ").strip()


def wikitext_articles(shared: Path) -> list[str]:
    """The WikiText-2 test articles, title line first, section headings dropped."""
    articles: list[list[str]] = []
    for line in (shared / WIKITEXT).read_text(encoding="utf-8").splitlines():
        if _WIKI_HEADING.match(line):
            articles.append([detokenize_wikitext(line.strip(" =").strip())])
        elif line.strip() and not line.lstrip().startswith("=") and articles:
            articles[-1].append(detokenize_wikitext(line.strip()))
    return ["\n".join(a) for a in articles]


def english_pages(shared: Path) -> tuple[list[str], list[str]]:
    """(main content, boilerplate) of the English pages of the trafilatura evaluation set."""
    from resiliparse.extract.html2text import extract_plain_text

    from filters.extract import decode_html
    from filters.langid import identify

    mains, fulls = [], []
    with tarfile.open(shared / HTML_PAGES) as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            if not (member.isfile() and member.name.endswith(".html")):
                continue
            html = decode_html(tar.extractfile(member).read(), None)
            mains.append(extract_plain_text(html, main_content=True, alt_texts=False).strip())
            fulls.append(extract_plain_text(html, main_content=False, alt_texts=False))
    langs, _ = identify(mains)
    main_en, boilerplate = [], []
    for main, full, lang in zip(mains, fulls, langs):
        if lang != "en":
            continue
        kept = {line.strip() for line in main.split("\n")}
        rest = "\n".join(s for line in full.split("\n") if (s := line.strip()) and s not in kept)
        main_en.append(main)
        if rest:
            boilerplate.append(rest)
    return main_en, boilerplate


def sms_messages(shared: Path) -> list[str]:
    """Every SMS_EVERY-th message (ham and spam alike) of the SMS Spam Collection."""
    lines = (shared / SMS).read_text(encoding="utf-8", errors="replace").splitlines()
    return [line.split("\t", 1)[1] for line in lines[::SMS_EVERY] if "\t" in line]


def proxy_corpus(shared: Path) -> dict[str, tuple[int, list[str]]]:
    """Source name → (label, texts) of the proxy task."""
    main, boilerplate = english_pages(shared)
    return {"web main content (en)": (1, main), "wikitext-2 articles": (1, wikitext_articles(shared)),
            "web boilerplate (en)": (0, boilerplate), "sms messages": (0, sms_messages(shared))}


def feature_matrix(texts: list[str]) -> np.ndarray:
    return quality_features(pl.Series(texts, dtype=pl.String)).select(FEATURES).to_numpy()


def source_weights(corpus: dict[str, tuple[int, list[str]]]) -> np.ndarray:
    """Equal total weight per source."""
    return np.concatenate([np.full(len(texts), 1.0 / len(texts)) for _, texts in corpus.values()])


def fit_default(corpus: dict[str, tuple[int, list[str]]], shared: Path) -> dict:
    """The default model as a JSON-able dict: coefficients, provenance and its agreement with people."""
    x = np.vstack([feature_matrix(texts) for _, texts in corpus.values()])
    y = np.concatenate([np.full(len(texts), label) for label, texts in corpus.values()])
    model = fit_logistic(x, y, l2=L2, sample_weight=source_weights(corpus))
    texts, labels = load_human_labels(shared / "quality_labels" / "dclm-human-agreement_data.jsonl")
    human = agreement(model.predict_proba(feature_matrix(texts)), labels, length_ambiguous_mask(texts, labels))
    return {
        "kind": "logistic-features",
        "name": "peakdata-default-v1",
        "features": list(FEATURES),
        **model.to_dict(),
        "training": {
            "command": "python -m filters.classifiers.build_default",
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "l2": L2,
            "weighting": "equal total weight per source",
            "sources": {name: {"label": label, "documents": len(t)} for name, (label, t) in corpus.items()},
            "data": {"web pages": f"{HTML_PAGES} (adbar/trafilatura tests, Apache-2.0; third-party pages)",
                     "wikitext": f"{WIKITEXT} (WikiText-2 raw test, CC-BY-SA-3.0/GFDL)",
                     "sms": f"{SMS} (UCI SMS Spam Collection, CC BY 4.0), every {SMS_EVERY}th message"},
        },
        "human_agreement": human,
    }


def fit_embedding_head(corpus: dict[str, tuple[int, list[str]]], shared: Path) -> dict:
    """The MiniLM head as a JSON-able dict, with its agreement with people."""
    from filters.classifiers.embedding import HEAD_L2, MiniLMEmbedder, fit_embedding_head, head_payload

    embedder = MiniLMEmbedder("cpu", dtype="float32")
    x = np.vstack([embedder.embed(texts) for _, texts in corpus.values()])
    y = np.concatenate([np.full(len(texts), label) for label, texts in corpus.values()])
    model = fit_embedding_head(x, y, source_weights(corpus), HEAD_L2)
    texts, labels = load_human_labels(shared / "quality_labels" / "dclm-human-agreement_data.jsonl")
    human = agreement(model.predict_proba(embedder.embed(texts)), labels, length_ambiguous_mask(texts, labels))
    payload = head_payload(model, {
        "command": "python -m filters.classifiers.build_default --embedding-head", "l2": HEAD_L2,
        "weighting": "equal total weight per source",
        "sources": {name: {"label": label, "documents": len(t)} for name, (label, t) in corpus.items()}})
    return payload | {"human_agreement": human}


def export_proxy(corpus: dict[str, tuple[int, list[str]]], directory: Path) -> list[Path]:
    """The proxy task as `positive-*.jsonl` / `negative-*.jsonl` files (for train-classifier; not shipped)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (label, texts) in corpus.items():
        path = directory / f"{'positive' if label else 'negative'}-{re.sub(r'[^a-z0-9]+', '-', name).strip('-')}.jsonl"
        path.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts), encoding="utf-8")
        paths.append(path)
    return paths


def write_json(path: Path, payload: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Re-fit the default quality scorer from ../shared/data.")
    parser.add_argument("--shared-data", type=Path, default=shared_data_dir())
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--embedding-head", action="store_true", help="also fit minilm_quality_head.json")
    parser.add_argument("--head-out", type=Path, default=EMBEDDING_HEAD)
    parser.add_argument("--export-proxy", type=Path, default=None, metavar="DIR",
                        help="only write the proxy task's documents as JSONL files into DIR")
    args = parser.parse_args(argv)
    corpus = proxy_corpus(args.shared_data)
    if args.export_proxy:
        for path in export_proxy(corpus, args.export_proxy):
            print(path)
        return
    model = fit_default(corpus, args.shared_data)
    write_json(args.out, model)
    print(json.dumps({"sources": model["training"]["sources"], "human_agreement": model["human_agreement"]},
                     indent=1))
    if args.embedding_head:
        head = fit_embedding_head(corpus, args.shared_data)
        write_json(args.head_out, head)
        print(json.dumps({"embedding head": head["human_agreement"]}, indent=1))


if __name__ == "__main__":
    main()
