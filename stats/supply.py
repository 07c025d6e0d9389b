"""The measured factors of the supply chain, jointly per bootstrap replicate (stocks.json `supply`).

usable supply of tier T = indexed-web stock × within-crawl dedup survival × share of T among deduplicated tokens.
This module measures the last two factors (per language group too), the Common Crawl floor (distinct content
across the sampled crawls) and each later crawl's share of new content, all from one set of replicate weights,
so that the forecast can draw replicate indices and keep the factors' joint distribution. Replicate 0 is the
point estimate. See docs/stocks.md ("The supply block").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from stats.estimators import LEVEL, FileDesign, Replicates, estimate_totals, pair_replicates
from stats.misclassification import agreement_problem, labelled_documents, share_draws

# A language gets its own group with at least this many sampled documents; en and zh get one whenever present.
MIN_LANG_DOCUMENTS = 100
ALWAYS_LANGS = ("en", "zh")
# Small sample: a sampled stratum with fewer files than this (stats.estimators.SMALL_FILES), or fewer documents.
SMALL_DOCUMENTS = 1000
# Crawl-wide duplication is estimated from cross-file pairs only when every stratum's file fraction reaches this.
MIN_FRACTION_CRAWL_WIDE = 0.10
# Lowest within-crawl dedup survival of published pipelines (../shared/reference/pipeline-yields.md): FineWeb's
# per-snapshot MinHash keeps 20T of 36T tokens (0.56); RefinedWeb's exact + fuzzy dedup keeps 11.67% of 23%
# of documents (0.51). Exact digests alone: 1–4% of a crawl's captures share a payload digest (0.96).
SURVIVAL_FLOOR = {"near": 0.50, "exact": 0.96}


@dataclass
class SupplyInputs:
    """What build_stocks hands over: documents with keep flags, the design, replicates and the cross-crawl series."""

    frame: pl.DataFrame  # one row per document: _file, _row, crawl, lang, tier, tokens, keep_dedup, ...
    design: FileDesign
    reps: Replicates
    crawls: list[str]
    kinds: list[str]
    union: np.ndarray  # (1 + B,) distinct deduplicated tokens across crawls (row 0 = point)
    crawl_totals: np.ndarray  # (1 + B, crawls) within-crawl deduplicated tokens
    crawl_overlaps: np.ndarray  # (1 + B, crawls) part of each already in an earlier crawl
    tokenizer: str
    seed: int
    warnings: list[str] = field(default_factory=list)
    # quality.json of the run (scorer, thresholds, agreement table with human labels), None when absent
    quality: dict | None = None


def _interval(series: np.ndarray) -> list[float] | None:
    """Percentile 90% interval of replicates 1..B, widened to contain the point estimate (row 0)."""
    if len(series) < 2 or not np.isfinite(series).all():
        return None
    lo, hi = np.percentile(series[1:], [50 * (1 - LEVEL), 50 * (1 + LEVEL)])
    return [float(min(lo, series[0])), float(max(hi, series[0]))]


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _point(series: np.ndarray, unit: str, **extra: object) -> dict:
    """Estimate (replicate 0) and interval; null where nothing was sampled to measure it (e.g. no tokens)."""
    return {"estimate": _finite(series[0]), "ci90": _interval(series), "unit": unit, **extra}


def _per_file(frame: pl.DataFrame, keep: str | None, tiers: list[str], n_files: int) -> np.ndarray:
    """Tokens per sampled file (files × tiers) of the documents kept by flag `keep` (all when None)."""
    sub = frame if keep is None else frame.filter(pl.col(keep))
    y = np.zeros((n_files, len(tiers)))
    if not sub.height or not tiers:
        return y
    sums = sub.group_by("_file", "tier").agg(pl.col("tokens").sum())
    col = {t: j for j, t in enumerate(tiers)}
    np.add.at(y, (sums["_file"].cast(pl.Int64).to_numpy(),
                  sums["tier"].replace_strict(col, return_dtype=pl.Int64).to_numpy()),
              sums["tokens"].cast(pl.Float64).to_numpy())
    return y


def _totals(y: np.ndarray, inputs: SupplyInputs, key: int) -> np.ndarray:
    """(1 + B, tiers) totals with replicates; an all-zero tier of a stratum gets its rule-of-three spread.

    `key` separates the one-file noise of raw (0) and deduplicated (1) totals, so one file's survival varies.
    """
    parent = np.repeat(y.sum(axis=1, keepdims=True), y.shape[1], axis=1)
    est = estimate_totals(y, inputs.design, inputs.reps, parent=parent, noise_key=key)
    return np.vstack([est.estimate, np.maximum(est.replicates, 0.0)])


def _bounded(kept: np.ndarray, frame: pl.DataFrame, tiers: list[str], inputs: SupplyInputs) -> np.ndarray:
    """The crawl-wide estimate of deduplicated tokens, held within what is known for certain.

    The crawl holds at least the distinct text the sample saw (unweighted), and at most what the sample's own
    dedup leaves (duplicates in unsampled files only lower it). A pair estimate outside these bounds, which the
    subtraction of two noisy totals produces when nearly everything is duplicated, is moved to the nearer one,
    so survival is never an impossible zero with a zero-width interval.
    """
    per_file = _per_file(frame, "keep_dedup", tiers, inputs.design.n_files)
    seen = per_file.sum(axis=0)
    upper = _totals(per_file, inputs, 1)
    return np.minimum(np.maximum(kept, seen[None, :]), np.maximum(upper, seen[None, :]))


def _cross_file_duplicates(frame: pl.DataFrame, tiers: list[str], weights: np.ndarray,
                           design: FileDesign) -> tuple[np.ndarray, int]:
    """HT estimate (1 + B, tiers) of tokens duplicating an earlier copy in another file of the same crawl.

    Each document kept within its file is paired with the nearest earlier sampled copy (by row) in another file
    of its crawl; a pair counts tokens_d / π_de, π_de the joint inclusion of the two files. Exact for a census, unbiased
    when a text has at most two copies in a crawl; with three or more in a sparse sample the removal is
    overstated (survival low). Returns the estimate and the number of sampled pairs.
    """
    out = np.zeros((weights.shape[0], len(tiers)))
    if "keep_file_dedup" not in frame.columns:
        return out, 0
    docs = frame.filter(pl.col("keep_file_dedup")).select("crawl", "_component", "_file", "_row", "tier", "tokens")
    earlier = (
        docs.sort("_row")
        .with_columns(_prev_file=pl.col("_file").shift(1).over("crawl", "_component"))
        .filter(pl.col("_prev_file").is_not_null(), pl.col("_prev_file") != pl.col("_file"))
    )
    # Two distinct files of one stratum are drawn together with probability n(n−1)/(N(N−1)), not (n/N)²:
    # each pair's product weight is corrected by n(N−1)/(N(n−1)) (1 when the stratum is a census).
    factor = np.ones(design.n_files)
    for h, idx in design.strata().items():
        n, big_n = len(idx), design.population_files[h]
        if 1 < n < big_n:
            factor[idx] = n * (big_n - 1) / (big_n * (n - 1))
    for j, t in enumerate(tiers):
        sub = earlier.filter(pl.col("tier") == t)
        if sub.height:
            f_d = sub["_file"].to_numpy()
            out[:, j] = pair_replicates(f_d, sub["_prev_file"].to_numpy(),
                                        sub["tokens"].to_numpy() * factor[f_d], weights)
    return out, earlier.height


@dataclass
class _Plan:
    """How this run measures dedup survival, shared by every language group."""

    weights: np.ndarray  # (1 + B, files): design weights, then replicate weights
    census: bool
    crawl_wide: bool  # cross-file duplicates are estimated (enough files sampled, cluster ids present)
    floor_kind: str  # "near" or "exact": which published survival floor a widened bound reaches down to
    mix: np.ndarray  # (1 + B,) where a widened survival lies in its range, per replicate (0.5 for the point)

    @property
    def low_end(self) -> float:
        return SURVIVAL_FLOOR[self.floor_kind]


def _plan(inputs: SupplyInputs) -> _Plan:
    design = inputs.design
    weights = np.vstack([design.weight, inputs.reps.weights])
    rng = np.random.default_rng([inputs.seed, 16])
    fractions = [len(idx) / design.population_files[h] for h, idx in design.strata().items()]
    census = all(design.is_census(h) for h in design.strata())
    pairs_possible = "keep_file_dedup" in inputs.frame.columns
    crawl_wide = census or (pairs_possible and min(fractions, default=0.0) >= MIN_FRACTION_CRAWL_WIDE)
    return _Plan(weights=weights, census=census, crawl_wide=crawl_wide,
                 floor_kind="near" if "near" in inputs.kinds else "exact",
                 mix=np.concatenate([[0.5], rng.random(weights.shape[0] - 1)]))


def _language_groups(frame: pl.DataFrame, warnings: list[str]) -> list[str]:
    """'*' then every language with enough sampled documents (and en, zh whenever present); warns on small ones."""
    langs = frame.group_by("lang").agg(documents=pl.len()).sort("lang")
    doc_count = dict(zip(langs["lang"].to_list(), langs["documents"].to_list()))
    groups = ["*"] + [g for g in langs["lang"].to_list()
                      if g != "unknown" and (doc_count[g] >= MIN_LANG_DOCUMENTS or g in ALWAYS_LANGS)]
    for g in groups[1:]:
        if doc_count[g] < MIN_LANG_DOCUMENTS:
            warnings.append(f"Language {g} has only {doc_count[g]} sampled documents (fewer than "
                            f"{MIN_LANG_DOCUMENTS}): its factors rest on a small sample.")
    return groups


def _kept_tokens(mine: pl.DataFrame, tiers: list[str], inputs: SupplyInputs,
                 plan: _Plan) -> tuple[np.ndarray, str, str]:
    """Deduplicated tokens (1 + B, tiers) of one group, with the survival's scope and method in words."""
    n_files = inputs.design.n_files
    if plan.crawl_wide and not plan.census:
        kept = _totals(_per_file(mine, "keep_file_dedup", tiers, n_files), inputs, 1)
        dup, pairs = _cross_file_duplicates(mine, tiers, plan.weights, inputs.design)
        return _bounded(kept - dup, mine, tiers, inputs), "crawl-wide", (
            f"within-file dedup minus cross-file duplicates of the crawl estimated from {pairs} sampled pairs "
            "(Horvitz-Thompson for pairs: tokens / joint inclusion of the two files), kept between the distinct "
            "text actually seen and the sample's own dedup")
    kept = _totals(_per_file(mine, "keep_dedup", tiers, n_files), inputs, 1)
    scope = "crawl-wide" if plan.census else "sample upper bound, widened"
    method = ("census: every duplicate of the crawl files read is seen" if plan.census else
              f"duplicates among sampled documents only (an upper bound on survival); the crawl-wide value "
              f"is taken uniformly between it and {plan.low_end:g} ({plan.floor_kind} dedup of published pipelines: "
              "FineWeb, RefinedWeb; pipeline-yields.md), drawn in each replicate")
    return kept, scope, method


