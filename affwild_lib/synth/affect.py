"""Latent affect and the facial movements it drives.

The latent valence/arousal trajectory is the "true" feeling of the subject, something no real
dataset has. Aff-Wild collects "reaction" videos (Sect. 2.4): subjects respond to stimuli, so
the trajectory is a calm baseline with reaction episodes (onset, peak, decay) on top. The mix
of episode quadrants follows the histograms of Figs. 6 and 10: valence more often positive
than negative, arousal mostly mild and positive, all four quadrants present.

The face shows the latent with a per-subject lag and expressiveness, through several
channels at once (mouth corners and opening, eye opening, brows) weighted per subject, and
not all of the feeling shows (display rules drift within a video). Movements unrelated to
affect (blinks, talking) make a single frame ambiguous.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from .face import AU, AUS, Identity
from .signals import ou, wander

#: Quadrant probabilities of reaction episodes: (v+, a+), (v-, a+), (v-, a-), (v+, a-).
QUADRANTS = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]])


@dataclass(frozen=True)
class AffectStyle:
    """How a dataset's subjects feel over time (a dataset's affective domain)."""

    base_mean: tuple[float, float] = (0.08, 0.06)   # per-video baseline (valence, arousal)
    base_sd: tuple[float, float] = (0.15, 0.12)
    episode_every_s: float = 4.0                   # mean gap between reaction onsets
    quadrant_p: tuple[float, float, float, float] = (0.38, 0.27, 0.15, 0.20)
    intensity: float = 1.0                         # scales episode amplitudes
    drift_sd: float = 0.1                          # slow wandering of the baseline
    warmup_s: float = 3.0                          # videos start mid-life, not at rest


def _episode(t: np.ndarray, onset: float, rise: float, hold: float, decay: float) -> np.ndarray:
    """Unit reaction profile: smooth rise, plateau, exponential decay."""
    u = np.clip((t - onset) / rise, 0.0, 1.0)
    up = u * u * (3 - 2 * u)
    after = np.maximum(t - onset - rise - hold, 0.0)
    return up * np.exp(-after / decay)


def latent_affect(rng: np.random.Generator, n: int, fps: float, style: AffectStyle) -> np.ndarray:
    """(n, 2) latent valence and arousal in [-1, 1] at the frame rate."""
    warm = int(rng.uniform(0, style.warmup_s) * fps)
    t = np.arange(n + warm) / fps
    va = np.asarray(rng.normal(style.base_mean, style.base_sd), float)[None, :].repeat(t.size, 0)
    va = va + ou(rng, t.size, fps, tau_s=3.0, sd=style.drift_sd, dims=2)
    onset = rng.exponential(style.episode_every_s / 2)
    while onset < t[-1]:
        q = QUADRANTS[rng.choice(4, p=style.quadrant_p)]
        amp = q * rng.uniform([0.25, 0.15], [0.85, 0.75]) * style.intensity
        shape = _episode(t, onset, rng.uniform(0.3, 1.2), rng.uniform(0.5, 3.0),
                         rng.uniform(0.8, 3.0))
        va += shape[:, None] * amp[None, :]
        onset += rng.exponential(style.episode_every_s)
    return np.clip(va[warm:], -1.0, 1.0)


#: The seven AFEW categories (Sect. 2.2): centre in the valence-arousal plane and an
#: expression signature of their own, so the category is tied to a region of the plane
#: without being decided by it (Fear and Angry overlap there, the face tells them apart).
EMOTIONS = {
    "Angry": ((-0.5, 0.6), {"brow_furrow": 0.7, "eye_open": 0.3, "mouth_open": -0.2}),
    "Disgust": ((-0.55, 0.25), {"lip_raise": 0.9, "brow_furrow": 0.3, "cheek_raise": 0.3}),
    "Fear": ((-0.45, 0.65), {"brow_raise": 0.6, "lip_stretch": 0.8, "eye_open": 0.6}),
    "Happy": ((0.6, 0.35), {"smile": 0.4, "cheek_raise": 0.4}),
    "Neutral": ((0.0, -0.05), {}),
    "Sad": ((-0.5, -0.35), {"smile": -0.4, "brow_furrow": 0.3, "eye_open": -0.4}),
    "Surprise": ((0.2, 0.7), {"brow_raise": 0.8, "mouth_open": 0.6, "eye_open": 0.6}),
}
EMOTION_SD = 0.25  # spread of a clip's affect around its category centre


def emotion_affect(rng: np.random.Generator, n: int, fps: float, emotion: str):
    """Latent affect and extra expression of one AFEW clip of a given category.

    The clip's affect settles from near neutral towards a point drawn around the category
    centre; the category's own expression rises with it at a clip-specific strength (some
    clips are barely expressive). Returns ((n, 2) latent, (n, len(AUS)) extra activations).
    """
    centre, signature = EMOTIONS[emotion]
    target = np.clip(rng.normal(centre, EMOTION_SD), -0.95, 0.95)
    t = np.arange(n) / fps
    ramp = _episode(t, rng.uniform(-0.5, 0.3), rng.uniform(0.2, 0.8), 1e9, 1.0)
    start = rng.normal(0.0, 0.1, 2)
    va = start + ramp[:, None] * (target - start) + ou(rng, n, fps, 1.0, 0.05, 2)
    extra = np.zeros((n, len(AUS)))
    strength = rng.uniform(0.2, 1.0)
    for name, w in signature.items():
        extra[:, AU[name]] = w * strength * ramp
    return np.clip(va, -1.0, 1.0), extra


def _shift(x: np.ndarray, fps: float, lag_s: float) -> np.ndarray:
    """x delayed by lag_s (the start is held)."""
    t = np.arange(len(x)) / fps
    return np.stack([np.interp(t - lag_s, t, col) for col in x.T], axis=1)


def _relu(x):
    return np.maximum(x, 0.0)


def facial_drive(rng: np.random.Generator, latent: np.ndarray, identity: Identity, fps: float,
                 extra: np.ndarray | None = None, talk_scale: float = 1.0) -> np.ndarray:
    """(n, 2) latent affect -> (n, len(AUS)) action-unit activations of one subject."""
    n = len(latent)
    v, a = _shift(latent, fps, identity.face_lag_s).T
    aus = np.zeros((n, len(AUS)))
    aus[:, AU["smile"]] = v
    aus[:, AU["cheek_raise"]] = 0.8 * _relu(v)
    aus[:, AU["brow_furrow"]] = 0.9 * _relu(-v) + 0.4 * _relu(-v) * _relu(a)
    aus[:, AU["mouth_open"]] = 0.45 * _relu(a) + 0.3 * _relu(v) * _relu(a)
    aus[:, AU["brow_raise"]] = 0.7 * a
    aus[:, AU["eye_open"]] = 0.8 * a
    aus[:, AU["lip_stretch"]] = 0.4 * _relu(a) * _relu(-v)
    aus[:, AU["lip_raise"]] = 0.3 * _relu(-v) * (1 - np.abs(a))
    if extra is not None:
        aus += extra
    # Display rules: how much of the feeling reaches the face drifts within a video.
    shown = np.clip(1 + wander(rng, n, fps, 8.0, 0.35)[:, 0], 0.2, 1.6)
    aus = aus * (identity.au_gain * identity.expressiveness) * shown[:, None] + identity.resting
    # Facial muscles are not instantaneous: a short exponential smoothing.
    phi = np.exp(-1.0 / (fps * 0.12))
    aus = lfilter([1 - phi], [1, -phi], aus, axis=0, zi=aus[:1] * phi)[0]
    aus += ou(rng, n, fps, tau_s=0.5, sd=0.04, dims=len(AUS))
    aus[:, AU["mouth_open"]] += talk_scale * _talking(rng, n, fps, identity.talkativeness)
    blink = _blinks(rng, n, fps, identity.blink_rate_hz)
    aus[:, AU["blink"]] = blink
    aus[:, AU["eye_open"]] *= 1 - blink  # a closed eye is closed, however aroused
    aus[:, AU["mouth_open"]] = np.maximum(aus[:, AU["mouth_open"]], -0.3)
    return np.clip(aus, -1.2, 1.2)


def _blinks(rng: np.random.Generator, n: int, fps: float, rate_hz: float) -> np.ndarray:
    """Eyelid closure in [0, 1]: brief (~0.1-0.25 s) triangular blinks at random times."""
    t = np.arange(n) / fps
    out = np.zeros(n)
    for when in np.cumsum(rng.exponential(1 / rate_hz, int(rate_hz * n / fps * 2) + 2)):
        if when > t[-1]:
            break
        half = rng.uniform(0.05, 0.12)
        out = np.maximum(out, np.clip(1 - np.abs(t - when) / half, 0, 1))
    return out


def _talking(rng: np.random.Generator, n: int, fps: float, talkativeness: float) -> np.ndarray:
    """Mouth opening from speech: 3-6 Hz syllable oscillation inside talking spells."""
    t = np.arange(n) / fps
    spell = np.zeros(n, bool)
    start = rng.exponential(3.0)
    while start < t[-1] and talkativeness > 0:
        length = rng.exponential(6.0 * talkativeness + 0.5)
        spell |= (t >= start) & (t < start + length)
        start += length + rng.exponential(3.0 * (1 - talkativeness) + 0.5)
    freq = np.clip(4.5 + ou(rng, n, fps, 0.5, 1.0)[:, 0], 2.5, 7.0)
    phase = 2 * np.pi * np.cumsum(freq) / fps
    syllables = _relu(np.sin(phase)) ** 1.5 * rng.uniform(0.25, 0.5)
    return spell * syllables
