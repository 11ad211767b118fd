"""The CCC loss (Eq. 3), Pearson CC (Eq. 5), accuracies (Table 18) and the stateful Keras
metrics that pool CCC and MSE over a whole set, as the official evaluation does."""
import math

import keras
import numpy as np
import pytest

from affwild_lib.losses import CCCLoss, ccc_loss, ccc_per_dimension, mse_loss
from affwild_lib.metrics import accuracy_per_class, ccc, mse, pearson, total_accuracy


def value(x):
    return float(keras.ops.convert_to_numpy(x))


def va_pairs(n, seed=0, shape=()):
    rng = np.random.default_rng(seed)
    y_true = rng.uniform(-1, 1, (n, *shape, 2))
    y_pred = 0.6 * y_true + rng.normal(0.1, 0.3, y_true.shape)
    return y_true.astype("float32"), y_pred.astype("float32")


# --- the CCC loss -----------------------------------------------------------------------------

def test_ccc_loss_hand_computed():
    # valence: x = [1, 2, 3], y = [1, 2, 4] -> rho_c = 6/7 (see test_metrics); arousal equal -> 1
    y_true = np.array([[1, 0.5], [2, -0.5], [3, 0.0]], "float32")
    y_pred = np.array([[1, 0.5], [2, -0.5], [4, 0.0]], "float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ccc_per_dimension(y_true, y_pred)),
                               [6 / 7, 1.0], rtol=1e-6)
    # Eq. 3: ((1 - 6/7) + (1 - 1)) / 2
    assert value(ccc_loss(y_true, y_pred)) == pytest.approx((1 / 7) / 2, rel=1e-5)


@pytest.mark.parametrize("shape", [(), (5,)])  # (batch, 2) and (batch, T, 2)
def test_ccc_loss_is_one_minus_pooled_ccc(shape):
    y_true, y_pred = va_pairs(40, shape=shape)
    expected = np.mean([1 - ccc(y_true[..., d], y_pred[..., d]) for d in (0, 1)])
    assert value(ccc_loss(y_true, y_pred)) == pytest.approx(expected, abs=1e-5)
    assert value(CCCLoss()(y_true, y_pred)) == pytest.approx(expected, abs=1e-5)


def test_ccc_loss_bounds():
    y_true, _ = va_pairs(50)
    assert value(ccc_loss(y_true, y_true)) == pytest.approx(0.0, abs=1e-6)
    centred = y_true - y_true.mean(axis=0)
    assert value(ccc_loss(centred, -centred)) == pytest.approx(2.0, abs=1e-5)


def test_ccc_loss_refuses_sample_weights():
    y_true, y_pred = va_pairs(4)
    with pytest.raises(ValueError, match="sample weights"):
        CCCLoss()(y_true, y_pred, sample_weight=np.ones(4))


def test_mse_loss():
    y_true, y_pred = va_pairs(30, shape=(3,))
    assert value(mse_loss(y_true, y_pred)) == pytest.approx(mse(y_true, y_pred), rel=1e-5)


def test_ccc_loss_round_trips_through_serialisation():
    loss = keras.losses.deserialize(keras.losses.serialize(CCCLoss()))
    assert isinstance(loss, CCCLoss)


# --- numpy criteria ---------------------------------------------------------------------------

def test_pearson_hand_computed_and_invariances():
    # x = [1, 2, 3], y = [1, 2, 4]: s_xy = 1, s_x^2 = 2/3, s_y^2 = 14/9 -> 1 / sqrt(28/27)
    assert pearson([1, 2, 3], [1, 2, 4]) == pytest.approx(1 / math.sqrt(28 / 27), abs=1e-12)
    x = np.sin(np.linspace(0, 9, 100))
    assert pearson(x, 3 * x + 2) == pytest.approx(1.0)  # unlike CCC, blind to scale and shift
    assert ccc(x, 3 * x + 2) < 0.5
    assert math.isnan(pearson([1, 1, 1], [1, 2, 3]))


def test_accuracies_of_table_18():
    y_true = [0, 0, 0, 0, 1, 1, 2, 4]
    y_pred = [0, 0, 1, 3, 1, 0, 2, 4]
    per_class = accuracy_per_class(y_true, y_pred, n_classes=7)
    np.testing.assert_allclose(per_class[:5], [0.5, 0.5, 1.0, np.nan, 1.0])
    assert np.isnan(per_class[5:]).all()
    assert total_accuracy(y_true, y_pred) == pytest.approx(5 / 8)
    # the total is over samples, not the mean over classes (0.75 here)
    assert total_accuracy(y_true, y_pred) != pytest.approx(np.nanmean(per_class))
    scores = np.eye(7)[y_pred] * 0.9 + 0.01  # softmax-like scores read by argmax
    np.testing.assert_allclose(accuracy_per_class(y_true, scores), per_class)


# --- stateful Keras metrics -------------------------------------------------------------------

def batches():
    """Four batches that differ in mean and spread, as videos do."""
    rng = np.random.default_rng(3)
    out = []
    for i, size in enumerate((7, 20, 3, 12)):
        y_true = rng.normal(0.3 * i - 0.4, 0.2 + 0.1 * i, (size, 2))
        y_pred = y_true * 0.5 + rng.normal(0.0, 0.2, (size, 2)) + 0.1 * (i % 2)
        out.append((y_true.astype("float32"), y_pred.astype("float32")))
    return out


