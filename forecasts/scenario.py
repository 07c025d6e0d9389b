"""Scenario YAML -> typed model specification.

A scenario states supply (stock in a base year, growth, usable fraction, repetition) and demand
(historical trend, compute projection, their mixture). Keys at the top level are shared by every
tier and drawn once per run; a tier may override any of them, and then gets its own draws.
`extends: NAME` starts from another scenario (the `measured` scenario reuses epoch2024's demand and
web stock). The `measured:` block turns a stocks.json's measured factors (forecasts.supply) into one tier
per quality level, for all languages and for each measured language.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from forecasts.distributions import Dist, parse_dist
from forecasts.scaling import FLOP_PER_PARAM_TOKEN, R_STAR, TOKENS_PER_PARAM
from forecasts.supply import REPLICATE_STREAM, MeasuredSupply, load_supply
from forecasts.trends import fit_crawl_growth, fit_dataset_trend

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
TIER_KEYS = ("unit", "stock", "usable_fraction", "repetition", "demand")
QUALITY_ORDER = ("high", "medium", "low")


@dataclass(frozen=True)
class Quantity:
    """An uncertain value: the sum of one or more named inputs (one term unless tiers are pooled)."""

    terms: dict[str, Dist]


@dataclass(frozen=True)
class RepetitionSpec:
    model: str  # "none" | "capped" | "muennighoff"
    multiplier: Quantity | None = None  # capped: effective data per unique token
    epochs: Quantity | None = None  # muennighoff: passes over the data
    r_star: float = R_STAR


@dataclass(frozen=True)
class DemandSpec:
    """Dataset size of the largest training run, in the tier's unit, by year."""

    key: str  # name prefix of its inputs; tiers sharing a key share draws
    base_year: float
    w_historical: float
    overtrain: float
    overtrain_applies_to: tuple[str, ...]
    hist_base: Quantity
    hist_growth: Quantity  # orders of magnitude per year
    comp_base_flop: Quantity
    comp_growth: Quantity  # orders of magnitude per year
    slowdown_year: float | None
    slowdown_growth: Quantity | None
    tokens_per_param: float
    flop_per_param_token: float
    unit_factor: float  # tier units per token (e.g. words per token)


@dataclass(frozen=True)
class MeasuredTier:
    """Measured supply of one tier: web stock × lang_share × dedup survival × share, floored (forecasts.supply)."""

    group: str  # "*" (all languages) or a language code
    tier: str  # "high", "medium_or_better", ...
    members: tuple[str, ...]  # the base tiers whose shares it sums
    lang_share: Quantity | None
    survival: Quantity
    share: Quantity
    floor: Quantity | None  # tokens of the group's distinct text in Common Crawl


@dataclass(frozen=True)
class TierSpec:
    name: str
    unit: str
    base_year: float
    factors: tuple[Quantity, ...]
    divisors: tuple[Quantity, ...]
    growth_form: str  # "exponential" (product of yearly factors) | "linear" (rate of the base-year level)
    growth: tuple[Quantity, ...]
    usable_fraction: Quantity | None
    repetition: RepetitionSpec
    demand: DemandSpec
    measured: MeasuredTier | None = None


@dataclass
class Scenario:
    name: str
    title: str
    citation: str
    years: tuple[int, int]
    tiers: dict[str, TierSpec]
    settings: dict[str, Any] = field(default_factory=dict)  # JSON-ready echo for `inputs`


