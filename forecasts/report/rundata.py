"""What the report reads from a run directory, aggregated lazily with polars.

The report must build from a run of millions of documents in bounded memory, so nothing here collects a
table row for row: the narrow columns are joined on `doc_id` and grouped into small tallies, signal
distributions come from a seeded hash sample, and `text` is read only for the handful of example documents.
Every table is optional except manifest.json; a missing or unreadable one becomes a note, not an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

TIER_ORDER = ("high", "medium", "low")
DEDUP_FLAGS = ("is_exact_duplicate", "is_url_duplicate", "is_near_duplicate", "is_duplicate")
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
SIGNAL_SAMPLE = 200_000  # documents behind the signal box plots (a seeded hash sample beyond this)
TOP_LANGS = 10
MAX_SIGNALS = 48
HIST_BINS = 40
EXAMPLE_CHARS = 600


@dataclass
class RunData:
    """The run directory's JSON files, its optional tables as lazy scans, and notes about what is missing."""

    root: Path
    manifest: dict[str, Any]
    stocks: dict[str, Any] | None = None
    stocks_frame: pl.DataFrame | None = None
    forecast: dict[str, Any] | None = None
    extra_forecasts: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    _scans: dict[str, pl.LazyFrame | None] = field(default_factory=dict)

    def scan(self, table: str) -> pl.LazyFrame | None:
        """All readable finished shards of a table (temporary files start with a dot and are not matched).

        A shard whose Parquet footer cannot be read is left out with a note, so one broken file costs its
        rows, not the report.
        """
        if table not in self._scans:
            files = []
            for path in sorted((self.root / table).glob("part-*.parquet")):
                try:
                    pq.read_metadata(path)
                except Exception as exc:  # noqa: BLE001 - any unreadable optional shard becomes a note
                    self.notes.append(f"{table}/{path.name} could not be read ({type(exc).__name__}: {exc}); "
                                      "left out")
                else:
                    files.append(path)
            self._scans[table] = pl.scan_parquet(files) if files else None
        return self._scans[table]


def _read_json(path: Path, notes: list[str]) -> Any:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        notes.append(f"{path.name} could not be read ({type(exc).__name__}: {exc})")
        return None


def load_run(run_dir: Path) -> RunData:
    """Read the run's JSON files and small tables; manifest.json is required."""
    manifest_path = run_dir / "manifest.json"
    if not manifest_path.exists():
        raise FileNotFoundError(f"{manifest_path} is missing: is {run_dir} a peakdata run directory (--out)?")
    notes: list[str] = []
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if not isinstance(manifest, dict):
        raise ValueError(f"{manifest_path} is not a JSON object")
    run = RunData(run_dir, manifest, notes=notes)
    stocks = _read_json(run_dir / "stocks.json", notes)
    run.stocks = stocks if isinstance(stocks, dict) else None
    forecast = _read_json(run_dir / "forecast.json", notes)
    run.forecast = forecast if isinstance(forecast, dict) else None
    for path in sorted(run_dir.glob("forecast-*.json")):  # further scenarios written beside forecast.json
        extra = _read_json(path, notes)
        if isinstance(extra, dict) and isinstance(extra.get("tiers"), dict):
            run.extra_forecasts[path.stem.removeprefix("forecast-")] = extra
    if (run_dir / "stocks.parquet").exists():
        try:
            run.stocks_frame = pl.read_parquet(run_dir / "stocks.parquet")
        except Exception as exc:  # noqa: BLE001
            notes.append(f"stocks.parquet could not be read ({type(exc).__name__}: {exc})")
    return run


def tier_order(tiers: list[str]) -> list[str]:
    """Known tiers best first, then any others by name."""
    return [t for t in TIER_ORDER if t in tiers] + sorted(t for t in tiers if t not in TIER_ORDER)


def _tier_scan(run: RunData) -> pl.LazyFrame | None:
    """doc_id → tier (and quality_score when present) from tiers/, else from quality/'s tier column."""
    for table in ("tiers", "quality"):
        lf = run.scan(table)
        if lf is not None and "tier" in (names := lf.collect_schema().names()):
            cols = [pl.col("doc_id").cast(pl.String), pl.col("tier").cast(pl.String)]
            if "quality_score" in names:
                cols.append(pl.col("quality_score").cast(pl.Float64))
            return lf.select(cols)
    return None


def token_column(names: list[str], tokenizer: str | None) -> str | None:
    """The tokens_<name> column to report: the manifest's tokenizer when present, else the first one."""
    if tokenizer and f"tokens_{tokenizer}" in names:
        return f"tokens_{tokenizer}"
    found = sorted(c for c in names if c.startswith("tokens_"))
    return found[0] if found else None


