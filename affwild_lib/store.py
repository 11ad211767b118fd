"""The frame store the models read, its sequence sampler and quadrant oversampling (Sect. 4.2).

Layout of a store folder (written by :mod:`affwild_lib.prepare`)::

    <store>/store.json                        format, crop size, landmark source, ... (the
                                              settings every shard was made with)
    <store>/videos/<split>/<video>.npy        (n, S, S, 3) uint8 face crops, one row per kept
                                              frame, in frame order; np.load(mmap_mode='r')
    <store>/videos/<split>/<video>.parquet    per kept frame: the manifest's columns
    <store>/videos/<split>/<video>.done.json  completion record, written last
    <store>/manifest.parquet                  every kept frame of every finished video
    <store>/videos.csv                        per video: decoded, kept, dropped, ... frames

Manifest columns, one row per kept frame: ``video``, ``split``, ``frame_index`` (0-based in the
video), ``time_s`` (pts-based; NaN for image sequences without times), ``valence``,
``arousal`` (float32 in [-1, 1]; NaN where the release has no labels, e.g. Aff-Wild's test
set), ``emotion`` (AFEW's clip category, else empty), ``row`` (row of the video's ``.npy``),
``x0``, ``y0``, ``side`` (the crop square in frame pixels), and the 68 landmarks as ``x_0`` ..
``x_67``, ``y_0`` .. ``y_67`` in **crop coordinates normalised to [0, 1]** (0 = the crop's
left/top edge, 1 = its right/bottom edge; multiply by S for crop pixels, or use
``x0 + x * side`` for frame pixels). Parquet needs ``pyarrow``.

A video counts as stored only once its ``.done.json`` exists and matches its shard's size; a
shard without it (an interrupted run) is never read, and the next run redoes it. Files are
written to temporary names and moved into place (:mod:`affwild_lib.atomic`; the shard's
``.npy`` by :class:`ShardWriter`, which streams into ``<video>.npy.tmp``), so a reader never
sees a half-written file.

Sequences (:func:`sequences`) are windows of consecutive frames of **one** video: unlike the
official code, a window never straddles two videos, and by default never a gap left by dropped
frames either. Oversampling (:func:`oversample`) duplicates frames or sequences of the
under-represented valence-arousal quadrants until the training set has the paper's proportions
(Sect. 4.2): 43% V>0,A>0; 24% V<0,A>0; 19% V>0,A<0; 14% V<0,A<0.
"""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from . import atomic
from .faces import N_LANDMARKS

STORE_FILE = "store.json"
MANIFEST = "manifest.parquet"
VIDEOS = "videos.csv"
LANDMARK_COLUMNS = [f"x_{i}" for i in range(N_LANDMARKS)] + [f"y_{i}" for i in range(N_LANDMARKS)]

#: Sect. 4.2: the proportions of the oversampled training set, in the order of
#: :data:`QUADRANTS`.
PAPER_QUADRANTS = (0.43, 0.24, 0.19, 0.14)
QUADRANTS = ("V+A+", "V-A+", "V+A-", "V-A-")


# --------------------------------------------------------------------------------------------
# Writing, one video at a time, atomically


def shard_paths(root: str | Path, split: str, video: str) -> dict[str, Path]:
    folder = Path(root) / "videos" / split
    return {"frames": folder / f"{video}.npy", "table": folder / f"{video}.parquet",
            "done": folder / f"{video}.done.json"}


def atomic_write_json(path: Path, obj) -> None:
    """The store's JSON records: sorted keys, so that equal settings are equal bytes."""
    atomic.write_text(path, json.dumps(obj, indent=1, sort_keys=True) + "\n")


class ShardWriter:
    """Streams one video's crops into ``<video>.npy`` without holding them in memory.

    Rows are appended to ``<video>.npy.tmp`` after a header of a fixed length; :meth:`close`
    writes the real header (its shape is known only then) and moves the file into place.
    numpy pads ``.npy`` headers so that the first dimension can grow in place, which is what
    makes the fixed header length safe; it is checked all the same.
    """

    def __init__(self, path: Path, size: int):
        self.path, self.size, self.rows = Path(path), int(size), 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(self.path.name + ".tmp")
        self._header_len = len(self._header(0))
        self._handle = open(self.tmp, "wb")
        self._handle.write(b"\0" * self._header_len)

    def _header(self, rows: int) -> bytes:
        import io

        buffer = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            buffer, {"descr": "|u1", "fortran_order": False, "shape": (rows, self.size, self.size, 3)})
        return buffer.getvalue()

    def append(self, image: np.ndarray) -> int:
        if image.shape != (self.size, self.size, 3) or image.dtype != np.uint8:
            raise ValueError(f"{self.path}: crop of shape {image.shape} {image.dtype}, "
                             f"expected ({self.size}, {self.size}, 3) uint8")
        self._handle.write(np.ascontiguousarray(image).tobytes())
        self.rows += 1
        return self.rows - 1

    def close(self) -> int:
        """Finish the file and move it into place; returns its size in bytes."""
        header = self._header(self.rows)
        if len(header) != self._header_len:
            raise RuntimeError(f"{self.path}: .npy header grew from {self._header_len} to {len(header)} bytes")
        self._handle.seek(0)
        self._handle.write(header)
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        os.replace(self.tmp, self.path)
        return self.path.stat().st_size

    def abort(self) -> None:
        self._handle.close()
        self.tmp.unlink(missing_ok=True)


