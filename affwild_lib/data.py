"""Keras batches from the frame store: training items, validation split, labels (Sect. 4.2).

* :func:`subject_split`: the training videos split into train and validation **by subject**
  (a subject's videos all on one side), about ``val_fraction`` of the subjects held out. The
  synthetic release lists subjects (``synth_truth/subjects.csv``); the real Aff-Wild release
  does not, so there every video counts as its own subject (a subject filmed in two videos
  could then sit on both sides: the only choice the release allows).
* :func:`single_annotator_labels`: Table 11's "1 Annotator" labels, recomputed per video from
  the raw traces, matched to the stored frames' times (Sect. 3.3).
* :class:`StoreBatches`: a ``keras.utils.PyDataset`` of frames (CNNs) or windows of
  consecutive frames of one video (RNNs), images as the store's uint8 (the model normalises
  them to [-1, 1], Sect. 3.3, on the device: :func:`affwild_lib.models.heads.pixels`),
  landmarks in crop coordinates as the second input; no ``tf.data``, so it feeds TensorFlow and
  JAX alike, with ``PyDataset``'s worker threads where the profile asks (``loader_workers``).
* :func:`eval_windows`: non-overlapping windows covering every frame of a set once, the last
  window of a video padded with its last frame; the RNN is causal, so padding at the end
  changes no prediction of a real frame.
"""
from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pandas as pd

from .store import FrameStore, oversample, oversample_sequences, sequences


# --------------------------------------------------------------------------------------------
# Subjects and the validation split


def video_subjects(table: pd.DataFrame, data_root: str | Path | None) -> dict[str, str]:
    """video id -> subject id; one subject per video where the release has no subject list."""
    videos = [str(v) for v in pd.unique(table["video"])]
    mapping = {v: v for v in videos}
    path = Path(data_root) / "synth_truth" / "subjects.csv" if data_root else None
    if path is not None and path.is_file():
        subjects = pd.read_csv(path, dtype=str)
        for subject, vids in zip(subjects["subject"], subjects["videos"]):
            for v in str(vids).split():
                if v in mapping:
                    mapping[v] = subject
    return mapping


def subject_split(table: pd.DataFrame, data_root, val_fraction: float = 0.2,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Rows of ``table`` for training and for validation, and the held-out subjects.

    ``round(val_fraction * subjects)`` subjects (at least one, at most all but one), drawn
    with ``seed``, go to validation. Rows stay in table order (videos in turn, frames in order).
    """
    mapping = video_subjects(table, data_root)
    subjects = sorted(set(mapping.values()))
    if len(subjects) < 2:
        raise ValueError("need at least two training subjects to hold one out for validation")
    k = min(len(subjects) - 1, max(1, int(round(val_fraction * len(subjects)))))
    held = sorted(np.random.default_rng(seed).choice(subjects, size=k, replace=False).tolist())
    is_val = table["video"].astype(str).map(mapping).isin(held).to_numpy()
    return np.flatnonzero(~is_val), np.flatnonzero(is_val), held


# --------------------------------------------------------------------------------------------
# Labels


def single_annotator_labels(store: FrameStore, split: str, data_root) -> tuple[np.ndarray, dict]:
    """(n, 2) labels of ``split`` from one annotator per video and dimension (Table 11).

    Per video, every raw trace is matched to the stored frames' times (nearest timestamp, ties
    averaged; Sect. 3.3) and the annotator whose trace the frame's landmarks explain best
    (:func:`affwild_lib.annotation.most_landmark_correlated`) gives the labels. Returns the
    labels and, per video, the chosen annotator of each dimension.
    """
    from .annotation import match_to_frames, most_landmark_correlated
    from .datasets.affwild import DIMENSIONS, read_raw_traces

    table = store.table(split)
    points = store.landmarks(split).reshape(len(table), -1)
    labels = store.labels(split).copy()
    chosen: dict[str, dict[str, str]] = {}
    for video, rows in table.groupby("video", sort=False).indices.items():
        times = table["time_s"].to_numpy(np.float64)[rows]
        if np.isnan(times).any():
            raise ValueError(f"video {video}: frames without times; cannot match raw traces")
        chosen[str(video)] = {}
        for d, dim in enumerate(DIMENSIONS):
            traces = read_raw_traces(data_root, str(video), dim)
            if not traces:
                raise FileNotFoundError(
                    f"{data_root}: no raw {dim} traces of video {video}; the single-annotator "
                    "experiment (Table 11) needs annotations_raw/ (the real release lacks it)")
            names = sorted(traces)
            matrix = np.stack([match_to_frames(*traces[a], times) for a in names])
            best, _ = most_landmark_correlated(matrix, points[rows])
            labels[rows, d] = matrix[best]
            chosen[str(video)][dim] = names[best]
    return labels.astype(np.float32), chosen


# --------------------------------------------------------------------------------------------
# Items: frames or windows


def training_items(store: FrameStore, split: str, rows: np.ndarray, labels: np.ndarray,
                   seq_len: int | None, stride: int | None, oversampling: bool,
                   seed: int = 0) -> np.ndarray:
    """Split rows to train on: (m,) frames, or (m, seq_len) windows of one video each.

    Windows come from :func:`affwild_lib.store.sequences` on the chosen rows only (they never
    cross a video, nor a validation video). Oversampling (Sect. 4.2) duplicates frames or
    windows of the rare valence-arousal quadrants, judged on ``labels``.
    """
    rows = np.asarray(rows, dtype=np.int64)
    if not seq_len:
        items = rows
        if oversampling:
            items = items[oversample(labels[items, 0], labels[items, 1], seed=seed)]
        return items
    sub = store.table(split).iloc[rows].reset_index(drop=True)
    windows = rows[sequences(sub, None, seq_len, stride=stride or 1)]
    if oversampling and len(windows):
        table = pd.DataFrame({"valence": labels[:, 0], "arousal": labels[:, 1]})
        windows = oversample_sequences(table, None, windows, seed=seed)
    return windows


def eval_windows(table: pd.DataFrame, rows: np.ndarray, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows covering each of ``rows`` exactly once: (m, seq_len) rows, (m, seq_len) mask.

    Per video, consecutive non-overlapping windows; the last one is padded with the video's
    last frame, masked out. (A gap left by a dropped frame is bridged: at evaluation every
    frame needs a prediction.)
    """
    rows = np.asarray(rows, dtype=np.int64)
    videos = table["video"].to_numpy()[rows]
    out, mask = [], []
    for start, stop in _runs(videos):
        vid = rows[start:stop]
        for s in range(0, len(vid), seq_len):
            w = vid[s:s + seq_len]
            pad = seq_len - len(w)
            out.append(np.concatenate([w, np.full(pad, w[-1])]))
            mask.append(np.arange(seq_len) < len(w))
    if not out:
        return np.zeros((0, seq_len), np.int64), np.zeros((0, seq_len), bool)
    return np.stack(out), np.stack(mask)