def _survival_and_shares(raw_sum: np.ndarray, kept: np.ndarray, scope: str,
                         plan: _Plan) -> tuple[np.ndarray, np.ndarray]:
    """Per replicate: dedup survival (kept / raw tokens, widened when a bound) and each tier's share of kept."""
    kept_sum = kept.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        survival = np.where(raw_sum > 0, kept_sum / np.where(raw_sum > 0, raw_sum, 1.0), np.nan)
        shares = np.where(kept_sum[:, None] > 0, kept / np.where(kept_sum > 0, kept_sum, 1.0)[:, None], np.nan)
    survival = np.clip(survival, 0.0, 1.0)
    if scope == "sample upper bound, widened":
        low_end = plan.low_end
        survival = np.where(survival > low_end, low_end + (survival - low_end) * plan.mix, survival)
    return survival, shares


def _widening(mine: pl.DataFrame, tiers: list[str], inputs: SupplyInputs, plan: _Plan, scope: str,
              raw_sum: np.ndarray, kept_sum: np.ndarray, survival: np.ndarray) -> np.ndarray:
    """How far the measured survival departs from the sample's own (which the cross-crawl union is built on)."""
    sample_kept = kept_sum if scope != "crawl-wide" or plan.census else _totals(
        _per_file(mine, "keep_dedup", tiers, inputs.design.n_files), inputs, 1).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        base = np.where(raw_sum > 0, sample_kept / np.where(raw_sum > 0, raw_sum, 1.0), 0.0)
        return np.where(base > 0, survival / np.where(base > 0, base, 1.0), 1.0)


