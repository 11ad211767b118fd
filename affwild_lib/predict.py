"""``affwild predict``: valence and arousal, frame by frame, for any video.

The frames go through what training saw (Sect. 3.3, :mod:`affwild_lib.prepare`): decoded in
order (:func:`affwild_lib.faces.decode_video`), the **largest** face found and tracked by dlib
with the prepare stage's schedule (:class:`affwild_lib.faces.FaceFinder`; other faces in the
frame are ignored, as the Aff-Wild videos show one person), 68 landmarks fitted, a square crop
around them resized to the model's input and scaled to [-1, 1], the landmarks in crop
coordinates.

**One state across the video.** A CNN-RNN runs with its recurrent state carried from face frame
to face frame across the whole video (``mode="stream"``, :mod:`affwild_lib.streaming`): each
prediction depends on the frames before it only (causal), so a video can be processed as it
arrives, and nothing resets. ``mode="windows"`` is the tables' protocol instead (non-overlapping
windows of ``window`` frames from a zero state, as ``affwild evaluate`` scores the test videos,
Sect. 4.2.1.3): its curves jump at every window boundary, where the state is reset.
``mode="sliding"`` predicts each frame from the window that ends there. Stream was chosen on the
synthetic test videos, where it scored the highest CCC of the three (book chapter 09 measures it
again on every build) and its frame-to-frame change at former window boundaries is that inside
them. A frame without a face is skipped, as in evaluation. A CNN (a ``.keras`` file of one of the
CNN experiments) is run frame by frame.

Predictions are clipped to the labels' range [-1, 1] (a linear output layer can overshoot);
the summary counts the clipped values.

A frame without a face gets ``face`` False and no prediction: nothing is invented.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import faces
from .streaming import windows

from .trained import DEFAULT_WINDOW, Loaded, default_weights, load  # noqa: F401 (predict's API)


def _progress(total: int | None, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total or None, unit="frame", desc="predict", file=sys.stderr, disable=not enabled)


MODES = ("stream", "windows", "sliding")
#: Face frames per call of a CNN-RNN in the stream and sliding modes (any number gives the same
#: predictions; this bounds the memory of a long video).
CHUNK = 256


class _Batcher:
    """Face crops in, predictions out: in windows (``mode="windows"``) or frames (a CNN) of a
    fixed batch shape, so the model compiles once, the last batch padded with its last item; or
    through a :class:`~affwild_lib.streaming.Streamer` (``"stream"``, ``"sliding"``)."""

    def __init__(self, loaded: Loaded, batch: int, mode: str = "stream"):
        self.loaded, self.batch = loaded, batch
        self.streamer = None
        if loaded.recurrent and mode != "windows":
            from .streaming import Streamer

            self.streamer = Streamer(loaded.model, loaded.window, mode)
            self.per_call = CHUNK
        else:
            self.per_call = batch * (loaded.window or 1)
        self.images, self.points, self.indices = [], [], []
        self.out: dict[int, np.ndarray] = {}

    def add(self, crop: faces.FaceCrop) -> None:
        self.images.append(crop.image)
        self.points.append(crop.landmarks / np.float32(self.loaded.input_size))
        self.indices.append(crop.index)
        if len(self.images) == self.per_call:
            self.flush()

    def flush(self) -> None:
        from .engine import predict_batch

        n = len(self.images)
        if not n:
            return
        x, points = np.stack(self.images), np.stack(self.points).astype(np.float32)  # uint8 crops
        if self.streamer is not None:
            pred = self.streamer.push(x, points if self.loaded.landmarks else None)
        else:
            if self.loaded.recurrent:  # whole windows: the padding fills the last one
                x = windows(x, self.loaded.window)
                points = windows(points, self.loaded.window)
            inputs = (x, points) if self.loaded.landmarks else x
            pred = predict_batch(self.loaded.model, inputs, self.batch).reshape(-1, 2)
        for index, value in zip(self.indices, pred[:n]):
            self.out[index] = value
        self.images, self.points, self.indices = [], [], []


def predict_video(video: str | Path, weights: str | Path | None = None, window: int | None = None,
                  landmarks: bool = False, progress: bool = True, batch: int = 1, mode: str = "stream",
                  min_face: int = 40, redetect_every: int = 30,
                  margin: float = faces.DEFAULT_MARGIN) -> tuple[pd.DataFrame, dict]:
    """Per-frame predictions of ``video`` and a summary.

    Returns one row per decoded frame: ``frame`` (0-based index), ``time_s``, ``face``,
    ``valence``, ``arousal`` (NaN without a face), the crop square ``x0, y0, side`` and, with
    ``landmarks``, the 68 points in frame pixels (``x_0`` .. ``y_67``). ``batch``: windows (or,
    for a CNN, frames) per network call; the last call is padded to that size, so one window
    (80 frames at the paper's length) keeps the padding of a short video small. ``mode``: how a
    CNN-RNN runs (the module's docstring). ``min_face``,
    ``redetect_every`` and ``margin`` are the prepare stage's defaults: change them only
    together with the store the model was trained on.
    """
    started = time.perf_counter()
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    faces.check_min_face(min_face)
    video = Path(video)
    if not video.is_file():
        raise FileNotFoundError(f"{video}: no such file")
    loaded = weights if isinstance(weights, Loaded) else load(weights, window)
    from .datasets.video import probe

    try:
        total = probe(video).n_frames
    except Exception:  # noqa: BLE001 (decode_video below says what is wrong with the file)
        total = None
    counts = faces.FrameCounts()
    times: dict[int, float] = {}
    crops_meta: dict[int, tuple] = {}

    def frames():
        for frame in faces.decode_video(video, counts):
            times[frame.index] = frame.time_s
            bar.update(1)
            yield frame

    batcher = _Batcher(loaded, batch, mode)
    finder = faces.FaceFinder(min_face, redetect_every)
    bar = _progress(total, progress)
    try:
        for crop in faces.face_crops(frames(), loaded.input_size, counts, finder=finder, margin=margin):
            batcher.add(crop)
            crops_meta[crop.index] = (crop.square, crop.landmarks_frame)
        batcher.flush()
    finally:
        bar.close()
    if not times:
        raise ValueError(f"{video}: no frame could be decoded (an empty or broken video)")

    index = np.array(sorted(times), dtype=np.int64)
    pred = np.full((len(index), 2), np.nan, np.float32)
    face = np.array([i in batcher.out for i in index])
    if face.any():
        pred[face] = np.stack([batcher.out[i] for i in index[face]])
    clipped = int((np.abs(pred[face]) > 1).sum())
    pred = np.clip(pred, -1.0, 1.0)  # NaN stays NaN
    table = pd.DataFrame({"frame": index, "time_s": [times[i] for i in index], "face": face,
                          "valence": pred[:, 0], "arousal": pred[:, 1]})
    square = np.full((len(index), 3), -1, np.int64)
    points = np.full((len(index), faces.N_LANDMARKS, 2), np.nan, np.float32)
    for row, i in enumerate(index):
        if i in crops_meta:
            square[row], points[row] = crops_meta[i]
    table["x0"], table["y0"], table["side"] = square[:, 0], square[:, 1], square[:, 2]
    if landmarks:
        table = pd.concat([table, pd.DataFrame(points[:, :, 0], columns=[f"x_{k}" for k in range(faces.N_LANDMARKS)]),
                           pd.DataFrame(points[:, :, 1], columns=[f"y_{k}" for k in range(faces.N_LANDMARKS)])], axis=1)
    seconds = time.perf_counter() - started
    summary = {"video": str(video), "weights": str(loaded.path), "frames": int(len(index)),
               "faces": int(face.sum()), "undecodable": int(counts.undecodable),
               "clipped": clipped, "mode": mode if loaded.recurrent else "frames",
               "window": loaded.window, "input_size": loaded.input_size, "expects": loaded.expects,
               "seconds": round(seconds, 3),
               "frames_per_second": round(len(index) / seconds, 2) if seconds else None}
    return table, summary


def figure(table: pd.DataFrame, title: str = "", points: int = 12):
    """Valence and arousal over time, and the trajectory in the valence-arousal plane with
    ``points`` moments marked, recent ones larger (the look of the paper's Figs. 3-5)."""
    import matplotlib.pyplot as plt

    from .plots import va_trajectory

    fig, (ax_t, ax_va) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [2.2, 1]})
    ax_t.plot(table["time_s"], table["valence"], label="valence", lw=1.2)
    ax_t.plot(table["time_s"], table["arousal"], label="arousal", lw=1.2)
    no_face = table.loc[~table["face"], "time_s"]
    if len(no_face):
        ax_t.plot(no_face, np.full(len(no_face), -1.0), "|", color="0.5", label="no face")
    ax_t.set(ylim=(-1.05, 1.05), xlabel="time (s)", ylabel="prediction", title=title)
    ax_t.legend(loc="upper right", fontsize=8)
    seen = table[table["face"]]
    if len(seen):
        ax_va.plot(seen["valence"], seen["arousal"], color="0.85", lw=0.6, zorder=0)
        marks = seen.iloc[np.unique(np.linspace(0, len(seen) - 1, min(points, len(seen))).astype(int))]
        va_trajectory(marks["valence"].to_numpy(), marks["arousal"].to_numpy(),
                      [f"{t:.1f}s" for t in marks["time_s"]], ax=ax_va)
    else:
        ax_va.text(0.5, 0.5, "no face found", ha="center", transform=ax_va.transAxes)
        ax_va.set(xlim=(-1, 1), ylim=(-1, 1))
    fig.tight_layout()
    return fig


def write(table: pd.DataFrame, fig, out: str | Path, stem: str) -> dict[str, str]:
    """``<out>/<stem>.csv`` and ``<out>/<stem>.png``, each written to a temporary name and
    moved into place."""
    from .atomic import write_file

    out = Path(out)
    paths = {"csv": out / f"{stem}.csv", "figure": out / f"{stem}.png"}
    write_file(paths["csv"], lambda p: table.to_csv(p, index=False, float_format="%.5f"))
    write_file(paths["figure"], lambda p: fig.savefig(p, dpi=110, format="png"))
    return {k: str(v) for k, v in paths.items()}


__all__ = ["CHUNK", "DEFAULT_WINDOW", "MODES", "Loaded", "default_weights", "figure", "load", "predict_video", "write"]
