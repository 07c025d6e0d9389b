"""Uncertain inputs: YAML specs -> seeded NumPy samples.

Every input is stated the way the papers state it, as an interval with a credibility level
("LN95(75e9, 1e12)"), so the same spec drives the Monte Carlo draws and the sensitivity
analysis (which pins an input at the two ends of that interval).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

KINDS = ("lognormal", "normal", "constant", "empirical", "mixture")
COMPONENT_KINDS = ("lognormal", "normal")


def z_score(ci: float) -> float:
    """Two-sided normal quantile for a central interval of probability `ci`."""
    if not 0.0 < ci < 1.0:
        raise ValueError(f"credibility must be in (0, 1), got {ci}")
    return NormalDist().inv_cdf(0.5 + ci / 2.0)


@dataclass(frozen=True)
class Dist:
    """One uncertain input.

    lognormal/normal: `low`, `high` are the central `ci` interval of the underlying variable X;
    the value used is `reflect - X` when `reflect` is set (bytes per token = 6 - LN95(1, 4)), clipped
    at `cap` (Muennighoff's repetition gain saturates) and at `floor` (a reflected lognormal has a tail
    below zero; a token holds at least a byte). empirical: bootstrap samples. mixture: weighted
    lognormal/normal `components` (Squiggle's `mx()`, how the 2022 paper pools its sub-model estimates of
    a stock); `low`/`high` are then its central `ci` interval, computed from the components. An empirical
    input with `joint` set draws its sample indices from that shared stream, so inputs whose samples are
    rows of one bootstrap (same length, same `joint`) take the same row in every draw.
    """

    kind: str
    low: float
    high: float
    ci: float = 0.95
    reflect: float | None = None
    cap: float | None = None
    floor: float | None = None
    samples: np.ndarray | None = field(default=None, repr=False, compare=False)
    source: str = ""
    components: tuple[tuple[float, Dist], ...] = ()  # mixture: (weight, lognormal|normal Dist), weights sum to 1
    joint: str = ""  # empirical: name of the stream whose indices it shares (measured factors, one replicate a draw)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown distribution kind {self.kind!r} (expected one of {KINDS})")
        if self.kind == "lognormal" and not 0 < self.low <= self.high:
            raise ValueError(f"lognormal needs 0 < low <= high, got {self.low}, {self.high}")
        if self.kind == "normal" and self.low > self.high:
            raise ValueError(f"normal needs low <= high, got {self.low}, {self.high}")
        if self.kind == "empirical" and (self.samples is None or len(self.samples) == 0):
            raise ValueError("empirical distribution needs samples")
        if self.kind == "mixture":
            if not self.components or any(w <= 0 for w, _ in self.components):
                raise ValueError("mixture needs components with positive weights")
            if abs(sum(w for w, _ in self.components) - 1.0) > 1e-9:
                raise ValueError("mixture weights must sum to 1")
            if any(c.kind not in COMPONENT_KINDS or c.reflect is not None or c.cap is not None
                   or c.floor is not None for _, c in self.components):
                raise ValueError(f"mixture components must be plain {' or '.join(COMPONENT_KINDS)} distributions")

    @property
    def is_constant(self) -> bool:
        return self.kind == "constant" or (self.kind != "empirical" and self.low == self.high)

    def _finish(self, x: np.ndarray) -> np.ndarray:
        if self.reflect is not None:
            x = self.reflect - x
        if self.cap is not None:
            x = np.minimum(x, self.cap)
        if self.floor is not None:
            x = np.maximum(x, self.floor)
        return x

    def _mu_sigma(self) -> tuple[float, float]:
        """Location and scale of the underlying normal (of ln X for a lognormal)."""
        lo, hi = (np.log(self.low), np.log(self.high)) if self.kind == "lognormal" else (self.low, self.high)
        return 0.5 * (lo + hi), (hi - lo) / (2.0 * z_score(self.ci))

    def _from_z(self, z: np.ndarray) -> np.ndarray:
        mu, sigma = self._mu_sigma()
        x = mu + sigma * z
        return np.exp(x) if self.kind == "lognormal" else x

    def _cdf(self, x: float) -> float:
        """CDF of a plain lognormal/normal (before reflect/cap/floor)."""
        if self.kind == "lognormal" and x <= 0:
            return 0.0
        mu, sigma = self._mu_sigma()
        v = float(np.log(x)) if self.kind == "lognormal" else x
        if sigma == 0:
            return float(v >= mu)
        return NormalDist(mu, sigma).cdf(v)

    def quantile(self, p: float) -> float:
        """Quantile of the underlying variable (before reflect/cap/floor); mixtures by bisection of the CDF."""
        if self.kind == "mixture":
            parts = [c.quantile(p) for _, c in self.components]
            lo, hi = min(parts), max(parts)  # the mixture's p-quantile lies between its components'
            for _ in range(200):
                mid = 0.5 * (lo + hi)
                if sum(w * c._cdf(mid) for w, c in self.components) < p:
                    lo = mid
                else:
                    hi = mid
            return 0.5 * (lo + hi)
        if self.kind in COMPONENT_KINDS:
            return float(self._from_z(np.array([NormalDist().inv_cdf(p)]))[0])
        raise ValueError(f"quantile is not defined for a {self.kind} distribution")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """`n` draws in value space (after reflect and cap)."""
        if self.kind == "constant":
            return self._finish(np.full(n, self.low, dtype=np.float64))
        if self.kind == "empirical":
            assert self.samples is not None
            return self._finish(self.samples[rng.integers(0, len(self.samples), n)].astype(np.float64))
        z = rng.standard_normal(n)
        if self.kind == "mixture":  # each draw takes one component; every component sees the same z
            which = np.searchsorted(np.cumsum([w for w, _ in self.components])[:-1], rng.random(n), side="right")
            x = np.empty(n)
            for k, (_, c) in enumerate(self.components):
                x[which == k] = c._from_z(z[which == k])
            return self._finish(x)
        return self._finish(self._from_z(z))

    def interval(self) -> tuple[float, float]:
        """The stated interval in value space, ordered (low, high); what the tornado swings across."""
        if self.kind == "empirical":
            assert self.samples is not None
            tail = (1.0 - self.ci) / 2.0
            lo, hi = np.quantile(self.samples, [tail, 1.0 - tail])
        else:  # a mixture's low/high are its central-interval quantiles (set by _parse_mixture)
            lo, hi = self.low, self.high
        ends = self._finish(np.array([lo, hi], dtype=np.float64))
        return float(ends.min()), float(ends.max())

    def median(self) -> float:
        if self.kind == "empirical":
            assert self.samples is not None
            x = float(np.median(self.samples))
        elif self.kind == "mixture":
            x = self.quantile(0.5)
        elif self.kind == "lognormal":
            x = float(np.sqrt(self.low * self.high))
        else:
            x = 0.5 * (self.low + self.high)
        return float(self._finish(np.array([x]))[0])

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary for the forecast's `inputs` block."""
        lo, hi = self.interval()
        out: dict[str, Any] = {"dist": self.kind, "median": self.median(), "low": lo, "high": hi,
                               "ci": None if self.kind == "constant" else self.ci}
        if self.reflect is not None:
            out["reflect"] = self.reflect
        if self.cap is not None:
            out["cap"] = self.cap
        if self.floor is not None:
            out["floor"] = self.floor
        if self.kind == "empirical":
            assert self.samples is not None
            out["n_samples"] = len(self.samples)
            if self.joint:
                out["joint"] = self.joint
        if self.kind == "mixture":
            out["components"] = [{"weight": w, "dist": c.kind, "low": c.low, "high": c.high, "ci": c.ci,
                                  **({"source": c.source} if c.source else {})} for w, c in self.components]
        if self.source:
            out["source"] = self.source
        return out


