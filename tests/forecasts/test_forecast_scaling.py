"""Closed forms behind the compute-based demand and the repetition adjustment."""

import math

import numpy as np
import pytest

from forecasts.scaling import chinchilla_compute, chinchilla_tokens, muennighoff_effective, muennighoff_multiplier


def test_chinchilla_tokens_at_5e28_flop():
    d = float(chinchilla_tokens(5e28))
    assert d == pytest.approx(4.08e14, rel=0.01)
    assert d == pytest.approx(20 * math.sqrt(5e28 / 120), rel=1e-12)


def test_chinchilla_inverse_round_trips():
    c = np.array([1e24, 5e25, 5e28])
    np.testing.assert_allclose(chinchilla_compute(chinchilla_tokens(c)), c, rtol=1e-12)
    assert float(chinchilla_compute(4.08e14)) == pytest.approx(5e28, rel=0.01)
    # the paper's 5x-overtraining point: ~3e14 tokens at ~6e27 FLOP
    assert float(chinchilla_compute(3.0e14, overtrain=5)) == pytest.approx(5.4e27, rel=0.01)


def test_overtraining_uses_sqrt_k_more_data():
    base = chinchilla_tokens(1e27)
    assert float(chinchilla_tokens(1e27, overtrain=5) / base) == pytest.approx(math.sqrt(5), rel=1e-12)
    assert float(chinchilla_tokens(1e27, overtrain=100) / base) == pytest.approx(10.0, rel=1e-12)


def test_muennighoff_effective_data():
    assert float(muennighoff_multiplier(1)) == 1.0
    # four epochs are worth nearly four unique passes; the gain saturates at 1 + R* = 16.4
    assert float(muennighoff_multiplier(4)) == pytest.approx(1 + 15.4 * (1 - math.exp(-3 / 15.4)), rel=1e-12)
    assert 3.6 < float(muennighoff_multiplier(4)) < 4.0
    assert float(muennighoff_multiplier(1e6)) == pytest.approx(16.4, rel=1e-6)
    assert float(muennighoff_effective(1e12, 4)) == pytest.approx(1e12 * float(muennighoff_multiplier(4)))
    with pytest.raises(ValueError):
        muennighoff_multiplier(0.5)
