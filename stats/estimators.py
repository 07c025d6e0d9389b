"""Design-based estimators: from a sample of files to population totals, with honest 90% intervals.

The sampling unit is the input file. crawl-sample draws `n_h` of the `N_h` files of stratum `h` uniformly
without replacement (inclusion probability `pi_f`) and reads each record of a drawn file with probability
`r_f`. A document's Horvitz–Thompson weight is therefore `w_f = 1 / (pi_f * r_f)` and the estimated total of
any per-document quantity y is `sum_f w_f * y_f`, where y_f sums y over the file's sampled documents.

Intervals come from the Rao–Wu rescaling bootstrap over files within strata (resample n_h − 1 of the n_h files
with replacement, rescale with the finite-population factor), vectorised as a replicate-weight matrix
(B × files) times a per-file totals matrix (files × cells). A census stratum (n_h = N_h, every record read)
contributes no variance, so a census's interval collapses to its total.
"""

from __future__ import annotations

import math
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


@dataclass(frozen=True)
class FileDesign:
    """The sampled files of a run with their stratum, HT weight and stratum sizes (one row per file)."""

    source_file: list[str]
    stratum: np.ndarray  # object array of stratum names
    weight: np.ndarray  # 1 / (inclusion_prob * record_rate)
    record_rate: np.ndarray
    population_files: dict[str, int]
    census_fallback: bool = False  # True when the manifest had no sampling design

    @property
    def n_files(self) -> int:
        return len(self.source_file)

    def strata(self) -> dict[str, np.ndarray]:
        """Row indices of the files in each stratum."""
        return {str(h): np.flatnonzero(self.stratum == h) for h in dict.fromkeys(self.stratum.tolist())}

    @classmethod
    def from_sampling(cls, sampling: dict | None, observed_files: Sequence[str] = ()) -> FileDesign:
        """Build the design from manifest.json's `sampling`; without one, a census of the observed files.

        The design's file list, not the documents, defines the sample: a drawn file that yielded no document
        still counts (as a zero) in its stratum.
        """
        files = (sampling or {}).get("files") or []
        if not files:
            names = sorted(set(observed_files))
            return cls(names, np.array(["local"] * len(names), dtype=object), np.ones(len(names)),
                       np.ones(len(names)), {"local": len(names)}, census_fallback=True)
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
        return cls(names, stratum, 1.0 / (pi * rate), rate, big_n)

    def describe(self) -> dict:
        """Per-stratum summary for stocks.json."""
        out = {}
        for h, idx in self.strata().items():
            n = len(idx)
            out[h] = {"population_files": self.population_files[h], "sampled_files": n, "unit": "files",
                      "file_fraction": {"value": n / self.population_files[h], "unit": "fraction"},
                      "record_rate_min": {"value": float(self.record_rate[idx].min()), "unit": "fraction"},
                      "variance": "estimable" if self.variance_estimable(h) else "not estimable (one file)"}
        return out

    def is_census(self, h: str) -> bool:
        idx = self.strata()[h]
        return len(idx) >= self.population_files[h] and bool((self.record_rate[idx] >= 1.0).all())

    def variance_estimable(self, h: str) -> bool:
        return self.is_census(h) or len(self.strata()[h]) >= 2


def replicate_weights(design: FileDesign, bootstrap: int, seed: int) -> np.ndarray:
    """Rao–Wu rescaled bootstrap weights, shape (B, files).

    In stratum h, m = n_h − 1 files are drawn with replacement (counts m*_f) and each weight becomes
    w_f · (1 − λ + λ · n_h/m · m*_f) with λ = sqrt(1 − n_h/N_h): the replicate variance then matches the
    unbiased without-replacement variance of the HT total, and a census stratum (λ = 0) never varies.
    With record sampling (r < 1) the finite-population factor is dropped (λ = 1): variance between files then
    stands in for the within-file record-sampling variance too (the usual ultimate-cluster approximation).
    Strata with a single sampled file keep their weight; `Estimate.ci90` gives no interval for cells they touch.
    """
    rng = np.random.default_rng(seed)
    reps = np.tile(design.weight, (bootstrap, 1))
    for h, idx in design.strata().items():
        n = len(idx)
        if n < 2 or design.is_census(h):
            continue
        rate_one = bool((design.record_rate[idx] >= 1.0).all())
        lam = math.sqrt(max(0.0, 1.0 - n / design.population_files[h])) if rate_one else 1.0
        counts = rng.multinomial(n - 1, np.full(n, 1.0 / n), size=bootstrap)
        reps[:, idx] = design.weight[idx] * (1.0 - lam + lam * n / (n - 1) * counts)
    return reps


def unestimable_files(design: FileDesign) -> np.ndarray:
    """Boolean mask of files in strata whose variance cannot be estimated (one sampled file, not a census)."""
    mask = np.zeros(design.n_files, dtype=bool)
    for h, idx in design.strata().items():
        if not design.variance_estimable(h):
            mask[idx] = True
    return mask


@dataclass(frozen=True)
class Estimate:
    """Point estimates and replicate totals for a set of cells."""

    estimate: np.ndarray  # (cells,)
    replicates: np.ndarray  # (B, cells)
    estimable: np.ndarray  # (cells,) bool: False when a one-file stratum contributes

    def ci90(self) -> tuple[np.ndarray, np.ndarray]:
        """Percentile interval (5%, 95%) of the replicates; NaN where not estimable."""
        lo, hi = np.percentile(self.replicates, [50 * (1 - LEVEL), 50 * (1 + LEVEL)], axis=0)
        return np.where(self.estimable, lo, np.nan), np.where(self.estimable, hi, np.nan)


def estimate_totals(y: np.ndarray, design: FileDesign, reps: np.ndarray) -> Estimate:
    """HT totals of the columns of a per-file totals matrix `y` (files × cells) with bootstrap replicates."""
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    bad = unestimable_files(design)
    estimate = design.weight @ y
    # Replicates as estimate + deviation: files that never vary (census strata) add exactly zero.
    return Estimate(estimate, estimate + (reps - design.weight) @ y, ~(y[bad] != 0).any(axis=0))


def estimate_cells(
    file_idx: np.ndarray, cell_idx: np.ndarray, values: np.ndarray, n_cells: int,
    design: FileDesign, reps: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """HT estimate and 90% interval for many cells given in long form (file, cell, value), block by block.

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