def is_complete(root: str | Path, split: str, video: str, settings: dict) -> bool:
    """Whether a video's shard is finished: its completion record exists, was made with the
    same ``settings``, and its files have the sizes it records."""
    paths = shard_paths(root, split, video)
    try:
        record = json.loads(paths["done"].read_text())
        return (record.get("settings") == settings
                and paths["frames"].stat().st_size == record["frames_bytes"]
                and paths["table"].stat().st_size == record["table_bytes"])
    except (OSError, ValueError, KeyError, TypeError):
        return False


def write_manifest(root: str | Path, records: list[dict]) -> pd.DataFrame:
    """Concatenate the finished videos' tables into ``manifest.parquet``; write ``videos.csv``."""
    root = Path(root)
    tables = [pd.read_parquet(shard_paths(root, r["split"], r["video"])["table"]) for r in records]
    tables = [t for t in tables if len(t)]
    manifest = pd.concat(tables, ignore_index=True) if tables else empty_table()
    atomic.write_file(root / MANIFEST, lambda p: manifest.to_parquet(p, index=False))
    videos = pd.DataFrame([{k: v for k, v in r.items() if k != "settings"} for r in records])
    atomic.write_file(root / VIDEOS, lambda p: videos.to_csv(p, index=False))
    return manifest


def empty_table() -> pd.DataFrame:
    columns = {"video": pd.Series(dtype=object), "split": pd.Series(dtype=object),
               "frame_index": pd.Series(dtype=np.int64), "time_s": pd.Series(dtype=np.float64),
               "valence": pd.Series(dtype=np.float32), "arousal": pd.Series(dtype=np.float32),
               "emotion": pd.Series(dtype=object), "row": pd.Series(dtype=np.int64),
               "x0": pd.Series(dtype=np.int64), "y0": pd.Series(dtype=np.int64),
               "side": pd.Series(dtype=np.int64)}
    columns.update({c: pd.Series(dtype=np.float32) for c in LANDMARK_COLUMNS})
    return pd.DataFrame(columns)


# --------------------------------------------------------------------------------------------
# Reading


