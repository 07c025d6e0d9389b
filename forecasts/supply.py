"""The measured supply chain: stocks.json's `supply` block and its bootstrap replicates as joint Monte Carlo inputs.

    usable supply of tier T in group G (all languages "*", or one language)
        = indexed-web stock × lang_share(G) × dedup_survival(G) × share(T | G),
    never below the Common Crawl floor (distinct text across the sampled crawls) × G's share of it.

The measured factors are read per bootstrap replicate from `stock_replicates.parquet`; every Monte Carlo draw
takes one replicate index for all of them (`REPLICATE_STREAM`), so shares of one draw sum to at most 1 and a
cumulative tier ("medium or better") is the sum of its members within the draw. A factor whose replicates do not
vary (one file in a stratum, a cell of zeros, no bootstrap) has unknown, not zero, uncertainty: it is replaced by
a documented wide distribution centred on its estimate (WIDE_*), and listed in `widened` — unless the run is a
census of its strata (every file read), where no spread is the truth.
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

REPLICATE_STREAM = "measured.replicate"  # the Sampler stream whose indices every measured factor shares
WIDE_DIRICHLET_CONCENTRATION = 4.0  # tier shares with no replicate spread: Dirichlet(4 × point shares)
WIDE_LOGIT_HALF_WIDTH = 1.5  # a fraction with no spread: logit-normal, 90% = point's logit ± 1.5
WIDE_FLOOR_FACTOR = 3.0  # the floor with no spread: lognormal, 90% = point ÷/× 3
FALLBACK_REPLICATES = 2000  # replicates generated when the run has none
MAX_PLAUSIBLE_GROWTH = 0.5  # a measured web growth above 50%/yr is crawler coverage, not new text
RECAPTURE_NEW_CONTENT = 0.01  # a later crawl whose new share is below 1% (median) re-captured the same pages
_CRAWL_WEEK = re.compile(r"^CC-MAIN-(\d{4})-(\d{2})$")
_Z90 = 1.6448536269514722


@dataclass
class GroupFactors:
    """One group's measured factors, one value per replicate (index 0 = replicate 1)."""

    group: str  # "*" or a language code
    lang_share: np.ndarray | None  # None for "*" (all languages)
    survival: np.ndarray
    tier_shares: dict[str, np.ndarray]  # base tier -> share of the group's deduplicated tokens
    points: dict[str, float]  # point estimates: "lang_share", "dedup_survival", "share:<tier>"
    documents: int | None
    files: int | None
    survival_scope: str = ""
    widened: list[str] = field(default_factory=list)


@dataclass
class MeasuredSupply:
    replicates: int
    level: float
    groups: dict[str, GroupFactors]
    floor: np.ndarray | None  # tokens, "*": the union of distinct text across the sampled crawls
    floor_info: dict[str, Any]
    growth: np.ndarray | None  # yearly growth factor of the web stock per replicate; None: use the published rate
    growth_info: dict[str, Any]
    small_sample: bool
    warnings: list[str]
    stocks_chain: str
    source: str
    census: bool = False  # every file of every stratum read: the factors have no sampling error
    # "*": share of deduplicated tokens people would judge good, per replicate (sampling x agreement error);
    # None when stocks.json has no labels for the tiers (judged_info says why)
    judged_good: np.ndarray | None = None
    judged_info: dict[str, Any] = field(default_factory=dict)


def _spread(x: np.ndarray) -> float:
    return float(np.max(x) - np.min(x)) if len(x) else 0.0


def _degenerate(x: np.ndarray, point: float) -> bool:
    return len(x) == 0 or _spread(x) <= 1e-9 * max(1.0, abs(point))


def is_census(stocks: Mapping[str, Any]) -> bool:
    """Did the run read every file of every stratum? Then replicates without spread are exact, not unknown."""
    strata = (stocks.get("design") or {}).get("strata") or {}
    return bool(strata) and all(
        isinstance(h, Mapping) and float(h.get("population_files") or 0) > 0
        and float(h.get("sampled_files") or 0) >= float(h.get("population_files") or 0) for h in strata.values())


def _rng(seed: int, what: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(f"measured.fallback.{what}".encode())])


