"""Vectorised Monte Carlo of stock vs. demand and the year the demand first reaches the stock.

Everything is computed in log10 on a (years x draws) grid. Between grid years both curves are
exponential (or, for linear stock growth, close to it), so the first crossing is found exactly by
linear interpolation of the log gap; the exhaustion year of each draw is therefore a continuous decimal
year (2028.4 = during 2028), and P(exhausted by Y) is the share of draws whose crossing is <= Y.0.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from forecasts.distributions import Sampler
from forecasts.scaling import muennighoff_multiplier
from forecasts.scenario import DemandSpec, Quantity, Scenario, TierSpec, load_scenario
from forecasts.units import si_brief

QUANTILES = {"p2.5": 0.025, "p5": 0.05, "p10": 0.10, "p50": 0.50, "p90": 0.90, "p95": 0.95, "p97.5": 0.975}
YEAR_QUANTILES = {"p5": 0.05, "p10": 0.10, "p50": 0.50, "p90": 0.90, "p95": 0.95}
METHODS = ("historical", "compute")
SENSITIVITY_DRAWS = 10_000
_NEVER = 1e9  # stands in for "not within the horizon" while taking quantiles


@dataclass
class TierDraws:
    """Per-draw paths for one tier, (years x draws) log10 float32 grids, and its exhaustion years."""

    log_raw: np.ndarray
    log_effective: np.ndarray
    log_demand: np.ndarray  # the mixture actually used
    exhaustion: dict[str, np.ndarray]  # "mixture", "historical", "compute" -> decimal year or inf
    log_usable: np.ndarray | None = None  # measured tiers: usable supply before repetition, (years x draws)
    chain: dict[str, np.ndarray] | None = None  # measured tiers: per-draw factors at the first grid year


def _value(q: Quantity, s: Sampler) -> np.ndarray:
    total = np.zeros(s.n)
    for name, dist in q.terms.items():
        total = total + s.draw(name, dist)
    return total


def _log10_positive(x: np.ndarray, what: str) -> np.ndarray:
    if np.any(x <= 0):
        raise ValueError(f"{what} must be positive in every draw (check its distribution)")
    return np.log10(x)


def _outer(per_draw: np.ndarray, per_year: np.ndarray) -> np.ndarray:
    """(years x draws) float32 grid: float32 halves the memory traffic, and 1e-6 relative error in a
    log10 value of ~15 moves a crossing by well under a day."""
    return np.multiply.outer(per_year.astype(np.float32), per_draw.astype(np.float32))


def _log10_share(x: np.ndarray) -> np.ndarray:
    """log10 of a measured fraction; a replicate in which a tier holds nothing gives a stock of ~0 (exhausted)."""
    return np.log10(np.maximum(x, 1e-30))


def _measured(t: TierSpec, s: Sampler, log_web: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """log10 usable supply, (years x draws): web × lang_share × dedup survival, floored, × tier share."""
    m = t.measured
    assert m is not None
    chain: dict[str, np.ndarray] = {"web": 10 ** log_web[0].astype(np.float64)}
    log_f = np.zeros(s.n)
    if m.lang_share is not None:
        chain["lang_share"] = _value(m.lang_share, s)
        log_f += _log10_share(chain["lang_share"])
    chain["dedup_survival"] = _value(m.survival, s)
    log_f += _log10_share(chain["dedup_survival"])
    log_all = log_web + log_f.astype(np.float32)
    if m.floor is not None:  # the web holds at least the distinct text Common Crawl holds (its archive stays)
        chain["floor"] = _value(m.floor, s)
        log_floor = _log10_share(chain["floor"]).astype(np.float32)
        chain["floor_binds"] = log_all[0] < log_floor
        np.maximum(log_all, log_floor, out=log_all)
    chain["share"] = _value(m.share, s)
    log_all += _log10_share(chain["share"]).astype(np.float32)
    chain["usable"] = 10 ** log_all[0].astype(np.float64)
    return log_all, chain


def _stock(t: TierSpec, s: Sampler, years: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict[str, np.ndarray] | None]:
    """log10 raw and effective stock, (years x draws), and for measured tiers the usable supply and its chain."""
    log0 = np.zeros(s.n)
    for q in t.factors:
        log0 += _log10_positive(_value(q, s), "stock factor")
    for q in t.divisors:
        log0 -= _log10_positive(_value(q, s), "stock divisor")
    dt = years - t.base_year
    if t.growth_form == "exponential":
        lg = np.zeros(s.n)
        for q in t.growth:
            lg += _log10_positive(_value(q, s), "growth factor")
        log_raw = _outer(lg, dt)
    else:  # linear: S(t) = S0 (1 + r (t - base)); kept positive when projecting before the base year
        log_raw = _outer(_value(t.growth[0], s), dt)
        log_raw += 1.0
        np.log10(np.maximum(log_raw, 1e-6, out=log_raw), out=log_raw)
    log_raw += log0.astype(np.float32)
    log_usable, chain = _measured(t, s, log_raw) if t.measured is not None else (None, None)
    log_eff = np.zeros(s.n)
    if t.usable_fraction is not None:
        log_eff += _log10_positive(_value(t.usable_fraction, s), "usable fraction")
    rep = t.repetition
    if rep.model == "capped":
        assert rep.multiplier is not None
        log_eff += _log10_positive(_value(rep.multiplier, s), "repetition multiplier")
    elif rep.model == "muennighoff":
        assert rep.epochs is not None
        log_eff += np.log10(muennighoff_multiplier(np.maximum(_value(rep.epochs, s), 1.0), rep.r_star))
    base = log_raw if log_usable is None else log_usable
    return log_raw, base + log_eff.astype(np.float32), log_usable, chain


def _demand(d: DemandSpec, s: Sampler, years: np.ndarray) -> dict[str, np.ndarray]:
    """log10 dataset size of the largest run by method, plus the mixture, (years x draws)."""
    dt = years - d.base_year
    ot = 0.5 * np.log10(d.overtrain)
    hist = _outer(_value(d.hist_growth, s), dt)
    hist += (_log10_positive(_value(d.hist_base, s), "historical base")
             + (ot if "historical" in d.overtrain_applies_to else 0.0)).astype(np.float32)
    if d.slowdown_year is None:
        comp = _outer(_value(d.comp_growth, s), dt)
    else:
        assert d.slowdown_growth is not None
        comp = _outer(_value(d.comp_growth, s), np.minimum(years, d.slowdown_year) - d.base_year)
        comp += _outer(_value(d.slowdown_growth, s), np.maximum(years - d.slowdown_year, 0.0))
    # Chinchilla: D = sqrt(tokens_per_param * C / flop_per_param_token), converted to the tier's unit
    comp += _log10_positive(_value(d.comp_base_flop, s), "compute base").astype(np.float32)
    comp *= 0.5
    comp += np.float32(0.5 * np.log10(d.tokens_per_param / d.flop_per_param_token) + np.log10(d.unit_factor)
                       + (ot if "compute" in d.overtrain_applies_to else 0.0))
    name = f"{d.key}.method"
    # tornado pins the method: 0 = historical trend only, 1 = compute projection only
    use_hist = (np.full(s.n, s.fixed[name] < 0.5) if name in s.fixed
                else s.rng(name).random(s.n) < d.w_historical)
    return {"historical": hist, "compute": comp, "mixture": np.where(use_hist, hist, comp),
            "use_historical": use_hist}


def first_crossing(demand: np.ndarray, stock: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Decimal year at which each draw's demand first reaches its stock; inf if not on the grid.

    Both inputs are (years x draws) log10 grids. Walks the years (contiguous rows) so the first passage
    is exact even when a draw's gap later shrinks again; draws already exhausted at the first grid year
    are extrapolated backwards along the first interval.
    """
    t = np.full(demand.shape[1], np.inf)
    prev = demand[0].astype(np.float64) - stock[0]
    done = prev >= 0
    if done.any():
        slope = (demand[1].astype(np.float64) - stock[1] - prev)[done]
        back = np.divide(prev[done], slope, out=np.zeros_like(slope), where=slope > 0)
        t[done] = years[0] - back * (years[1] - years[0])
    for j in range(1, len(years)):
        cur = demand[j].astype(np.float64) - stock[j]
        new = (cur >= 0) & ~done
        if new.any():
            g0, g1 = prev[new], cur[new]
            t[new] = years[j - 1] + (-g0 / (g1 - g0)) * (years[j] - years[j - 1])
            done |= new
        prev = cur
    return t