class FrameStore:
    """Read access to a finished store: per split, frames (memory-mapped), labels, landmarks.

    Rows of a split are numbered 0..n-1 in manifest order (videos in turn, frames in order);
    :meth:`images` takes any array of such row numbers and returns their crops, reading from
    the memory-mapped shards only the rows asked for.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        manifest = self.path / MANIFEST
        if not manifest.is_file():
            raise FileNotFoundError(f"{manifest}: no manifest; the store is missing or its prepare "
                                    "did not finish (rerun it: finished videos are kept)")
        self.settings = json.loads((self.path / STORE_FILE).read_text())
        self.size = int(self.settings["size"])
        self.manifest = pd.read_parquet(manifest)
        self.videos = pd.read_csv(self.path / VIDEOS, dtype={"video": str, "split": str})
        self._splits: dict[str, pd.DataFrame] = {
            split: table.reset_index(drop=True) for split, table in self.manifest.groupby("split", sort=False)}
        self._shards: dict[tuple[str, str], np.ndarray] = {}
        # per split: integer video code and shard row of every frame, for fast gathers
        self._codes = {split: pd.factorize(t["video"].to_numpy()) for split, t in self._splits.items()}
        self._rows = {split: t["row"].to_numpy(np.int64) for split, t in self._splits.items()}

    @property
    def splits(self) -> list[str]:
        return list(self._splits)

    def table(self, split: str) -> pd.DataFrame:
        """The manifest rows of ``split``, numbered 0..n-1."""
        if split not in self._splits:
            raise KeyError(f"{self.path}: no kept frames in split {split!r}; splits: {', '.join(self._splits)}")
        return self._splits[split]

    def __len__(self) -> int:
        return len(self.manifest)

    def labels(self, split: str) -> np.ndarray:
        """(n, 2) float32 valence, arousal."""
        return self.table(split)[["valence", "arousal"]].to_numpy(np.float32)

    def landmarks(self, split: str, coords: str = "crop") -> np.ndarray:
        """(n, 68, 2) float32: ``'crop'`` in [0, 1] of the crop, ``'frame'`` in frame pixels."""
        table = self.table(split)
        points = np.stack([table[LANDMARK_COLUMNS[:N_LANDMARKS]].to_numpy(np.float32),
                           table[LANDMARK_COLUMNS[N_LANDMARKS:]].to_numpy(np.float32)], axis=-1)
        if coords == "frame":
            origin = table[["x0", "y0"]].to_numpy(np.float32)[:, None, :]
            return origin + points * table["side"].to_numpy(np.float32)[:, None, None]
        if coords != "crop":
            raise ValueError(f"coords must be 'crop' or 'frame', not {coords!r}")
        return points

    def shard(self, split: str, video: str) -> np.ndarray:
        """One video's crops, memory-mapped read-only."""
        key = (split, video)
        if key not in self._shards:
            path = shard_paths(self.path, split, video)["frames"]
            redo = (f"rerun `affwild prepare` with this store as --out after deleting {path.parent}: "
                    "the other videos are kept")
            try:
                shard = np.load(path, mmap_mode="r")
            except FileNotFoundError:
                raise FileNotFoundError(f"{path}: missing from the store; {redo}") from None
            except (OSError, ValueError, EOFError) as error:  # a cut file: "mmap length is greater ..."
                raise ValueError(f"{path}: damaged or truncated shard ({error}); {redo}") from None
            rows = self._splits[split].loc[self._splits[split]["video"] == video, "row"] if split in self._splits else []
            listed = int(max(rows, default=-1)) + 1
            if shard.ndim != 4 or shard.shape[1:] != (self.size, self.size, 3) or shard.shape[0] < listed:
                raise ValueError(f"{path}: a shard of shape {shard.shape}, where the store's table lists "
                                 f"{listed} crops of {self.size} x {self.size}; {redo}")
            self._shards[key] = shard
        return self._shards[key]

    def images(self, split: str, rows) -> np.ndarray:
        """uint8 crops of the given split rows (any shape), shaped ``rows.shape + (S, S, 3)``."""
        n = len(self.table(split))
        rows = np.asarray(rows, dtype=np.int64)
        flat = rows.ravel()
        if flat.size and (flat.min() < 0 or flat.max() >= n):
            raise IndexError(f"row out of range for split {split!r} of {n} frames")
        out = np.empty((flat.size, self.size, self.size, 3), dtype=np.uint8)
        if not flat.size:
            return out.reshape(rows.shape + (self.size, self.size, 3))
        codes, names = self._codes[split]
        wanted, shard_rows = codes[flat], self._rows[split][flat]
        # Runs of consecutive crops of one shard (a training window is one): one slice copy each,
        # straight from the mapped file, at about twice the rate of a gather (benchmarks/data_path.py).
        cut = np.flatnonzero((wanted[1:] != wanted[:-1]) | (shard_rows[1:] != shard_rows[:-1] + 1)) + 1
        if 4 * (len(cut) + 1) <= flat.size:
            bounds = np.concatenate([[0], cut, [flat.size]])
            for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
                first = int(shard_rows[a])
                out[a:b] = self.shard(split, names[wanted[a]])[first:first + b - a]
            return out.reshape(rows.shape + (self.size, self.size, 3))
        # scattered frames: one gather per video in the batch
        order = np.argsort(wanted, kind="stable")
        bounds = np.flatnonzero(np.diff(wanted[order])) + 1
        for group in np.split(order, bounds):
            shard = self.shard(split, names[wanted[group[0]]])
            out[group] = shard[shard_rows[group]]
        return out.reshape(rows.shape + (self.size, self.size, 3))


# --------------------------------------------------------------------------------------------
# Sampling