@dataclass
class Cube:
    """Document tallies by crawl × lang × tier × dedup flags: everything the funnel and sample stocks need."""

    frame: pl.DataFrame  # crawl, lang, tier, <flags>, documents, tokens, bytes
    flags: list[str]  # dedup flag columns present
    has_tiers: bool
    token_col: str | None


def document_cube(run: RunData, tokenizer: str | None) -> Cube | None:
    """Join the narrow columns of documents, dedup, tiers and tokens and tally them (None without documents)."""
    docs = run.scan("documents")
    if docs is None:
        return None
    names = docs.collect_schema().names()
    frame = docs.select(
        pl.col("doc_id").cast(pl.String),
        *[(pl.col(c) if c in names else pl.lit(None)).cast(pl.String).alias(c) for c in ("crawl", "lang")],
        (pl.col("n_bytes") if "n_bytes" in names else pl.lit(None)).cast(pl.Int64).alias("bytes"),
    )
    flags: list[str] = []
    dedup = run.scan("dedup")
    if dedup is not None:
        flags = [c for c in DEDUP_FLAGS if c in dedup.collect_schema().names()]
        if flags:
            frame = frame.join(dedup.select(pl.col("doc_id").cast(pl.String), *[pl.col(f).cast(pl.Boolean)
                                                                                for f in flags]), "doc_id", "left")
    tiers = _tier_scan(run)
    frame = frame.join(tiers.select("doc_id", "tier"), "doc_id", "left") if tiers is not None else \
        frame.with_columns(tier=pl.lit(None, pl.String))
    tokens = run.scan("tokens")
    token_col = token_column(tokens.collect_schema().names(), tokenizer) if tokens is not None else None
    if tokens is not None and token_col:
        frame = frame.join(tokens.select(pl.col("doc_id").cast(pl.String), pl.col(token_col).cast(pl.Int64)
                                         .alias("tokens")), "doc_id", "left")
    else:
        frame = frame.with_columns(tokens=pl.lit(None, pl.Int64))
    cube = (
        frame.with_columns(pl.col("crawl").fill_null("(none)"), pl.col("lang").fill_null("unknown"),
                           pl.col("tier").fill_null("unscored"))
        .group_by("crawl", "lang", "tier", *flags)
        .agg(documents=pl.len().cast(pl.Int64), tokens=pl.col("tokens").sum(), bytes=pl.col("bytes").sum(),
             missing_tokens=pl.col("tokens").null_count())
        .collect(engine="streaming")
    )
    if token_col and (missing := int(cube["missing_tokens"].sum())):
        run.notes.append(f"{missing:,} documents have no {token_col} in tokens/: token totals are partial")
    return Cube(cube.drop("missing_tokens"), flags, tiers is not None, token_col if tokens is not None else None)


def kept(cube: Cube, *flags: str) -> pl.Expr:
    """Documents not flagged by any of the given dedup flags that ran (all documents when none ran)."""
    present = [f for f in flags if f in cube.flags]
    return pl.all_horizontal([~pl.col(f).fill_null(False) for f in present]) if present else pl.lit(True)


def top_langs(cube: Cube, n: int = TOP_LANGS) -> list[str]:
    """The n languages with the most documents (ties by name)."""
    by = cube.frame.group_by("lang").agg(pl.col("documents").sum()).sort(["documents", "lang"],
                                                                           descending=[True, False])
    return by["lang"].head(n).to_list()


def lang_bucket(langs: list[str]) -> pl.Expr:
    """Language, or "other" outside the reported ones."""
    return pl.when(pl.col("lang").is_in(langs)).then(pl.col("lang")).otherwise(pl.lit("other"))


@dataclass
class Quality:
    """Aggregated quality_score and signal distributions."""

    score_hist: pl.DataFrame | None  # tier, bin_lo, bin_hi, documents
    score_by_lang: pl.DataFrame | None  # lang, q05..q95, documents
    tier_by_lang: pl.DataFrame | None  # lang, tier, documents
    signals: list[str]
    signal_by_tier: pl.DataFrame | None  # tier, <signal>__q05 …
    signal_by_lang: pl.DataFrame | None  # lang, <signal>__q05 …
    signal_sample: int
    rulesets: pl.DataFrame | None  # ruleset, kept, documents
    reasons: pl.DataFrame | None  # ruleset, reason, documents
    steady: list[Steady] = field(default_factory=list)  # signals left out of the panels: no spread to draw


