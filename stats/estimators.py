"""Design-based estimators: from a sample of files to population totals, with honest 90% intervals.

The sampling unit is the input file. crawl-sample draws `n_h` of the `N_h` files of stratum `h` uniformly
without replacement (inclusion probability `pi_f`) and reads each record of a drawn file with probability
`r_f`. A document's Horvitz–Thompson weight is `w_f = 1 / (pi_f * r_f)`; where the stratum's total file bytes
are known the weights are calibrated to them (the ratio estimator: tokens per byte varies far less between files
than tokens per file).

Intervals come from the Rao–Wu rescaling bootstrap over files within strata, re-calibrated per replicate and
vectorised as a replicate-weight matrix (B × files) times a per-file totals matrix (files × cells), then widened
on the log scale by t(0.95, df) / z(0.95) with kurtosis-adjusted Satterthwaite degrees of freedom. What the data
cannot estimate (one file in a stratum, a cell no sampled file holds) is carried as documented width inside the
replicates. A census stratum contributes no variance, so a census's interval collapses to its total.
docs/stocks.md has the coverage simulation behind these choices.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LEVEL = 0.90
# Largest dense (files × cells) block built at once when estimating many cells.
_BLOCK_VALUES = 4_000_000

# Published stock and dataset sizes to read our estimates against (tokens; tokenizer basis as noted).
REFERENCE_SIZES: dict[str, dict] = {
    "common_crawl_epoch2024": {
        "tokens": 1.3e14, "ci95": [1.0e14, 2.6e14], "unit": "tokens", "basis": "raw Common Crawl (cl100k_base)",
        "source": "Villalobos et al. 2024 (Epoch AI), Table 1",
    },
    "indexed_web_epoch2024": {
        "tokens": 5.1e14, "ci95": [1.3e14, 2.1e15], "unit": "tokens", "basis": "raw indexed web (cl100k_base)",
        "source": "Villalobos et al. 2024 (Epoch AI), Table 1",
    },
    "dclm_pool": {
        "tokens": 2.4e14, "unit": "tokens", "basis": "raw Common Crawl text, all snapshots",
        "source": "Li et al. 2024 (DataComp-LM)",
    },
    "redpajama_v2": {
        "tokens": 3.0e13, "unit": "tokens", "basis": "filtered + deduplicated, 84 CC dumps, 5 languages",
        "source": "Together AI 2023",
    },
    "fineweb": {
        "tokens": 1.5e13, "unit": "tokens", "basis": "filtered + deduplicated, 96 CC snapshots (GPT-2 tokenizer)",
        "source": "Penedo et al. 2024",
    },
    "dclm_baseline": {
        "tokens": 3.8e12, "unit": "tokens", "basis": "DCLM-Pool after filtering (top ~10% by fastText)",
        "source": "Li et al. 2024 (DataComp-LM)",
    },
    "fineweb_edu": {
        "tokens": 1.3e12, "unit": "tokens", "basis": "FineWeb, educational score >= 3 (GPT-2 tokenizer)",
        "source": "Penedo et al. 2024",
    },
}


# One-sided 95% quantiles of Student's t for 1..30 degrees of freedom (two-sided 90% intervals).
_T95 = (6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812, 1.796, 1.782, 1.771, 1.761, 1.753,
        1.746, 1.740, 1.734, 1.729, 1.725, 1.721, 1.717, 1.714, 1.711, 1.708, 1.706, 1.703, 1.701, 1.699, 1.697)
_Z95 = 1.6448536269514722
# One file in a stratum: its cells get a log-normal factor whose 90% range is ×/÷ this (see docs/stocks.md).
ONE_FILE_FACTOR = {"ratio": 3.0, "horvitz-thompson": 10.0}
# Every sampled file of a stratum holds none of a cell: 95% upper bound on the cell's share of its parent
# amount in that stratum is 3 / n (rule of three); replicates are 0 with probability ½, else exponential.
RULE_OF_THREE = 3.0


def t95(df: float) -> float:
    """One-sided 95% quantile of Student's t (table to 30 df, Cornish–Fisher beyond)."""
    if df < 1:
        return math.inf
    if df <= 30:
        lo = _T95[int(df) - 1]
        return lo if df == int(df) or df >= 30 else lo + (df - int(df)) * (_T95[int(df)] - lo)
    z = _Z95
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


