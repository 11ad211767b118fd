"""Per-video nuisance trajectories: head pose, camera, light, gaze and occlusions.

These are the "in-the-wild" conditions of Sect. 2.4 ("high variations in head pose and
lightning") that the face has to be recognised through; none of them depends on affect.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .signals import ou, wander
from .domains import Look

#: Brow-to-chin height of a face in face units (what a face detector's box roughly spans).
FACE_UNITS_TALL = 1.6


@dataclass(frozen=True)
class Occluder:
    kind: str          # 'hand' | 'mug' | 'phone'
    start: int         # first and last frame
    stop: int
    side: float        # -1 enters from the lower left, +1 from the lower right


@dataclass
class Scene:
    yaw: np.ndarray    # (n,) radians
    pitch: np.ndarray
    roll: np.ndarray
    scale: np.ndarray  # (n,) pixels per face unit
    cx: np.ndarray     # (n,) pixel position of the face origin
    cy: np.ndarray
    gaze: np.ndarray   # (n, 2) in [-1, 1], fraction of the eye's half-width
    exposure: np.ndarray  # (n,) global gain
    light_dir: np.ndarray  # (n,) radians, where the key light comes from
    side_light: float
    tint: np.ndarray   # (3,) per-channel gain: colour temperature
    pan: np.ndarray    # (n, 2) background offset, pixels
    background: np.ndarray  # (n,) index of the background shown (cuts)
    occluders: list[Occluder]
    noise_sd: float
    lowres: int        # 1, or the factor the video was upscaled by
    dark: bool


def sample_scene(rng: np.random.Generator, look: Look, n: int, fps: float,
                 size: tuple[int, int]) -> Scene:
    """Draw one video's nuisance trajectories."""
    w, h = size
    deg = np.pi / 180
    # Head pose: slow wandering plus occasional look-aways (fast turns: motion blur).
    turns = np.zeros(n)
    t = np.arange(n) / fps
    start = rng.exponential(8.0)
    while start < t[-1] and look.yaw_deg > 10:
        length = rng.uniform(0.5, 2.0)
        u = np.clip(np.minimum(t - start, start + length - t) / 0.25, 0, 1)
        turns += u * rng.choice([-1, 1]) * rng.uniform(0.4, 0.8)
        start += length + rng.exponential(8.0)
    yaw = look.yaw_deg * deg * np.clip(wander(rng, n, fps, 4.0, 0.45)[:, 0] + turns, -1.3, 1.3)
    pitch = look.pitch_deg * deg * np.clip(wander(rng, n, fps, 3.0, 0.5)[:, 0], -1.5, 1.5)
    roll = look.roll_deg * deg * np.clip(wander(rng, n, fps, 5.0, 0.5)[:, 0], -1.5, 1.5)

    s0 = rng.uniform(*look.face_frac) * h / FACE_UNITS_TALL
    scale = s0 * np.exp(0.06 * wander(rng, n, fps, 8.0, 1.0)[:, 0]) if look.drift \
        else np.full(n, s0)
    shake = ou(rng, n, fps, 0.08, look.shake_px, 2) if look.shake_px else np.zeros((n, 2))
    drift = wander(rng, n, fps, 8.0, 1.0, 2) * look.drift * np.array([w, 0.5 * h])
    cx = w / 2 + drift[:, 0] + shake[:, 0]
    cy = h / 2 + 0.2 * scale + drift[:, 1] + shake[:, 1]

    dark = bool(rng.random() < look.dark_p)
    exposure = rng.uniform(0.3, 0.5) if dark else rng.uniform(*look.light)
    exposure = exposure * np.exp(look.light_change * wander(rng, n, fps, 6.0, 1.0)[:, 0])
    light_dir = rng.uniform(-np.pi, np.pi) + 0.4 * wander(rng, n, fps, 10.0, 1.0)[:, 0]
    side = 1.0 if dark else look.side_light * rng.uniform(0.3, 1.0)

    cuts = np.zeros(n, int)
    if look.cut_every_s:
        for c in np.cumsum(rng.exponential(look.cut_every_s, 8)):
            cuts[t >= c] += 1
    occluders = []
    n_occ = rng.poisson(look.occlusions_per_min * n / fps / 60)
    for _ in range(n_occ):
        length = int(rng.uniform(0.4, 2.0) * fps)
        first = int(rng.integers(0, max(n - length, 1)))
        occluders.append(Occluder(str(rng.choice(["hand", "hand", "mug", "phone"])),
                                  first, min(first + length, n - 1),
                                  float(rng.choice([-1.0, 1.0]))))
    noise = rng.uniform(*look.noise) * (1.6 if dark else 1.0)
    return Scene(
        yaw=yaw, pitch=pitch, roll=roll, scale=scale, cx=cx, cy=cy,
        gaze=np.clip(ou(rng, n, fps, 0.8, 0.35, 2), -1, 1),
        exposure=exposure, light_dir=light_dir, side_light=side,
        tint=1 + np.array([1.0, 0.0, -1.0]) * rng.normal(0, 0.05),
        pan=wander(rng, n, fps, 10.0, look.pan_px, 2) if look.pan_px else np.zeros((n, 2)),
        background=cuts, occluders=occluders, noise_sd=float(noise),
        lowres=int(rng.choice([2, 3])) if rng.random() < look.lowres_p else 1, dark=dark,
    )
