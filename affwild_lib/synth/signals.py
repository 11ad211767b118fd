"""Random time series shared by the simulators: rough (OU) and smooth (sinusoid) noise."""
from __future__ import annotations

import numpy as np
from scipy.signal import lfilter


def ou(rng: np.random.Generator, n: int, fps: float, tau_s: float, sd: float, dims: int = 1):
    """Ornstein-Uhlenbeck noise (stationary sd, correlation time tau_s), shape (n, dims).

    Continuous but rough: right for a hand's jitter or a slowly drifting mood, wrong for a
    head or a camera, which move smoothly (see :func:`wander`).
    """
    phi = np.exp(-1.0 / (fps * tau_s))
    eps = rng.standard_normal((n, dims)) * sd * np.sqrt(1 - phi * phi)
    eps[0] = rng.standard_normal(dims) * sd
    return lfilter([1.0], [1.0, -phi], eps, axis=0)


def wander(rng: np.random.Generator, n: int, fps: float, period_s: float, sd: float,
           dims: int = 1, components: int = 4):
    """Smooth random motion: a few sinusoids with periods around ``period_s``, shape (n, dims).

    Each component has a random period in [period_s / 2, 2 period_s], phase and share of
    the variance; the sum has standard deviation ``sd``.
    """
    t = np.arange(n)[:, None, None] / fps
    period = period_s * 2.0 ** rng.uniform(-1, 1, (components, dims))
    phase = rng.uniform(0, 2 * np.pi, (components, dims))
    share = rng.dirichlet(np.ones(components), dims).T  # (components, dims), sums to 1
    amp = sd * np.sqrt(2 * share)
    return (amp * np.sin(2 * np.pi * t / period + phase)).sum(axis=1)
