"""Throughput of face preprocessing (decode, detect, landmarks, crop, write); prints a table, asserts nothing.

    python benchmarks/prepare.py [--video V.mp4] [--frames 300]

Figures, per core (CPU seconds of this one process, its decoder threads included, so other
load on the machine inflates them less than wall time; both are printed):

- decoding a 640x360 H.264 video (PyAV, to RGB);
- detection + 68 landmarks with the tracking schedule of ``FaceFinder``, and its parts:
  full-frame HOG detection on the frame enlarged for ``min_face``, the detector on full 640x360 frames, the
  tracking window, the shape predictor;
- the whole ``prepare`` of a one-video Aff-Wild release at 640x360 (decode, detect, fit,
  crop, write), one worker.

The training batches read from the store are ``benchmarks/data_path.py``'s.

The 640x360 video is a synthetic Aff-Wild video (``data/synth``) upscaled 2x, unless
``--video`` names one. Target: prepare >= 100 frames/s per core.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from affwild_lib import faces
from affwild_lib.prepare import prepare


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def make_640x360(out: Path, frames: int) -> Path:
    sources = sorted(Path("data/synth/affwild/videos/train").glob("*.mp4"))
    if not sources:
        raise SystemExit("no data/synth: run `affwild synth --out data/synth` or pass --video")
    with av.open(str(out), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(30), options={"crf": "23", "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        written = 0
        for source in sources:
            for frame in faces.decode_video(source):
                image = Image.fromarray(frame.rgb).resize((640, 360), Image.BICUBIC)
                for packet in stream.encode(av.VideoFrame.from_image(image)):
                    container.mux(packet)
                written += 1
                if written >= frames:
                    break
            if written >= frames:
                break
        for packet in stream.encode():
            container.mux(packet)
    return out


def face_rates(video: Path, n: int) -> list[tuple[str, int, float, float]]:
    frames = [f.rgb for f, _ in zip(faces.decode_video(video), range(n))]
    rows = []
    finder = faces.FaceFinder()
    found, wall, cpu = timed(lambda: [finder(f) for f in frames])
    rows.append(("detect + landmarks (tracking, as prepare)", len(frames), wall, cpu))
    print(f"  faces found with tracking: {sum(f is not None for f in found)}/{len(frames)}")
    sample = frames[: max(n // 5, 10)]
    untracked = faces.FaceFinder(track=False)
    _, wall, cpu = timed(lambda: [untracked(f) for f in sample])
    rows.append((f"detect + landmarks, full detection (x{untracked.full_scale(640, 360):.2f}) every frame",
                 len(sample), wall, cpu))
    detector, predictor, rectangle = faces._dlib_models()
    grays = [np.asarray(Image.fromarray(f).convert("L")) for f in sample]
    _, wall, cpu = timed(lambda: [detector(g, 0) for g in grays])
    rows.append(("  HOG detector on the full 640x360 frame", len(grays), wall, cpu))
    gray_images = [Image.fromarray(g) for g in grays]
    _, wall, cpu = timed(lambda: [finder._detect_full(g) for g in gray_images])
    rows.append((f"  HOG detector on the frame x{finder.full_scale(640, 360):.2f} (full-frame step)", len(grays), wall, cpu))
    boxes = [f.box for f in found[: len(gray_images)] if f is not None]
    pairs = list(zip(gray_images, boxes))
    _, wall, cpu = timed(lambda: [finder._detect_in_window(g, b) for g, b in pairs])
    rows.append(("  HOG detector in the tracking window", len(pairs), wall, cpu))
    rects = [rectangle(*(int(v) for v in b)) for b in boxes]
    _, wall, cpu = timed(lambda: [predictor(g, r) for g, r in zip(grays, rects)])
    rows.append(("  shape predictor (68 landmarks)", len(rects), wall, cpu))
    points = [f.landmarks for f in found[: len(sample)] if f is not None]
    _, wall, cpu = timed(lambda: [faces.crop_square(f, p, 96) for f, p in zip(sample, points)])
    rows.append(("  crop + resize to 96x96", len(points), wall, cpu))
    return rows


def prepare_rate(video: Path, work: Path) -> tuple[str, int, float, float]:
    root = work / "release"
    (root / "videos" / "train").mkdir(parents=True)
    os.link(video, root / "videos" / "train" / "v.mp4") if video.stat().st_dev == root.stat().st_dev \
        else (root / "videos" / "train" / "v.mp4").write_bytes(video.read_bytes())
    n = faces.FrameCounts()
    list(faces.decode_video(video, n))
    for name in ("valence", "arousal"):
        path = root / "annotations" / "train" / name / "v.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("0.1\n" * n.decoded)
    summary, wall, cpu = timed(lambda: prepare("affwild", root, work / "store", size=96, workers=1, progress=False))
    return (f"whole prepare, 1 worker ({summary['faces']}/{summary['frames']} faces kept)",
            summary["frames"], wall, cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, help="a 640x360 video (default: synthetic, upscaled)")
    parser.add_argument("--frames", type=int, default=300, help="frames of the 640x360 video")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (1 min) at start")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        video = args.video or make_640x360(tmp / "v640.mp4", args.frames)
        info = faces.FrameCounts()
        _, wall, cpu = timed(lambda: list(faces.decode_video(video, info)))
        rows = [("decode 640x360 H.264 to RGB (PyAV)", info.decoded, wall, cpu)]
        rows += face_rates(video, args.frames)
        rows.append(prepare_rate(video, tmp / "prep"))
    print(f"\n{'step':<66} {'frames':>7} {'fps wall':>9} {'fps/CPU-s':>10}")
    for name, n, wall, cpu in rows:
        print(f"{name:<66} {n:>7} {n / wall:>9.0f} {n / max(cpu, 1e-9):>10.0f}")
    print(f"\nload average {os.getloadavg()[0]:.2f} (1 min) at the end")


if __name__ == "__main__":
    main()