def wide_fraction(point: float, n: int, rng: np.random.Generator, lo: float = 0.02, hi: float = 0.98) -> np.ndarray:
    """A fraction of unknown uncertainty: logit-normal around the (clipped) point, 90% = its logit ± 1.5."""
    p = min(max(point, lo), hi)
    z = np.log(p / (1 - p)) + WIDE_LOGIT_HALF_WIDTH / _Z90 * rng.standard_normal(n)
    return 1.0 / (1.0 + np.exp(-z))


def wide_shares(points: Mapping[str, float], n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Tier shares of unknown uncertainty: Dirichlet(c × point shares), so each draw's shares still sum to theirs."""
    names = [t for t, p in points.items() if p > 0]
    total = sum(points[t] for t in names)
    if not names:
        return {t: np.zeros(n) for t in points}
    g = np.column_stack([rng.gamma(WIDE_DIRICHLET_CONCENTRATION * points[t] / total, size=n) for t in names])
    g *= total / np.maximum(g.sum(axis=1, keepdims=True), 1e-300)
    out = {t: np.zeros(n) for t in points}
    out.update({t: g[:, i] for i, t in enumerate(names)})
    return out


def wide_tokens(point: float, n: int, rng: np.random.Generator) -> np.ndarray:
    return point * np.exp(np.log(WIDE_FLOOR_FACTOR) / _Z90 * rng.standard_normal(n))


def crawl_date(name: str, given: Mapping[str, Any]) -> float | None:
    """Decimal year of a crawl: `measured.crawl_dates` from the scenario, else CC-MAIN-YYYY-WW (ISO week, Monday)."""
    if name in given:
        d = dt.date.fromisoformat(str(given[name]))
    elif m := _CRAWL_WEEK.match(name):
        d = dt.date.fromisocalendar(int(m[1]), int(m[2]), 1)
    else:
        return None
    start = dt.date(d.year, 1, 1)
    return d.year + (d - start).days / (dt.date(d.year + 1, 1, 1) - start).days


def _estimate(block: Any) -> float | None:
    v = block.get("estimate") if isinstance(block, Mapping) else None
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) and v == v else None


def _read_replicates(path: Path) -> tuple[dict[tuple[str, str], np.ndarray], int, dict[tuple[str, str], float]]:
    """{(group, quantity): values for replicates 0..B} from the long table; checks it is complete.

    NaN marks a replicate in which the group holds no tokens (a ratio 0/0): a fraction or share is then 0 (the
    group's supply in that draw is nil, as its product says), a new-content share takes the point estimate (no
    information). The third value is the share of such replicates per (group, quantity).
    """
    if not path.is_file():
        raise ValueError(f"{path} is missing: stocks.json's supply block names it as its replicates file "
                         "(rerun `flows run tally-stocks`)")
    df = pl.read_parquet(path)
    need = {"replicate", "group", "quantity", "value"}
    if need - set(df.columns):
        raise ValueError(f"{path}: needs columns {sorted(need)}, has {df.columns}")
    df = df.select(pl.col("replicate").cast(pl.Int64), pl.col("group").cast(pl.String),
                   pl.col("quantity").cast(pl.String), pl.col("value").cast(pl.Float64))
    bad = df.filter(pl.col("value").is_null() | pl.col("value").is_infinite() | (pl.col("value") < 0))
    if bad.height:
        r = bad.row(0, named=True)
        raise ValueError(f"{path}: {bad.height} values are missing, infinite or negative, e.g. {r['quantity']} of "
                         f"group {r['group']!r} in replicate {r['replicate']}")
    b = int(df["replicate"].max() or 0)
    out: dict[tuple[str, str], np.ndarray] = {}
    nan_share: dict[tuple[str, str], float] = {}
    for (group, quantity), part in df.sort("replicate").group_by(["group", "quantity"], maintain_order=True):
        reps = part["replicate"].to_numpy()
        if len(reps) != b + 1 or not np.array_equal(reps, np.arange(b + 1)):
            raise ValueError(f"{path}: {quantity} of group {group!r} has {len(reps)} rows, expected one per "
                             f"replicate 0..{b}")
        values = part["value"].to_numpy().copy()
        nan = np.isnan(values)
        if nan.any():
            nan_share[(str(group), str(quantity))] = float(nan[1:].mean()) if b else 1.0
            fill = values[0] if str(quantity).startswith("new_content:") and not nan[0] else 0.0
            values[nan] = fill
        out[(str(group), str(quantity))] = values
    return out, b, nan_share