def sequences(store_or_table, split: str | None, length: int, stride: int = 1,
              max_gap: int | None = 1) -> np.ndarray:
    """Windows of ``length`` consecutive frames, each from ONE video: (m, length) row numbers.

    Windows start every ``stride`` frames within a run of frames. A run ends at a video
    boundary and, with ``max_gap=1`` (the default), wherever a frame was dropped (the frame
    indices jump by more than ``max_gap``); ``max_gap=None`` bridges dropped frames. A run
    shorter than ``length`` gives no window. ``store_or_table`` is a :class:`FrameStore`
    (then ``split`` names the split) or a manifest-like table with ``video`` and
    ``frame_index`` columns, rows in frame order within each video.
    """
    if length < 1 or stride < 1:
        raise ValueError(f"length and stride must be positive, got {length}, {stride}")
    table = store_or_table.table(split) if isinstance(store_or_table, FrameStore) else store_or_table
    n = len(table)
    if n == 0:
        return np.zeros((0, length), dtype=np.int64)
    video = pd.factorize(table["video"].to_numpy())[0]
    frame = table["frame_index"].to_numpy(np.int64)
    breaks = np.diff(video) != 0
    if max_gap is not None:
        breaks |= np.diff(frame) > max_gap
    breaks |= np.diff(frame) <= 0  # frames out of order are never consecutive
    starts_of_runs = np.concatenate([[0], np.flatnonzero(breaks) + 1])
    ends_of_runs = np.concatenate([starts_of_runs[1:], [n]])
    counts = np.maximum((ends_of_runs - starts_of_runs - length) // stride + 1, 0)
    first = np.repeat(starts_of_runs, counts)
    # the k-th window of a run starts at run start + k * stride
    k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    starts = first + k * stride
    return starts[:, None] + np.arange(length)[None, :]


def quadrant(valence, arousal) -> np.ndarray:
    """Quadrant number of each (valence, arousal) in :data:`QUADRANTS` order.

    0 counts as positive (the paper does not say; a label of exactly 0 is rare and this keeps
    the four quadrants a partition).
    """
    v, a = np.asarray(valence, dtype=np.float64), np.asarray(arousal, dtype=np.float64)
    if np.isnan(v).any() or np.isnan(a).any():
        raise ValueError("cannot oversample unlabelled (NaN) frames")
    return (v < 0).astype(np.int64) + 2 * (a < 0).astype(np.int64)


def oversample(valence, arousal, target=PAPER_QUADRANTS, seed: int | None = 0,
               mode: str = "duplicate") -> np.ndarray:
    """Indices of a training set whose quadrant shares are ``target`` (Sect. 4.2).

    ``valence``, ``arousal``: one value per item (a frame, or a sequence's mean label).

    - ``mode='duplicate'`` (the paper: "re-sampled/duplicating"): every item is kept once;
      items of the quadrants below their share are added again, whole copies first, then a
      random subset without replacement, until each quadrant has ``target`` of the total.
      The total is the smallest that needs no quadrant cut.
    - ``mode='resample'``: as many items as given, drawn with replacement, each quadrant
      with probability ``target``.

    A quadrant with no item cannot be filled: the targets of the others are renormalised,
    with a warning. Returns sorted int64 indices (duplicates repeated); shuffle them when
    batching. The same ``seed`` gives the same indices.
    """
    q = quadrant(valence, arousal)
    target = np.asarray(target, dtype=np.float64)
    if target.shape != (4,) or (target < 0).any() or target.sum() <= 0:
        raise ValueError(f"target must be 4 non-negative shares ({', '.join(QUADRANTS)}), got {target}")
    counts = np.bincount(q, minlength=4)
    if counts.sum() == 0:
        return np.zeros(0, dtype=np.int64)
    missing = (counts == 0) & (target > 0)
    if missing.any():
        warnings.warn(f"no item in quadrant(s) {', '.join(np.array(QUADRANTS)[missing])}: "
                      "the other quadrants' targets are renormalised", stacklevel=2)
        target = np.where(counts > 0, target, 0.0)
    target = target / target.sum()
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(q == i) for i in range(4)]
    if mode == "resample":
        per_quadrant = rng.multinomial(len(q), target)
        picks = [rng.choice(m, size=k, replace=True) for m, k in zip(members, per_quadrant) if k]
    elif mode == "duplicate":
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(target > 0, counts / target, 0.0)
        total = ratio.max()
        wanted = np.maximum(np.round(total * target).astype(np.int64), counts)
        picks = []
        for m, want in zip(members, wanted):
            if not len(m):
                continue
            copies, rest = divmod(int(want), len(m))
            picks.append(np.tile(m, copies))
            picks.append(rng.choice(m, size=rest, replace=False))
    else:
        raise ValueError(f"mode must be 'duplicate' or 'resample', not {mode!r}")
    return np.sort(np.concatenate(picks)).astype(np.int64)


def oversample_sequences(store_or_table, split: str | None, windows: np.ndarray,
                         target=PAPER_QUADRANTS, seed: int | None = 0, mode: str = "duplicate") -> np.ndarray:
    """Oversampled rows of ``windows`` (from :func:`sequences`), by each window's mean label."""
    table = store_or_table.table(split) if isinstance(store_or_table, FrameStore) else store_or_table
    valence = table["valence"].to_numpy(np.float64)[windows].mean(axis=1)
    arousal = table["arousal"].to_numpy(np.float64)[windows].mean(axis=1)
    return windows[oversample(valence, arousal, target, seed, mode)]
