"""A miniature Aff-Wild release for the annotation tool's and the fusion's tests: one short H.264
video a browser plays, one MPEG-4 Part 2 AVI it cannot, and three synthetic annotators' traces of
the first; and a finished session's samples, as the tool's pages send them."""
from pathlib import Path

import numpy as np

from affwild_lib.synth.video import encode

FPS = 25
SECONDS = 3.0
RELEASE_ANNOTATORS = ("A1", "A2", "A3")


def frames(n: int, size: int = 64):
    """A bright square crossing a dark frame: enough picture to see the video plays."""
    for i in range(n):
        rgb = np.full((size, size, 3), 30, np.uint8)
        x = int(i / max(n - 1, 1) * (size - 16))
        rgb[24:40, x:x + 16] = (230, 180, 60)
        yield rgb


def whole(n: int = 40, level: float = 0.5, duration: float = SECONDS) -> dict:
    """A finished session's body: ``n`` samples from the video's start to its end."""
    t = np.linspace(0, duration, n)
    return {"times": t.tolist(), "values": (level * np.sin(t)).tolist()}


def make_release(root: Path) -> Path:
    """Write the release under ``root/synth/affwild`` (so its traces root is
    ``root/annotations/synth/affwild``) and return its folder."""
    release = root / "synth" / "affwild"
    train = release / "videos" / "train"
    train.mkdir(parents=True)
    n = int(FPS * SECONDS)
    encode(train / "clip.mp4", frames(n), FPS, (64, 64))
    encode(train / "bad.avi", frames(n), FPS, (64, 64))
    rng = np.random.default_rng(0)
    t = np.arange(0, SECONDS, 0.1)
    base = 0.6 * np.sin(2 * np.pi * t / SECONDS)
    for k, name in enumerate(RELEASE_ANNOTATORS):
        folder = release / "annotations_raw" / "valence" / "clip"
        folder.mkdir(parents=True, exist_ok=True)
        noise = 0.05 if k < 2 else 0.6  # A3 disagrees with the others
        values = np.clip(base + rng.normal(0, noise, t.size), -1, 1)
        (folder / f"{name}.csv").write_text(
            "time_s,value\n" + "".join(f"{a:.3f},{b:.4f}\n" for a, b in zip(t, values)))
    return release