def simulate(scn: Scenario, draws: int, seed: int, fixed: Mapping[str, float] | None = None,
             tiers: list[str] | None = None) -> tuple[dict[str, TierDraws], Sampler]:
    """Draw every input once (shared inputs shared across tiers) and project each tier."""
    if draws < 100:
        raise ValueError("draws must be at least 100")
    years = np.arange(scn.years[0], scn.years[1] + 1, dtype=np.float64)
    s = Sampler(draws, seed, fixed)
    demand_cache: dict[int, dict[str, np.ndarray]] = {}
    out: dict[str, TierDraws] = {}
    for name in tiers or list(scn.tiers):
        t = scn.tiers[name]
        log_raw, log_eff, log_usable, chain = _stock(t, s, years)
        if id(t.demand) not in demand_cache:
            demand_cache[id(t.demand)] = _demand(t.demand, s, years)
        dem = demand_cache[id(t.demand)]
        ex = {m: first_crossing(dem[m], log_eff, years) for m in METHODS}
        ex["mixture"] = np.where(dem["use_historical"], ex["historical"], ex["compute"])
        out[name] = TierDraws(log_raw, log_eff, dem["mixture"], ex, log_usable, chain)
    return out, s


def _sig(x: float, digits: int = 5) -> float:
    return float(f"{x:.{digits}g}")