def _parse_mixture(spec: Mapping[str, Any], where: str, source: str, cap: float | None,
                   floor: float | None) -> Dist:
    """`{dist: mixture, components: [{weight, dist, low, high, ci}, ...], ci?}`; weights are normalised."""
    comps = spec.get("components")
    if not isinstance(comps, list) or not comps:
        raise ValueError(f"{where}: a mixture needs a non-empty 'components' list")
    parsed: list[tuple[float, Dist]] = []
    for i, comp in enumerate(comps):
        if not isinstance(comp, Mapping) or "weight" not in comp:
            raise ValueError(f"{where}.components[{i}]: needs a 'weight' and a distribution")
        dist = parse_dist({k: v for k, v in comp.items() if k != "weight"}, f"{where}.components[{i}]")
        if dist.kind not in COMPONENT_KINDS:
            raise ValueError(f"{where}.components[{i}]: must be lognormal or normal, got {dist.kind!r}")
        parsed.append((float(comp["weight"]), dist))
    total = sum(w for w, _ in parsed)
    if total <= 0 or any(w <= 0 for w, _ in parsed):
        raise ValueError(f"{where}: mixture weights must be positive")
    components = tuple((w / total, d) for w, d in parsed)
    ci = float(spec.get("ci", 0.90))
    probe = Dist("mixture", 1.0, 1.0, ci, components=components)
    lo, hi = probe.quantile((1.0 - ci) / 2.0), probe.quantile((1.0 + ci) / 2.0)
    return Dist("mixture", lo, hi, ci, cap=cap, floor=floor, source=source, components=components)