@dataclass(frozen=True)
class FileDesign:
    """The sampled files of a run with their stratum, weights, sizes and stratum sizes (one row per file).

    `weight` is the estimator's point weight: the HT weight 1 / (π_f · r_f), calibrated to the stratum's known
    total file bytes (a ratio estimator) where the design records them. `pi_weight` is 1 / π_f alone.
    """

    source_file: list[str]
    stratum: np.ndarray  # object array of stratum names
    weight: np.ndarray  # point weight (calibrated where population bytes are known)
    record_rate: np.ndarray
    population_files: dict[str, int]
    census_fallback: bool = False  # True when the files read are taken as the whole population
    ht_weight: np.ndarray | None = None  # 1 / (inclusion_prob * record_rate)
    pi_weight: np.ndarray | None = None  # 1 / inclusion_prob
    file_bytes: np.ndarray | None = None  # size of each sampled file (NaN where unknown)
    population_bytes: dict[str, float] | None = None  # stratum total file bytes, where the sampler knows them

    @property
    def n_files(self) -> int:
        return len(self.source_file)

    def strata(self) -> dict[str, np.ndarray]:
        """Row indices of the files in each stratum."""
        return {str(h): np.flatnonzero(self.stratum == h) for h in dict.fromkeys(self.stratum.tolist())}

    @classmethod
    def from_sampling(cls, sampling: dict | None, observed_files: Sequence[str] = (),
                      census_of: dict[str, float] | None = None) -> FileDesign:
        """Build the design from manifest.json's `sampling`.

        Without a design, only `census_of` (file -> bytes of every local file read, the caller having checked
        that they are the whole population) is accepted; otherwise it is an error. The design's file list,
        not the documents, defines the sample: a drawn file that yielded no document still counts (as a zero).
        """
        files = (sampling or {}).get("files") or []
        if not files:
            if census_of is None:
                raise ValueError("no sampling design (manifest.json `sampling.files`) for the documents' files")
            names = sorted(set(observed_files) | set(census_of))
            ones = np.ones(len(names))
            sizes = np.array([float(census_of.get(n, np.nan)) for n in names])
            return cls(names, np.array(["local"] * len(names), dtype=object), ones, ones.copy(),
                       {"local": len(names)}, census_fallback=True, ht_weight=ones.copy(), pi_weight=ones.copy(),
                       file_bytes=sizes, population_bytes={})
        strata_meta = sampling.get("strata") or {}
        names = [str(f["source_file"]) for f in files]
        if len(set(names)) != len(names):
            raise ValueError("manifest sampling.files lists a source_file twice")
        stratum = np.array([str(f.get("stratum") or "local") for f in files], dtype=object)
        n_h = {h: int((stratum == h).sum()) for h in set(stratum.tolist())}
        big_n = {h: int((strata_meta.get(h) or {}).get("population_files") or n_h[h]) for h in n_h}
        pi = np.array([float(f.get("inclusion_prob") or n_h[h] / big_n[h]) for f, h in zip(files, stratum)])
        rate = np.array([float(f.get("record_rate") or 1.0) for f in files])
        if (pi <= 0).any() or (pi > 1).any() or (rate <= 0).any() or (rate > 1).any():
            raise ValueError("manifest sampling: inclusion_prob and record_rate must lie in (0, 1]")
        sizes = np.array([float(f["bytes"]) if f.get("bytes") is not None else np.nan for f in files])
        pop_bytes = {h: float(m["population_bytes"]) for h, m in strata_meta.items()
                     if h in n_h and (m or {}).get("population_bytes")}
        ht = 1.0 / (pi * rate)
        design = cls(names, stratum, ht, rate, big_n, ht_weight=ht, pi_weight=1.0 / pi, file_bytes=sizes,
                     population_bytes=pop_bytes)
        factor = design.calibration_factor(np.ones((1, len(names))))[0]
        return cls(names, stratum, ht * factor, rate, big_n, ht_weight=ht, pi_weight=1.0 / pi, file_bytes=sizes,
                   population_bytes=pop_bytes)

    def calibrated(self, h: str) -> bool:
        """Whether stratum h uses the ratio estimator: its total file bytes are known and every file's size."""
        idx = self.strata()[h]
        sizes = self.file_bytes[idx] if self.file_bytes is not None else np.array([np.nan])
        return bool((self.population_bytes or {}).get(h)) and bool(np.isfinite(sizes).all() and (sizes > 0).all())

    def estimator(self, h: str) -> str:
        return "ratio" if self.calibrated(h) else "horvitz-thompson"

    def calibration_factor(self, a: np.ndarray) -> np.ndarray:
        """Per-file factor g_h = X_h / Σ_{f∈h} a_f · x_f / π_f for rows of bootstrap multipliers `a` (R × files).

        The ratio estimator as calibrated weights: each replicate is re-calibrated, so replicate totals of file
        bytes equal the known X_h and the interval reflects only the variation of tokens per byte.
        """
        g = np.ones_like(a, dtype=np.float64)
        for h, idx in self.strata().items():
            if self.calibrated(h):
                base = (self.pi_weight[idx] * self.file_bytes[idx])
                g[:, idx] = (self.population_bytes[h] / (a[:, idx] @ base))[:, None]
        return g

    def describe(self) -> dict:
        """Per-stratum summary for stocks.json."""
        out = {}
        for h, idx in self.strata().items():
            n = len(idx)
            out[h] = {"population_files": self.population_files[h], "sampled_files": n, "unit": "files",
                      "file_fraction": {"value": n / self.population_files[h], "unit": "fraction"},
                      "record_rate_min": {"value": float(self.record_rate[idx].min()), "unit": "fraction"},
                      "estimator": self.estimator(h),
                      "variance": self.variance_status(h),
                      "small_sample": self.small_sample(h)}
            if self.calibrated(h):
                out[h]["population_bytes"] = {"value": self.population_bytes[h], "unit": "bytes"}
        return out

    def is_census(self, h: str) -> bool:
        idx = self.strata()[h]
        return len(idx) >= self.population_files[h] and bool((self.record_rate[idx] >= 1.0).all())

    def variance_estimable(self, h: str) -> bool:
        return self.is_census(h) or len(self.strata()[h]) >= 2

    def variance_status(self, h: str) -> str:
        if self.is_census(h):
            return "none: census"
        if len(self.strata()[h]) < 2:
            factor = ONE_FILE_FACTOR[self.estimator(h)]
            return f"not estimable: one file; a log-normal factor of ×/÷ {factor:g} (90%) is carried instead"
        return "estimable"

    def small_sample(self, h: str) -> bool:
        """Fewer than SMALL_FILES files read in a sampled (not census) stratum."""
        return not self.is_census(h) and len(self.strata()[h]) < SMALL_FILES


