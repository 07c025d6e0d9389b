"""What each quality tier keeps, in tokens, on the real pages and Common Crawl excerpts of `../shared/data`.

    .venv/bin/python -m benchmarks.quality_yields [--shared-data ../shared/data]

Documents: the main content (resiliparse) of every HTML response in the derived WARC of trafilatura's 1,033
evaluation pages (article-rich, mostly de/en) and in the Common Crawl WARC excerpts (CC-MAIN-2020-34 head: 16
responses, mostly Chinese spam hosts; CC-MAIN-2024-22 whirlwind: one page), and the text records of the
whirlwind WET excerpt. Empty texts are dropped and exact duplicates removed (the tiers' population is after
dedup), languages come from fastText lid.176 (`filters.langid`), tokens are cl100k_base. Tiers: the default
scorer with its model card's calibration (docs/classifiers.md). Prints markdown tables: token shares per
source and per language.
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import polars as pl
from fastwarc.warc import ArchiveIterator, WarcRecordType

from benchmarks.signals import WARCS, real_texts, shared_data
from filters.classifiers import default_scorer
from filters.classifiers.quality import classify_texts
from filters.langid import identify
from stats.tokens import count_tokens

WET = "cc_wet/whirlwind.warc.wet.gz"
NAMES = {WARCS[0]: "trafilatura 1,033 pages (derived WARC)", WARCS[1]: "CC-MAIN-2020-34 head (WARC)",
         WARCS[2]: "CC-MAIN-2024-22 whirlwind (WARC)", WET: "CC-MAIN-2024-22 whirlwind (WET)"}


def wet_texts(shared: Path) -> list[str]:
    with gzip.open(shared / WET, "rb") as f:
        records = ArchiveIterator(f, record_types=WarcRecordType.conversion)
        return [r.reader.read().decode("utf-8", "replace") for r in records]


def yields(shared: Path) -> pl.DataFrame:
    """One row per (deduplicated, non-empty) document: source, lang, tokens, tier, heuristic reason."""
    sources = {**real_texts(shared), WET: wet_texts(shared)}
    frames = []
    for name, texts in sources.items():
        texts = list(dict.fromkeys(t.strip() for t in texts if t and t.strip()))
        langs, _ = identify(texts)
        tiers = classify_texts(texts, default_scorer(), langs)
        frames.append(tiers.select("lang", "tier", "heuristic_reason").with_columns(
            source=pl.lit(NAMES[name]), tokens=pl.Series(count_tokens(texts), dtype=pl.Int64)))
    return pl.concat(frames)


def share_table(frame: pl.DataFrame, by: str) -> pl.DataFrame:
    """Documents, tokens and the share of tokens in each tier (and medium-or-better) per `by`."""
    total = pl.col("tokens").sum()
    return frame.group_by(by).agg(
        pl.len().alias("documents"), total.alias("tokens"),
        *[(pl.col("tokens").filter(pl.col("tier") == t).sum() / total).alias(f"{t} %") for t in ("high", "medium",
                                                                                                  "low")],
        (pl.col("tokens").filter(pl.col("tier") != "low").sum() / total).alias("medium+ %"),
    ).sort("tokens", descending=True)


def markdown(frame: pl.DataFrame) -> str:
    cols = frame.columns
    rows = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.iter_rows():
        rows.append("| " + " | ".join(f"{v * 100:.1f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int)
                                      else str(v) for v in row) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared-data", type=Path, default=shared_data())
    args = parser.parse_args(argv)
    frame = yields(args.shared_data)
    print(markdown(share_table(frame, "source")))
    print()
    top = frame.filter(pl.col("source") == NAMES[WARCS[0]])
    print(markdown(share_table(top, "lang").filter(pl.col("documents") >= 10)))
    print()
    print(markdown(frame.filter(pl.col("tier") == "low").group_by("heuristic_reason").agg(
        pl.len().alias("documents"), pl.col("tokens").sum()).sort("tokens", descending=True)))


if __name__ == "__main__":
    main()
