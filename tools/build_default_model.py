"""Re-fit the default quality scorer (`filters/classifiers/default_quality_model.json`) and its model card.

    .venv/bin/python tools/build_default_model.py [--shared-data ../shared/data] [--out PATH]
    .venv/bin/python tools/build_default_model.py --embedding-head [--device cpu|cuda]  # + minilm_quality_head.json
    .venv/bin/python tools/build_default_model.py --export-proxy DIR   # the proxy task as JSONL (train-classifier)

What it fits, on a *proxy* task built from real text in `../shared/data` (never on the human labels):

- good: the main content (resiliparse, `main_content=True`) of the 1,033 real pages of trafilatura's evaluation
  set, every language (mostly de/en, some fr/es/pl/zh); the 62 WikiText-2 test articles (detokenised); 13 Project
  Gutenberg books in passages of about 3,000 characters (at most 40 per book);
- bad: the boilerplate of the same pages (the full-page lines that are not main content: menus, footers,
  cookie notices), every 10th message of the SMS Spam Collection, and nltk's informal web text (chat, personal
  ads, forum posts) in passages of about 20 lines, and 400 generated machine-made texts (`machine_made`: character
  runs, base64, hex, code, link lists, keyword lists and repeated lines from WikiText words and lines; its own
  generator and seed, not the tests' generator).

Each source gets the same total weight. The model is a logistic regression (L2 = 1) over the 16 bounded
features of `filters/classifiers/features.py` with the expected sign for each (`SIGNS`): a feature whose
coefficient comes out with the wrong sign is dropped and the rest re-fitted (`fit_sign_constrained`), so
machine-made patterns can only lower a score and prose shape only raise it. UDHR and
Genesis are never used here: they are the tests' held-out multilingual text.

Calibration written into the card (what `high` means for this score):
- `high` (all languages without their own number): the lowest threshold at which documents that pass the heuristic
  chain and score at or above it are >= 90% good on DCLM's 281 human labels (the development set; labels are used
  for this one number and for the agreement table, never for the coefficients);
- `by_lang[L].high`: the score quantile of language L's main-content pages (pages that pass the chain) that keeps
  the same share of them in `high` as the global threshold keeps of the English ones — so a clean page is as
  likely to be `high` in German or Chinese as in English (languages with >= 15 such pages).

The agreement table (`agreement`, for stats/misclassification.py) holds, per tier, the documents and cl100k
tokens of the development labels and how many of them people judged good.

Training-data licences: trafilatura repository Apache-2.0 (the pages are third-party web content kept there for
testing); WikiText-2 CC-BY-SA-3.0 / GFDL; Gutenberg texts public domain (nltk packaging); SMS Spam Collection
CC BY 4.0; nltk webtext (see its README). The shipped file holds fitted numbers only, no text.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tarfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from filters.classifiers.features import FEATURES, quality_features  # noqa: E402
from filters.classifiers.linear import LogisticModel, fit_logistic  # noqa: E402
from filters.classifiers.metrics import (  # noqa: E402
    agreement,
    agreement_table,
    choose_high,
    length_ambiguous_mask,
)
from tools.evaluate_classifiers import load_human_labels  # noqa: E402
from tools.shared_data import shared_data_dir  # noqa: E402

DEFAULT_MODEL = ROOT / "filters" / "classifiers" / "default_quality_model.json"
EMBEDDING_HEAD = ROOT / "filters" / "classifiers" / "minilm_quality_head.json"
HTML_PAGES = Path("html") / "trafilatura-eval-990pages.tar.gz"
WIKITEXT = Path("reference_text") / "wikitext-2-raw-test.raw"
GUTENBERG = Path("reference_text") / "nltk-gutenberg-13books.tar.gz"
SMS = Path("low_quality") / "SMSSpamCollection.tsv"
WEBTEXT = Path("low_quality") / "nltk-webtext-informal.tar.gz"
LABELS = Path("quality_labels") / "dclm-human-agreement_data.jsonl"
SMS_EVERY = 10
PASSAGE_CHARS = 3000
PASSAGES_PER_BOOK = 40
WEBTEXT_LINES = 20
L2 = 1.0
TARGET_PRECISION = 0.95
MIN_LANG_PAGES = 15
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


def web_pages(shared: Path) -> tuple[list[str], list[str], list[str]]:
    """(main content, boilerplate, language) of the trafilatura evaluation pages, every language."""
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
    main_out, boiler, main_langs = [], [], []
    for main, full, lang in zip(mains, fulls, langs):
        kept = {line.strip() for line in main.split("\n")}
        rest = "\n".join(s for line in full.split("\n") if (s := line.strip()) and s not in kept)
        if main:
            main_out.append(main)
            main_langs.append(lang)
        if rest:
            boiler.append(rest)
    return main_out, boiler, main_langs


def paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks with their hard line wraps joined (one paragraph per line, as on the web)."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def passages(blocks: list[str], size: int) -> list[str]:
    """Consecutive blocks grouped into passages of at least `size` characters, one block per line."""
    out, cur = [], []
    for block in blocks:
        cur.append(block)
        if sum(len(b) for b in cur) >= size:
            out.append("\n".join(cur))
            cur = []
    return out


def gutenberg_passages(shared: Path) -> list[str]:
    out = []
    with tarfile.open(shared / GUTENBERG) as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            if member.isfile() and member.name.endswith(".txt"):
                text = tar.extractfile(member).read().decode("latin-1")
                out += passages(paragraphs(text), PASSAGE_CHARS)[:PASSAGES_PER_BOOK]
    return out


def webtext_passages(shared: Path) -> list[str]:
    out = []
    with tarfile.open(shared / WEBTEXT) as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            if member.isfile() and not member.name.endswith("README"):
                lines = [x for x in tar.extractfile(member).read().decode("latin-1").splitlines() if x.strip()]
                out += ["\n".join(lines[i:i + WEBTEXT_LINES]) for i in range(0, len(lines), WEBTEXT_LINES)][:200]
    return out


def sms_messages(shared: Path) -> list[str]:
    lines = (shared / SMS).read_text(encoding="utf-8", errors="replace").splitlines()
    return [line.split("\t", 1)[1] for line in lines[::SMS_EVERY] if "\t" in line]


def machine_made(reference: list[str], n: int = 400, seed: int = 12345) -> list[str]:
    """Generated machine-made text (the negatives real samples lack): character runs, base64 and hex, code,
    link lists, keyword lists and repeated lines built from words and lines of `reference` text."""
    import base64

    rng = np.random.default_rng(seed)
    words = sorted({w for t in reference[:50] for w in re.findall(r"[^\W\d_]{3,}", t)})
    lines = [ln for t in reference[:50] for ln in t.split("\n") if len(ln) > 40]
    out: list[str] = []
    for i in range(n):
        kind = i % 8
        if kind == 0:
            out.append(chr(int(rng.choice([0x61, 0x2D, 0x4E00, 0x0E01, 0x30, 0x2A]))) * int(rng.integers(500, 30_000)))
        elif kind == 1:
            raw = base64.b64encode(rng.bytes(int(rng.integers(200, 4000)))).decode()
            out.append("\n".join(raw[j:j + 76] for j in range(0, len(raw), 76)) if rng.random() < 0.5 else raw)
        elif kind == 2:
            out.append(" ".join(rng.bytes(int(rng.integers(50, 800))).hex(" ", 2).split()))
        elif kind == 3:
            ids = rng.choice(words, 30)
            out.append(";".join(f"var {ids[j % 30][:2]}={ids[(j + 1) % 30][:3]}({j},{{a:{j}}})"
                                for j in range(int(rng.integers(20, 300)))))
        elif kind == 4:
            out.append("\n".join(f"https://{rng.choice(words).lower()}.com/{rng.choice(words)}/{int(rng.integers(1e6))}"
                                  for _ in range(int(rng.integers(10, 200)))))
        elif kind == 5:
            kw = rng.choice(words, int(rng.integers(10, 40)))
            out.append(str(rng.choice([" ", ", ", " | "])).join(rng.choice(kw, int(rng.integers(50, 1500)))))
        elif kind == 6:
            out.append("\n".join([str(rng.choice(lines))] * int(rng.integers(5, 200))))
        else:
            out.append("\n".join(" ".join(str(int(x)) for x in rng.integers(0, 10**4, 8))
                                  for _ in range(int(rng.integers(5, 200)))))
    return out


def feature_matrix(texts: list[str]) -> np.ndarray:
    return quality_features(pl.Series(texts, dtype=pl.String)).select(FEATURES).to_numpy()


PENALTIES = ("letter_deficit", "digit_excess", "symbol_excess", "upper_excess", "long_run_frac", "url_frac",
             "dup_line_frac", "compression_excess", "repetition_excess", "poverty", "zipf_deficit")


# expected direction of every feature: penalties lower the score; longer, prose-like, punctuated lines raise it
SIGNS = {f: -1 for f in PENALTIES} | {"length": 1, "mean_line_units": 1, "frac_lines_end_punct": 1,
                                      "frac_short_lines": -1, "frac_prose_chars": 1}


def fit_sign_constrained(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> LogisticModel:
    """Logistic regression whose coefficients have the expected signs (`SIGNS`): penalties can only lower the
    score, prose shape only raise it. A feature whose coefficient comes out with the wrong sign is removed
    (coefficient 0) and the rest re-fitted, until every sign is as expected (an active-set fit)."""
    active = np.ones(x.shape[1], dtype=bool)
    sign = np.array([SIGNS[f] for f in FEATURES])
    while True:
        fit = fit_logistic(x[:, active], y, l2=L2, sample_weight=w)
        coef = np.zeros(x.shape[1])
        coef[active] = fit.coef
        wrong = active & (coef * sign < 0)
        if not wrong.any():
            mean, scale = np.zeros(x.shape[1]), np.ones(x.shape[1])
            mean[active], scale[active] = fit.mean, fit.scale
            return LogisticModel(mean, scale, coef, fit.intercept)
        active &= ~wrong


class _Fixed:
    """A scorer over a fitted model (for `annotate_quality` before the JSON exists)."""

    name = "candidate"

    def __init__(self, model: LogisticModel):
        self.model = model

    def score_from_features(self, features: pl.DataFrame) -> np.ndarray:
        return self.model.predict_proba(features.select(FEATURES).to_numpy())


def proxy_corpus(shared: Path) -> tuple[dict[str, tuple[int, list[str]]], list[str], list[str]]:
    """Source name -> (label, texts) of the proxy task, plus the main-content pages and their languages."""
    main, boiler, main_langs = web_pages(shared)
    wiki = wikitext_articles(shared)
    corpus = {
        "web main content (all languages)": (1, main),
        "wikitext-2 articles": (1, wiki),
        "gutenberg passages": (1, gutenberg_passages(shared)),
        "web boilerplate (all languages)": (0, boiler),
        "sms messages": (0, sms_messages(shared)),
        "informal web text (nltk webtext)": (0, webtext_passages(shared)),
        "generated machine-made text": (0, machine_made(wiki)),
    }
    return corpus, main, main_langs


def calibrate(scorer, shared: Path, main: list[str], main_langs: list[str]) -> tuple[dict, dict, dict]:
    """(calibration, agreement table, development evaluation) of a scorer: see the module docstring."""
    from filters.classifiers.quality import annotate_quality
    from filters.classifiers.tiers import tier_expr
    from stats.tokens import count_tokens

    texts, labels = load_human_labels(shared / LABELS)
    dev = annotate_quality(texts, scorer)
    scores, keep = dev["quality_score"].to_numpy(), dev["heuristic_keep"].to_numpy()
    high = choose_high(scores, keep, labels, TARGET_PRECISION)
    tiers = dev.select(tier_expr(high, None, guard=True))["tier"].to_numpy()

    pages = annotate_quality(main, scorer, main_langs)
    en = pages.filter((pl.col("lang") == "en") & pl.col("heuristic_keep"))["quality_score"]
    share = float((en >= high).mean()) if en.len() else 0.0
    by_lang = {}
    for lang, group in pages.filter(pl.col("heuristic_keep")).group_by("lang"):
        if group.height >= MIN_LANG_PAGES and lang[0] != "en":
            by_lang[lang[0]] = {"high": float(group["quality_score"].quantile(1 - share, "linear"))}
    hard = length_ambiguous_mask(texts, labels)
    tokens = count_tokens(texts)
    calibration = {
            "high": high, "low": None, "by_lang": dict(sorted(by_lang.items())),
            "rule": f"high: passes the heuristic chain and score >= threshold; global threshold = lowest with >= "
                    f"{TARGET_PRECISION:.0%} good documents among guarded high on the development labels; per "
                    f"language: the quantile of that language's main-content pages keeping the English share "
                    f"({share:.3f}) high; low: fails the heuristic chain",
    }
    table = agreement_table(tiers, labels, tokens, str(LABELS), "cl100k_base tokens",
                            "development labels: also used to choose the global high threshold (optimistic)")
    evaluation = {"development (dclm 281 human labels; used for the high threshold)": agreement(scores, labels, hard)}
    return calibration, table, evaluation


def build(shared: Path) -> dict:
    corpus, main, main_langs = proxy_corpus(shared)
    x = np.vstack([feature_matrix(t) for _, t in corpus.values()])
    y = np.concatenate([np.full(len(t), label) for label, t in corpus.values()])
    w = np.concatenate([np.full(len(t), 1.0 / len(t)) for _, t in corpus.values()])
    model = fit_sign_constrained(x, y, w)
    calibration, table, evaluation = calibrate(_Fixed(model), shared, main, main_langs)
    return {
        "kind": "logistic-features",
        "name": "peakdata-default-v2",
        "features": list(FEATURES),
        **model.to_dict(),
        "calibration": calibration,
        "agreement": table,
        "evaluation": evaluation,
        "training": {
            "command": "python tools/build_default_model.py",
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "l2": L2,
            "weighting": "equal total weight per source",
            "constraint": "coefficients have the expected signs (SIGNS; wrong-signed features dropped, re-fitted)",
            "sources": {name: {"label": label, "documents": len(t)} for name, (label, t) in corpus.items()},
            "data": {"web pages": f"{HTML_PAGES} (adbar/trafilatura tests, Apache-2.0; third-party pages)",
                     "wikitext": f"{WIKITEXT} (WikiText-2 raw test, CC-BY-SA-3.0/GFDL)",
                     "gutenberg": f"{GUTENBERG} (nltk gutenberg; public domain texts)",
                     "sms": f"{SMS} (UCI SMS Spam Collection, CC BY 4.0), every {SMS_EVERY}th message",
                     "webtext": f"{WEBTEXT} (nltk webtext)"},
        },
    }


class _Head:
    """The MiniLM head as a scorer over given texts (for `calibrate`)."""

    name = "minilm-head-candidate"

    def __init__(self, embedder, model: LogisticModel):
        self.embedder, self.model = embedder, model

    def score(self, texts: list[str]) -> np.ndarray:
        return self.model.predict_proba(self.embedder.embed(texts))


def build_embedding_head(shared: Path, device: str) -> dict:
    """The MiniLM head (logistic regression, L2 = HEAD_L2, on float32 embeddings) on the same proxy task and
    weighting, with its own calibration and agreement table."""
    from filters.classifiers.embedding import HEAD_L2, MiniLMEmbedder, fit_embedding_head, head_payload

    corpus, main, main_langs = proxy_corpus(shared)
    embedder = MiniLMEmbedder(device, dtype="float32")
    x = np.vstack([embedder.embed(t) for _, t in corpus.values()])
    y = np.concatenate([np.full(len(t), label) for label, t in corpus.values()])
    w = np.concatenate([np.full(len(t), 1.0 / len(t)) for _, t in corpus.values()])
    model = fit_embedding_head(x, y, w, HEAD_L2)
    calibration, table, evaluation = calibrate(_Head(embedder, model), shared, main, main_langs)
    payload = head_payload(model, {
        "command": "python tools/build_default_model.py --embedding-head", "l2": HEAD_L2,
        "weighting": "equal total weight per source",
        "sources": {name: {"label": label, "documents": len(t)} for name, (label, t) in corpus.items()}})
    return payload | {"calibration": calibration, "agreement": table, "evaluation": evaluation}


def export_proxy(corpus: dict[str, tuple[int, list[str]]], directory: Path) -> list[Path]:
    """The proxy task as `positive-*.jsonl` / `negative-*.jsonl` files (for train-classifier; not shipped)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (label, texts) in corpus.items():
        slug = re.sub(r"[^a-z0-9]+", "-", name).strip("-")
        path = directory / f"{'positive' if label else 'negative'}-{slug}.jsonl"
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
    parser.add_argument("--embedding-head", action="store_true", help="fit minilm_quality_head.json instead")
    parser.add_argument("--head-out", type=Path, default=EMBEDDING_HEAD)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="where MiniLM embeds")
    parser.add_argument("--export-proxy", type=Path, default=None, metavar="DIR",
                        help="only write the proxy task's documents as JSONL files into DIR")
    args = parser.parse_args(argv)
    if args.export_proxy:
        for path in export_proxy(proxy_corpus(args.shared_data)[0], args.export_proxy):
            print(path)
        return
    if args.embedding_head:
        payload = build_embedding_head(args.shared_data, args.device)
        write_json(args.head_out, payload)
    else:
        payload = build(args.shared_data)
        write_json(args.out, payload)
    print(json.dumps({k: payload[k] for k in ("calibration", "agreement", "evaluation")}, indent=1))


if __name__ == "__main__":
    main()