SMALL_FILES = 5


@dataclass(frozen=True)
class Replicates:
    """Replicate weights with what the intervals need beside them.

    `weights` (B × files) are the calibrated Rao–Wu weights. `widen_t`: replicate totals are widened on the log
    scale by the t factor (see `estimate_totals`). `uniform` (B × strata) are the draws of the zero-cell bound,
    shared by every quantity so that ratios of quantities stay consistent within a replicate.
    """

    weights: np.ndarray
    widen_t: bool
    uniform: np.ndarray
    strata: list[str]
    seed: int = 0

    def __array__(self, dtype=None, copy=None) -> np.ndarray:  # `reps - w`, `np.vstack([w, reps])` keep working
        return self.weights if dtype is None else self.weights.astype(dtype)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.weights.shape

    def __len__(self) -> int:
        return len(self.weights)


def replicate_weights(design: FileDesign, bootstrap: int, seed: int, widen_t: bool = True) -> Replicates:
    """Rao–Wu rescaled bootstrap weights, shape (B, files), re-calibrated per replicate where bytes are known.

    In stratum h, m = n_h − 1 files are drawn with replacement (counts m*_f) and each weight becomes
    w_f · (1 − λ + λ · n_h/m · m*_f) with λ = sqrt(1 − n_h/N_h): the replicate variance then matches the
    unbiased without-replacement variance of the HT total, and a census stratum (λ = 0) never varies.
    With record sampling (r < 1) the finite-population factor is dropped (λ = 1): variance between files then
    stands in for the within-file record-sampling variance too (the usual ultimate-cluster approximation).
    Strata with a single sampled file keep their weight; their uncertainty is added by `estimate_totals`.
    """
    rng = np.random.default_rng(seed)
    a = np.ones((bootstrap, design.n_files))
    for h, idx in design.strata().items():
        n = len(idx)
        if n < 2 or design.is_census(h):
            continue
        rate_one = bool((design.record_rate[idx] >= 1.0).all())
        lam = math.sqrt(max(0.0, 1.0 - n / design.population_files[h])) if rate_one else 1.0
        counts = rng.multinomial(n - 1, np.full(n, 1.0 / n), size=bootstrap)
        a[:, idx] = 1.0 - lam + lam * n / (n - 1) * counts
    base = design.ht_weight if design.ht_weight is not None else design.weight
    weights = base * a * design.calibration_factor(a)
    strata = list(design.strata())
    return Replicates(weights, widen_t, rng.random((bootstrap, len(strata))), strata, seed)


