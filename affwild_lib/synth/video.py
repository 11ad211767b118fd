"""One synthetic video: latent affect -> expression -> pose -> landmarks -> frames -> file."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from .affect import facial_drive, latent_affect
from .domains import Domain
from .face import N_LANDMARKS, Identity, expression_shapes, project
from .render import Renderer
from .scene import Scene, sample_scene


@dataclass
class Clip:
    """Everything known about one generated video, truth included."""

    identity: Identity
    fps: float
    latent: np.ndarray      # (n, 2) valence, arousal
    aus: np.ndarray         # (n, len(AUS)) facial action activations
    points: np.ndarray      # (n, N_POINTS, 2) projected face and head points, pixels
    scene: Scene
    renderer: Renderer

    @property
    def n(self) -> int:
        return len(self.latent)

    @property
    def times(self) -> np.ndarray:
        return np.arange(self.n) / self.fps

    @property
    def landmarks(self) -> np.ndarray:
        return self.points[:, :N_LANDMARKS].astype(np.float32)

    def frames(self):
        for k in range(self.n):
            yield self.renderer.frame(k, self.points[k])


def simulate(rng: np.random.Generator, identity: Identity, domain: Domain, n: int, fps: float,
             size: tuple[int, int], latent: np.ndarray | None = None,
             extra: np.ndarray | None = None) -> Clip:
    """Simulate a video of ``n`` frames; ``latent``/``extra`` override the affect (AFEW)."""
    if latent is None:
        latent = latent_affect(rng, n, fps, domain.affect)
    aus = facial_drive(rng, latent, identity, fps, extra, domain.look.talk_scale)
    scene = sample_scene(rng, domain.look, n, fps, size)
    shapes = expression_shapes(identity, aus)
    points = project(shapes, scene.yaw, scene.pitch, scene.roll, scene.scale, scene.cx, scene.cy)
    return Clip(identity, fps, latent, aus, points, scene,
                Renderer(rng, identity, domain.look, scene, size))


#: (codec, container options): H.264 MP4 as on YouTube; MPEG-4 part 2 AVI (xvid-like) as in
#: AFEW and part of Aff-Wild. One thread keeps the bytes identical between runs.
CODECS = {
    ".mp4": ("libx264", {"crf": "28", "preset": "superfast", "threads": "1"}),
    ".avi": ("mpeg4", {"threads": "1"}),
}
MPEG4_BITS_PER_PIXEL = 0.1  # rate control target of the .avi encoder


def encode(path: Path, frames, fps: float, size: tuple[int, int]) -> int:
    """Encode RGB frames with PyAV into ``path`` (.mp4 or .avi); returns the frame count."""
    codec, options = CODECS[path.suffix]
    rate = Fraction(fps).limit_denominator(1001)
    count = 0
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=rate, options=options)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        if codec == "mpeg4":
            stream.bit_rate = int(MPEG4_BITS_PER_PIXEL * size[0] * size[1] * fps)
        for rgb in frames:
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            container.mux(stream.encode(frame))
            count += 1
        container.mux(stream.encode())
    return count


def write_pngs(folder: Path, frames) -> int:
    """AFEW-VA style frame files 00000.png, 00001.png, ... (0-indexed)."""
    count = 0
    for count, rgb in enumerate(frames, start=1):
        Image.fromarray(rgb).save(folder / f"{count - 1:05d}.png", optimize=False)
    return count