@dataclass
class _Table:
    """The replicates file read back: series per (group, quantity), row 0 the point estimate."""

    table: dict[tuple[str, str], np.ndarray]
    b: int  # replicates drawn from (generated ones where the run has none)
    b_found: int  # replicates the file holds
    census: bool
    path: Path

    def values(self, group: str, quantity: str) -> tuple[float, np.ndarray] | None:
        series = self.table.get((group, quantity))
        if series is None:
            return None
        return float(series[0]), series[1:]

    def unknown(self, reps: np.ndarray, point: float) -> bool:
        """No spread and no census: the variance could not be estimated, so it is unknown, not zero."""
        return not self.census and (self.b_found == 0 or _degenerate(reps, point))


def _nan_warnings(nan_share: Mapping[tuple[str, str], float]) -> list[str]:
    """One line per group whose token-bearing replicates are empty in some draws (they count as zero supply)."""
    out = []
    for group in sorted({g for g, q in nan_share if not q.startswith("new_content:")}):
        worst = max(v for (g, q), v in nan_share.items() if g == group and not q.startswith("new_content:"))
        out.append(f"{'all languages' if group == '*' else group}: {worst:.0%} of the replicates hold no "
                   "tokens of it (zero supply in those draws)")
    return out


def _fraction(t: _Table, group: str, quantity: str, missing: str, seed: int, widened: list[str],
              **wide: float) -> tuple[float, np.ndarray]:
    """A measured fraction's point and replicates, widened (and named in `widened`) when its spread is unknown."""
    found = t.values(group, quantity)
    if found is None:
        raise ValueError(f"{t.path}: no {quantity} replicates for {missing}")
    point, reps = found
    if t.unknown(reps, point):
        widened.append(quantity)
        return point, wide_fraction(point, t.b, _rng(seed, f"{group}.{quantity.removeprefix('dedup_')}"), **wide)
    return point, reps


def _group_factors(t: _Table, group: str, meta: Mapping[str, Any], seed: int,
                   warnings: list[str]) -> GroupFactors:
    """One group's lang share, dedup survival and tier shares per replicate; warns on tiers empty in draws."""
    widened: list[str] = []
    surv_point, surv_r = _fraction(t, group, "dedup_survival", f"group {group!r}", seed, widened, hi=0.98)
    lang, lang_point = None, {}
    if group != "*":
        point, lang = _fraction(t, group, "lang_share", f"language {group!r}", seed, widened, lo=1e-4)
        lang_point = {"lang_share": point}
    share_q = sorted({q.removeprefix("share:") for (gg, q) in t.table if gg == group and q.startswith("share:")})
    if not share_q:
        raise ValueError(f"{t.path}: no share:<tier> replicates for group {group!r}")
    shares = {tier: t.values(group, f"share:{tier}") for tier in share_q}
    points = {tier: v[0] for tier, v in shares.items() if v is not None}
    if any(points[tier] > 0 and t.unknown(shares[tier][1], points[tier])  # type: ignore[index]
           for tier in points):
        tier_shares = wide_shares(points, t.b, _rng(seed, f"{group}.shares"))
        widened.append("tier shares")
    else:
        tier_shares = {tier: shares[tier][1] for tier in points}  # type: ignore[index]
    surv_meta = meta.get("dedup_survival") or {}
    pts = {"dedup_survival": surv_point, **{f"share:{tier}": p for tier, p in points.items()}, **lang_point}
    for tier, pt in points.items():
        if pt > 0 and np.any(tier_shares[tier] <= 0):
            warnings.append(f"{group if group != '*' else 'all languages'}: tier {tier} has no tokens in "
                            f"{np.mean(tier_shares[tier] <= 0):.0%} of the replicates (few sampled files hold it)")
    return GroupFactors(group, lang, surv_r, tier_shares, pts, meta.get("documents"), meta.get("files"),
                        str(surv_meta.get("scope") or ""), widened)


def _floor(t: _Table, supply: Mapping[str, Any], seed: int) -> tuple[np.ndarray | None, dict[str, Any]]:
    """The Common Crawl floor (tokens) per replicate, None when not measured, and its description."""
    floor_block = supply.get("common_crawl_floor") or {}
    floor, floor_info = None, {"unit": "tokens", "population": floor_block.get("population"),
                               "estimate": _estimate(floor_block), "ci90": floor_block.get("ci90")}
    fl = t.values("*", "floor_tokens")
    if fl is not None and fl[0] > 0:
        if t.unknown(fl[1], fl[0]):
            floor = wide_tokens(fl[0], t.b, _rng(seed, "floor"))
            floor_info["widened"] = True
        else:
            floor = fl[1]
    return floor, floor_info