def scenario_path(scenario: str | Path, relative_to: Path | None = None) -> Path:
    """A packaged scenario name (`epoch2024`) or a YAML path."""
    text = str(scenario)
    if isinstance(scenario, str) and "/" not in text and not text.endswith((".yaml", ".yml")):
        path = SCENARIO_DIR / f"{text}.yaml"
        if not path.is_file():
            names = sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
            raise ValueError(f"unknown scenario {text!r}; packaged scenarios: {names}")
        return path
    path = Path(text)
    if not path.is_absolute() and relative_to is not None and not path.is_file():
        path = relative_to / path
    if not path.is_file():
        raise FileNotFoundError(f"scenario file {path} not found")
    return path


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and value.get("replace") is True:  # `replace: true`: the parent's goes
            out[key] = copy.deepcopy({k: v for k, v in value.items() if k != "replace"})
        elif isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_scenario_dict(scenario: str | Path, _seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], Path]:
    """The scenario's YAML with `extends` resolved (child keys win, mappings merge unless they say
    `replace: true`, `tiers` replace)."""
    path = scenario_path(scenario)
    if path in _seen:
        raise ValueError(f"circular 'extends' through {path}")
    with path.open(encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: a scenario must be a YAML mapping")
    parent = raw.pop("extends", None)
    if parent is None:
        return raw, path
    parent_path = scenario_path(parent, relative_to=path.parent)
    base, _ = load_scenario_dict(parent_path, (*_seen, path))
    if "tiers" in raw:
        base.pop("tiers", None)  # tiers are replaced as a whole, never merged
    return _merge(base, raw), path


def _table_path(value: Any, yaml_dir: Path) -> Path | None:
    if value in (None, "default"):
        return None
    path = Path(str(value))
    return path if path.is_absolute() else yaml_dir / path


class _Parser:
    """Turns the merged YAML into specs; runs the trend fits the scenario asks for (seeded)."""

    def __init__(self, raw: dict[str, Any], yaml_dir: Path, seed: int) -> None:
        self.raw = raw
        self.yaml_dir = yaml_dir
        self.seed = seed
        self.fits: dict[str, Any] = {}

    def quantity(self, spec: Any, name: str) -> Quantity:
        if isinstance(spec, Mapping) and "fit" in spec:
            return Quantity({name: self.fit(spec["fit"], name)})
        return Quantity({name: parse_dist(spec, name)})

    def fit(self, spec: Mapping[str, Any], name: str) -> Dist:
        """A bootstrap fit as an empirical input: demand growth (OOM/yr) or crawl growth (rate/yr)."""
        kind = spec.get("kind", "dataset_trend")
        table = _table_path(spec.get("table"), self.yaml_dir)
        n_boot = int(spec.get("bootstrap", 2000))
        if kind == "dataset_trend":
            res = fit_dataset_trend(table, str(spec.get("domain", "Language")), str(spec.get("start", "2010-01-01")),
                                    str(spec.get("end", "2024-01-01")), n_boot, self.seed)
            samples = res.samples
        elif kind == "crawl_growth":
            res = fit_crawl_growth(table, str(spec.get("series", "digests")), str(spec.get("start", "2019-01-01")),
                                   str(spec.get("form", "linear")), float(spec.get("base_year", 2024)), n_boot,
                                   self.seed)
            samples = res.samples
        else:
            raise ValueError(f"{name}: unknown fit kind {kind!r}")
        self.fits[name] = {"kind": kind, **res.describe()}
        return Dist("empirical", 0.0, 0.0, ci=0.95, samples=samples, source=f"bootstrap fit ({kind})")

    def stock(self, spec: Mapping[str, Any], prefix: str) -> dict[str, Any]:
        growth = spec.get("growth") or {}
        form = str(growth.get("form", "exponential"))
        if form == "exponential":
            terms = tuple(self.quantity(v, f"{prefix}.growth.{k}") for k, v in (growth.get("factors") or {}).items())
        elif form == "linear":
            rate = {"fit": growth["fit"]} if "fit" in growth else growth.get("rate", 0.0)
            terms = (self.quantity(rate, f"{prefix}.growth.rate"),)
        else:
            raise ValueError(f"{prefix}.growth.form must be exponential or linear, got {form!r}")
        factors = tuple(self.quantity(v, f"{prefix}.factors.{k}") for k, v in (spec.get("factors") or {}).items())
        if not factors:
            raise ValueError(f"{prefix}: needs at least one factor")
        return {"base_year": float(spec.get("base_year", self.raw.get("years", {}).get("start", 2024))),
                "factors": factors,
                "divisors": tuple(self.quantity(v, f"{prefix}.divisors.{k}")
                                  for k, v in (spec.get("divisors") or {}).items()),
                "growth_form": form, "growth": terms}

    def repetition(self, spec: Any, prefix: str) -> RepetitionSpec:
        if not spec or spec.get("model", "none") == "none":
            return RepetitionSpec("none")
        model = spec["model"]
        if model == "capped":
            return RepetitionSpec("capped", multiplier=self.quantity(spec["multiplier"], f"{prefix}.multiplier"))
        if model == "muennighoff":
            return RepetitionSpec("muennighoff", epochs=self.quantity(spec["epochs"], f"{prefix}.epochs"),
                                  r_star=float(spec.get("r_star", R_STAR)))
        raise ValueError(f"{prefix}.model must be none, capped or muennighoff, got {model!r}")

    def demand(self, spec: Mapping[str, Any], prefix: str) -> DemandSpec:
        hist, comp = spec["historical"], spec["compute"]
        weights = spec.get("weights", {"historical": 0.5, "compute": 0.5})
        w_h, w_c = float(weights.get("historical", 0.0)), float(weights.get("compute", 0.0))
        if w_h < 0 or w_c < 0 or w_h + w_c <= 0:
            raise ValueError(f"{prefix}.weights must be non-negative and not both zero")
        slow = comp.get("slowdown")
        data = comp.get("data") or {}
        applies = tuple(spec.get("overtrain_applies_to", ("historical", "compute")))
        if set(applies) - {"historical", "compute"}:
            raise ValueError(f"{prefix}.overtrain_applies_to: only historical and compute, got {applies}")
        return DemandSpec(
            key=prefix, base_year=float(spec.get("base_year", 2024)), w_historical=w_h / (w_h + w_c),
            overtrain=float(spec.get("overtrain", 1.0)), overtrain_applies_to=applies,
            hist_base=self.quantity(hist["base"], f"{prefix}.historical.base"),
            hist_growth=self.quantity(hist["growth_oom"], f"{prefix}.historical.growth_oom"),
            comp_base_flop=self.quantity(comp["base_flop"], f"{prefix}.compute.base_flop"),
            comp_growth=self.quantity(comp["growth_oom"], f"{prefix}.compute.growth_oom"),
            slowdown_year=None if not slow else float(slow["year"]),
            slowdown_growth=None if not slow else self.quantity(slow["growth_oom"],
                                                                f"{prefix}.compute.slowdown.growth_oom"),
            tokens_per_param=float(data.get("tokens_per_param", TOKENS_PER_PARAM)),
            flop_per_param_token=float(data.get("flop_per_param_token", FLOP_PER_PARAM_TOKEN)),
            unit_factor=float(data.get("unit_factor", 1.0)),
        )

    def tier(self, name: str, spec: Mapping[str, Any], shared: dict[tuple[str, str], Any]) -> TierSpec:
        """A tier's spec; blocks it inherits from the top level are parsed once and shared (same draws)."""
        def pick(key: str) -> tuple[Any, str]:
            return (spec[key], f"tiers.{name}.{key}") if key in spec else (self.raw.get(key), key)

        def once(kind: str, prefix: str, build: Callable[[], Any]) -> Any:
            if (kind, prefix) not in shared:
                shared[(kind, prefix)] = build()
            return shared[(kind, prefix)]

        stock_spec, stock_prefix = pick("stock")
        demand_spec, demand_prefix = pick("demand")
        if stock_spec is None or demand_spec is None:
            raise ValueError(f"tier {name!r}: needs a stock and a demand (its own or the scenario's)")
        stock = once("stock", stock_prefix, lambda: self.stock(stock_spec, stock_prefix))
        demand = once("demand", demand_prefix, lambda: self.demand(demand_spec, demand_prefix))
        frac_spec, frac_prefix = pick("usable_fraction")
        usable = None
        if frac_spec is not None:
            usable = once("frac", frac_prefix, lambda: self.quantity(frac_spec, frac_prefix))
        rep_spec, rep_prefix = pick("repetition")
        repetition = once("rep", rep_prefix, lambda: self.repetition(rep_spec, rep_prefix))
        unit, _ = pick("unit")
        return TierSpec(name=name, unit=str(unit or "tokens"), usable_fraction=usable, repetition=repetition,
                        demand=demand, **stock)


def _apply_overrides(raw: dict[str, Any], overtrain: float | None, epochs: float | None) -> None:
    """--overtrain K scales every demand; --epochs E swaps every repetition model for Muennighoff's."""
    blocks = [raw] + [t for t in (raw.get("tiers") or {}).values() if isinstance(t, dict)]
    if overtrain is not None:
        if overtrain <= 0:
            raise ValueError("overtrain must be positive")
        for block in blocks:
            if isinstance(block.get("demand"), dict):
                block["demand"]["overtrain"] = float(overtrain)
    if epochs is not None:
        if epochs < 1:
            raise ValueError("epochs must be >= 1")
        for block in blocks:
            if block is raw or "repetition" in block:
                block["repetition"] = {"model": "muennighoff", "epochs": float(epochs), "r_star": R_STAR}


JUDGED_GOOD = "judged_good"  # the measured line "judged good by people" (stocks.json supply.judged_good)
MEASURED_KEYS = ("cumulative", "order", "languages", "growth", "crawl_dates", "max_plausible_growth", "floor")
_REMOVED_KEYS = {
    "basis": "a crawl is never the web: the measured factors always scale the indexed-web stock",
    "stock_growth": "growth now comes from the crawls' new content (measured.growth: auto | published)",
    "base_year": "the web stock's base year is the scenario's stock.base_year",
}


def _group_key(group: str) -> str:
    return "all" if group == "*" else group


def _joint(samples: np.ndarray, source: str) -> Dist:
    """A measured factor: its bootstrap replicates, indexed by the draw's shared replicate index."""
    return Dist("empirical", 0.0, 0.0, ci=0.90, samples=np.asarray(samples, dtype=np.float64), source=source,
                joint=REPLICATE_STREAM)


def _measured_options(cfg: Mapping[str, Any], supply: MeasuredSupply) -> tuple[bool, list[str], list[str]]:
    """measured: keys checked, then (cumulative, tier order, languages drawn from supply.groups)."""
    unknown = set(cfg) - set(MEASURED_KEYS)
    for key in sorted(unknown):
        if key in _REMOVED_KEYS:
            raise ValueError(f"measured.{key} is no longer supported: {_REMOVED_KEYS[key]}")
    if unknown:
        raise ValueError(f"measured: unknown keys {sorted(unknown)} (allowed: {MEASURED_KEYS})")
    cumulative = bool(cfg.get("cumulative", True))
    order_cfg = [str(t) for t in cfg.get("order", QUALITY_ORDER)]
    langs_cfg = cfg.get("languages", "auto")
    if langs_cfg == "auto":
        langs = [g for g in supply.groups if g != "*"]
    elif isinstance(langs_cfg, list):
        langs = [str(g) for g in langs_cfg if str(g) in supply.groups and str(g) != "*"]
    else:
        raise ValueError(f"measured.languages must be auto or a list of language codes, got {langs_cfg!r}")
    return cumulative, order_cfg, langs


def _measured_echo(supply: MeasuredSupply, cumulative: bool, order_cfg: list[str], langs: list[str],
                   skipped: dict[str, str], use_floor: bool) -> dict[str, Any]:
    """The forecast's `inputs.measured` echo: where the factors came from and what was widened or skipped."""
    echo = {"stocks_json": None, "replicates_file": supply.source, "replicates": supply.replicates,
            "level": supply.level, "census": supply.census, "cumulative": cumulative, "order": order_cfg,
            "languages": langs, "skipped": skipped, "small_sample": supply.small_sample,
            "warnings": supply.warnings, "stocks_chain": supply.stocks_chain,
            "widened": {_group_key(g): v.widened for g, v in supply.groups.items() if v.widened},
            "floor": {**supply.floor_info, "applied": use_floor}, "growth": supply.growth_info,
            "groups": {g: {"documents": v.documents, "files": v.files, "dedup_survival_scope": v.survival_scope,
                           "widened": v.widened} for g, v in supply.groups.items() if g in ("*", *langs)}}
    if supply.floor_info.get("widened"):
        echo["widened"].setdefault("all", []).append("floor")
    return echo


def _measured_tiers(cfg: Mapping[str, Any], supply: MeasuredSupply) -> tuple[dict[str, MeasuredTier], dict[str, Any]]:
    """One MeasuredTier per (group, tier): all languages first, then each language of supply.groups.

    With `cumulative` (default) the tiers in `order` pool as "X or better" (the sum of member shares within each
    replicate); other tiers (e.g. "unscored") stand alone. A tier whose estimated share is zero is skipped.
    """
    cumulative, order_cfg, langs = _measured_options(cfg, supply)
    use_floor = bool(cfg.get("floor", True)) and supply.floor is not None
    star = supply.groups["*"]
    src = Path(supply.source).name
    out: dict[str, MeasuredTier] = {}
    skipped: dict[str, str] = {}
    for group in ["*", *langs]:
        g = supply.groups[group]
        key = _group_key(group)
        present = [t for t in g.tier_shares if g.points.get(f"share:{t}", 0.0) > 0]
        for t in g.tier_shares:
            if t not in present:
                skipped[f"{key}:{t}"] = "no tokens of this tier in the sample"
        ranked = [t for t in order_cfg if t in present]
        lang = None if g.lang_share is None else Quantity({f"measured.{key}.lang_share": _joint(
            g.lang_share, f"{src}: group {group} lang_share")})
        survival = Quantity({f"measured.{key}.dedup_survival": _joint(
            g.survival, f"{src}: group {group} dedup_survival")})
        floor = None
        if use_floor:
            assert supply.floor is not None
            f = supply.floor if g.lang_share is None else supply.floor * g.lang_share * g.survival / star.survival
            floor = Quantity({f"measured.{key}.floor": _joint(f, f"{src}: Common Crawl floor"
                                                                 + ("" if group == "*" else f" x {group} share"))})
        if group == "*":
            star_q = (survival, floor)  # the same draws for the judged-good line below
        for t in ranked + [t for t in present if t not in ranked]:
            members = tuple(ranked[: ranked.index(t) + 1]) if cumulative and t in ranked else (t,)
            label = t if len(members) == 1 else f"{t}_or_better"
            share = np.sum([g.tier_shares[m] for m in members], axis=0)
            name = label if group == "*" else f"{group}:{label}"
            out[name] = MeasuredTier(group=group, tier=label, members=members, lang_share=lang, survival=survival,
                                     share=Quantity({f"measured.{key}.share.{label}": _joint(
                                         share, f"{src}: group {group} share of " + " + ".join(members))}),
                                     floor=floor)
    echo = _measured_echo(supply, cumulative, order_cfg, langs, skipped, use_floor)
    echo["judged_good"] = supply.judged_info
    if supply.judged_good is not None:  # an extra line: the all-languages supply that people would judge good
        key = _group_key("*")
        out[JUDGED_GOOD] = MeasuredTier(
            group="*", tier=JUDGED_GOOD, members=("judged-good",), lang_share=None,
            survival=star_q[0],
            share=Quantity({f"measured.{key}.share.{JUDGED_GOOD}": _joint(
                supply.judged_good, f"{src}: share of deduplicated tokens people would judge good (tier shares × "
                                    "agreement with human labels)")}),
            floor=star_q[1])
    return out, echo


def _published_growth(raw: Mapping[str, Any]) -> str:
    growth = ((raw.get("stock") or {}).get("growth") or {}).get("factors") or {}
    parts = [str((v or {}).get("source", k)) if isinstance(v, Mapping) else f"{k}: {v}" for k, v in growth.items()]
    return "; ".join(parts) or "the scenario's stock growth"


def _apply_measured(raw: dict[str, Any], path: Path, stocks_path: Path | None,
                    seed: int) -> tuple[dict[str, MeasuredTier], dict[str, Any], Quantity | None]:
    """Reads the stocks.json's supply for a `measured:` scenario and makes its tiers the scenario's tiers.

    Returns the measured tiers, the echo for the forecast's inputs, and the measured growth (None: published).
    """
    if stocks_path is None:
        raise ValueError(f"scenario {raw.get('name', path.stem)!r} needs a stocks.json (stocks_path)")
    stocks_path = Path(stocks_path)
    try:
        stocks = json.loads(stocks_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read {stocks_path}: {exc}") from exc
    cfg = raw.get("measured") or {}
    if not isinstance(cfg, Mapping):
        raise ValueError("measured: must be a mapping")
    if not isinstance(raw.get("stock"), Mapping):
        raise ValueError(f"scenario {raw.get('name', path.stem)!r}: measured needs a web `stock` "
                         "(extends: epoch2024 gives the indexed web)")
    supply = load_supply(stocks, stocks_path.parent, cfg, seed)
    measured, echo = _measured_tiers(cfg, supply)
    echo["stocks_json"] = str(stocks_path)
    echo["population"] = stocks.get("population")
    echo["tokenizer"] = stocks.get("tokenizer")
    growth_q = None
    if supply.growth is None:
        echo["growth"]["published"] = _published_growth(raw)
    else:
        growth_q = Quantity({"measured.growth": _joint(
            supply.growth, f"{Path(supply.source).name}: new content of later crawls, per year")})
    raw.pop("usable_fraction", None)  # replaced by dedup survival x tier share
    raw["tiers"] = {name: {"unit": str(stocks.get("unit", "tokens"))} for name in measured}
    return measured, echo, growth_q


def _parse_tiers(raw: Mapping[str, Any], parser: _Parser, measured: Mapping[str, MeasuredTier],
                 growth_q: Quantity | None) -> dict[str, TierSpec]:
    """The scenario's tiers; a measured tier takes its measured factors (and growth) in place of usable_fraction."""
    shared: dict[tuple[str, str], Any] = {}
    tiers: dict[str, TierSpec] = {}
    for name, spec in (raw.get("tiers") or {}).items():
        spec = dict(spec or {})
        unknown = set(spec) - set(TIER_KEYS)
        if unknown:
            raise ValueError(f"tier {name!r}: unknown keys {sorted(unknown)} (allowed: {TIER_KEYS})")
        if isinstance(spec.get("usable_fraction"), int | float):
            spec["usable_fraction"] = {"value": spec["usable_fraction"]}
        tier = parser.tier(name, spec, shared)
        if name in measured:
            changes: dict[str, Any] = {"measured": measured[name], "usable_fraction": None}
            if growth_q is not None:
                changes.update(growth_form="exponential", growth=(growth_q,))
            tier = TierSpec(**{**tier.__dict__, **changes})
        tiers[name] = tier
    return tiers


def load_scenario(scenario: str | Path, stocks_path: Path | None = None, overtrain: float | None = None,
                  epochs: float | None = None, seed: int = 0) -> Scenario:
    """Parse a scenario (name or path), apply CLI overrides and, for `measured:`, the stocks.json's supply.

    Measured tiers keep the scenario's web stock (epoch2024's unless the YAML gives its own `stock`) and
    replace its `usable_fraction` (quality filtering + dedup) by the measured dedup survival × tier share;
    with two or more dated crawls the measured growth replaces the stock's published growth factors.
    """
    raw, path = load_scenario_dict(scenario)
    measured: dict[str, MeasuredTier] = {}
    echo: dict[str, Any] | None = None
    growth_q: Quantity | None = None
    if "measured" in raw:
        measured, echo, growth_q = _apply_measured(raw, path, stocks_path, seed)
    _apply_overrides(raw, overtrain, epochs)
    parser = _Parser(raw, path.parent, seed)
    tiers = _parse_tiers(raw, parser, measured, growth_q)
    if not tiers:
        raise ValueError(f"{path}: no tiers")
    years = raw.get("years") or {}
    start, end = int(years.get("start", 2024)), int(years.get("end", 2050))
    if end - start < 2:
        raise ValueError("years.end must be at least two years after years.start")
    settings = {"file": str(path), "years": [start, end], "overtrain": overtrain, "epochs": epochs,
                "fits": parser.fits, "structure": _structure(tiers)}
    if echo is not None:
        settings["measured"] = echo
    return Scenario(name=str(raw.get("name", path.stem)), title=str(raw.get("title", "")),
                    citation=str(raw.get("citation", "")), years=(start, end), tiers=tiers, settings=settings)


def _structure(tiers: Mapping[str, TierSpec]) -> dict[str, Any]:
    """The non-random settings of each tier, for the forecast's `inputs` echo."""
    out: dict[str, Any] = {}
    for name, t in tiers.items():
        d = t.demand
        out[name] = {
            "unit": t.unit, "stock_base_year": t.base_year, "stock_growth_form": t.growth_form,
            "stock_inputs": sorted(n for q in (*t.factors, *t.divisors, *t.growth) for n in q.terms),
            "usable_fraction_inputs": sorted(t.usable_fraction.terms) if t.usable_fraction else None,
            **({"measured": {"group": t.measured.group, "tier": t.measured.tier, "members": list(t.measured.members),
                             "inputs": sorted(n for q in (t.measured.lang_share, t.measured.survival,
                                                          t.measured.share, t.measured.floor)
                                              if q is not None for n in q.terms)}} if t.measured else {}),
            "repetition": {"model": t.repetition.model, "r_star": t.repetition.r_star
                           if t.repetition.model == "muennighoff" else None},
            "demand": {"inputs": d.key, "base_year": d.base_year,
                       "weights": {"historical": d.w_historical, "compute": 1.0 - d.w_historical},
                       "overtrain": d.overtrain, "overtrain_applies_to": list(d.overtrain_applies_to),
                       "compute_to_data": {"tokens_per_param": d.tokens_per_param,
                                           "flop_per_param_token": d.flop_per_param_token,
                                           "unit_factor": d.unit_factor},
                       "compute_slowdown_year": d.slowdown_year},
        }
    return out
