"""CCC (Eq. 1) and MSE (Eq. 2) against values computed by hand."""
import math

import numpy as np
import pytest

from affwild_lib.metrics import ccc, mse


def test_ccc_hand_computed():
    # x = [1, 2, 3], y = [1, 2, 4]: means 2 and 7/3; biased var_x = 2/3, var_y = 14/9,
    # cov = (1*4/3 + 0 + 1*5/3)/3 = 1; rho_c = 2 / (2/3 + 14/9 + 1/9) = 2 / (21/9) = 6/7.
    assert ccc([1, 2, 3], [1, 2, 4]) == pytest.approx(6 / 7, abs=1e-12)


def test_ccc_uses_biased_moments():
    # With unbiased (1/(N-1)) moments the same data would give 2*1.5/(1+7/3+1/9) = 0.8710.
    assert ccc([1, 2, 3], [1, 2, 4]) != pytest.approx(0.8710, abs=1e-3)


def test_equal_inputs_give_one():
    x = np.random.default_rng(0).uniform(-1, 1, 100)
    assert ccc(x, x) == pytest.approx(1.0)


def test_negated_centred_input_gives_minus_one():
    x = np.random.default_rng(1).uniform(-1, 1, 100)
    x -= x.mean()
    assert ccc(x, -x) == pytest.approx(-1.0)


def test_shift_lowers_ccc_but_not_pearson():
    x = np.sin(np.linspace(0, 10, 200))
    shifted = x + 0.5
    assert np.corrcoef(x, shifted)[0, 1] == pytest.approx(1.0)
    assert ccc(x, shifted) < 0.9
    assert ccc(x, x + 0.1) > ccc(x, shifted)  # a bigger shift costs more


def test_scale_lowers_ccc():
    x = np.sin(np.linspace(0, 10, 200))
    x -= x.mean()  # centred, so only the scale differs: rho_c = 2a / (1 + a^2)
    assert ccc(x, 0.5 * x) == pytest.approx(2 * 0.5 / (1 + 0.25), rel=1e-9)


def test_constant_prediction_gives_zero():
    x = np.sin(np.linspace(0, 10, 200))
    assert ccc(x, np.full_like(x, x.mean())) == 0.0


def test_two_equal_constants_give_one():
    assert ccc([0.3, 0.3, 0.3], [0.3, 0.3, 0.3]) == 1.0


def test_two_different_constants_give_zero():
    assert ccc([0.3, 0.3], [0.1, 0.1]) == 0.0


def test_nan_propagates():
    assert math.isnan(ccc([0.1, float("nan"), 0.3], [0.1, 0.2, 0.3]))
    assert math.isnan(ccc([0.1, 0.2, 0.3], [0.1, 0.2, float("nan")]))


def test_length_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="3 and 2"):
        ccc([0.1, 0.2, 0.3], [0.1, 0.2])


def test_empty_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        ccc([], [])


def test_ccc_is_pooled_not_averaged_per_video():
    # Two videos each predicted perfectly up to a per-video offset: per-video CCCs differ from
    # the pooled one; ccc() of the concatenation is the pooled figure by construction.
    a, b = np.array([0.0, 0.2, 0.4]), np.array([0.5, 0.7, 0.9])
    pooled = ccc(np.r_[a, b], np.r_[a + 0.1, b - 0.1])
    per_video = (ccc(a, a + 0.1) + ccc(b, b - 0.1)) / 2
    assert pooled != pytest.approx(per_video, abs=1e-3)


def test_mse_hand_computed():
    assert mse([0, 1, 2], [0, 0, 0]) == pytest.approx(5 / 3)
    with pytest.raises(ValueError):
        mse([1, 2], [1])