def load_supply(stocks: Mapping[str, Any], run_dir: Path, cfg: Mapping[str, Any], seed: int) -> MeasuredSupply:
    """The measured factors of a stocks.json (its `supply` block and replicates file), ready for joint draws."""
    supply = stocks.get("supply")
    if not isinstance(supply, Mapping) or not isinstance(supply.get("groups"), Mapping):
        raise ValueError("stocks.json has no 'supply' block with 'groups' (the measured factors that "
                         "`flows run tally-stocks` writes); rerun tally-stocks on this run directory")
    if "*" not in supply["groups"]:
        raise ValueError("stocks.json supply.groups has no '*' (all languages) group")
    path = run_dir / str(supply.get("replicates_file") or "stock_replicates.parquet")
    table, b_found, nan_share = _read_replicates(path)
    census = is_census(stocks)
    b = b_found if b_found > 0 else (1 if census else FALLBACK_REPLICATES)
    if b_found == 0 and census:  # no bootstrap needed: every replicate is the point estimate
        table = {k: np.full(2, v[0]) for k, v in table.items()}
    t = _Table(table, b, b_found, census, path)
    warnings = [str(w) for w in (supply.get("warnings") or [])] + _nan_warnings(nan_share)
    groups: dict[str, GroupFactors] = {}
    for group, g in supply["groups"].items():
        group = str(g.get("group", group)) if isinstance(g, Mapping) else str(group)
        groups[group] = _group_factors(t, group, g if isinstance(g, Mapping) else {}, seed, warnings)
    floor, floor_info = _floor(t, supply, seed)
    growth, growth_info = _growth(stocks, supply, table, b, b_found, cfg, seed, warnings, census)
    judged, judged_info = _judged_good(supply, t.values("*", "judged_good_share"), b, t.unknown, seed)
    return MeasuredSupply(b, float(supply.get("level", 0.9)), groups, floor, floor_info, growth, growth_info,
                          bool(supply.get("small_sample", False)), warnings, str(supply.get("chain") or ""),
                          str(path), census, judged, judged_info)


def _judged_good(supply: Mapping[str, Any], series: tuple[float, np.ndarray] | None, b: int, unknown: Any,
                 seed: int) -> tuple[np.ndarray | None, dict[str, Any]]:
    """The judged-good share of deduplicated tokens per replicate (stats/supply.py `judged_good_share`): the tiers'
    shares × each tier's good-token share drawn from its agreement with human labels, so a draw that takes
    replicate r keeps the stock's sampling error and the agreement's error together."""
    block = supply.get("judged_good")
    block = block if isinstance(block, Mapping) else {}
    info: dict[str, Any] = {"available": False}
    if not block.get("available"):
        info["reason"] = str(block.get("reason") or "stocks.json has no judged-good estimate (re-run tally-stocks)")
        return None, info
    if series is None or not series[0] > 0:
        info["reason"] = "stock_replicates.parquet has no judged_good_share replicates (re-run tally-stocks)"
        return None, info
    labels = block.get("labels") or {}
    info = {"available": True, "labels": labels.get("source"), "labelled_documents": labels.get("documents"),
            "unit": "labelled_documents: documents", "note": block.get("note"), "scorer": block.get("scorer")}
    if unknown(series[1], series[0]):
        info["widened"] = True
        return wide_fraction(series[0], b, _rng(seed, "judged_good")), info
    return series[1], info