def cell_degrees_of_freedom(y: np.ndarray, design: FileDesign) -> np.ndarray:
    """Satterthwaite degrees of freedom of each cell's variance estimate, adjusted for heavy tails.

    Per stratum h the variance comes from the n_h residuals e_f (w_f·(y_f − R̂_h·x_f) for the ratio estimator,
    w_f·y_f otherwise); its degrees of freedom are (n_h − 1) · 3 / kurtosis(e), at most n_h − 1: a cell whose
    variance rests on one or two outlying files gets few degrees of freedom and a wide t quantile. Strata are
    pooled with Satterthwaite's formula (Σ V_h)² / Σ V_h² / df_h. Cells with no variance get inf.
    """
    v_sum = np.zeros(y.shape[1])
    v2_over_df = np.zeros(y.shape[1])
    for h, idx in design.strata().items():
        n = len(idx)
        if n < 2 or design.is_census(h):
            continue
        yy = y[idx]
        if design.calibrated(h):
            x = design.file_bytes[idx][:, None]
            wx = (design.weight[idx][:, None] * x).sum()
            ratio = (design.weight[idx] @ yy) / wx
            e = design.weight[idx][:, None] * (yy - ratio[None, :] * x)
        else:
            e = design.weight[idx][:, None] * yy
        e = e - e.mean(axis=0)
        s2 = (e**2).sum(axis=0)
        s4 = (e**4).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            kurt = np.where(s2 > 0, n * s4 / np.where(s2 > 0, s2, 1.0) ** 2, 3.0)
        df_h = np.clip((n - 1) * 3.0 / np.maximum(kurt, 3.0), 1.0, n - 1)
        v = s2 * n / (n - 1) * max(0.0, 1.0 - n / design.population_files[h])
        if not (design.record_rate[idx] >= 1.0).all():
            v = s2 * n / (n - 1)
        v_sum += v
        v2_over_df += v**2 / df_h
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(v2_over_df > 0, v_sum**2 / np.where(v2_over_df > 0, v2_over_df, 1.0), np.inf)


def t_power(y: np.ndarray, design: FileDesign) -> np.ndarray:
    """Per-cell widening exponent t_{0.95, df} / z_{0.95} from `cell_degrees_of_freedom`."""
    df = cell_degrees_of_freedom(y, design)
    return np.array([t95(d) / _Z95 if np.isfinite(d) else 1.0 for d in df])


def widen(point_values: np.ndarray, replicates: np.ndarray, power: float) -> np.ndarray:
    """Log-scale t widening: q̂ · (q*/q̂)^power for positive q̂ and q*, the replicate itself otherwise.

    Widening on the log scale keeps totals positive and stretches the upper side more than the lower, as the
    sampling distribution of a total of heavy-tailed files is skewed to the right.
    """
    if np.all(np.asarray(power) == 1.0):
        return replicates
    p = np.broadcast_to(point_values, replicates.shape)
    power = np.broadcast_to(np.asarray(power, dtype=np.float64), replicates.shape)
    ok = (p > 0) & (replicates > 0)
    out = replicates.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out[ok] = p[ok] * np.exp(power[ok] * np.log(replicates[ok] / p[ok]))
    return out


