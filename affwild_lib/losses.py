"""The training losses of Sect. 4.2: the CCC loss (Eq. 3) and MSE (Sect. 4.1.1).

The networks of Sect. 4.2 were trained to maximise the concordance correlation coefficient
(Eq. 1) directly: per dimension ``L_c = 1 - rho_c``, and in total
``L_total = (L_a + L_v) / 2`` (Eq. 3). rho_c is a property of a whole set of predictions, not
of one frame, so the loss is computed over the batch, every frame of every sequence pooled,
with biased (1/N) moments as in the evaluation (``metrics.ccc``). The CNN-M baseline was
trained with MSE instead (Sect. 4.1.1).

Written in ``keras.ops`` only, so it runs on TensorFlow and JAX alike.
"""
from __future__ import annotations

import keras
from keras import ops

EPSILON = 1e-8  # keeps 0/0 (constant predictions and labels) finite


def _flatten(y_true, y_pred):
    """(batch, D) or (batch, T, D) -> (N, D): every frame of the batch is one observation."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    dims = y_pred.shape[-1]
    return ops.reshape(y_true, (-1, dims)), ops.reshape(y_pred, (-1, dims))


def ccc_per_dimension(y_true, y_pred):
    """rho_c (Eq. 1) of each output dimension, over all frames of the batch: shape (D,)."""
    y_true, y_pred = _flatten(y_true, y_pred)
    mean_true = ops.mean(y_true, axis=0)
    mean_pred = ops.mean(y_pred, axis=0)
    var_true = ops.mean(ops.square(y_true - mean_true), axis=0)
    var_pred = ops.mean(ops.square(y_pred - mean_pred), axis=0)
    covariance = ops.mean((y_true - mean_true) * (y_pred - mean_pred), axis=0)
    return 2.0 * covariance / (var_true + var_pred + ops.square(mean_true - mean_pred) + EPSILON)


def ccc_loss(y_true, y_pred):
    """Eq. 3: the mean over dimensions of ``1 - rho_c``; for (valence, arousal),
    ``(L_v + L_a) / 2``. Accepts (batch, D) and (batch, T, D); returns a scalar."""
    return ops.mean(1.0 - ccc_per_dimension(y_true, y_pred))


def mse_loss(y_true, y_pred):
    """Mean squared error (Eq. 2) over all frames and dimensions: a scalar."""
    y_true, y_pred = _flatten(y_true, y_pred)
    return ops.mean(ops.square(y_true - y_pred))


@keras.saving.register_keras_serializable(package="affwild")
class CCCLoss(keras.losses.Loss):
    """``ccc_loss`` as a Keras loss, for ``model.compile(loss=CCCLoss())``.

    The value is one number for the whole batch (rho_c has no per-sample value), so sample
    weights are not supported: oversampling (Sect. 4.2) repeats frames instead.
    """

    def __init__(self, name: str = "ccc_loss", reduction: str = "sum_over_batch_size",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return ccc_loss(y_true, y_pred)

    def __call__(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            raise ValueError("CCCLoss is a batch-level loss and takes no sample weights")
        return super().__call__(y_true, y_pred)