def parse_dist(spec: Any, where: str) -> Dist:
    """A Dist from a YAML value: a number, `{value: x}`, `{dist, low, high, ci, reflect?, cap?, floor?}`
    or `{dist: mixture, components: [...]}`."""
    if isinstance(spec, bool):
        raise ValueError(f"{where}: expected a number or a distribution, got {spec!r}")
    if isinstance(spec, int | float):
        return Dist("constant", float(spec), float(spec))
    if not isinstance(spec, Mapping):
        raise ValueError(f"{where}: expected a number or a mapping, got {spec!r}")
    source = str(spec.get("source", ""))
    cap = None if spec.get("cap") is None else float(spec["cap"])
    floor = None if spec.get("floor") is None else float(spec["floor"])
    if "value" in spec:
        value = float(spec["value"])
        return Dist("constant", value, value, cap=cap, floor=floor, source=source)
    kind = spec.get("dist")
    if kind == "mixture":
        return _parse_mixture(spec, where, source, cap, floor)
    if kind not in ("lognormal", "normal"):
        raise ValueError(f"{where}: 'dist' must be lognormal, normal or mixture, got {kind!r}")
    try:
        low, high = float(spec["low"]), float(spec["high"])
    except KeyError as exc:
        raise ValueError(f"{where}: missing {exc.args[0]!r}") from exc
    reflect = None if spec.get("reflect") is None else float(spec["reflect"])
    return Dist(kind, low, high, float(spec.get("ci", 0.95)), reflect=reflect, cap=cap, floor=floor, source=source)


class Sampler:
    """Seeded draws with one independent stream per named input (common random numbers).

    Each input's stream depends only on (seed, name), so pinning one input for the tornado, or
    adding a tier, leaves every other input's draws unchanged; shared inputs (the demand, the web
    stock) are drawn once per run and reused by every tier. Empirical inputs with a `joint` stream share it:
    the measured factors of one bootstrap replicate travel together.
    """

    def __init__(self, n: int, seed: int, fixed: Mapping[str, float] | None = None) -> None:
        self.n = n
        self.seed = seed
        self.fixed = dict(fixed or {})
        self.registry: dict[str, Dist] = {}
        self._cache: dict[str, np.ndarray] = {}

    def rng(self, name: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32(name.encode())])

    def draw(self, name: str, dist: Dist) -> np.ndarray:
        if name not in self._cache:
            self.registry[name] = dist
            if name in self.fixed:
                self._cache[name] = np.full(self.n, float(self.fixed[name]))
            else:
                self._cache[name] = dist.sample(self.rng(dist.joint or name), self.n)
        return self._cache[name]
