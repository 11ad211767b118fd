"""Evaluation criteria of the paper.

CCC (Eq. 1) is computed as the official Aff-Wild evaluation script computes it: once over all
frames pooled together (not averaged per video), with biased (1/N) variances and covariance
(``FORMATS.md``, "The metric"). MSE is Eq. 2.
"""
from __future__ import annotations

import numpy as np


def _pair(x, y) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same number of values, got {x.size} and {y.size}")
    if x.size == 0:
        raise ValueError("x and y are empty")
    return x, y


def ccc(x, y) -> float:
    """Concordance correlation coefficient rho_c (Eq. 1, Sect. 4.1), pooled and biased.

    ``rho_c = 2 s_xy / (s_x^2 + s_y^2 + (mean_x - mean_y)^2)`` with 1/N moments. It is 1 for
    identical inputs, -1 for ``y = -x`` (x centred), and, unlike Pearson's r, drops when the
    predictions are shifted or scaled away from the labels. Any NaN in the input gives NaN.
    A constant input against a varying one gives 0 (no covariance). Two constant, equal inputs
    make Eq. 1 read 0/0; we return 1.0 there, since they agree exactly.
    """
    x, y = _pair(x, y)
    if np.isnan(x).any() or np.isnan(y).any():
        return float("nan")
    mx, my = x.mean(), y.mean()
    sxy = np.mean((x - mx) * (y - my))
    denom = x.var() + y.var() + (mx - my) ** 2
    if denom == 0.0:  # both constant and equal: they agree exactly
        return 1.0
    return float(2.0 * sxy / denom)


def mse(x, y) -> float:
    """Mean squared error (Eq. 2)."""
    x, y = _pair(x, y)
    return float(np.mean((x - y) ** 2))


def pearson(x, y) -> float:
    """Pearson correlation coefficient ``rho_xy = s_xy / (s_x s_y)`` (Eq. 5, Sect. 5.1.2).

    Used for AFEW-VA (Table 16). Unlike CCC it ignores shifts and scalings of the predictions.
    Undefined (NaN) when either input is constant.
    """
    x, y = _pair(x, y)
    dx, dy = x - x.mean(), y - y.mean()
    denom = np.sqrt(np.sum(dx**2) * np.sum(dy**2))
    if denom == 0.0 or np.isnan(denom):
        return float("nan")
    return float(np.sum(dx * dy) / denom)


