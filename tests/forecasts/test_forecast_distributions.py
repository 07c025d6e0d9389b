"""Uncertain inputs: the mixture kind that carries the 2022 paper's pooled stock estimates."""

import numpy as np
import pytest

from forecasts.distributions import Sampler, parse_dist

MIX = {"dist": "mixture", "ci": 0.9, "components": [
    {"weight": 3, "dist": "lognormal", "low": 1e14, "high": 1e15, "ci": 0.9},
    {"weight": 1, "dist": "lognormal", "low": 1e16, "high": 1e17, "ci": 0.9}]}


def test_mixture_samples_match_its_quantiles():
    d = parse_dist(MIX, "x")
    x = d.sample(np.random.default_rng(0), 400_000)
    assert np.mean(x > 3e15) == pytest.approx(0.25, abs=0.003)  # weights normalised: 3:1
    for p in (0.05, 0.25, 0.5, 0.9, 0.95):
        assert np.quantile(x, p) == pytest.approx(d.quantile(p), rel=0.02)
    # the stated interval and median are the mixture's own, not a component's
    assert (d.low, d.high) == pytest.approx((d.quantile(0.05), d.quantile(0.95)))
    assert d.median() == pytest.approx(d.quantile(0.5))
    assert 1e14 < d.low < d.median() < 1e15 < 1e16 < d.high < 1e17
    desc = d.describe()
    assert desc["dist"] == "mixture" and [c["weight"] for c in desc["components"]] == [0.75, 0.25]


def test_mixture_is_seeded_per_input_and_pinnable():
    d = parse_dist(MIX, "x")
    a, b = Sampler(1_000, 3), Sampler(1_000, 3)
    np.testing.assert_array_equal(a.draw("stock", d), b.draw("stock", d))
    lo, hi = d.interval()
    assert np.all(Sampler(10, 0, {"stock": lo}).draw("stock", d) == lo)
    assert lo < hi


def test_one_component_mixture_is_that_component():
    one = parse_dist({"dist": "mixture", "components": [{"weight": 1, "dist": "lognormal", "low": 2, "high": 8,
                                                          "ci": 0.9}]}, "x")
    assert one.low == pytest.approx(2.0) and one.high == pytest.approx(8.0) and one.median() == pytest.approx(4.0)


@pytest.mark.parametrize("spec", [
    {"dist": "mixture"},
    {"dist": "mixture", "components": []},
    {"dist": "mixture", "components": [{"dist": "lognormal", "low": 1, "high": 2}]},  # no weight
    {"dist": "mixture", "components": [{"weight": 0, "dist": "lognormal", "low": 1, "high": 2}]},
    {"dist": "mixture", "components": [{"weight": 1, "value": 3.0}]},  # components must be random
])
def test_bad_mixtures_are_rejected(spec):
    with pytest.raises(ValueError):
        parse_dist(spec, "x")
