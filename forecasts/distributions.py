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

KINDS = ("lognormal", "normal", "constant", "empirical")


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
    below zero; a token holds at least a byte). empirical: bootstrap samples.
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

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown distribution kind {self.kind!r} (expected one of {KINDS})")
        if self.kind == "lognormal" and not 0 < self.low <= self.high:
            raise ValueError(f"lognormal needs 0 < low <= high, got {self.low}, {self.high}")
        if self.kind == "normal" and self.low > self.high:
            raise ValueError(f"normal needs low <= high, got {self.low}, {self.high}")
        if self.kind == "empirical" and (self.samples is None or len(self.samples) == 0):
            raise ValueError("empirical distribution needs samples")

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

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """`n` draws in value space (after reflect and cap)."""
        if self.kind == "constant":
            return self._finish(np.full(n, self.low, dtype=np.float64))
        if self.kind == "empirical":
            assert self.samples is not None
            return self._finish(self.samples[rng.integers(0, len(self.samples), n)].astype(np.float64))
        z = rng.standard_normal(n)
        if self.kind == "lognormal":
            mu = 0.5 * (np.log(self.low) + np.log(self.high))
            sigma = (np.log(self.high) - np.log(self.low)) / (2.0 * z_score(self.ci))
            return self._finish(np.exp(mu + sigma * z))
        mu = 0.5 * (self.low + self.high)
        sigma = (self.high - self.low) / (2.0 * z_score(self.ci))
        return self._finish(mu + sigma * z)

    def interval(self) -> tuple[float, float]:
        """The stated interval in value space, ordered (low, high); what the tornado swings across."""
        if self.kind == "empirical":
            assert self.samples is not None
            tail = (1.0 - self.ci) / 2.0
            lo, hi = np.quantile(self.samples, [tail, 1.0 - tail])
        else:
            lo, hi = self.low, self.high
        ends = self._finish(np.array([lo, hi], dtype=np.float64))
        return float(ends.min()), float(ends.max())

    def median(self) -> float:
        if self.kind == "empirical":
            assert self.samples is not None
            x = float(np.median(self.samples))
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
        if self.source:
            out["source"] = self.source
        return out


def parse_dist(spec: Any, where: str) -> Dist:
    """A Dist from a YAML value: a number, `{value: x}`, or `{dist, low, high, ci, reflect?, cap?, floor?}`."""
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
    if kind not in ("lognormal", "normal"):
        raise ValueError(f"{where}: 'dist' must be lognormal or normal, got {kind!r}")
    try:
        low, high = float(spec["low"]), float(spec["high"])
    except KeyError as exc:
        raise ValueError(f"{where}: missing {exc.args[0]!r}") from exc
    reflect = None if spec.get("reflect") is None else float(spec["reflect"])
    return Dist(kind, low, high, float(spec.get("ci", 0.95)), reflect=reflect, cap=cap, floor=floor, source=source)


def lognormal_from_ci90(estimate: float, ci90: tuple[float, float] | list[float], source: str = "") -> Dist:
    """A lognormal centred on a point estimate with the width of its 90% interval.

    Bootstrap intervals of stock estimates are often asymmetric around the estimate; we keep the
    estimate as the median and take the log-width from the interval, so the sampling uncertainty
    carried into the forecast is the one measured.
    """
    lo, hi = float(ci90[0]), float(ci90[1])
    if estimate <= 0:
        raise ValueError(f"estimate must be positive, got {estimate}")
    if not 0 < lo < hi:  # no interval (or a degenerate one): no sampling uncertainty to carry
        return Dist("constant", estimate, estimate, source=source)
    half = 0.5 * (np.log(hi) - np.log(lo))
    return Dist("lognormal", float(estimate * np.exp(-half)), float(estimate * np.exp(half)), 0.90,
                source=source)


class Sampler:
    """Seeded draws with one independent stream per named input (common random numbers).

    Each input's stream depends only on (seed, name), so pinning one input for the tornado, or
    adding a tier, leaves every other input's draws unchanged; shared inputs (the demand, the web
    stock) are drawn once per run and reused by every tier.
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
                self._cache[name] = dist.sample(self.rng(name), self.n)
        return self._cache[name]
