"""Simulated joystick annotators (Sect. 3.1-3.2).

Each annotator sees the latent affect only through the video: they react late, move the
joystick smoothly, have their own gain and bias, drift, jitter, and sometimes mix up valence
and arousal. A few are poor at the task: these are the traces Sect. 3.4's correlation-based
selection is there to leave out. The tool samples the joystick "at a variable time rate", so
each trace has its own timestamps.

Traits belong to the annotator (a pool shared by all videos of a dataset), with a little
per-video variation and the odd off day, as the same people annotated the whole of Aff-Wild.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.signal import lfilter

from .signals import ou

FINE_HZ = 100.0  # the simulated hand moves on this grid before the tool samples it
OFF_DAY_P = 0.12  # chance that a good annotator is distracted for a whole video


@dataclass(frozen=True)
class Annotator:
    name: str
    poor: bool
    delay_s: float       # reaction time
    smooth_s: float      # hand/joystick inertia
    gain: float
    bias: float
    drift_sd: float      # slow wandering of the hand
    noise_sd: float      # jitter
    crosstalk: float     # fraction of the other dimension leaking in
    rate_hz: float       # mean joystick sampling rate of the tool


def annotator_pool(rng: np.random.Generator, n: int = 8, n_poor: int = 2) -> list[Annotator]:
    """n annotators, of whom n_poor are markedly worse (late, noisy, biased, confused)."""
    pool = []
    for k in range(n):
        poor = k >= n - n_poor
        pool.append(Annotator(
            name=f"A{k + 1}", poor=poor,
            delay_s=rng.uniform(1.0, 2.2) if poor else rng.uniform(0.3, 0.8),
            smooth_s=rng.uniform(0.6, 1.5) if poor else rng.uniform(0.15, 0.5),
            gain=rng.uniform(0.35, 0.7) if poor else rng.uniform(0.8, 1.15),
            bias=rng.normal(0, 0.2 if poor else 0.05),
            drift_sd=0.2 if poor else 0.05,
            noise_sd=0.06 if poor else 0.015,
            crosstalk=rng.uniform(0.2, 0.5) if poor else rng.uniform(0.0, 0.08),
            rate_hz=rng.uniform(10, 30),
        ))
    # Shuffle so that name order says nothing about quality.
    order = rng.permutation(n)
    return [replace(pool[i], name=f"A{j + 1}") for j, i in enumerate(order)]


def hand_trace(rng: np.random.Generator, ann: Annotator, own: np.ndarray, other: np.ndarray,
               fps: float):
    """The annotator's continuous joystick position on a FINE_HZ grid: (times, values)."""
    duration = len(own) / fps
    t_frames = np.arange(len(own)) / fps
    t = np.arange(0.0, duration, 1.0 / FINE_HZ)
    off = 3.0 if rng.random() < OFF_DAY_P else 1.0  # late, drifting and jittery that day
    delay = max(ann.delay_s + rng.normal(0, 0.1), 0.05) + 0.4 * (off - 1)
    seen = (1 - ann.crosstalk) * np.interp(t - delay, t_frames, own) \
        + ann.crosstalk * np.interp(t - delay, t_frames, other)
    seen[t < delay] = 0.0  # the joystick rests at 0 until the annotator first reacts
    phi = np.exp(-1.0 / (FINE_HZ * ann.smooth_s))
    hand = lfilter([1 - phi], [1, -phi], seen)
    hand = ann.gain * hand + ann.bias + rng.normal(0, 0.03)
    hand += ou(rng, t.size, FINE_HZ, tau_s=5.0, sd=off * ann.drift_sd)[:, 0]
    hand += rng.normal(0, off * ann.noise_sd, t.size)
    return t, np.clip(hand, -1.0, 1.0)


def joystick_samples(rng: np.random.Generator, ann: Annotator, t: np.ndarray, hand: np.ndarray):
    """Sample the hand at the tool's variable rate; timestamps in ms resolution, so some
    frames end up exactly halfway between two samples (Sect. 3.3's tie rule)."""
    mean_dt = 1.0 / ann.rate_hz
    n = int(t[-1] / mean_dt * 1.5) + 8
    times = rng.uniform(0, mean_dt) + np.cumsum(rng.gamma(4.0, mean_dt / 4.0, n))
    times = np.round(np.concatenate([[0.0], times[times < t[-1]]]), 3)
    values = np.round(np.interp(times, t, hand), 4)
    return times, values


def annotate(rng: np.random.Generator, annotators: list[Annotator], latent: np.ndarray,
             fps: float, dim: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Raw traces of one dimension (0 valence, 1 arousal) by each annotator."""
    out = {}
    for ann in annotators:
        t, hand = hand_trace(rng, ann, latent[:, dim], latent[:, 1 - dim], fps)
        out[ann.name] = joystick_samples(rng, ann, t, hand)
    return out


def rate_uniform(rng: np.random.Generator, annotators: list[Annotator], latent: np.ndarray,
                 fps: float, dim: int, times: np.ndarray) -> np.ndarray:
    """Ratings sampled on a fixed grid (RECOLA's tool logs every 40 ms): (raters, len(times))."""
    rows = []
    for ann in annotators:
        t, hand = hand_trace(rng, ann, latent[:, dim], latent[:, 1 - dim], fps)
        rows.append(np.interp(times, t, hand))
    return np.stack(rows)