@dataclass(frozen=True)
class Steady:
    """A signal with the same value across the middle 90% of every tier's and language's documents."""

    signal: str
    typical: float  # the median of the sample
    share_typical: float  # share of the sample's documents with exactly that value
    low: float
    high: float


def _qcols(col: str) -> list[pl.Expr]:
    finite = pl.col(col).filter(pl.col(col).is_not_null() & pl.col(col).is_finite())
    return [finite.quantile(q, interpolation="linear").alias(f"{col}__q{round(q * 100):02d}") for q in QUANTILES]


def signal_columns(schema: pl.Schema) -> list[str]:
    """Every numeric quality column but the score itself: names vary by rule set, so none is hard-coded."""
    return [c for c, t in schema.items() if c not in ("doc_id", "quality_score") and t.is_numeric()][:MAX_SIGNALS]


def _document_base(run: RunData, quality: pl.LazyFrame | None, tiers: pl.LazyFrame | None, langs: list[str],
                   schema: pl.Schema) -> pl.LazyFrame:
    """One row per scored or tiered document: doc_id, tier ("unscored" when none), quality_score, language bucket."""
    docs = run.scan("documents")
    lang = (docs.select(pl.col("doc_id").cast(pl.String), pl.col("lang").cast(pl.String))
            if docs is not None and "lang" in docs.collect_schema().names() else None)
    base = (tiers if tiers is not None else quality.select(pl.col("doc_id").cast(pl.String))
            .with_columns(tier=pl.lit(None, pl.String)))
    if "quality_score" not in base.collect_schema().names():
        score = quality.select(pl.col("doc_id").cast(pl.String), pl.col("quality_score").cast(pl.Float64)) \
            if "quality_score" in schema.names() else None
        base = base.join(score, "doc_id", "left") if score is not None else \
            base.with_columns(quality_score=pl.lit(None, pl.Float64))
    base = base.join(lang, "doc_id", "left") if lang is not None else base.with_columns(lang=pl.lit(None, pl.String))
    return base.with_columns(pl.col("tier").fill_null("unscored"), lang_bucket(langs).fill_null("unknown"))


def _score_tables(narrow: pl.DataFrame) -> tuple[pl.DataFrame | None, pl.DataFrame | None]:
    """Histogram of finite scores by tier (HIST_BINS equal bins) and score quantiles by language."""
    scores = narrow.filter(pl.col("quality_score").is_finite())
    if not scores.height:
        return None, None
    lo, hi = float(scores["quality_score"].min()), float(scores["quality_score"].max())
    width = (hi - lo) / HIST_BINS if hi > lo else 1.0
    score_hist = (
        scores.with_columns(bin=((pl.col("quality_score") - lo) / width).floor().clip(0, HIST_BINS - 1)
                            .cast(pl.Int32))
        .group_by("tier", "bin").agg(documents=pl.len())
        .with_columns(bin_lo=lo + pl.col("bin") * width, bin_hi=lo + (pl.col("bin") + 1) * width)
        .sort("tier", "bin")
    )
    return score_hist, scores.group_by("lang").agg(*_qcols("quality_score"), documents=pl.len())


def _split_steady(frame: pl.DataFrame, signals: list[str], by_tier: pl.DataFrame,
                  by_lang: pl.DataFrame) -> tuple[list[str], list[Steady]]:
    """The signals worth a panel, and the steady ones to list instead.

    A signal with no finite value anywhere (a rule that never fired) has nothing to draw, and one whose 5–95%
    range is a single value in every tier and language would be a flat line.
    """
    varying, steady = [], []
    for s in (s for s in signals if by_tier[f"{s}__q50"].drop_nulls().len()):
        spread = pl.concat([g.select((pl.col(f"{s}__q95") - pl.col(f"{s}__q05")).alias("d"))
                            for g in (by_tier, by_lang)])["d"].drop_nulls()
        if spread.len() and spread.max() > 0:
            varying.append(s)
            continue
        values = frame[s].filter(frame[s].is_finite())
        typical = float(values.median())
        steady.append(Steady(s, typical, float((values == typical).mean()), float(values.min()),
                             float(values.max())))
    return varying, steady