def _runs(values: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of the runs of equal consecutive values."""
    if len(values) == 0:
        return []
    cut = np.flatnonzero(values[1:] != values[:-1]) + 1
    bounds = np.concatenate([[0], cut, [len(values)]])
    return list(zip(bounds[:-1], bounds[1:]))


# --------------------------------------------------------------------------------------------
# The Keras dataset


def loader_workers() -> int:
    """Threads that build training batches while the device trains (``PyDataset``'s workers).

    ``AFFWILD_LOADER_WORKERS`` sets the number; by default 1 (none beside the training loop) on
    a machine of 2 CPUs or fewer, where the backend's own threads already use them, else half
    the CPUs, at most 8. Keras hands the batches over in index order whatever the number, so
    no result depends on it. Threads, not processes: the shards are memory-mapped, and a copy
    from them releases the GIL.
    """
    import os

    value = os.environ.get("AFFWILD_LOADER_WORKERS", "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"AFFWILD_LOADER_WORKERS must be a whole number >= 1, not {value!r}")
        return int(value)
    cpus = os.cpu_count() or 1
    return 1 if cpus <= 2 else min(8, cpus // 2)


class StoreBatches(keras.utils.PyDataset):
    """Batches ``(inputs, labels)`` of store items for ``model.fit``.

    ``items``: (m,) split rows (one frame each) or (m, T) windows. ``inputs`` is the image
    batch, or ``(images, landmarks)`` when ``landmarks``. The order of epoch ``e`` is a
    permutation drawn from ``(seed, e)`` alone, so a resumed run sees the batches an
    uninterrupted one would; call :meth:`set_epoch` before each epoch. Training drops the last
    partial batch: the CCC loss of a handful of frames is noise, and fixed shapes compile once.
    ``workers``: :func:`loader_workers` unless given.
    """

    def __init__(self, store: FrameStore, split: str, items: np.ndarray, labels: np.ndarray,
                 batch_size: int, landmarks: bool, shuffle: bool = True, seed: int = 0,
                 max_steps: int | None = None, drop_remainder: bool = True,
                 workers: int | None = None, **kwargs):
        super().__init__(workers=loader_workers() if workers is None else workers,
                         use_multiprocessing=False, **kwargs)
        self.store, self.split, self.items = store, split, np.asarray(items, dtype=np.int64)
        self.labels, self.batch_size, self.landmarks = labels, int(batch_size), landmarks
        self.points = store.landmarks(split) if landmarks else None
        self.shuffle, self.seed, self.max_steps = shuffle, seed, max_steps
        self.drop_remainder = drop_remainder
        if len(self) == 0:
            raise ValueError(f"{len(self.items)} items make no batch of {self.batch_size}")
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        n = len(self.items)
        self.order = (np.random.default_rng([self.seed, epoch]).permutation(n) if self.shuffle
                      else np.arange(n))

    def __len__(self) -> int:
        n = len(self.items) // self.batch_size if self.drop_remainder else \
            -(-len(self.items) // self.batch_size)
        return min(n, self.max_steps) if self.max_steps else n

    def rows(self, index: int) -> np.ndarray:
        return self.items[self.order[index * self.batch_size:(index + 1) * self.batch_size]]

    def __getitem__(self, index: int):
        rows = self.rows(index)
        return inputs_for(self.store, self.split, rows, self.points), self.labels[rows]


def inputs_for(store: FrameStore, split: str, rows: np.ndarray, points: np.ndarray | None):
    """Model inputs of split rows (any shape): uint8 images, or the pair (images, landmarks)."""
    images = store.images(split, rows)
    return images if points is None else (images, points[rows])
