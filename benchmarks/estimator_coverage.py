"""Coverage of the stock estimator's 90% intervals on synthetic heavy-tailed populations with known totals.

A population of files in several strata: file sizes log-normal or Pareto (heavy tails), tokens per byte
log-normal per file, three tiers with a rare one (absent from most files: many zero cells). Files are drawn as
crawl-sample draws them (uniformly without replacement within strata), estimated with stats.estimators, and
each 90% interval is checked against the truth. Prints the coverage table of docs/stocks.md:

    .venv/bin/python -m benchmarks.estimator_coverage [--draws 400] [--bootstrap 200]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from flows.crawl_sample import take_all_files
from stats.estimators import FileDesign, estimate_totals, replicate_weights

TIERS = ("high", "medium", "low")


@dataclass(frozen=True)
class Population:
    """Per-file tier token totals (files × tiers), file bytes and the stratum of each file."""

    tokens: np.ndarray
    file_bytes: np.ndarray
    stratum: np.ndarray

    def strata(self) -> dict[str, np.ndarray]:
        return {str(h): np.flatnonzero(self.stratum == h) for h in dict.fromkeys(self.stratum.tolist())}


def population(sizes: tuple[int, ...] = (60, 120, 200), tail: str = "lognormal", seed: int = 0) -> Population:
    """Heavy-tailed files: bytes log-normal (σ 1), Pareto (α 2) or extreme Pareto (α 1.3: one file can hold 40% of
    its stratum); tokens per byte log-normal (σ 0.3) per file.

    Tier shares per file: the high tier is present in 30% of files only (Beta(2, 5) of the tokens there), the rest
    split between medium and low by a Beta(2, 2) — so a small sample often holds no high-tier file at all.
    """
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    stratum = np.repeat([f"S{i}" for i in range(len(sizes))], sizes).astype(object)
    scale = np.repeat(rng.uniform(0.5, 2.0, len(sizes)), sizes)  # strata differ in typical file size
    if tail == "pareto":
        file_bytes = 1e8 * scale * (rng.pareto(2.0, n) + 1.0)
    elif tail == "extreme":
        file_bytes = 1e8 * scale * (rng.pareto(1.3, n) + 1.0)
    else:
        file_bytes = 1e8 * scale * rng.lognormal(0.0, 1.0, n)
    per_byte = 0.25 * rng.lognormal(0.0, 0.3, n)
    high = np.where(rng.random(n) < 0.3, rng.beta(2, 5, n), 0.0)
    medium = (1 - high) * rng.beta(2, 2, n)
    shares = np.column_stack([high, medium, 1 - high - medium])
    return Population(np.round(file_bytes * per_byte)[:, None] * shares, file_bytes, stratum)


def draw_design(pop: Population, n_per_stratum: dict[str, int], rng: np.random.Generator,
                with_bytes: bool, take_all: bool = False) -> tuple[FileDesign, np.ndarray]:
    """A crawl-sample style design (manifest `sampling` dict) and the population rows of its files.

    `take_all`: files larger than the sampling interval are read with certainty in their own census stratum,
    as crawl-sample does for local files (flows.crawl_sample.take_all_files).
    """
    files, rows, strata = [], [], {}
    for h, idx in pop.strata().items():
        n = min(len(idx), n_per_stratum[h])
        parts = {h: idx}
        if take_all:
            sizes = {int(i): float(pop.file_bytes[i]) for i in idx}
            certain = np.array(sorted(take_all_files([int(i) for i in idx], sizes, n)), dtype=np.int64)  # type: ignore[arg-type]
            if len(certain):
                parts = {h: np.setdiff1d(idx, certain), f"{h}:take-all": certain}
                n -= len(certain)
        for name, members in parts.items():
            k = len(members) if name.endswith(":take-all") else n
            picked = np.sort(rng.choice(members, k, replace=False))
            strata[name] = {"population_files": len(members), "sampled_files": k}
            if with_bytes:
                strata[name]["population_bytes"] = float(pop.file_bytes[members].sum())
            files += [{"source_file": f"f{i}", "stratum": name, "inclusion_prob": k / len(members),
                       "record_rate": 1.0, "bytes": float(pop.file_bytes[i]) if with_bytes else None}
                      for i in picked]
            rows.append(picked)
    return FileDesign.from_sampling({"strata": strata, "files": files}), np.concatenate(rows)


def coverage(pop: Population, n_per_stratum: dict[str, int], draws: int, bootstrap: int = 200,
             with_bytes: bool = True, widen_t: bool = True, seed: int = 0,
             take_all: bool = False) -> dict[str, np.ndarray]:
    """Per draw and quantity (total, each tier, high share): -1 truth below the interval, 0 covered, +1 above.

    Also returns the relative half-widths. Shares are ratios of the replicate tier totals to the replicate total
    of the same draw, with the total taken as the sum of the tiers (so the shares of a replicate sum to 1).
    """
    rng = np.random.default_rng(seed)
    truth_tiers = pop.tokens.sum(axis=0)
    truth = np.concatenate([[truth_tiers.sum()], truth_tiers, [truth_tiers[0] / truth_tiers.sum()]])
    miss = np.zeros((draws, len(truth)), dtype=np.int8)
    width = np.zeros((draws, len(truth)))
    for d in range(draws):
        design, rows = draw_design(pop, n_per_stratum, rng, with_bytes, take_all)
        y = pop.tokens[rows]
        parent = np.repeat(y.sum(axis=1, keepdims=True), y.shape[1], axis=1)
        reps = replicate_weights(design, bootstrap, seed=int(rng.integers(2**31)), widen_t=widen_t)
        tiers = estimate_totals(y, design, reps, parent=parent)
        total_reps = tiers.replicates.sum(axis=1)
        est = np.concatenate([[tiers.estimate.sum()], tiers.estimate,
                              [tiers.estimate[0] / tiers.estimate.sum() if tiers.estimate.sum() else 0.0]])
        with np.errstate(invalid="ignore", divide="ignore"):
            share_reps = np.nan_to_num(tiers.replicates[:, 0] / total_reps)
        series = np.column_stack([total_reps, tiers.replicates, share_reps])
        lo, hi = np.percentile(series, [5, 95], axis=0)
        lo, hi = np.minimum(lo, est), np.maximum(hi, est)
        miss[d] = np.where(truth < lo, -1, np.where(truth > hi, 1, 0))
        width[d] = (hi - lo) / 2 / truth
    return {"miss": miss, "width": width}


QUANTITIES = ("total", *TIERS, "high share")
DESIGNS = {  # name -> files drawn per stratum (population 60, 120, 200 files)
    "5 files per stratum": {"S0": 5, "S1": 5, "S2": 5},
    "10% of files": {"S0": 6, "S1": 12, "S2": 20},
    "25% of files": {"S0": 15, "S1": 30, "S2": 50},
    "2 files per stratum": {"S0": 2, "S1": 2, "S2": 2},
}
METHODS = {  # name -> (file bytes known, log-scale t widening, largest files read with certainty)
    "ratio to file bytes, log-t, take-all (chosen: local files)": (True, True, True),
    "ratio to file bytes, log-t": (True, True, False),
    "ratio to file bytes, percentile": (True, False, False),
    "Horvitz-Thompson, log-t (chosen: crawls)": (False, True, False),
    "Horvitz-Thompson, percentile (before)": (False, False, False),
}


def table(draws: int, bootstrap: int, tails: tuple[str, ...] = ("lognormal", "pareto", "extreme")) -> str:
    lines = ["| population | design | method | coverage: " + " / ".join(QUANTITIES) + " | misses below / above "
             "(all quantities) | median half-width of total |", "|---|---|---|---|---:|---:|"]
    for tail in tails:
        pop = population(tail=tail)
        for dname, n in DESIGNS.items():
            for mname, (with_bytes, widen_t, take_all) in METHODS.items():
                r = coverage(pop, n, draws, bootstrap, with_bytes, widen_t, take_all=take_all)
                cov = (r["miss"] == 0).mean(axis=0)
                low, high = (r["miss"] > 0).mean(), (r["miss"] < 0).mean()
                lines.append(f"| {tail} | {dname} | {mname} | " + " / ".join(f"{c:.2f}" for c in cov)
                             + f" | {low:.3f} / {high:.3f} | {np.median(r['width'][:, 0]):.1%} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draws", type=int, default=400)
    parser.add_argument("--bootstrap", type=int, default=200)
    args = parser.parse_args()
    print(f"{args.draws} draws per row, B = {args.bootstrap}; 'misses below' = interval below the truth")
    print(table(args.draws, args.bootstrap))


if __name__ == "__main__":
    main()