def _signal_tables(quality: pl.LazyFrame, base: pl.LazyFrame, signals: list[str], total: int,
                   seed: int) -> tuple[list[str], pl.DataFrame, pl.DataFrame, int, list[Steady]]:
    """Signal quantiles by tier and by language over a seeded hash sample of at most ~SIGNAL_SAMPLE documents."""
    frame = quality.select(pl.col("doc_id").cast(pl.String), *signals).join(
        base.select("doc_id", "tier", "lang"), "doc_id", "left")
    if total > SIGNAL_SAMPLE:  # a seeded hash sample keeps memory flat for any run size
        cutoff = int(SIGNAL_SAMPLE / total * 2**32)
        frame = frame.filter((pl.col("doc_id").hash(seed) % 2**32) < cutoff)
    sample = frame.with_columns(pl.col(signals).cast(pl.Float64)).collect(engine="streaming")
    aggs = [e for s in signals for e in _qcols(s)]
    by_tier = sample.group_by("tier").agg(*aggs, documents=pl.len())
    by_lang = sample.group_by("lang").agg(*aggs, documents=pl.len())
    varying, steady = _split_steady(sample, signals, by_tier, by_lang)
    return varying, by_tier, by_lang, sample.height, steady


def _ruleset_tables(quality: pl.LazyFrame | None, schema: pl.Schema,
                    n_docs: int) -> tuple[pl.DataFrame | None, pl.DataFrame | None]:
    """Documents each rule set keeps (of n_docs), and its drop reasons with their document counts."""
    keep_cols = [c for c, t in schema.items() if c.endswith("_keep") and t == pl.Boolean]
    if not keep_cols or quality is None:
        return None, None
    rulesets = quality.select(
        *[pl.col(c).sum().cast(pl.Int64).alias(c.removesuffix("_keep")) for c in keep_cols]
    ).collect(engine="streaming").unpivot(variable_name="ruleset", value_name="kept").with_columns(
        documents=pl.lit(n_docs, pl.Int64))
    reason_cols = [c for c in schema.names() if c.endswith("_reason") and f"{c[:-7]}_keep" in keep_cols]
    if not reason_cols:
        return rulesets, None
    reasons = pl.concat([
        quality.select(pl.col(c).cast(pl.String).alias("reason")).drop_nulls().group_by("reason")
        .agg(documents=pl.len().cast(pl.Int64)).with_columns(ruleset=pl.lit(c.removesuffix("_reason")))
        for c in reason_cols
    ]).collect(engine="streaming").select("ruleset", "reason", "documents")
    return rulesets, reasons


def quality_aggregates(run: RunData, langs: list[str], seed: int) -> Quality | None:
    """Score histogram by tier, score and tier mix by language, signal quantiles by tier and language."""
    quality = run.scan("quality")
    tiers = _tier_scan(run)
    if quality is None and tiers is None:
        return None
    schema = quality.collect_schema() if quality is not None else pl.Schema()
    signals = signal_columns(schema)
    base = _document_base(run, quality, tiers, langs, schema)
    narrow = base.select("tier", "lang", "quality_score").collect(engine="streaming")
    score_hist, score_by_lang = _score_tables(narrow)
    tier_by_lang = narrow.group_by("lang", "tier").agg(documents=pl.len())
    signal_by_tier = signal_by_lang = None
    steady: list[Steady] = []
    sample = 0
    if signals and quality is not None:
        signals, signal_by_tier, signal_by_lang, sample, steady = _signal_tables(
            quality, base, signals, narrow.height, seed)
    rulesets, reasons = _ruleset_tables(quality, schema, narrow.height)
    return Quality(score_hist, score_by_lang, tier_by_lang, signals, signal_by_tier, signal_by_lang, sample,
                   rulesets, reasons, steady)


def examples(run: RunData, per_tier: int, seed: int) -> pl.DataFrame | None:
    """A few documents per tier, picked by a seeded hash of doc_id; text is cut in the query, not after."""
    tiers = _tier_scan(run)
    docs = run.scan("documents")
    if tiers is None or docs is None:
        return None
    picked = (
        tiers.with_columns(_h=pl.col("doc_id").hash(seed))
        .sort("_h")
        .group_by("tier", maintain_order=True).head(per_tier)
        .collect(engine="streaming")
    )
    if not picked.height:
        return None
    names = docs.collect_schema().names()
    wanted = [c for c in ("url", "domain", "title", "lang", "crawl") if c in names]
    text = (pl.col("text").cast(pl.String).str.slice(0, EXAMPLE_CHARS + 1) if "text" in names
            else pl.lit(None, pl.String)).alias("text")
    found = (
        docs.filter(pl.col("doc_id").cast(pl.String).is_in(picked["doc_id"].to_list()))
        .select(pl.col("doc_id").cast(pl.String), *[pl.col(c).cast(pl.String) for c in wanted], text)
        .collect(engine="streaming")
    )
    out = picked.drop("_h").join(found, "doc_id", "left")
    if "quality_score" not in out.columns:
        out = out.with_columns(quality_score=pl.lit(None, pl.Float64))
    return out
