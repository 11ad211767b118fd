"""Face finding on real faces: recall by face size, false detections, speed; old beside new.

    python benchmarks/faces.py [--frames 20] [--no-debian]

The clips are made of **real** photographs that ship in packages, never of our synthetic faces
(:mod:`affwild_lib.real_faces`): the PyPI ones the project installs, and the demo album of
Debian's ``kphotoalbum`` (unpacked into ``.cache/`` with ``apt-get download`` unless it is
installed; ``--no-debian`` leaves it out). Each clip is one photograph scaled so its face is
``W`` px wide (dlib's box), drifting across a real scene under normal, dim or bright light,
H.264-encoded at 640x360 or 1280x720 and decoded again. Scenes without any face give the false
detections.

Two finders, each with the same tracking schedule, a fresh one per clip:

- ``old``: the full-frame pass on the frame shrunk to 480 px wide (the finder before issue 16);
- ``new``: :class:`affwild_lib.faces.FaceFinder`: the full-frame pass on the frame enlarged so
  that a ``min_face`` (40) px face is 80 px to dlib's HOG detector, contrast-stretched, at a
  lower threshold, each detection confirmed by dlib's CNN detector on a window around it.

A frame counts as found when the finder's box overlaps a true face box by IoU > 0.3; a box on
no true face counts as a false detection. Frames/s are per core: CPU seconds of this process
(detection + 68 landmarks; decoding apart). Last, the whole ``prepare`` of a one-video release
(decode, find, fit, crop, write, one worker) on a 640x360 real clip with a 50 px face.
Targets (issue 16): recall >= 95 % from 40 px, <= 1 % false detections, prepare >= 50 frames/s
per core. Prints its figures, asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from affwild_lib import faces
from affwild_lib import real_faces as R

WIDTHS = (30, 40, 50, 60, 70, 85, 100, 130, 200)
SIZES = ((640, 360), (1280, 720))


class OldFinder(faces.FaceFinder):
    """The finder before issue 16: the full-frame pass on the frame shrunk to 480 px wide."""

    def __init__(self, detect_width: int = 480, **kwargs):
        super().__init__(**kwargs)
        self.detect_width = detect_width

    def _detect_full(self, gray: Image.Image, rgb: np.ndarray):
        scale = self.detect_width / gray.width
        small = gray.resize((self.detect_width, max(int(round(gray.height * scale)), 1)), Image.BILINEAR)
        boxes = self._boxes(self._detector(np.asarray(small), 0), 1.0 / scale, 0.0, 0.0)
        return boxes[0] if len(boxes) else None

    @staticmethod
    def _stretch(gray: Image.Image) -> Image.Image:
        return gray  # no contrast stretch before issue 16


FINDERS = {"old": OldFinder, "new": faces.FaceFinder}


def roundtrip(frames: list[np.ndarray], work: Path) -> list[np.ndarray]:
    path = R.encode(frames, work / "clip.mp4")
    return [f.rgb for f in faces.decode_video(path)]


def run(finder, frames):
    cpu = time.process_time()
    found = [finder(f) for f in frames]
    return found, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20, help="frames per clip (default 20)")
    parser.add_argument("--no-debian", action="store_true", help="leave out the Debian album")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (1 min) at start")
    debian = None if args.no_debian else R.debian_demo(Path(__file__).resolve().parents[1] / ".cache")
    print(f"Debian album: {debian or 'not used'}")
    sources, scenes = R.sources(debian), R.scenes(debian)
    scene_names = sorted(scenes)
    lights = list(R.LIGHTS)
    print(f"{len(sources)} face photographs: {', '.join(s.name for s in sources)}")
    print(f"{len(scenes)} scenes without a face: {', '.join(scene_names)}\n")

    # found[(finder, size, width)] = [hits, frames]; wrong[(finder, size)] = boxes on no face
    found, wrong, cpu, n_frames = {}, {}, {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clip = 0
        for size in SIZES:
            for width in WIDTHS:
                if width * 2 > size[1]:
                    continue
                for source in sources:
                    scene = scenes[scene_names[clip % len(scene_names)]]
                    light = lights[clip % len(lights)]
                    frames, truth = R.face_clip(source, width, size, scene, light, args.frames, seed=clip)
                    frames = roundtrip(frames, work)
                    clip += 1
                    for name, make in FINDERS.items():
                        boxes, seconds = run(make(), frames)
                        hits = wrongs = 0
                        for face, true in zip(boxes, truth):
                            if face is None:
                                continue
                            if max(R.iou(face.box, t) for t in true) > 0.3:
                                hits += 1
                            else:
                                wrongs += 1
                        key = (name, size, width)
                        got = found.setdefault(key, [0, 0])
                        got[0] += hits
                        got[1] += len(frames)
                        wrong[(name, size, "faces")] = wrong.get((name, size, "faces"), 0) + wrongs
                        cpu[(name, size, "faces")] = cpu.get((name, size, "faces"), 0.0) + seconds
                        n_frames[(name, size, "faces")] = n_frames.get((name, size, "faces"), 0) + len(frames)
            print(f"  {size[0]}x{size[1]}: face clips done", flush=True)
            negatives = 0
            for k, scene in enumerate(scene_names):
                for light in lights:
                    frames = roundtrip(R.scene_clip(scenes[scene], size, light, args.frames, seed=k), work)
                    negatives += len(frames)
                    for name, make in FINDERS.items():
                        boxes, seconds = run(make(), frames)
                        wrong[(name, size, "scenes")] = wrong.get((name, size, "scenes"), 0) + \
                            sum(b is not None for b in boxes)
                        cpu[(name, size, "scenes")] = cpu.get((name, size, "scenes"), 0.0) + seconds
                        n_frames[(name, size, "scenes")] = n_frames.get((name, size, "scenes"), 0) + len(frames)
            wrong[("n", size, "scenes")] = negatives
            print(f"  {size[0]}x{size[1]}: scenes done", flush=True)

        print(f"\nRecall (% of frames whose face was found), {len(sources)} photographs x {args.frames} "
              "frames per face width:")
        header = "".join(f" {name} {w}x{h}".rjust(15) for w, h in SIZES for name in FINDERS)
        print(f"{'face width (px)':<16}{header}")
        for width in WIDTHS:
            cells = []
            for size in SIZES:
                for name in FINDERS:
                    hit = found.get((name, size, width))
                    cells.append(f"{100 * hit[0] / hit[1]:.1f}".rjust(15) if hit else "-".rjust(15))
            print(f"{width:<16}{''.join(cells)}")
        print("\nFalse detections:")
        for size in SIZES:
            n = wrong[("n", size, "scenes")]
            for name in FINDERS:
                fp = wrong[(name, size, "scenes")]
                print(f"  {name} {size[0]}x{size[1]}: {fp} of {n} frames of scenes without a face "
                      f"({100 * fp / n:.2f} %); {wrong[(name, size, 'faces')]} boxes on no face in the face clips")
        print("\nSpeed, detection + 68 landmarks (frames per CPU second, one core), on the face clips "
              "(tracking) and on the scenes (no face: a full-frame pass every frame):")
        for size in SIZES:
            for name in FINDERS:
                rates = {kind: n_frames[(name, size, kind)] / cpu[(name, size, kind)] for kind in ("faces", "scenes")}
                print(f"  {name} {size[0]}x{size[1]}: {rates['faces']:.0f} with a face, {rates['scenes']:.0f} without")

        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from prepare import prepare_rate  # benchmarks/prepare.py

        source = next(s for s in sources if s.name == "astronaut")
        frames, _ = R.face_clip(source, 50, (640, 360), scenes["coffee"], "normal", 300, seed=7)
        video = R.encode(frames, work / "prepare.mp4")
        name, n, wall, seconds = prepare_rate(video, work / "prep")
        print(f"\n{name} on a 640x360 real clip, 50 px face, 300 frames: "
              f"{n / seconds:.0f} frames per CPU second ({n / wall:.0f} wall)")
    print(f"\nload average {os.getloadavg()[0]:.2f} (1 min) at the end")


if __name__ == "__main__":
    main()
