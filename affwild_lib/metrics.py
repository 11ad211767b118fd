"""Evaluation criteria of the paper.

CCC (Eq. 1) is computed as the official Aff-Wild evaluation script computes it: once over all
frames pooled together (not averaged per video), with biased (1/N) variances and covariance
(the book page *Data formats*, ``book/data_formats.md``, "Challenge entries and the metric").
MSE is Eq. 2.
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