def _new_content(inputs: SupplyInputs, rows: list[tuple[str, str, np.ndarray]]) -> dict:
    """Each later crawl's fraction of deduplicated tokens not already in an earlier crawl; appends its rows."""
    new_content: dict = {}
    t_k, o_k = inputs.crawl_totals, inputs.crawl_overlaps
    for k, crawl in enumerate(inputs.crawls):
        if k == 0:
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            fresh = np.where(t_k[:, k] > 0, 1.0 - np.minimum(t_k[:, k], o_k[:, k]) / np.where(
                t_k[:, k] > 0, t_k[:, k], 1.0), np.nan)
        rows.append(("*", f"new_content:{crawl}", fresh))
        new_content[crawl] = _point(fresh, "fraction")
    return new_content


def _sample_warnings(inputs: SupplyInputs, out_groups: dict, warnings: list[str]) -> bool:
    """Appends the small-sample, widened-survival and one-crawl warnings; True when the sample is small."""
    design = inputs.design
    small_strata = [h for h in design.strata() if design.small_sample(h)]
    n_docs = inputs.frame.filter(pl.col("keep_dedup")).height
    if small_strata:
        warnings.append(f"Small sample: fewer than 5 files read in {', '.join(small_strata)}; the intervals carry "
                        "a documented, deliberately wide allowance where the data cannot estimate variance.")
    if n_docs < SMALL_DOCUMENTS:
        warnings.append(f"Small sample: {n_docs} deduplicated documents (fewer than {SMALL_DOCUMENTS}).")
    if scope_of(out_groups) != "crawl-wide":
        warnings.append("Dedup survival is the sample's upper bound widened to a published range: the file sample "
                        f"is too sparse (under {MIN_FRACTION_CRAWL_WIDE:.0%} of files, or no cluster ids) to see "
                        "duplicates whose copies lie in unsampled files.")
    if len(inputs.crawls) < 2:
        warnings.append("One crawl: no measured new-content fraction (growth must come from a published rate).")
    return bool(small_strata) or n_docs < SMALL_DOCUMENTS


