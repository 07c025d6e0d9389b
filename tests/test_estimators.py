"""Estimator correctness with a real corpus as the population: coverage, bias, census, cross-crawl union.

The population is the 1,033 real pages of warc_derived/trafilatura-eval-1033pages.warc.gz (resiliparse main
content, cl100k_base tokens), dealt into many small "files"; repeated file samples are drawn with the design
crawl-sample records, and the estimates are compared with the known population total.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.tokens import extract_pages
from stats.estimators import (
    FileDesign,
    estimate_cells,
    estimate_totals,
    pair_replicates,
    replicate_weights,
    union_replicates,
)
from stats.tokens import count_tokens


@pytest.fixture(scope="session")
def page_tokens(shared_data: Path) -> np.ndarray:
    texts = extract_pages(shared_data / "warc_derived" / "trafilatura-eval-1033pages.warc.gz")
    assert len(texts) == 1033
    return count_tokens(texts)


def _design(strata: dict[str, tuple[int, list[int]]], rate: float = 1.0) -> FileDesign:
    """Design of a sample: stratum -> (population files, sampled file ids)."""
    files = [{"source_file": f"{h}/{f}", "stratum": h, "inclusion_prob": len(ids) / big_n, "record_rate": rate}
             for h, (big_n, ids) in strata.items() for f in ids]
    meta = {h: {"population_files": big_n, "sampled_files": len(ids)} for h, (big_n, ids) in strata.items()}
    return FileDesign.from_sampling({"strata": meta, "files": files})


def _simulate(tokens: np.ndarray, n_files: int, n_sampled: int, draws: int, rate: float = 1.0,
              seed: int = 0) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Deal pages into n_files files (two strata of equal size), draw `draws` samples; return truth and results."""
    rng = np.random.default_rng(seed)
    file_of = rng.permutation(len(tokens)) % n_files
    per_file = np.bincount(file_of, weights=tokens, minlength=n_files)
    half = n_files // 2
    pops = {"A": np.arange(half), "B": np.arange(half, n_files)}
    est, lo, hi = np.empty(draws), np.empty(draws), np.empty(draws)
    for d in range(draws):
        picked = {h: rng.choice(pop, n_sampled, replace=False) for h, pop in pops.items()}
        ids = np.concatenate(list(picked.values()))
        if rate < 1.0:  # each record of a drawn file read with probability `rate`
            kept = rng.random(len(tokens)) < rate
            y = np.bincount(file_of[kept], weights=tokens[kept], minlength=n_files)[ids]
        else:
            y = per_file[ids]
        design = _design({h: (len(pops[h]), picked[h].tolist()) for h in pops}, rate)
        result = estimate_totals(y, design, replicate_weights(design, 400, seed=d))
        est[d] = result.estimate[0]
        (lo[d],), (hi[d],) = result.ci90()
    return float(tokens.sum()), est, lo, hi


@pytest.mark.parametrize(
    ("n_files", "n_sampled", "rate"),
    [(200, 20, 1.0), (200, 80, 1.0), (200, 20, 0.5)],
    ids=["10pct-files", "80pct-files-fpc", "10pct-files-half-records"],
)
def test_intervals_cover_and_estimates_are_unbiased(page_tokens: np.ndarray, n_files: int, n_sampled: int,
                                                    rate: float) -> None:
    truth, est, lo, hi = _simulate(page_tokens, n_files, n_sampled, draws=300, rate=rate)
    coverage = np.mean((lo <= truth) & (truth <= hi))
    assert 0.80 <= coverage <= 0.97, coverage
    mc_error = est.std(ddof=1) / np.sqrt(len(est))
    assert abs(est.mean() - truth) < 3 * mc_error, (est.mean(), truth, mc_error)
    assert est.std() > 0.01 * truth  # the sampling actually varies: the check above is not vacuous


def test_census_interval_collapses_to_the_total(page_tokens: np.ndarray) -> None:
    file_of = np.arange(len(page_tokens)) % 50
    y = np.bincount(file_of, weights=page_tokens, minlength=50)
    design = _design({"local": (50, list(range(50)))})
    result = estimate_totals(y, design, replicate_weights(design, 200, seed=1))
    lo, hi = result.ci90()
    assert result.estimate[0] == lo[0] == hi[0] == page_tokens.sum()