def zero_cell_quantile(u: np.ndarray) -> np.ndarray:
    """Zero-cell multiplier: 0 with probability ½, else exponential, its 95th percentile 1 (u uniform on (0,1))."""
    tail = np.clip(2.0 * (u - 0.5), 0.0, 1.0)  # uniform on [0, 1) in the upper half
    return np.where(u <= 0.5, 0.0, -np.log1p(-tail * (1 - 1e-12)) / math.log(10.0))


@dataclass(frozen=True)
class Estimate:
    """Point estimates and replicate totals for a set of cells, with each cell's variance status."""

    estimate: np.ndarray  # (cells,)
    replicates: np.ndarray  # (B, cells), widened and with the unestimable strata's spread added
    estimable: np.ndarray  # (cells,) bool: False when a one-file stratum or an all-zero stratum contributes
    status: list[str] | None = None  # per cell: "estimable", "none: census", "not estimable: …"

    def ci90(self) -> tuple[np.ndarray, np.ndarray]:
        """Percentile interval (5%, 95%) of the replicates (which carry every documented uncertainty).

        NaN (no interval) only for a cell that no sampled file holds and nothing bounds: never [0, 0] for a
        sample that could have missed it.
        """
        lo, hi = np.percentile(self.replicates, [50 * (1 - LEVEL), 50 * (1 + LEVEL)], axis=0)
        unbounded = np.array([s.startswith(UNBOUNDED) for s in self.status or []], dtype=bool)
        lo, hi = np.minimum(lo, self.estimate), np.maximum(hi, self.estimate)
        if unbounded.any():
            lo, hi = np.where(unbounded, np.nan, lo), np.where(unbounded, np.nan, hi)
        return lo, hi