def _replicates_table(rows: list[tuple[str, str, np.ndarray]], n_rep: int) -> pl.DataFrame:
    """stock_replicates.parquet: one row per (replicate, group, quantity)."""
    return pl.DataFrame(
        [pl.Series("replicate", np.tile(np.arange(n_rep), len(rows)), dtype=pl.Int32),
         pl.Series("group", [g for g, _, _ in rows for _ in range(n_rep)], dtype=pl.String),
         pl.Series("quantity", [q for _, q, _ in rows for _ in range(n_rep)], dtype=pl.String),
         pl.Series("value", np.concatenate([np.asarray(v, dtype=np.float64) for _, _, v in rows]),
                   dtype=pl.Float64)])


def build_supply(inputs: SupplyInputs, tiers: list[str]) -> tuple[dict, pl.DataFrame]:
    """stocks.json's `supply` block and the long-form replicates table (stock_replicates.parquet)."""
    design, frame = inputs.design, inputs.frame
    plan = _plan(inputs)
    n_rep = plan.weights.shape[0]
    warnings = list(inputs.warnings)
    groups = _language_groups(frame, warnings)

    rows: list[tuple[str, str, np.ndarray]] = []
    out_groups: dict = {}
    raw_all: np.ndarray | None = None
    for g in groups:
        mine = frame if g == "*" else frame.filter(pl.col("lang") == g)
        raw_sum = _totals(_per_file(mine, None, tiers, design.n_files), inputs, 0).sum(axis=1)
        kept, scope, method = _kept_tokens(mine, tiers, inputs, plan)
        survival, shares = _survival_and_shares(raw_sum, kept, scope, plan)
        if g == "*":
            raw_all = raw_sum
            lang_share = np.ones(n_rep)
            judged = _judged_good(inputs, tiers, raw_sum * survival, shares, scope)
            if "share" in judged:
                rows.append(("*", "judged_good_share", judged.pop("share")))
            widening = _widening(mine, tiers, inputs, plan, scope, raw_sum, kept.sum(axis=1), survival)
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                lang_share = np.clip(raw_sum / raw_all, 0.0, 1.0)
        rows += [(g, "lang_share", lang_share), (g, "dedup_survival", survival)]
        rows += [(g, f"share:{t}", shares[:, j]) for j, t in enumerate(tiers)]
        out_groups[g] = {
            "lang_share": _finite(lang_share[0]),
            "lang_share_ci90": _interval(lang_share) if g != "*" else [1.0, 1.0],
            "unit": "lang_share: fraction of raw tokens; documents, files: sampled counts",
            "dedup_survival": _point(survival, "fraction", scope=scope, method=method),
            "tier_share": {t: _point(shares[:, j], "fraction of deduplicated tokens") for j, t in enumerate(tiers)},
            "documents": int(mine.height),
            "files": int(mine["_file"].n_unique()),
        }

    # Common Crawl floor: distinct deduplicated text across the sampled crawls, scaled by measured / sample
    # survival, since the union is built on the duplicates the sample saw.
    floor = inputs.union * np.nan_to_num(widening, nan=1.0)
    rows.append(("*", "floor_tokens", floor))
    new_content = _new_content(inputs, rows)
    small = _sample_warnings(inputs, out_groups, warnings)
    supply = {
        "level": LEVEL,
        "replicates_file": "stock_replicates.parquet",
        "replicates": n_rep - 1,
        "unit": "level: fraction; replicates: count",
        "groups": out_groups,
        "group_rule": (f"'*' = all languages; a language with at least {MIN_LANG_DOCUMENTS} sampled documents, "
                       f"and {' and '.join(ALWAYS_LANGS)} whenever present"),
        "common_crawl_floor": _point(floor, "tokens", population=(
            "distinct deduplicated text across the sampled crawls"), tokenizer=inputs.tokenizer),
        "new_content": new_content,
        "small_sample": small,
        "warnings": warnings,
        "judged_good": judged,
    }
    supply["chain"] = chain_sentence(supply, tiers, len(inputs.crawls), inputs.tokenizer)
    supply["judged_good"]["sentence"] = judged_good_sentence(supply["judged_good"])
    return supply, _replicates_table(rows, n_rep)