def test_one_file_stratum_gets_a_wide_interval(page_tokens: np.ndarray) -> None:
    # Before issue 16 such a cell had no interval (null), which readers took as no uncertainty. Now one file's
    # contribution carries a log-normal factor of ×/÷ 10 (90%, Horvitz-Thompson without file sizes).
    design = _design({"A": (10, [0]), "B": (10, [1, 2, 3])})
    y = np.array([[5.0, 0.0], [1.0, 3.0], [2.0, 3.0], [4.0, 3.0]])  # cell 1 has nothing from stratum A
    result = estimate_totals(y, design, replicate_weights(design, 2000, seed=0))
    lo, hi = result.ci90()
    assert result.estimate.tolist() == [10 * 5 + 10 / 3 * 7, 30.0]
    b_part = 10 / 3 * 7
    assert lo[0] < b_part + 50 / 5 and hi[0] > b_part + 50 * 5  # ×/÷ 10 on A's 50, not a ±1 s.e. band
    assert result.status[0].startswith("not estimable: one file")
    assert lo[1] == hi[1] == 30.0  # stratum B's cell never varies (its three files hold the same amount)


def test_cells_in_long_form_match_the_dense_estimate(page_tokens: np.ndarray) -> None:
    rng = np.random.default_rng(3)
    design = _design({"A": (40, list(range(10)))})
    files = rng.integers(0, 10, size=len(page_tokens))
    cells = rng.integers(0, 7, size=len(page_tokens))
    reps = replicate_weights(design, 300, seed=0)
    est, lo, hi = estimate_cells(files, cells, page_tokens, 7, design, reps)
    dense = np.zeros((10, 7))
    np.add.at(dense, (files, cells), page_tokens)
    reference = estimate_totals(dense, design, reps)
    np.testing.assert_allclose(est, reference.estimate)
    np.testing.assert_allclose(np.vstack([lo, hi]), np.vstack(reference.ci90()))
    assert est.sum() == pytest.approx(4 * page_tokens.sum())


def test_cross_crawl_union_is_unbiased(page_tokens: np.ndarray) -> None:
    """Two crawls sharing 500 of their pages: the union estimate centres on the number of distinct tokens."""
    rng = np.random.default_rng(7)
    crawl_a, crawl_b = np.arange(0, 800), np.arange(300, 1033)
    n_files, n_sampled = 60, 15
    file_a = dict(zip(crawl_a, rng.permutation(len(crawl_a)) % n_files))
    file_b = dict(zip(crawl_b, rng.permutation(len(crawl_b)) % n_files))
    truth = page_tokens.sum()
    shared = np.arange(300, 800)
    est, covered = [], []
    for d in range(300):
        sa = set(rng.choice(n_files, n_sampled, replace=False).tolist())
        sb = set(rng.choice(n_files, n_sampled, replace=False).tolist())
        design = _design({"A": (n_files, sorted(sa)), "B": (n_files, sorted(sb))})
        col = {name: i for i, name in enumerate(design.source_file)}
        y = np.zeros((design.n_files, 2))
        for page in crawl_a:
            if file_a[page] in sa:
                y[col[f"A/{file_a[page]}"], 0] += page_tokens[page]
        for page in crawl_b:
            if file_b[page] in sb:
                y[col[f"B/{file_b[page]}"], 1] += page_tokens[page]
        seen = [p for p in shared if file_a[p] in sa and file_b[p] in sb]
        f_d = np.array([col[f"B/{file_b[p]}"] for p in seen], dtype=np.int64)
        f_e = np.array([col[f"A/{file_a[p]}"] for p in seen], dtype=np.int64)
        reps = replicate_weights(design, 300, seed=d)
        totals = estimate_totals(y, design, reps)
        weights = np.vstack([design.weight, reps])
        overlap = np.zeros((len(weights), 2))
        overlap[:, 1] = pair_replicates(f_d, f_e, page_tokens[seen], weights)
        union = union_replicates(np.vstack([totals.estimate, totals.replicates]), overlap)
        est.append(union[0])
        lo, hi = np.percentile(union[1:], [5, 95])
        covered.append(lo <= truth <= hi)
    est_arr = np.array(est)
    assert abs(est_arr.mean() - truth) < 3 * est_arr.std(ddof=1) / np.sqrt(len(est_arr))
    assert 0.75 <= np.mean(covered) <= 0.99, np.mean(covered)
