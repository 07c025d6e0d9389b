"""stats/misclassification.py: the good-token correction covers the truth at its nominal rate when the tiers'
agreement with people is known only from a labelled sample (simulation with known misclassification rates)."""

from __future__ import annotations

import numpy as np
import pytest

from stats.misclassification import (
    agreement_problem,
    good_token_replicates,
    good_token_summary,
    rogan_gladen,
    share_posterior,
)

# true share of each tier's tokens that people judge good (misclassification: 12% of "high" tokens are bad,
# 30% of "low" tokens are good)
TRUE_SHARE = {"high": 0.88, "medium": 0.55, "low": 0.30}
TIER_DOCS = {"high": 4000, "medium": 6000, "low": 10000}


def _population(rng: np.random.Generator) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per tier: document token counts (heavy-tailed) and goodness with the tier's true token share."""
    pop = {}
    for tier, n in TIER_DOCS.items():
        tokens = np.ceil(rng.lognormal(6.0, 1.0, n))
        good = rng.random(n) < TRUE_SHARE[tier]
        pop[tier] = (tokens, good)
    return pop


def _labelled(rng: np.random.Generator, pop, n_labels: dict[str, int]) -> dict:
    """An agreement table from a random labelled sample of each tier (as the model card stores it)."""
    table = {}
    for tier, (tokens, good) in pop.items():
        idx = rng.choice(len(tokens), n_labels[tier], replace=False)
        t, g = tokens[idx], good[idx]
        table[tier] = {"documents": len(idx), "good_documents": int(g.sum()), "tokens": float(t.sum()),
                       "good_tokens": float(t[g].sum()), "effective_documents": t.sum() ** 2 / (t ** 2).sum()}
    return {"tiers": table, "labels": "simulated"}


def _bootstrap(rng: np.random.Generator, pop, sample_docs: int, reps: int) -> tuple[dict, float]:
    """Tier-total replicates from a document sample of the population (bootstrap over sampled documents,
    scaled to the population), and the population's true good tokens."""
    tiers = list(pop)
    sizes = {t: len(pop[t][0]) for t in tiers}
    labels = np.concatenate([np.full(sizes[t], i) for i, t in enumerate(tiers)])
    tokens = np.concatenate([pop[t][0] for t in tiers])
    scale = len(tokens) / sample_docs
    sample = rng.choice(len(tokens), sample_docs, replace=False)
    boot = rng.integers(0, sample_docs, (reps, sample_docs))
    s_tok, s_tier = tokens[sample][boot], labels[sample][boot]
    tier_tokens = {t: scale * (s_tok * (s_tier == i)).sum(axis=1) for i, t in enumerate(tiers)}
    truth = sum(pop[t][0][pop[t][1]].sum() for t in tiers)
    return tier_tokens, float(truth)


def test_interval_covers_the_true_good_tokens_at_its_level():
    """90% intervals from 300 simulated stocks contain the population's good tokens ~90% of the time, while the
    uncorrected sum of the high tier is far off (and intervals ignoring the agreement error undercover)."""
    rng = np.random.default_rng(17)
    hits, hits_fixed, width_ratio = 0, 0, []
    for _ in range(300):
        pop = _population(rng)
        agreement = _labelled(rng, pop, {"high": 60, "medium": 40, "low": 80})
        tier_tokens, truth = _bootstrap(rng, pop, 3000, 400)
        reps = good_token_replicates(tier_tokens, agreement, rng)
        lo, hi = np.percentile(reps, [5, 95])
        hits += lo <= truth <= hi
        # the same correction with each tier's share fixed at its point estimate (no agreement uncertainty)
        fixed = sum(tier_tokens[t] * agreement["tiers"][t]["good_tokens"] / agreement["tiers"][t]["tokens"]
                    for t in tier_tokens)
        flo, fhi = np.percentile(fixed, [5, 95])
        hits_fixed += flo <= truth <= fhi
        width_ratio.append((hi - lo) / (fhi - flo))
    coverage = hits / 300
    assert 0.84 <= coverage <= 0.97, coverage
    assert hits_fixed / 300 < coverage - 0.1  # the agreement error matters, and is carried
    assert np.median(width_ratio) > 1.2


def test_point_estimate_recovers_known_misclassification():
    rng = np.random.default_rng(5)
    tier_tokens = {t: np.full(2000, 1e9 * n / 1000) for t, n in TIER_DOCS.items()}
    agreement = {"tiers": {t: {"documents": 10_000, "tokens": 1e7, "good_tokens": 1e7 * s}
                           for t, s in TRUE_SHARE.items()}}
    reps = good_token_replicates(tier_tokens, agreement, rng)
    expected = sum(1e9 * TIER_DOCS[t] / 1000 * s for t, s in TRUE_SHARE.items())
    assert reps.mean() == pytest.approx(expected, rel=2e-3)
    assert reps.std() / reps.mean() < 0.01  # many labels: little uncertainty left


def test_no_labels_gives_none_and_a_reason():
    tiers = {"high": np.ones(10), "low": np.ones(10)}
    rng = np.random.default_rng(0)
    assert good_token_replicates(tiers, None, rng) is None
    assert "no human labels" in agreement_problem(tiers, None)
    partial = {"tiers": {"high": {"documents": 5, "tokens": 100, "good_tokens": 90}}}
    assert good_token_replicates(tiers, partial, rng) is None
    assert "'low'" in agreement_problem(tiers, partial)
    summary = good_token_summary(tiers, partial, rng)
    assert summary == {"available": False, "reason": agreement_problem(tiers, partial)}
    ok = {"tiers": {"high": {"documents": 5, "tokens": 100, "good_tokens": 90},
                    "low": {"documents": 5, "tokens": 100, "good_tokens": 10}}}
    assert "same" in agreement_problem({"high": np.ones(10), "low": np.ones(9)}, ok)
    summary = good_token_summary(tiers, ok, rng)
    assert summary["available"] and summary["low"] <= summary["estimate"] <= summary["high"] <= 2.0


def test_beta_posterior_and_rogan_gladen():
    a, b = share_posterior({"documents": 100, "tokens": 1000, "good_tokens": 900})
    assert (a, b) == pytest.approx((90.5, 10.5))
    a, b = share_posterior({"documents": 100, "effective_documents": 25, "tokens": 1000, "good_tokens": 900})
    assert (a, b) == pytest.approx((23.0, 3.0))
    # a test with 90% sensitivity, 80% specificity on a 30% prevalence shows 0.9*0.3 + 0.2*0.7 = 41% positive
    assert rogan_gladen(0.41, 0.9, 0.8) == pytest.approx(0.3)
    with pytest.raises(ValueError, match="better than chance"):
        rogan_gladen(0.5, 0.5, 0.5)