def judged_good_problem(tiers: list[str], quality: dict | None) -> str | None:
    """Why the run's tiers cannot be turned into tokens people would judge good (None when they can)."""
    if tiers == ["unscored"] or not tiers:
        return "no tiers: quality-classify has not run in this run directory"
    if "unscored" in tiers:
        return "some documents have no tier: quality-classify did not score every documents shard"
    if quality is None:
        return ("no quality.json in the run directory: the scorer and thresholds behind the tiers are unknown "
                "(re-run quality-classify)")
    if quality.get("agreement_applies") is False:
        return str(quality.get("agreement_reason") or "the agreement table does not apply to these tiers")
    return agreement_problem({t: np.zeros(1) for t in tiers}, quality.get("agreement"))


def _judged_good(inputs: SupplyInputs, tiers: list[str], dedup_tokens: np.ndarray, shares: np.ndarray,
                 scope: str) -> dict:
    """supply.judged_good: Σ over tiers of deduplicated tier tokens × that tier's good-token share, per replicate.

    Replicate r pairs bootstrap replicate r of the tier shares and survival with draw r of every tier's share
    from its Beta posterior (stats/misclassification.py), so the interval holds the sampling error of the stock
    and the error of the agreement table. The `share` key (popped by the caller) is the replicate series of the
    judged-good fraction of deduplicated tokens (stock_replicates.parquet quantity `judged_good_share`).
    """
    quality = inputs.quality
    reason = judged_good_problem(tiers, quality)
    if reason is not None:
        return {"available": False, "reason": reason}
    assert quality is not None
    agreement = quality["agreement"]
    rng = np.random.default_rng([inputs.seed, 17])
    good = share_draws(agreement, tiers, shares.shape[0], rng)
    share = np.nansum(np.where(np.isnan(shares), 0.0, shares) * good, axis=1)
    share = np.where(np.isnan(shares).all(axis=1), np.nan, share)
    tokens = dedup_tokens * share
    per_tier = {}
    for j, t in enumerate(tiers):
        row = agreement["tiers"][t]
        per_tier[t] = {**_point(good[:, j], "fraction of the tier's labelled tokens that people judge good"),
                       "labelled": {"documents": int(row["documents"]),
                                    "effective_documents": float(row.get("effective_documents") or row["documents"]),
                                    "unit": "documents"}}
    note = agreement.get("note") or ""
    return {
        **_point(tokens, "tokens", tokenizer=inputs.tokenizer),
        "available": True,
        "population": f"deduplicated tokens ({scope} dedup survival)",
        "share": share,
        "share_of_dedup_tokens": _point(share, "fraction of deduplicated tokens"),
        "replicates_quantity": "judged_good_share",
        "labels": {"source": agreement.get("labels"), "documents": labelled_documents(agreement),
                   "unit": "human-labelled documents", "label_unit": agreement.get("unit")},
        "scorer": quality.get("scorer"),
        "by_tier": per_tier,
        "method": ("per bootstrap replicate: Σ over tiers of deduplicated tier tokens × a draw of the tier's "
                   "good-token share from its Beta posterior (Jeffreys prior; evidence = effective labelled "
                   "documents); 90% interval over replicates, with sampling and agreement error together"),
        "note": ("agreement measured on development labels, so optimistic" + (f" ({note})" if note else "")
                 + "; it assumes the labelled documents of each tier are like that tier's documents in this stock "
                   "(language, kind of page, crawl)"),
    }