def _sorted_quantiles(sorted_x: np.ndarray, qs: list[float]) -> np.ndarray:
    """Linear-interpolated quantiles (NumPy's default method) of data sorted along its last axis.

    Sorting once and indexing is several times faster than np.quantile over the draws.
    """
    n = sorted_x.shape[-1]
    pos = np.asarray(qs) * (n - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    a, b = sorted_x[..., lo].astype(np.float64), sorted_x[..., hi].astype(np.float64)
    return a + (pos - lo) * (b - a)


def year_quantiles(t: np.ndarray, horizon: float, qs: Mapping[str, float] = YEAR_QUANTILES,
                   start: float | None = None) -> dict[str, float | None]:
    """Quantiles of exhaustion years; None where the quantile lies beyond the horizon (or never) and, given
    `start`, where it lies at or before the start year: those draws were already exhausted (see `_answer`),
    and a date in the past would read as a forecast."""
    vals = _sorted_quantiles(np.sort(np.where(np.isfinite(t), t, _NEVER)), list(qs.values()))
    return {k: (round(float(v), 2) if v <= horizon and (start is None or v > start) else None)
            for k, v in zip(qs, vals, strict=True)}


def _frac(x: float) -> str:
    return f"{x:.2g}" if x < 0.01 else f"{x:.2f}"


def _ci90(x: np.ndarray, fmt: Callable[[float], str]) -> tuple[dict[str, Any], str]:
    """Median and 90% interval of per-draw values: a JSON block and 'm [lo, hi]'."""
    lo, med, hi = (float(v) for v in np.quantile(x, [0.05, 0.5, 0.95]))
    return {"median": _sig(med, 4), "ci90": [_sig(lo, 4), _sig(hi, 4)]}, f"{fmt(med)} [{fmt(lo)}, {fmt(hi)}]"


def _answer(t: np.ndarray, start: int, horizon: int) -> dict[str, Any]:
    """The exhaustion result in words and numbers: median and 80% interval, never a date before `start`."""
    q = year_quantiles(t, horizon, {"p10": 0.1, "p50": 0.5, "p90": 0.9}, start=start)
    p_already = float(np.mean(t <= start))
    p_never = float(np.mean(~np.isfinite(t)))

    def word(key: str, prob: float) -> str:
        v = q[key]
        if v is not None:
            return f"{v:.1f}"
        return f"already exhausted by {start}" if prob <= p_already else f"not by {horizon}"

    median = word("p50", 0.5)
    text = (f"median {median}" if q["p50"] is not None else median.capitalize()) + \
        f" (ci80: {word('p10', 0.1)} to {word('p90', 0.9)})"
    if p_already >= 0.005:
        text += f"; P(already exhausted by {start}) = {p_already:.2f}"
    if p_never >= 0.005:
        text += f"; P(not within the horizon, {horizon}) = {p_never:.2f}"
    return {"p_not_within_horizon": round(p_never, 4),
            "already_exhausted": {"by": start, "probability": round(p_already, 4)},
            "answer": {"median": q["p50"], "ci80": [q["p10"], q["p90"]], "text": text}}


def _chain(tier: str, d: TierDraws, spec: TierSpec, year: int, unit: str) -> dict[str, Any]:
    """The measured chain of one tier at the first grid year, per-draw medians with 90% intervals, and in words."""
    c = d.chain
    m = spec.measured
    assert c is not None and m is not None
    out: dict[str, Any] = {"year": year, "unit": unit, "level": "ci90", "members": list(m.members)}
    words = []
    out["web"], w = _ci90(c["web"], si_brief)
    words.append(f"web {w}")
    if "lang_share" in c:
        out["lang_share"], w = _ci90(c["lang_share"], _frac)
        words.append(f"{m.group} share {w}")
    out["dedup_survival"], w = _ci90(c["dedup_survival"], _frac)
    words.append(f"dedup survival {w}")
    out["tier_share"], w = _ci90(c["share"], _frac)
    words.append(f"{' + '.join(m.members)} share {w}")
    out["usable"], w = _ci90(c["usable"], si_brief)
    text = " × ".join(words) + f" = {w} {unit} in {year}"
    if "floor" in c:
        out["floor"], w = _ci90(c["floor"], si_brief)
        out["floor"]["p_binds"] = round(float(np.mean(c["floor_binds"])), 4)
        text += (f"; Common Crawl floor {w}" + (" (× this language's share)" if m.group != "*" else "")
                 + f", lifts the supply in {out['floor']['p_binds']:.1%} of draws")
    out["text"] = f"{tier}: {text} (medians [90% intervals])"
    return out


def _band(log_x: np.ndarray, years: np.ndarray) -> dict[str, dict[str, float]]:
    """Per-year quantiles of a (years x draws) log10 grid, back in natural units."""
    q = _sorted_quantiles(np.sort(log_x, axis=1), list(QUANTILES.values()))
    return {str(int(y)): {k: _sig(10 ** q[j, i]) for i, k in enumerate(QUANTILES)} for j, y in enumerate(years)}


def _p_by(t: np.ndarray, years: np.ndarray) -> dict[str, float]:
    share = np.searchsorted(np.sort(t), years, side="right") / len(t)
    return {str(int(y)): round(float(p), 4) for y, p in zip(years, share, strict=True)}


_WORDS = {"growth_oom": "growth (OOM/yr)", "base_flop": "at base year (FLOP)", "base": "size at base year",
          "factors": "", "divisors": "", "stock": "stock:", "demand": "demand:", "measured": "measured:",
          "fraction_of_tokens": "share of dedup tokens,", "tokens_raw": "raw tokens,"}


def _label(name: str) -> str:
    """'demand.historical.growth_oom' -> 'demand: historical growth (OOM/yr)' for chart labels."""
    parts = name.split(".")
    tier = ""
    if parts[0] == "tiers" and len(parts) > 2:
        tier, parts = f"[{parts[1]}] ", parts[2:]
    words = [_WORDS.get(p, p.replace("_", " ")) for p in parts]
    return tier + " ".join(w for w in words if w)


def main_tiers(scn: Scenario) -> list[str]:
    """The scenario's tiers without the per-language ones (which go to forecast.json's `languages`)."""
    return [n for n, t in scn.tiers.items() if t.measured is None or t.measured.group == "*"]


def sensitivity(scn: Scenario, draws: int = SENSITIVITY_DRAWS, seed: int = 0) -> dict[str, Any]:
    """Tornado data: the median exhaustion year with each input pinned at each end of its interval.

    Other inputs keep their random draws (common random numbers), so each swing is the effect of that
    input alone. The demand method (historical trend vs compute projection) is swung the same way. A measured
    factor is pinned at the 5% or 95% point of its replicates while the other factors keep their joint draws.
    Per-language tiers are left out (their inputs are the same kind as the all-languages tiers').
    """
    horizon, start = float(scn.years[1]), float(scn.years[0])
    main = main_tiers(scn)
    base, sampler = simulate(scn, draws, seed, tiers=main)
    base_p50 = {t: year_quantiles(d.exhaustion["mixture"], horizon, {"p50": 0.5}, start)["p50"]
                for t, d in base.items()}
    cases: list[tuple[str, str, Any, Any, dict[str, float], dict[str, float]]] = []
    for name, dist in sampler.registry.items():
        if dist.is_constant:
            continue
        lo, hi = dist.interval()
        cases.append((name, _label(name), lo, hi, {name: lo}, {name: hi}))
    for key in sorted({scn.tiers[t].demand.key for t in main}):
        name = f"{key}.method"
        cases.append((name, "demand method (historical trend vs compute projection)", "historical", "compute",
                      {name: 0.0}, {name: 1.0}))
    reach = {t: {*simulate(scn, 100, seed, tiers=[t])[1].registry, f"{scn.tiers[t].demand.key}.method"}
             for t in main}
    rows: dict[str, list[dict[str, Any]]] = {t: [] for t in main}
    for name, label, lo, hi, fix_lo, fix_hi in cases:
        reached = [t for t in main if name in reach[t]]
        runs = [simulate(scn, draws, seed, fixed=f, tiers=reached)[0] for f in (fix_lo, fix_hi)]
        for tier in reached:
            p_lo, p_hi = (year_quantiles(r[tier].exhaustion["mixture"], horizon, {"p50": 0.5}, start)["p50"]
                          for r in runs)
            swing = None if p_lo is None or p_hi is None else round(abs(p_hi - p_lo), 2)
            rows[tier].append({"input": name, "label": label, "low": lo, "high": hi,
                               "p50_at_low": p_lo, "p50_at_high": p_hi, "swing_years": swing})
    for tier_rows in rows.values():
        tier_rows.sort(key=lambda r: (r["swing_years"] is None, -(r["swing_years"] or 0.0)))
    return {"draws": draws, "seed": seed, "measure": "median exhaustion year (decimal year)",
            "baseline_p50": base_p50, "tiers": rows}


def _tier_result(name: str, d: TierDraws, spec: TierSpec, years: np.ndarray, start: int, horizon: int,
                 bands: bool) -> dict[str, Any]:
    mix = d.exhaustion["mixture"]
    out: dict[str, Any] = {}
    if bands:
        out["stock"] = {"raw": _band(d.log_raw, years), "effective": _band(d.log_effective, years)}
        if d.log_usable is not None:
            out["stock"]["usable"] = _band(d.log_usable, years)
    out["exhaustion_year"] = year_quantiles(mix, horizon, {"p10": 0.1, "p50": 0.5, "p90": 0.9}, start)
    out["p_exhausted_by"] = _p_by(mix, years)
    out.update(_answer(mix, start, horizon))
    if d.chain is not None:
        out["supply"] = _chain(name, d, spec, start, spec.unit)
    return out


def _supply_block(scn: Scenario, results: Mapping[str, Any]) -> dict[str, Any]:
    """forecast.json's `supply`: the chain of every all-languages tier in words, the floor, growth and warnings."""
    echo = scn.settings["measured"]
    growth = echo["growth"]
    if growth.get("source") == "measured":
        rate = growth["measured_rate"]
        used = sum(1 for c in growth["per_crawl"].values() if c.get("used"))
        g_text = (f"web stock growth measured from the text new to the crawler in {used} later crawl(s) over "
                  f"{growth['span_years']:.2f} years: {rate['estimate']:.1%}/yr "
                  f"[{rate['ci90'][0]:.1%}, {rate['ci90'][1]:.1%}] (median [90% interval])")
    else:
        g_text = (f"web stock growth: published rate ({growth.get('published', 'the scenario stock growth')}), "
                  f"because {growth.get('reason', 'no measured growth')}")
    lines = [r["supply"]["text"] for r in results.values() if "supply" in r]
    flags = []
    if echo["small_sample"]:
        flags.append("small sample: the measured factors rest on few files (see stocks.json supply.warnings)")
    for group, what in echo["widened"].items():
        flags.append(f"{group}: {', '.join(what)} had no replicate spread; a deliberately wide range was used "
                     "(docs/forecast.md, measured scenario, 'Unknown uncertainty')")
    return {"level": "ci90", "text": "; ".join(lines), "chain": {t: r["supply"]["text"] for t, r in results.items()
                                                                  if "supply" in r},
            "growth": {**growth, "text": g_text}, "floor": echo["floor"], "small_sample": echo["small_sample"],
            "warnings": [*echo["warnings"], *flags], "replicates": echo["replicates"], "census": echo["census"],
            "stocks_chain": echo["stocks_chain"], "judged_good": echo.get("judged_good"),
            "replaces": "measured dedup survival × tier share replace epoch2024's usable fraction (quality "
                        "filtering + dedup); web stock, repetition multiplier and demand stay epoch2024's"}


def summarize(scn: Scenario, sims: Mapping[str, TierDraws], sampler: Sampler, draws: int, seed: int,
              elapsed_s: float) -> dict[str, Any]:
    """The forecast.json structure (see docs/forecast.md)."""
    years = np.arange(scn.years[0], scn.years[1] + 1, dtype=np.float64)
    start, horizon = int(scn.years[0]), int(scn.years[1])
    tiers: dict[str, Any] = {}
    languages: dict[str, Any] = {}
    exhaustion: dict[str, Any] = {}
    demand_bands: dict[int, dict[str, dict[str, float]]] = {}  # tiers sharing a demand share its band
    for name, d in sims.items():
        spec = scn.tiers[name]
        if spec.measured is not None and spec.measured.group != "*":
            lang = languages.setdefault(spec.measured.group, {"tiers": {}})
            lang["tiers"][spec.measured.tier] = _tier_result(name, d, spec, years, start, horizon, bands=False)
            continue
        if id(d.log_demand) not in demand_bands:
            demand_bands[id(d.log_demand)] = _band(d.log_demand, years)
        res = _tier_result(name, d, spec, years, start, horizon, bands=True)
        res["demand"] = demand_bands[id(d.log_demand)]
        tiers[name] = {k: res[k] for k in ("stock", "demand", "exhaustion_year", "p_exhausted_by",
                                           "p_not_within_horizon", "already_exhausted", "answer", "supply")
                       if k in res}
        exhaustion[name] = {m: {**year_quantiles(d.exhaustion[m], horizon, start=start),
                                "p_not_within_horizon": round(float(np.mean(~np.isfinite(d.exhaustion[m]))), 4)}
                            for m in ("mixture", *METHODS)}
    units = {name: t.unit for name, t in scn.tiers.items() if name in tiers}
    inputs = {
        "title": scn.title, "citation": scn.citation, **scn.settings,
        "units": {"stock": units, "demand": units,
                  "exhaustion_year": f"decimal calendar year (2028.4 = during 2028); null at or before "
                                     f"{start} (see already_exhausted) and after {horizon} (see "
                                     "p_not_within_horizon)",
                  "exhaustion_interval": "exhaustion_year p10-p90 = ci80 (80% of draws)",
                  "p_exhausted_by": "probability that demand has reached the effective stock by 1 January of YEAR",
                  "quantity_keys": "YEAR -> quantiles p2.5..p97.5 of the Monte Carlo draws at 1 January of YEAR",
                  "supply": "tokens at 1 January of the start year; median and ci90 (5%-95% of draws)"},
        "distributions": {n: d.describe() for n, d in sorted(sampler.registry.items())},
        "draws": draws, "seed": seed,
    }
    out: dict[str, Any] = {"scenario": scn.name, "tiers": tiers}
    if "measured" in scn.settings:
        out["supply"] = _supply_block(scn, tiers)
        groups = scn.settings["measured"].get("groups") or {}
        for lang, block in languages.items():
            block.update(groups.get(lang) or {})
            block["chain"] = {t: r["supply"]["text"] for t, r in block["tiers"].items()}
        out["languages"] = languages
    out.update({"inputs": inputs, "exhaustion": exhaustion,
                "meta": {"years": [int(y) for y in years], "horizon": horizon, "draws": draws, "seed": seed,
                         "elapsed_s": round(elapsed_s, 3)}})
    return out


def run_forecast(scenario: str | Path, stocks_path: Path | None = None, overtrain: float | None = None,
                 epochs: float | None = None, draws: int = 100_000, seed: int = 0, *,
                 with_sensitivity: bool = True, with_comparison: bool = False,
                 with_languages: bool = True) -> dict[str, Any]:
    """Run one scenario: forecast.json's dict, plus `exhaustion` (per demand method) and `sensitivity`.

    scenario: packaged name (epoch2024, epoch2022, measured) or a YAML path. stocks_path: the run's
    stocks.json, required by `measured`. overtrain: k-fold overtraining (demand x sqrt(k)). epochs:
    repeat the data this many times, valued with Muennighoff et al.'s formula (replaces the scenario's
    repetition model). with_comparison: add `comparison` = compare_scenarios(...) with the default
    variants (at most 20,000 draws each), which the report draws side by side. Seeded: the same
    arguments give the same numbers. with_languages: also the per-language tiers of a measured scenario
    (forecast.json's `languages`).
    """
    scn = load_scenario(scenario, stocks_path=stocks_path, overtrain=overtrain, epochs=epochs, seed=seed)
    start = time.perf_counter()
    sims, sampler = simulate(scn, draws, seed, tiers=None if with_languages else main_tiers(scn))
    result = summarize(scn, sims, sampler, draws, seed, 0.0)
    result["meta"]["elapsed_s"] = round(time.perf_counter() - start, 3)  # Monte Carlo + summaries
    if with_sensitivity:
        result["sensitivity"] = sensitivity(scn, min(draws, SENSITIVITY_DRAWS), seed)
    if with_comparison:
        result["comparison"] = compare_scenarios(scenario, stocks_path=stocks_path, draws=min(draws, 20_000),
                                                 seed=seed)
    return result


DEFAULT_VARIANTS: dict[str, dict[str, float | None]] = {
    "Chinchilla-optimal": {"overtrain": None, "epochs": None},
    "5x overtraining": {"overtrain": 5.0, "epochs": None},
    "100x overtraining": {"overtrain": 100.0, "epochs": None},
    "1 epoch (no repetition)": {"overtrain": None, "epochs": 1.0},
    "4 epochs (Muennighoff)": {"overtrain": None, "epochs": 4.0},
}


def compare_scenarios(scenario: str | Path, variants: Mapping[str, Mapping[str, float | None]] | None = None,
                      stocks_path: Path | None = None, draws: int = 100_000, seed: int = 0) -> dict[str, Any]:
    """The same scenario under several overtraining / repetition settings, side by side.

    Returns {"scenario", "variants": {label: {"overtrain", "epochs", "tiers": {tier: {"exhaustion_year",
    "p_exhausted_by"}}}}}; `charts.scenario_comparison` draws it.
    """
    out: dict[str, Any] = {"scenario": None, "variants": {}}
    for label, v in (variants or DEFAULT_VARIANTS).items():
        res = run_forecast(scenario, stocks_path, v.get("overtrain"), v.get("epochs"), draws, seed,
                           with_sensitivity=False, with_languages=False)
        out["scenario"] = res["scenario"]
        out["variants"][label] = {
            "overtrain": v.get("overtrain"), "epochs": v.get("epochs"),
            "tiers": {t: {"exhaustion_year": r["exhaustion_year"], "p_exhausted_by": r["p_exhausted_by"]}
                      for t, r in res["tiers"].items()},
        }
    return out