def _pooled_new_content(order: list[str], dates: Mapping[str, float], table: Mapping[tuple[str, str], np.ndarray],
                        b: int, b_found: int, seed: int, census: bool) -> tuple[np.ndarray, float, dict[str, Any]]:
    """Σ −ln(1 − n_k) per replicate and Σ Δt_k (years) over the dated later crawls that show new pages.

    Also returns, per later crawl, its new-content point, gap and whether it was used (re-captures are not).
    """
    log_growth = np.zeros(b)
    span = 0.0
    per_crawl: dict[str, Any] = {}
    for prev, c in zip(order[:-1], order[1:], strict=True):
        series = table.get(("*", f"new_content:{c}"))
        gap = float(dates[c] - dates[prev])
        if series is None or gap <= 0:
            continue
        point, reps = float(series[0]), series[1:]
        widened = not census and (b_found == 0 or _degenerate(reps, point))
        reps = np.full(b, point) if census and b_found == 0 else reps
        if widened:
            reps = wide_fraction(point, b, _rng(seed, f"new_content.{c}"), lo=1e-3)
        per_crawl[c] = {"new_content": point, "after": prev, "years_after": round(gap, 3), "widened": widened}
        if min(point, float(np.median(reps))) < RECAPTURE_NEW_CONTENT:
            # a re-capture of the pages already seen: a crawler that only revisits cannot see new pages
            per_crawl[c]["used"] = False
            per_crawl[c]["why_not"] = "re-capture of earlier crawls' pages (new content below 1%)"
            continue
        per_crawl[c]["used"] = True
        log_growth += -np.log1p(-np.clip(reps, 0.0, 0.99))
        span += gap
    return log_growth, span, per_crawl


def _growth(stocks: Mapping[str, Any], supply: Mapping[str, Any], table: Mapping[tuple[str, str], np.ndarray],
            b: int, b_found: int, cfg: Mapping[str, Any], seed: int, warnings: list[str],
            census: bool) -> tuple[np.ndarray | None, dict[str, Any]]:
    """Yearly growth factor of the web stock per replicate, from the share of new text in each later crawl.

    A crawl k taken Δt_k years after crawl k−1 whose distinct text is new in a share n_k grew the text seen by
    the crawler by 1/(1 − n_k); pooled over crawls, g = exp(Σ −ln(1 − n_k) / Σ Δt_k) − 1 per year. A crawl
    that re-captures earlier pages (n_k < 1%: its estimate or median) is left out: revisits cannot show new pages.
    Returns (None, why) for one crawl, undated crawls, only re-captures, or an implausible rate (> 50%/yr).
    """
    new = supply.get("new_content") or {}
    crawls = [str(c) for c in ((stocks.get("cross_crawl") or {}).get("crawls") or sorted(stocks.get("crawls") or {}))]
    if not crawls:
        crawls = sorted({q.removeprefix("new_content:") for (_, q) in table if q.startswith("new_content:")})
    info: dict[str, Any] = {"source": "published", "crawls": crawls}
    mode = str(cfg.get("growth", "auto"))
    if mode not in ("auto", "published"):
        raise ValueError(f"measured.growth must be auto or published, got {mode!r}")
    if mode == "published":
        info["reason"] = "the scenario asks for the published rate (measured.growth: published)"
        return None, info
    later = [c for c in crawls if c in new or ("*", f"new_content:{c}") in table]
    if not later:
        info["reason"] = "one crawl: no later crawl to measure new text in"
        return None, info
    dates = {c: crawl_date(c, cfg.get("crawl_dates") or {}) for c in crawls}
    undated = [c for c in crawls if dates[c] is None]
    if undated:
        info["reason"] = (f"crawl names without dates ({', '.join(undated[:3])}): give measured.crawl_dates "
                          "{name: YYYY-MM-DD} in the scenario to measure growth")
        return None, info
    order = sorted(crawls, key=lambda c: dates[c])  # type: ignore[arg-type, return-value]
    log_growth, span, per_crawl = _pooled_new_content(order, dates, table, b, b_found, seed, census)  # type: ignore[arg-type]
    info["per_crawl"] = per_crawl
    if span <= 0:
        info["reason"] = ("the later crawls re-capture the pages of earlier ones (new content below 1%), which "
                          "shows nothing about new pages" if per_crawl else "no later crawl dated after an earlier one")
        return None, info
    factor = np.exp(log_growth / span)
    med = float(np.median(factor) - 1)
    lo, hi = (float(v - 1) for v in np.quantile(factor, [0.05, 0.95]))
    limit = float(cfg.get("max_plausible_growth", MAX_PLAUSIBLE_GROWTH))
    info.update({"per_crawl": per_crawl, "span_years": round(span, 3),
                 "measured_rate": {"estimate": med, "ci90": [lo, hi], "unit": "fraction per year"}})
    if med > limit:
        info["reason"] = (f"measured growth {med:.0%}/yr exceeds {limit:.0%}/yr: the crawls differ by crawler "
                          "coverage more than by new text")
        warnings.append(f"growth: {info['reason']}; the published rate is used")
        return None, info
    info["source"] = "measured"
    return factor, info