def estimate_totals(y: np.ndarray, design: FileDesign, reps: Replicates | np.ndarray,
                    parent: np.ndarray | None = None, noise_key: int = 0) -> Estimate:
    """Totals of the columns of a per-file totals matrix `y` (files × cells) with bootstrap replicates.

    Replicates are the (calibrated) Rao–Wu totals widened on the log scale by the t factor. Then, per stratum:
    - one sampled file (not a census): its contribution to each cell is multiplied by a log-normal factor
      (90% range ×/÷ ONE_FILE_FACTOR), independently per cell and per `noise_key` (give numerator and
      denominator of a ratio different keys, so that one file's ratio is uncertain too);
    - `parent` given (files × cells, e.g. the all-tier total beside each tier): a cell none of whose sampled
      files in a sampled stratum holds anything, while the parent does, gets a replicate amount of at most
      3/n_h of the stratum's parent total at the 95th percentile (rule of three), 0 at the median.
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    if not isinstance(reps, Replicates):
        reps = Replicates(np.asarray(reps), False, np.zeros((len(reps), 0)), [])
    w = reps.weights
    estimate = design.weight @ y
    power = t_power(y, design) if reps.widen_t else 1.0
    # Replicates as estimate + deviation: files that never vary (census strata) add exactly zero.
    replicates = widen(estimate, estimate + (w - design.weight) @ y, power)
    estimable = np.ones(y.shape[1], dtype=bool)
    status = ["estimable"] * y.shape[1]
    column = {h: i for i, h in enumerate(reps.strata)}
    for h, idx in design.strata().items():
        if design.is_census(h) or h not in column:
            continue
        part = design.weight[idx] @ y[idx]
        if len(idx) < 2:
            sigma = math.log(ONE_FILE_FACTOR[design.estimator(h)]) / _Z95
            rng = np.random.default_rng([reps.seed, zlib.crc32(h.encode()), y.shape[1], noise_key])
            z = rng.standard_normal((len(reps), y.shape[1]))
            touched = part != 0
            replicates[:, touched] += part[touched] * (np.exp(sigma * z[:, touched]) - 1.0)
            for j in np.flatnonzero(touched):
                estimable[j] = False
                status[j] = "not estimable: one file in stratum " + h
        if parent is not None:
            ppart = np.asarray(parent, dtype=np.float64)[idx]
            zero = ~(y[idx] != 0).any(axis=0) & (ppart != 0).any(axis=0)
            if zero.any():
                n = len(idx)
                parent_reps = np.maximum(0.0, (w[:, idx] @ ppart[:, zero]))
                mult = zero_cell_quantile(reps.uniform[:, column[h]])[:, None]
                replicates[:, zero] += mult * min(1.0, RULE_OF_THREE / n) * parent_reps
                for j in np.flatnonzero(zero):
                    estimable[j] = False
                    if status[j] == "estimable":
                        status[j] = f"not estimable: every sampled file of stratum {h} is zero (rule-of-three bound)"
    sampled = [idx for h, idx in design.strata().items() if not design.is_census(h)]
    if sampled:
        nothing = ~(y != 0).any(axis=0) & ~(replicates != 0).any(axis=0)
        for j in np.flatnonzero(nothing):
            estimable[j] = False
            status[j] = UNBOUNDED + ": no sampled file holds any, and nothing bounds it"
    return Estimate(estimate, replicates, estimable, status)


UNBOUNDED = "not estimable (no interval)"


def estimate_cells(
    file_idx: np.ndarray, cell_idx: np.ndarray, values: np.ndarray, n_cells: int,
    design: FileDesign, reps: Replicates | np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimate and 90% interval for many cells given in long form (file, cell, value), block by block.

    Keeps memory at one dense (files × block) matrix however many cells there are.
    """
    est = np.zeros(n_cells)
    lo = np.full(n_cells, np.nan)
    hi = np.full(n_cells, np.nan)
    order = np.argsort(cell_idx, kind="stable")
    file_idx, cell_idx, values = file_idx[order], cell_idx[order], np.asarray(values, dtype=np.float64)[order]
    block = max(1, _BLOCK_VALUES // max(1, design.n_files))
    for start in range(0, n_cells, block):
        stop = min(n_cells, start + block)
        a, b = np.searchsorted(cell_idx, [start, stop])
        y = np.zeros((design.n_files, stop - start))
        np.add.at(y, (file_idx[a:b], cell_idx[a:b] - start), values[a:b])
        result = estimate_totals(y, design, reps)
        est[start:stop] = result.estimate
        lo[start:stop], hi[start:stop] = result.ci90()
    return est, lo, hi


def pair_replicates(
    file_d: np.ndarray, file_e: np.ndarray, values: np.ndarray, weights: np.ndarray, chunk: int = 4096
) -> np.ndarray:
    """Σ_pairs w[f_d] · w[f_e] · value for each row of `weights` (point weights as a 1-row matrix, or replicates).

    The HT estimator of a quantity defined on pairs of documents drawn from two independently sampled strata
    (here: a later crawl's document and its copy in an earlier crawl); joint inclusion = product of the two.
    """
    weights = np.atleast_2d(weights)
    out = np.zeros(weights.shape[0])
    for start in range(0, len(values), chunk):
        sl = slice(start, start + chunk)
        out += (weights[:, file_d[sl]] * weights[:, file_e[sl]]) @ np.asarray(values[sl], dtype=np.float64)
    return out


def union_replicates(
    crawl_totals: np.ndarray, crawl_overlaps: np.ndarray
) -> np.ndarray:
    """Unique stock across crawls: Σ_k (T_k − min(T_k, O_k)), row-wise over replicates.

    T_k is crawl k's deduplicated total and O_k the estimated part of it that also occurs in an earlier crawl
    (summed over earlier crawls, so content recurring in three or more crawls is subtracted more than once:
    the union is then a conservative, low estimate). Shapes (R, K) -> (R,).
    """
    return (crawl_totals - np.minimum(crawl_totals, crawl_overlaps)).sum(axis=1)


def point(estimate: float, lo: float, hi: float, unit: str) -> dict:
    """stocks.json's estimate shape: point estimate, 90% interval (null when not estimable), unit."""
    ci = None if math.isnan(lo) or math.isnan(hi) else [_finite(lo), _finite(hi)]
    return {"estimate": _finite(estimate), "ci90": ci, "unit": unit}


def _finite(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None
