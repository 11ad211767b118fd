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
