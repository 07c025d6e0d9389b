"""Token stocks of a run: tallies by crawl × language × tier × dedup state × TLD, and design-based estimates.

Reads the run directory's narrow columns only (never `text`), joins the tables on `doc_id` lazily and holds
about 60 bytes per document in memory. See docs/stocks.md for the schemas and the estimator.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import polars as pl

from stats.estimators import (
    REFERENCE_SIZES,
    Estimate,
    FileDesign,
    Replicates,
    estimate_cells,
    estimate_totals,
    pair_replicates,
    point,
    replicate_weights,
    union_replicates,
)
from stats.supply import SupplyInputs, build_supply, judged_good_sentence
from stats.tokens import DEFAULT_TOKENIZER, tokenizer_name

DEDUP_KINDS = ("exact", "url", "near")
STATES = ("raw", "exact_dedup", "dedup")
TIER_ORDER = ("high", "medium", "low")
REPLICATES_FILE = "stock_replicates.parquet"
QUALITY_FILE = "quality.json"  # written by quality-classify: the tiers' scorer, thresholds and agreement table
REPLICATES_SCHEMA = {"replicate": pl.Int32, "group": pl.String, "quantity": pl.String, "value": pl.Float64}
CELL_KEYS = ["crawl", "lang", "tier", "tld"]
STOCKS_SCHEMA = {
    "crawl": pl.String, "lang": pl.String, "tier": pl.String, "tld": pl.String, "dedup_state": pl.String,
    "tokenizer": pl.String, "documents": pl.Int64, "tokens": pl.Int64, "bytes": pl.Int64, "files": pl.Int64,
    "est_documents": pl.Float64, "est_tokens": pl.Float64, "est_bytes": pl.Float64,
    "est_tokens_ci90_low": pl.Float64, "est_tokens_ci90_high": pl.Float64,
}


def _scan(run_dir: Path, table: str) -> pl.LazyFrame | None:
    files = sorted((run_dir / table).glob("*.parquet"))
    return pl.scan_parquet(files) if files else None


def _load(run_dir: Path, token_col: str) -> tuple[pl.DataFrame, list[str]]:
    """One row per document with the columns the tallies need; returns it and the dedup columns found."""
    docs = _scan(run_dir, "documents")
    if docs is None:
        raise FileNotFoundError(f"no documents/*.parquet in {run_dir}")
    have = docs.collect_schema().names()
    frame = docs.select(
        pl.col("doc_id").cast(pl.String),
        pl.col("source_file").cast(pl.String),
        *[(pl.col(c) if c in have else pl.lit(None)).cast(pl.String).alias(c) for c in ("crawl", "lang", "tld")],
        pl.col("n_bytes").cast(pl.Int64).alias("bytes"),
    )
    tokens = _scan(run_dir, "tokens")
    if tokens is None or token_col not in tokens.collect_schema().names():
        raise ValueError(f"{run_dir}/tokens/*.parquet has no column {token_col}: count tokens for every shard first")
    frame = frame.join(tokens.select("doc_id", pl.col(token_col).cast(pl.Int64).alias("tokens")), "doc_id", "left")
    tiers = _scan(run_dir, "tiers")
    if tiers is not None and "tier" in tiers.collect_schema().names():
        frame = frame.join(tiers.select("doc_id", pl.col("tier").cast(pl.String)), "doc_id", "left")
    else:
        frame = frame.with_columns(tier=pl.lit(None, pl.String))
    dedup = _scan(run_dir, "dedup")
    dedup_cols: list[str] = []
    if dedup is not None:
        names = dedup.collect_schema().names()
        wanted = [f"{k}_cluster" for k in DEDUP_KINDS] + [f"is_{k}_duplicate" for k in DEDUP_KINDS] + ["is_duplicate"]
        dedup_cols = [c for c in wanted if c in names]
        if dedup_cols:
            clusters = [pl.col(c).cast(pl.String) for c in dedup_cols if c.endswith("_cluster")]
            flags = [pl.col(c).cast(pl.Boolean) for c in dedup_cols if c.startswith("is_")]
            frame = frame.join(dedup.select("doc_id", *clusters, *flags), "doc_id", "left")
    # The streaming engine does not keep join order: sort so representatives are the same on every run. After
    # that only identities matter: doc_id goes and cluster ids become dense integer codes (a run holds one such
    # row per document, so string ids would set its memory).
    out = frame.collect(engine="streaming").sort("doc_id").with_row_index("_row").drop("doc_id")
    out = out.with_columns(pl.col(c).rank("dense").cast(pl.UInt32) for c in dedup_cols if c.endswith("_cluster"))
    # A dedup kind that was switched off leaves its columns all null: it did not run.
    dedup_cols = [c for c in dedup_cols if out[c].null_count() < out.height]
    missing = out["tokens"].null_count()
    if missing:
        raise ValueError(f"{missing} documents have no {token_col} in tokens/: count tokens for every shard first")
    return out, dedup_cols


def _components(frame: pl.DataFrame, cluster_cols: list[str], within: list[str]) -> pl.Series:
    """Connected components of documents linked by sharing any cluster id; label = the component's lowest row.

    Joining kinds this way keeps one representative per group even when exact, URL and near clusters overlap.
    Links count only inside the `within` groups (e.g. a crawl), so that a URL recrawled with new content
    cannot chain two different documents of one crawl together through another crawl.
    Union–find by hooking to the smaller root and pointer jumping, vectorised: O(log n) rounds on long chains.
    """
    edges = [
        frame.filter(pl.col(c).is_not_null())
        .select(pl.col("_row"), pl.col("_row").min().over(*within, c).alias("_to"))
        .filter(pl.col("_row") != pl.col("_to"))
        for c in cluster_cols
    ]
    both = pl.concat(edges)
    u, v = both["_row"].to_numpy().astype(np.int64), both["_to"].to_numpy().astype(np.int64)
    parent = np.arange(frame.height, dtype=np.int64)
    while True:
        pu, pv = parent[u], parent[v]
        if (pu == pv).all():
            return pl.Series("_label", parent, dtype=pl.UInt32)
        np.minimum.at(parent, np.maximum(pu, pv), np.minimum(pu, pv))
        while True:  # pointer jumping: every node straight to its root
            jumped = parent[parent]
            if (jumped == parent).all():
                break
            parent = jumped


def _first_in_crawl(key: str) -> pl.Expr:
    """True for the representative (lowest row) of each (crawl, key) group; null keys are singletons."""
    return pl.col(key).is_null() | (pl.col("_row") == pl.col("_row").min().over("crawl", key))


def _dedup_states(frame: pl.DataFrame, dedup_cols: list[str]) -> tuple[pl.DataFrame, list[str], bool]:
    """Add keep flags `keep_exact_dedup`, `keep_dedup` and the cross-crawl `content` key.

    Dedup is within crawl: a document is kept when it is the first of its crawl in its duplicate group, so a
    crawl's stock does not depend on which other crawls the run holds. Cluster ids are preferred; a kind
    given only as an `is_<kind>_duplicate` flag (or only `is_duplicate`) uses the flag as written.
    Returns the frame, the dedup kinds that ran, and whether cluster ids allow cross-crawl overlap.
    """
    clusters = [f"{k}_cluster" for k in DEDUP_KINDS if f"{k}_cluster" in dedup_cols]
    flag_only = [k for k in DEDUP_KINDS if f"is_{k}_duplicate" in dedup_cols and f"{k}_cluster" not in dedup_cols]
    kinds = [k for k in DEDUP_KINDS if f"{k}_cluster" in dedup_cols or k in flag_only]
    if not kinds and "is_duplicate" in dedup_cols:
        kinds = ["unspecified"]
    not_flagged = [~pl.col(f"is_{k}_duplicate").fill_null(False) for k in flag_only]

    if "exact_cluster" in clusters:
        keep_exact = _first_in_crawl("exact_cluster")
    elif "exact" in flag_only:
        keep_exact = ~pl.col("is_exact_duplicate").fill_null(False)
    else:
        keep_exact = pl.lit(None, pl.Boolean)  # exact dedup did not run

    if clusters:
        frame = frame.with_columns(_component=_components(frame, clusters, ["crawl"]),
                                   _file_component=_components(frame, clusters, ["crawl", "_file"]))
        keep = pl.all_horizontal(pl.col("_row") == pl.col("_component"), *not_flagged)
        # Duplicates inside each file only: what a sparse file sample sees in full (stats/supply.py).
        frame = frame.with_columns(keep_file_dedup=pl.all_horizontal(pl.col("_row") == pl.col("_file_component"),
                                                                     *not_flagged))
    elif not_flagged:
        keep = pl.all_horizontal(*not_flagged)
    elif "is_duplicate" in dedup_cols:
        keep = ~pl.col("is_duplicate").fill_null(False)
    else:
        keep = pl.lit(True)  # no dedup ran: "dedup" equals raw

    content = [c for c in ("exact_cluster", "near_cluster") if c in clusters]
    frame = frame.with_columns(
        _content=_components(frame, content, []) if content else pl.lit(None, pl.UInt32),
    ).with_columns(keep_exact_dedup=keep_exact, keep_dedup=keep)
    return frame, kinds, bool(content)


def _per_file(frame: pl.DataFrame, states: list[str]) -> pl.DataFrame:
    """Sample tallies per (file, crawl, lang, tier, tld, dedup_state): documents, tokens, bytes."""
    parts = []
    for state in states:
        sub = frame if state == "raw" else frame.filter(pl.col(f"keep_{state}"))
        parts.append(
            sub.group_by("_file", *CELL_KEYS)
            .agg(documents=pl.len().cast(pl.Int64), tokens=pl.col("tokens").sum(), bytes=pl.col("bytes").sum())
            .with_columns(dedup_state=pl.lit(state))
        )
    return pl.concat(parts)


def _tier_names(tiers: list[str]) -> list[str]:
    return [t for t in TIER_ORDER if t in tiers] + sorted(t for t in tiers if t not in TIER_ORDER)


def _matrix(per_file: pl.DataFrame, column: str, keys: list[tuple[str, str]], n_files: int) -> np.ndarray:
    """Per-file totals (files × len(keys)) of `column` for (tier, dedup_state) keys; tier '*' = all tiers."""
    y = np.zeros((n_files, len(keys)))
    for j, (tier, state) in enumerate(keys):
        sub = per_file.filter(pl.col("dedup_state") == state)
        if tier != "*":
            sub = sub.filter(pl.col("tier") == tier)
        sums = sub.group_by("_file").agg(pl.col(column).sum())
        y[sums["_file"].to_numpy(), j] = sums[column].to_numpy()
    return y


def _summary(per_file: pl.DataFrame, design: FileDesign, reps: Replicates, estimator: str, states: list[str],
             files_in_design: int, tiers: list[str]) -> dict:
    """stocks.json's `tiers` and `total` for the documents in `per_file`.

    Every tier of the run is listed; a tier none of whose sampled files of a stratum holds anything gets the
    rule-of-three bound there (parent: all tiers of the same dedup state), never [0, 0].
    """
    keys = [(t, s) for t in [*tiers, "*"] for s in states]
    col = {k: j for j, k in enumerate(keys)}
    est: dict[str, Estimate] = {}
    for m in ("tokens", "documents", "bytes"):
        y = _matrix(per_file, m, keys, design.n_files)
        parent = y[:, [col["*", s] for _, s in keys]]
        est[m] = estimate_totals(y, design, reps, parent=parent)
    bounds = {m: e.ci90() for m, e in est.items()}
    tok = est["tokens"]
    out: dict = {"tiers": {}}
    for tier in [*tiers, "*"]:
        block: dict = {}
        for m, unit in (("tokens", "tokens"), ("documents", "documents"), ("bytes", "bytes")):
            lo, hi = bounds[m]
            block[m] = {s: point(est[m].estimate[col[tier, s]], lo[col[tier, s]], hi[col[tier, s]], unit)
                        for s in states}
        fraction: dict = {"unit": "fraction", "ci90": {}}
        for s in states:
            num, den = col[tier, s], col["*", s]
            # Shares from the same replicates: the denominator is the sum of the tiers within each replicate.
            den_reps = tok.replicates[:, [col[t, s] for t in tiers]].sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                fraction[s] = float(tok.estimate[num] / tok.estimate[den]) if tok.estimate[den] else None
                ratios = tok.replicates[:, num] / den_reps
            ok = fraction[s] is not None and np.isfinite(ratios).all()
            lo, hi = np.percentile(ratios, [5, 95]) if ok else (np.nan, np.nan)
            fraction["ci90"][s] = [float(min(lo, fraction[s])), float(max(hi, fraction[s]))] if ok else None
        block["fraction_of_tokens"] = fraction
        statuses = tok.status or []
        block["variance"] = statuses[col[tier, states[-1]]] if statuses else "estimable"
        mine = per_file if tier == "*" else per_file.filter(pl.col("tier") == tier)
        raw = mine.filter(pl.col("dedup_state") == "raw")
        block["sample"] = {
            "documents": int(raw["documents"].sum()),
            "documents_dedup": int(mine.filter(pl.col("dedup_state") == "dedup")["documents"].sum()),
            "files": int(raw["_file"].n_unique()),
            "files_in_design": files_in_design,
            "unit": "count",
        }
        block["estimator"] = estimator
        if tier == "*":
            out["total"] = block
        else:
            out["tiers"][tier] = block
    return out


def _crawl_columns(cells: list[tuple[str, str]], crawl: str) -> list[int]:
    return [j for j, (c, _) in enumerate(cells) if c == crawl]


def _cell_totals(per_file: pl.DataFrame, design: FileDesign, reps: Replicates,
                 cells: list[tuple[str, str]], crawls: list[str]) -> np.ndarray:
    """(1 + B, cells) HT totals of within-crawl deduplicated tokens per (crawl, tier), point estimate first."""
    kept = per_file.filter(pl.col("dedup_state") == "dedup")
    y = np.zeros((design.n_files, len(cells)))
    for j, (c, t) in enumerate(cells):
        sums = kept.filter(pl.col("crawl") == c, pl.col("tier") == t).group_by("_file").agg(pl.col("tokens").sum())
        y[sums["_file"].to_numpy(), j] = sums["tokens"].to_numpy()
    crawl_sum = {c: y[:, _crawl_columns(cells, c)].sum(axis=1) for c in crawls}
    parent = np.column_stack([crawl_sum[c] for c, _ in cells]) if cells else None
    totals = estimate_totals(y, design, reps, parent=parent)
    return np.vstack([totals.estimate, totals.replicates])


def _measured_overlaps(frame: pl.DataFrame, cells: list[tuple[str, str]], crawls: list[str],
                       weights: np.ndarray, o_all: np.ndarray) -> tuple[int, dict]:
    """Fills o_all (1 + B, cells) with the pair HT estimate of tokens already in an earlier crawl.

    Returns the number of sampled pairs and, per later crawl, the observed (unweighted) overlap fraction.
    """
    observed: dict = {"unit": "fraction"}
    rank = {c: i for i, c in enumerate(crawls)}
    docs = frame.filter(pl.col("keep_dedup"), pl.col("_content").is_not_null()).select(
        "_content", "_file", "tier", "tokens", _rank=pl.col("crawl").replace_strict(rank, return_dtype=pl.Int32)
    )
    pairs = (
        docs.join(docs.select("_content", _file_e="_file", _rank_e="_rank"), on="_content")
        .filter(pl.col("_rank_e") < pl.col("_rank"), pl.col("_file_e") != pl.col("_file"))
    )
    agg = pairs.group_by("_rank", "tier", "_file", "_file_e").agg(pl.col("tokens").sum())
    for j, (c, t) in enumerate(cells):
        sub = agg.filter(pl.col("_rank") == rank[c], pl.col("tier") == t)
        if sub.height:
            o_all[:, j] = pair_replicates(sub["_file"].to_numpy(), sub["_file_e"].to_numpy(),
                                          sub["tokens"].to_numpy(), weights)
    matched = pairs.select("_content", "_rank").unique()
    for c in crawls[1:]:
        mine = docs.filter(pl.col("_rank") == rank[c])
        hit = mine.join(matched.filter(pl.col("_rank") == rank[c]), on=["_content", "_rank"], how="semi")
        total = mine["tokens"].sum()
        observed[c] = float(hit["tokens"].sum() / total) if total else None
    return pairs.height, observed


def _as_point(series: np.ndarray, unit: str) -> dict:
    """Point estimate (row 0) with the 5–95% percentile range of the replicates, widened to contain it."""
    lo, hi = np.percentile(series[1:], [5, 95]) if len(series) > 1 else (np.nan, np.nan)
    return point(series[0], min(lo, series[0]), max(hi, series[0]), unit)


def _cross_crawl(frame: pl.DataFrame, per_file: pl.DataFrame, design: FileDesign, reps: Replicates,
                 crawls: list[str], measurable: bool) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray]:
    """Unique stock across crawls from the measured overlap with earlier crawls (see estimators.union_replicates).

    Returns the stocks.json block and, with the point estimate as row 0, the union's series and the per-crawl
    deduplicated totals T_k and overlaps O_k (for the supply block).
    """
    tiers = _tier_names(per_file.filter(pl.col("dedup_state") == "dedup")["tier"].unique().to_list())
    cells = [(c, t) for c in crawls for t in tiers]
    t_all = _cell_totals(per_file, design, reps, cells, crawls)
    o_all = np.zeros_like(t_all)
    observed: dict = {"unit": "fraction"}
    pairs_seen = 0
    if measurable:
        weights = np.vstack([design.weight, reps])  # row 0: point estimate, then the replicates
        pairs_seen, observed = _measured_overlaps(frame, cells, crawls, weights, o_all)
    by_tier = {}
    for t in tiers:
        idx = [j for j, (_, tt) in enumerate(cells) if tt == t]
        by_tier[t] = _as_point(union_replicates(t_all[:, idx], o_all[:, idx]), "tokens")
    estimated: dict = {"unit": "fraction"}
    for c in crawls[1:]:
        idx = _crawl_columns(cells, c)
        t_c = t_all[0, idx].sum()
        estimated[c] = float(min(1.0, o_all[0, idx].sum() / t_c)) if t_c else None
    block = {
        "crawls": crawls,
        "overlap_measured": measurable,
        "method": (
            "union = Σ_k (T_k − min(T_k, O_k)) over crawls in name order; T_k = crawl k's within-crawl "
            "deduplicated tokens (HT), O_k = Σ over earlier crawls j of the pair HT estimate "
            "Σ w_d·w_e·tokens_d over sampled pairs (d in k, e in j) in one content group (exact/near clusters). "
            "Unbiased for O_k when content recurs in at most two crawls, otherwise the union is low."
            if measurable else
            "no exact/near cluster ids in dedup/: overlap not measured, union = sum of crawls (an upper bound)"
        ),
        "overlap_pairs_sampled": {"value": pairs_seen, "unit": "document pairs"},
        "overlap_observed_fraction": observed,
        "overlap_estimated_fraction": estimated,
        "sum_of_crawls": _as_point(t_all.sum(axis=1), "tokens"),
        "union": {"tokens": _as_point(union_replicates(t_all, o_all), "tokens"), "tiers": by_tier},
    }

    def per_crawl(arr: np.ndarray) -> np.ndarray:
        if not crawls:
            return np.zeros((len(arr), 0))
        return np.column_stack([arr[:, _crawl_columns(cells, c)].sum(axis=1) for c in crawls])

    return block, union_replicates(t_all, o_all), per_crawl(t_all), per_crawl(o_all)


def _is_local_file(name: str) -> bool:
    return "://" not in name and Path(name).is_file()


def _census_files(observed: list[str]) -> dict[str, float]:
    """Sizes of the files read, when they may be taken as a census; a plain-words refusal otherwise.

    Without a sampling design only local files that exist here can be a census of themselves. Documents from
    URLs or from files no longer here may be a sample of a crawl, and a census reading would scale nothing up.
    """
    foreign = [f for f in observed if not _is_local_file(f)]
    if foreign:
        raise ValueError(
            f"manifest.json has no sampling design, and {len(foreign)} of the {len(observed)} source files of the "
            f"documents are not local files of this machine (e.g. {foreign[0]!r}): they may be a sample of a crawl, "
            "and estimating them as a census would understate the stock. Run `flows run crawl-sample` (it records "
            "the design in manifest.json) into this run directory, or restore its manifest.json."
        )
    return {f: float(Path(f).stat().st_size) for f in observed}


def _documents_with_design(run_dir: Path, name: str, manifest: dict) -> tuple[pl.DataFrame, list[str], FileDesign]:
    """The run's documents joined to the sampling design's file index (`_file`), nulls named, and the design."""
    frame, dedup_cols = _load(run_dir, f"tokens_{name}")
    sampling = manifest.get("sampling") if isinstance(manifest, dict) else None
    observed = sorted(frame["source_file"].unique().to_list())
    census_of = None if (sampling or {}).get("files") else _census_files(observed)
    design = FileDesign.from_sampling(sampling, observed, census_of=census_of)
    files = pl.DataFrame({"source_file": design.source_file, "_file": np.arange(design.n_files, dtype=np.int64),
                          "_stratum": design.stratum.tolist()}, schema_overrides={"_stratum": pl.String})
    frame = frame.join(files, on="source_file", how="left")
    unmatched = frame.filter(pl.col("_file").is_null())["source_file"].unique()
    if unmatched.len():
        raise ValueError(f"{unmatched.len()} source files are not in manifest sampling.files, e.g. {unmatched[0]!r}")
    frame = frame.drop("source_file").with_columns(
        crawl=pl.col("crawl").fill_null(pl.col("_stratum").str.split(":").list.first()),  # local:take-all → local
        lang=pl.col("lang").fill_null("unknown"),
        tld=pl.col("tld").fill_null("unknown"),
        tier=pl.col("tier").fill_null("unscored"),
    ).drop("_stratum")
    return frame, dedup_cols, design


def _stock_cells(per_file: pl.DataFrame, design: FileDesign, reps: Replicates,
                 name: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """stocks.parquet (one row per crawl × state × tier × lang × tld cell, estimated) and per_file with `_cell`."""
    cells = (
        per_file.group_by(*CELL_KEYS, "dedup_state")
        .agg(pl.col("documents", "tokens", "bytes").sum(), files=pl.col("_file").n_unique().cast(pl.Int64))
        .with_columns(pl.col("dedup_state").replace_strict({s: i for i, s in enumerate(STATES)},
                                                           return_dtype=pl.Int8).alias("_state"))
        .sort("crawl", "_state", "tier", "lang", "tld")
        .with_row_index("_cell")
    )
    per_file = per_file.join(cells.select(*CELL_KEYS, "dedup_state", "_cell"),
                             on=[*CELL_KEYS, "dedup_state"], nulls_equal=True)
    f_idx = per_file["_file"].to_numpy()
    c_idx = per_file["_cell"].to_numpy().astype(np.int64)
    est = {m: estimate_cells(f_idx, c_idx, per_file[m].to_numpy(), cells.height, design, reps)
           for m in ("documents", "tokens", "bytes")}
    stocks = cells.with_columns(
        tokenizer=pl.lit(name),
        est_documents=est["documents"][0], est_tokens=est["tokens"][0], est_bytes=est["bytes"][0],
        est_tokens_ci90_low=est["tokens"][1], est_tokens_ci90_high=est["tokens"][2],
    ).select(list(STOCKS_SCHEMA)).cast(STOCKS_SCHEMA)  # type: ignore[arg-type]
    return stocks, per_file


def _design_block(manifest: dict, design: FileDesign, estimator: str, bootstrap: int, seed: int) -> dict:
    """stocks.json `design`: the strata (manifest metadata with the design's own numbers) and the method."""
    strata_meta = (manifest.get("sampling") or {}).get("strata") or {}
    strata = {h: {**strata_meta.get(h, {}), **d} for h, d in design.describe().items()}
    for meta in strata.values():  # the design's own numbers carry their units in describe()
        if isinstance(meta.get("population_bytes"), (int, float)):
            meta["population_bytes"] = {"value": meta["population_bytes"], "unit": "bytes"}
    return {
        "strata": strata,
        "files_sampled": design.n_files,
        "unit": "files",
        "census_of_files_read": design.census_fallback,
        "estimator": estimator,
        "bootstrap": {"method": "Rao-Wu rescaling bootstrap of files within strata, re-calibrated to the "
                                "strata's file bytes where known", "replicates": bootstrap,
                      "unit": "replicates", "seed": seed,
                      "interval": "percentile (5%, 95%) of replicates widened on the log scale by "
                                  "t(0.95, df) / z(0.95), df by Satterthwaite adjusted for kurtosis"},
        "weights": "1 / (inclusion_prob × record_rate) per file, × X_h / X̂_h where the stratum's bytes X_h "
                   "are known (ratio estimator)",
    }


def build_stocks(
    run_dir: Path, tokenizer: str = DEFAULT_TOKENIZER, seed: int = 0, bootstrap: int = 1000
) -> tuple[pl.DataFrame, dict]:
    """The stocks.parquet frame and the stocks.json dict of a run directory (see `build_stock_tables`)."""
    frame, stocks, _ = build_stock_tables(run_dir, tokenizer, seed, bootstrap)
    return frame, stocks


def build_stock_tables(
    run_dir: Path, tokenizer: str = DEFAULT_TOKENIZER, seed: int = 0, bootstrap: int = 1000
) -> tuple[pl.DataFrame, dict, pl.DataFrame]:
    """The stocks.parquet frame, the stocks.json dict and the supply replicates (stock_replicates.parquet).

    `tokenizer` is the spec given to count_tokens or just its short name (`o200k_base`, `gpt_neox_20b`): only
    the name is needed here, to find the `tokens_<name>` column. A run without a sampling design is refused
    unless its documents come from local files, which are then a census of themselves (said in stocks.json).
    """
    run_dir = Path(run_dir)
    name = tokenizer if re.fullmatch(r"[a-z0-9_]+", tokenizer) else tokenizer_name(tokenizer)
    manifest_path = run_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    frame, dedup_cols, design = _documents_with_design(run_dir, name, manifest)
    frame, kinds, measurable = _dedup_states(frame, dedup_cols)
    states = ["raw", *(["exact_dedup"] if "exact" in kinds else []), "dedup"]
    per_file = _per_file(frame, states)
    reps = replicate_weights(design, bootstrap, seed)
    methods = sorted({design.estimator(h) for h in design.strata()})
    estimator = f"{' and '.join(methods)}; bootstrap over files, B={bootstrap}"
    stocks, per_file = _stock_cells(per_file, design, reps, name)

    crawls = sorted(per_file["crawl"].unique().to_list())
    tiers = _tier_names(per_file.filter(pl.col("dedup_state") == "raw")["tier"].unique().to_list())
    summary = _summary(per_file, design, reps, estimator, states, design.n_files, tiers)

    def crawl_summary(crawl: str) -> dict:
        mine = per_file.filter(pl.col("crawl") == crawl)
        strata = design.stratum[mine["_file"].unique().to_numpy()].tolist()
        return _summary(mine, design, reps, estimator, states, int(np.isin(design.stratum, strata).sum()), tiers)

    cross, union, crawl_totals, crawl_overlaps = _cross_crawl(frame, per_file, design, reps, crawls, measurable)
    supply, replicates = build_supply(
        SupplyInputs(frame, design, reps, crawls, kinds, union, crawl_totals, crawl_overlaps, name, seed,
                     quality=read_quality(run_dir)), tiers)
    design_block = _design_block(manifest, design, estimator, bootstrap, seed)
    result = {
        "unit": "tokens",
        "tokenizer": name,
        "population": (
            f"text documents extracted from all {sum(design.population_files.values())} files of the sampled "
            f"strata ({', '.join(sorted(design_block['strata']))}); tokens counted with {name}"
            + ("; no sampling design in manifest.json: a census of the local files read" if design.census_fallback
               else "")
        ),
        "design": design_block,
        "dedup_kinds": kinds,
        "dedup_scope": ("within crawl, among sampled documents: duplicates whose copies were not sampled are "
                        "not seen, so for sparse file samples 'dedup' is an upper bound (see supply.groups.*."
                        "dedup_survival for the crawl-wide factor)"),
        "tiers": summary["tiers"],
        "total": summary["total"],
        "crawls": {c: crawl_summary(c) for c in crawls},
        "cross_crawl": cross,
        "supply": supply,
        "reference_sizes": REFERENCE_SIZES,
    }
    judged = supply.get("judged_good") or {}
    if judged.get("available"):  # the population it describes: the stock's own, after dedup
        judged["population"] = f"{judged['population']} of {result['population']}"
        judged["sentence"] = judged_good_sentence(judged)
    return stocks, result, replicates


def read_quality(run_dir: Path) -> dict | None:
    """The run's quality.json (scorer, thresholds, agreement table), None when quality-classify wrote none.

    An unreadable file is an error in plain words, not a silent "no labels".
    """
    path = Path(run_dir) / QUALITY_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is not readable JSON ({exc}): re-run quality-classify") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object (what quality-classify writes): re-run quality-classify")
    return data