def scope_of(groups: dict) -> str:
    return groups["*"]["dedup_survival"]["scope"]


def _num(x: float) -> str:
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.3g}"


def _with_ci(block: dict, fmt=lambda v: f"{v:.2f}") -> str:
    ci = block.get("ci90")
    est = block.get("estimate")
    if est is None or (isinstance(est, float) and math.isnan(est)):
        return "n/a"
    return f"{fmt(est)} [{fmt(ci[0])}, {fmt(ci[1])}]" if ci else fmt(est)


def judged_good_sentence(block: dict) -> str:
    """"tokens people would judge good: X [a, b] (90%, population; agreement measured on N labels)", or why not."""
    if not block.get("available"):
        return f"Tokens people would judge good: not available ({block.get('reason')})."
    labels = block["labels"]
    return (f"Tokens people would judge good: {_with_ci(block, _num)} (90% interval; {block['population']}), "
            f"{_with_ci(block['share_of_dedup_tokens'])} of deduplicated tokens; agreement measured on "
            f"{labels['documents']} development labels ({labels['source']}), so optimistic.")


def chain_sentence(supply: dict, tiers: list[str], n_crawls: int, tokenizer: str) -> str:
    """The measured part of the chain in words, every number with its 90% interval."""
    g = supply["groups"]["*"]
    shares = "; ".join(f"{t} share {_with_ci(g['tier_share'][t])}" for t in tiers)
    floor = supply["common_crawl_floor"]
    return (f"Measured factors, 90% intervals from {supply['replicates']} bootstrap replicates: dedup survival "
            f"{_with_ci(g['dedup_survival'])} ({g['dedup_survival']['scope']}) × share of deduplicated tokens: "
            f"{shares or 'no tiers'}; Common Crawl floor {_with_ci(floor, _num)} tokens ({tokenizer}) of distinct "
            f"deduplicated text across {n_crawls} sampled crawl{'s' if n_crawls != 1 else ''}"
            + (" (small sample)" if supply["small_sample"] else "") + ".")
