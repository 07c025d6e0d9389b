"""Classifier error in the stock: turn tier token totals into "tokens people would judge good", with the
uncertainty of how well the tiers agree with people carried along.

Why: a tier is a classifier's verdict, not a fact. Where human labels exist, each tier's agreement with people
(the share of its tokens that people judge good) is measured on a labelled sample; the stock of good tokens is
then sum over tiers of (tier tokens x that share). The share is uncertain (a few hundred labels), so each
bootstrap replicate of the tier totals is paired with a draw of every tier's share from its Beta posterior
(Jeffreys prior, Beta(1/2, 1/2)); the resulting replicates give "good tokens: X [a, b]" that include both the
sampling error of the stock and the error of the classifier. This is the Bayesian form of correcting a
prevalence for misclassification (Rogan & Gladen 1978 correct a test-positive share with sensitivity and
specificity; here the per-tier predictive values are used directly, which also works for three tiers).
`rogan_gladen` gives the classic two-class correction for comparison.

Assumption, stated wherever the number is shown: within each tier, the labelled documents are like the
tier's documents in the stock (same pages, languages and crawl). Labels of English web pages say little about
a tier made of Chinese pages; without labels there is no correction (None, with the reason).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

PRIOR = 0.5  # Jeffreys


def agreement_problem(tier_tokens: Mapping[str, np.ndarray], agreement: Mapping | None) -> str | None:
    """Why `good_token_replicates` cannot correct these tiers (None when it can)."""
    if not agreement or not agreement.get("tiers"):
        return "no human labels: the quality scorer's model card has no agreement table"
    table = agreement["tiers"]
    for tier, tokens in tier_tokens.items():
        row = table.get(tier)
        if row is None or row.get("documents", 0) == 0:
            return f"no labelled documents in tier {tier!r}"
        if row.get("tokens", 0) <= 0:
            return f"the labelled documents of tier {tier!r} have no tokens"
        if not 0 <= row.get("good_tokens", -1) <= row["tokens"]:
            return f"tier {tier!r}: good_tokens must lie between 0 and tokens"
        if np.ndim(tokens) != 1:
            return f"tier {tier!r}: token replicates must be a 1-D array"
    lengths = {len(np.asarray(v)) for v in tier_tokens.values()}
    if len(lengths) != 1 or 0 in lengths:
        return "every tier needs the same, non-zero number of bootstrap replicates"
    return None


def share_posterior(row: Mapping) -> tuple[float, float]:
    """Beta(a, b) posterior of a tier's good-token share from its agreement row.

    The labelled tokens are not independent draws: they come in documents. The evidence counts as
    `effective_documents` (Kish's (sum w)^2 / sum w^2 over the labelled documents' token counts; `documents` when
    absent) Bernoulli trials at the observed token share.
    """
    share = row["good_tokens"] / row["tokens"]
    n = float(row.get("effective_documents") or row["documents"])
    return PRIOR + n * share, PRIOR + n * (1.0 - share)


def good_token_replicates(tier_tokens: Mapping[str, np.ndarray], agreement: Mapping | None,
                          rng: np.random.Generator) -> np.ndarray | None:
    """Replicates of "tokens people would judge good", or None when labels are missing (see `agreement_problem`).

    tier_tokens: tier name ("high", "medium", "low", …) -> 1-D array of R bootstrap replicates of that tier's
        token total in the stock (the same R replicates, in the same order, for every tier, so that tiers from
        one resample stay together).
    agreement: the scorer's agreement table (model card key `agreement`): `{"tiers": {tier: {"documents": n,
        "good_documents": g, "tokens": t, "good_tokens": gt, "effective_documents": n_eff (optional)}}, ...}`,
        measured on human-labelled documents scored and tiered like the stock.
    rng: NumPy generator for the share draws (seed it for reproducible intervals).

    Returns an array of R replicates (same unit as the inputs): replicate r = sum over tiers of
    tier_tokens[tier][r] x share_tier,r, with share_tier,r drawn from the tier's Beta posterior independently per
    replicate. Its percentiles are the interval; its mean the estimate.
    """
    if agreement_problem(tier_tokens, agreement) is not None:
        return None
    total = None
    for tier, tokens in tier_tokens.items():
        tokens = np.asarray(tokens, dtype=np.float64)
        a, b = share_posterior(agreement["tiers"][tier])
        part = tokens * rng.beta(a, b, size=tokens.shape[0])
        total = part if total is None else total + part
    return total


def share_draws(agreement: Mapping, tiers: list[str], n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, tiers) good-token shares: row 0 the observed share of each tier (the point estimate, to pair with
    replicate 0 of a replicates table), rows 1.. independent draws from each tier's Beta posterior.

    Pairing row r with bootstrap replicate r of the tier totals puts both the sampling error of the stock and the
    error of the agreement table into one set of replicates (see `good_token_replicates`).
    """
    out = np.empty((n, len(tiers)))
    for j, tier in enumerate(tiers):
        row = agreement["tiers"][tier]
        a, b = share_posterior(row)
        out[0, j] = row["good_tokens"] / row["tokens"]
        out[1:, j] = rng.beta(a, b, size=n - 1)
    return out


def labelled_documents(agreement: Mapping | None) -> int:
    """How many human-labelled documents the agreement table rests on (0 without one)."""
    return int(sum(int(r.get("documents", 0)) for r in ((agreement or {}).get("tiers") or {}).values()))


def good_token_summary(tier_tokens: Mapping[str, np.ndarray], agreement: Mapping | None, rng: np.random.Generator,
                       level: float = 0.9) -> dict:
    """`{"available": True, "estimate", "low", "high", "level", "labels"}` from `good_token_replicates`, or
    `{"available": False, "reason"}`. The interval is the central `level` percentile interval."""
    reason = agreement_problem(tier_tokens, agreement)
    if reason is not None:
        return {"available": False, "reason": reason}
    reps = good_token_replicates(tier_tokens, agreement, rng)
    tail = (1.0 - level) / 2 * 100
    return {"available": True, "estimate": float(np.mean(reps)), "low": float(np.percentile(reps, tail)),
            "high": float(np.percentile(reps, 100 - tail)), "level": level, "labels": agreement.get("labels"),
            "assumption": "within each tier, labelled documents are like the tier's documents in the stock"}


def rogan_gladen(observed_positive: float, sensitivity: float, specificity: float) -> float:
    """Rogan–Gladen: true prevalence from a test-positive share, clipped to [0, 1].

    pi = (p_obs + specificity - 1) / (sensitivity + specificity - 1); undefined when the test is no better than
    chance (sensitivity + specificity <= 1).
    """
    youden = sensitivity + specificity - 1.0
    if youden <= 0:
        raise ValueError("Rogan–Gladen needs sensitivity + specificity > 1 (a test better than chance)")
    return float(np.clip((observed_positive + specificity - 1.0) / youden, 0.0, 1.0))