def _labels(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """Class indices from indices, or from scores (N, C) by their argmax."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_pred.ndim == 2:
        y_pred = y_pred.argmax(axis=1)
    if y_true.ndim == 2:
        y_true = y_true.argmax(axis=1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred hold {y_true.size} and {y_pred.size} samples")
    return y_true.astype(int), y_pred.astype(int)


def accuracy_per_class(y_true, y_pred, n_classes: int = 7) -> np.ndarray:
    """For each class, the fraction of its samples classified correctly (Table 18's columns).

    ``y_true`` and ``y_pred`` are class indices, or scores/one-hot (N, C) read by argmax. A class
    without samples gives NaN.
    """
    y_true, y_pred = _labels(y_true, y_pred)
    out = np.full(n_classes, np.nan)
    for c in range(n_classes):
        members = y_true == c
        if members.any():
            out[c] = np.mean(y_pred[members] == c)
    return out


def total_accuracy(y_true, y_pred) -> float:
    """Fraction of all samples classified correctly (Table 18's "Total", Table 19).

    This is the overall accuracy, not the mean of the per-class ones: in Table 18 the two
    differ (VGG-16: 0.263 total, 0.242 mean of the seven classes).
    """
    y_true, y_pred = _labels(y_true, y_pred)
    if y_true.size == 0:
        raise ValueError("no samples")
    return float(np.mean(y_true == y_pred))


# ---------------------------------------------------------------------------------------------
# Stateful Keras metrics: the pooled CCC and MSE of a whole evaluation set, batch by batch.
# Keras is imported, and these classes defined, on first use (``from affwild_lib.metrics import
# CCCMetric``), so that the numpy criteria above load in a blink, without a deep-learning backend.
# ---------------------------------------------------------------------------------------------
DIMENSIONS = ("valence", "arousal")  # order of the two outputs of every model
_KERAS_NAMES = ("CCCMetric", "MSEMetric", "va_metrics")


def __getattr__(name):  # PEP 562: called for attributes the module does not have yet
    if name in _KERAS_NAMES:
        _define_keras_metrics()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _dimension_name(dimension: int) -> str:
    return DIMENSIONS[dimension] if dimension < len(DIMENSIONS) else str(dimension)


def _define_keras_metrics() -> None:
    global CCCMetric, MSEMetric, va_metrics
    import keras
    from keras import ops

    def accumulator_dtype() -> str:
        """float64 where the backend keeps it (TensorFlow; JAX with x64 enabled), else float32."""
        if keras.backend.backend() == "jax":
            import jax

            return "float64" if jax.config.jax_enable_x64 else "float32"
        return "float64"

    def column(y, dimension, n_dims, dtype):
        """Dimension ``dimension`` of (batch, D) or (batch, T, D) values, as one flat vector."""
        return ops.cast(ops.reshape(y, (-1, n_dims))[:, dimension], dtype)

    @keras.saving.register_keras_serializable(package="affwild")
    class CCCMetric(keras.metrics.Metric):
        """rho_c (Eq. 1) of one output dimension over everything seen since the last reset.

        It equals ``ccc`` on the concatenation of all batches (pooled, biased), as the official
        evaluation computes it; not the mean of per-batch CCCs, which differs whenever batches
        differ in mean or spread. The state is the count, both means, both sums of squared
        deviations and the sum of cross deviations, merged batch by batch with the pairwise
        update of Chan, Golub and LeVeque, which stays accurate in float32 (JAX without x64)
        where raw sums of squares would lose digits.
        """

        STATES = ("n", "mean_true", "mean_pred", "m2_true", "m2_pred", "co_moment")

        def __init__(self, dimension: int = 0, name: str | None = None, dtype=None):
            super().__init__(name=name or f"ccc_{_dimension_name(dimension)}", dtype=dtype)
            self.dimension = dimension
            self.acc_dtype = accumulator_dtype()
            for state in self.STATES:
                setattr(self, state, self.add_variable(shape=(), initializer="zeros",
                                                       dtype=self.acc_dtype, name=state))

        def update_state(self, y_true, y_pred, sample_weight=None):
            if sample_weight is not None:
                raise ValueError("CCCMetric takes no sample weights (CCC pools all frames)")
            t = column(y_true, self.dimension, y_pred.shape[-1], self.acc_dtype)
            p = column(y_pred, self.dimension, y_pred.shape[-1], self.acc_dtype)
            n_b = ops.cast(ops.shape(t)[0], self.acc_dtype)
            dt_b, dp_b = t - ops.mean(t), p - ops.mean(p)
            # merge the batch's (n, means, M2s, C) into the running ones
            n = self.n.value
            n_new = n + n_b
            share = n_b / ops.maximum(n_new, 1.0)
            delta_t = ops.mean(t) - self.mean_true.value
            delta_p = ops.mean(p) - self.mean_pred.value
            cross = n * share  # n * n_b / n_new
            new_values = (
                n_new,
                self.mean_true.value + delta_t * share,
                self.mean_pred.value + delta_p * share,
                self.m2_true.value + ops.sum(dt_b * dt_b) + delta_t * delta_t * cross,
                self.m2_pred.value + ops.sum(dp_b * dp_b) + delta_p * delta_p * cross,
                self.co_moment.value + ops.sum(dt_b * dp_b) + delta_t * delta_p * cross,
            )
            for state, value in zip(self.STATES, new_values):
                getattr(self, state).assign(value)

        def result(self):
            n = ops.maximum(self.n.value, 1.0)
            denom = ((self.m2_true.value + self.m2_pred.value) / n
                     + ops.square(self.mean_true.value - self.mean_pred.value))
            safe = ops.where(denom > 0, denom, 1.0)
            # as ``ccc``: two constant, equal inputs agree exactly
            rho = ops.where(denom > 0, 2.0 * self.co_moment.value / n / safe, 1.0)
            return ops.cast(rho, self.dtype)

        def get_config(self):
            return {**super().get_config(), "dimension": self.dimension}

    @keras.saving.register_keras_serializable(package="affwild")
    class MSEMetric(keras.metrics.Metric):
        """MSE (Eq. 2) of one output dimension over everything seen since the last reset."""

        def __init__(self, dimension: int = 0, name: str | None = None, dtype=None):
            super().__init__(name=name or f"mse_{_dimension_name(dimension)}", dtype=dtype)
            self.dimension = dimension
            self.acc_dtype = accumulator_dtype()
            self.n = self.add_variable(shape=(), initializer="zeros", dtype=self.acc_dtype,
                                       name="n")
            self.sse = self.add_variable(shape=(), initializer="zeros", dtype=self.acc_dtype,
                                         name="sse")

        def update_state(self, y_true, y_pred, sample_weight=None):
            if sample_weight is not None:
                raise ValueError("MSEMetric takes no sample weights")
            t = column(y_true, self.dimension, y_pred.shape[-1], self.acc_dtype)
            p = column(y_pred, self.dimension, y_pred.shape[-1], self.acc_dtype)
            self.n.assign(self.n.value + ops.cast(ops.shape(t)[0], self.acc_dtype))
            self.sse.assign(self.sse.value + ops.sum(ops.square(t - p)))

        def result(self):
            return ops.cast(self.sse.value / ops.maximum(self.n.value, 1.0), self.dtype)

        def get_config(self):
            return {**super().get_config(), "dimension": self.dimension}

    def va_metrics() -> list:
        """Sect. 4's criteria for ``model.compile(metrics=va_metrics())``: CCC and MSE of
        valence and of arousal, pooled over the whole set."""
        return [CCCMetric(0), CCCMetric(1), MSEMetric(0), MSEMetric(1)]

    for obj in (CCCMetric, MSEMetric, va_metrics):
        obj.__qualname__ = obj.__name__
        obj.__module__ = __name__
