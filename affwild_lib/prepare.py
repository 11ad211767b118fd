"""``prepare``: a dataset release -> the frame store (Sect. 3.3), one video per task.

For every video (or clip) of a release read by :func:`affwild_lib.datasets.read`: decode it,
find the face in each labelled frame, fit the 68 landmarks, crop and resize
(:mod:`affwild_lib.faces`), attach the labels, and write the video's shard of the frame store
(:mod:`affwild_lib.store`). Videos run in parallel over processes, with a progress bar over
videos on stderr.

Policies:

- **Labels to frames.** Aff-Wild and AFEW-VA label frames by their index (label line i is
  frame i): a frame takes the label of its index, and a frame the release leaves unlabelled
  (Aff-Wild's -100 fills, a label file shorter than its video) is never looked at, counted as
  ``unlabelled``. RECOLA labels come on their own 25 Hz clock: each decoded frame takes the
  label nearest to its pts time, a tie averaging the two (Sect. 3.3,
  :func:`affwild_lib.annotation.match_to_frames`); label timestamps out of order are sorted
  first; timestamps past the video's end are simply never nearest to a frame; frames more than
  one label period (the median interval) before the first or after the last timestamp have no
  label near them and are counted as ``unlabelled``. A split without labels (Aff-Wild's test
  set) keeps every frame with NaN valence and arousal; AFEW stores the clip's ``emotion``.
- **Faces.** A frame where detection or landmark fitting fails is dropped and counted
  (``dropped``, Sect. 3.3). A video without any face gives a shard of zero frames: reported
  (``videos_without_face``), not an error. A video whose release lists no media (a RECOLA copy
  without ``recordings_video``) is reported under ``no_media``.
- **Damaged files.** What decodes of a corrupt or truncated video is kept; the frames that
  did not decode are counted (``undecodable``, per file in ``undecodable_files``), and
  ``affwild prepare`` warns on stderr. ``affwild data check`` refuses such files.
- **Atomic, resumable.** Each video's files are moved into place when complete and its
  completion record is written last; a rerun skips the videos whose record matches the
  settings and redoes the others, so an interrupted run is finished by running it again.
  A store made with other settings (crop size, landmark source, ...) is refused, not mixed.
- **Read-only input.** Nothing under the release's folder is written; an ``out`` inside it is
  refused.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import atomic, datasets, faces, parallel, store
from .annotation import match_to_frames, relabel, traces_root
from .datasets.record import VideoRecord

STORE_VERSION = 2  # 2: full-frame detection finds faces from min_face px (was: detect_width)
#: Releases whose labels come on a clock of their own, matched to frames by time.
TIME_ALIGNED = {"recola"}
LANDMARK_SOURCES = ("dlib", "truth")


def prepare(fmt: str, path: str | Path, out: str | Path, size: int = 96, workers: int | None = None,
            progress: bool = True, landmarks: str = "dlib", margin: float = faces.DEFAULT_MARGIN,
            min_face: int = 40, redetect_every: int = 30,
            annotations: str | Path | None = None) -> dict:
    """Build (or finish) the frame store ``out`` of the release of format ``fmt`` at ``path``.

    ``size``: crop side in pixels (96 as the released models, 224 for VGG, e.g. 48 for the tiny
    profile). ``workers``: processes (default: all CPUs; 1 runs in this process).
    ``landmarks``: ``'dlib'`` (detector + shape predictor) or ``'truth'`` (the synthetic
    generator's true landmarks, an ablation). ``annotations`` (Aff-Wild only): the folder of
    human traces and expert choices made with ``affwild annotate`` (default:
    :func:`~affwild_lib.annotation.traces_root` of the release); a video with any there has its
    labels fused again from all its traces (Sect. 3.4, :func:`~affwild_lib.annotation.relabel`).
    Returns a JSON-able summary: ``frames`` (decoded), ``faces`` (kept), ``dropped`` (no face),
    ``undecodable`` (and ``undecodable_files``: media -> frames), ``unlabelled``, the videos that kept no
    frame (``videos_without_face``, ``videos_unlabelled``, ``videos_undecodable``), per-split counts, ``processed`` and ``resumed`` videos,
    ``seconds``.
    """
    started = time.perf_counter()
    if landmarks not in LANDMARK_SOURCES:
        raise ValueError(f"landmarks must be one of {LANDMARK_SOURCES}, not {landmarks!r}")
    faces.check_min_face(min_face)
    root, out = Path(path).resolve(), Path(out).resolve()
    if out == root or root in out.parents:
        raise ValueError(f"{out}: the store must not be written inside the release {root}")
    records = datasets.read(fmt, root)
    relabelled: list[dict] = []
    if fmt == "affwild":
        records, relabelled = relabel(records, root, Path(annotations) if annotations else traces_root(root))
    settings = {"format": fmt, "size": int(size), "landmarks": landmarks, "margin": float(margin),
                "min_face": int(min_face), "redetect_every": int(redetect_every),
                "version": STORE_VERSION}
    _claim(out, settings)

    keys = [(r.split, r.video_id) for r in records]
    if len(set(keys)) != len(keys):
        raise ValueError(f"{root}: two videos share a split and id; the store could not tell them apart")
    done: dict[tuple[str, str], dict] = {}
    todo = []
    for record in records:
        if store.is_complete(out, record.split, record.video_id, _settings(record, settings, relabelled)):
            done[(record.split, record.video_id)] = _read_done(out, record)
        else:
            todo.append(record)
    resumed = len(done)

    tasks = [(record, str(root), str(out), _settings(record, settings, relabelled)) for record in todo]
    bar = _progress(len(records), resumed, progress)
    try:
        if workers == 1 or len(tasks) <= 1:
            for task in tasks:
                result = prepare_video(*task)
                done[(result["split"], result["video"])] = result
                bar.update(1)
        else:
            # a video's shard is moved into place only when whole: Ctrl-C leaves nothing half-written
            for _, result in parallel.each(prepare_video, tasks, workers or os.cpu_count() or 1):
                done[(result["split"], result["video"])] = result
                bar.update(1)
    finally:
        bar.close()

    ordered = [done[key] for key in keys]
    store.write_manifest(out, ordered)
    summary = _summary(fmt, root, out, ordered, resumed, time.perf_counter() - started)
    # the files behind the count, for the warning `affwild prepare` prints (issue 20)
    summary["undecodable_files"] = {str(r.media): int(d["undecodable"]) for r, d in zip(records, ordered)
                                    if d["undecodable"]}
    if relabelled:
        summary["relabelled"] = relabelled
    return summary


def _settings(record: VideoRecord, settings: dict, relabelled: list[dict]) -> dict:
    """A video's shard settings; for labels fused again from human traces, a digest of them,
    so that a shard made before a trace was added or changed is redone, not resumed."""
    if not any(item["video"] == record.video_id and item["labels_changed"] for item in relabelled):
        return settings
    digest = hashlib.sha256()
    for values in (record.frame_index, record.valence, record.arousal):
        digest.update(np.ascontiguousarray(values).tobytes())
    return {**settings, "labels": digest.hexdigest()[:16]}


def prepare_video(record: VideoRecord, root: str, out: str, settings: dict) -> dict:
    """Write the shard of one video and return its completion record (also written, last)."""
    paths = store.shard_paths(out, record.split, record.video_id)
    paths["done"].unlink(missing_ok=True)  # from here on, this video is unfinished
    counts = faces.FrameCounts()
    status = "ok"
    if record.frame_files is not None:
        times = record.time_s if record.time_s is not None else None
        frames = faces.decode_images(record.frame_files, record.frame_index, times, counts)
    elif record.media is not None and Path(record.media).is_file():
        frames = faces.decode_video(record.media, counts)
    else:
        frames, status = iter(()), "no_media"

    labels = _Labels(record, time_aligned=settings["format"] in TIME_ALIGNED)
    frames = labels.keep(frames, counts)
    if settings["landmarks"] == "truth":
        truth = faces.load_truth(Path(root) / "synth_truth" / f"{record.video_id}.npz")
        crops = faces.face_crops(frames, settings["size"], counts, truth=truth, margin=settings["margin"])
    else:
        finder = faces.FaceFinder(settings["min_face"], settings["redetect_every"])
        crops = faces.face_crops(frames, settings["size"], counts, finder=finder, margin=settings["margin"])

    writer = store.ShardWriter(paths["frames"], settings["size"])
    index, time_s, squares, points = [], [], [], []
    try:
        for crop in crops:
            writer.append(crop.image)
            index.append(crop.index)
            time_s.append(crop.time_s)
            squares.append(crop.square)
            points.append(crop.landmarks / np.float32(settings["size"]))
    except BaseException:
        writer.abort()
        raise
    table = _table(record, labels, np.array(index, dtype=np.int64), np.array(time_s, dtype=np.float64),
                   np.array(squares, dtype=np.int64).reshape(-1, 3),
                   np.array(points, dtype=np.float32).reshape(-1, faces.N_LANDMARKS, 2))
    atomic.write_file(paths["table"], lambda tmp: table.to_parquet(tmp, index=False))
    frames_bytes = writer.close()
    result = {"video": record.video_id, "split": record.split, "status": status,
              **counts.as_dict(), "unlabelled": counts.skipped,
              "release_dropped": int(sum(record.dropped.values())),
              "frames_bytes": frames_bytes, "table_bytes": paths["table"].stat().st_size,
              "settings": settings}
    del result["skipped"]
    store.atomic_write_json(paths["done"], result)
    return result


class _Labels:
    """Which decoded frames a record labels, and their labels (see the module's policies)."""

    def __init__(self, record: VideoRecord, time_aligned: bool):
        self.record = record
        self.time_aligned = time_aligned and record.time_s is not None and record.labelled
        if self.time_aligned:
            t = np.asarray(record.time_s, dtype=np.float64)
            if t.size == 0:
                self.span = (np.inf, -np.inf)  # no label: no frame is labelled
            else:
                gap = float(np.median(np.diff(np.sort(t)))) if t.size > 1 else 0.0
                self.span = (t.min() - gap, t.max() + gap)
        else:
            wanted = np.asarray(record.frame_index, dtype=np.int64)
            self.lookup = np.full(int(wanted.max()) + 1 if wanted.size else 0, -1, dtype=np.int64)
            self.lookup[wanted] = np.arange(wanted.size)

    def row(self, index: int) -> int:
        return int(self.lookup[index]) if 0 <= index < len(self.lookup) else -1

    def keep(self, frames, counts: faces.FrameCounts):
        """Only the frames the record labels (or lists); the others are counted and skipped."""
        # Image sequences list only their labelled frames already.
        for frame in frames:
            if self.time_aligned:
                wanted = self.span[0] <= frame.time_s <= self.span[1]
            else:
                wanted = self.row(frame.index) >= 0
            if wanted:
                yield frame
            else:
                counts.skipped += 1

    def values(self, index: np.ndarray, time_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        record, n = self.record, len(index)
        if not record.labelled or n == 0:
            return np.full(n, np.nan, np.float32), np.full(n, np.nan, np.float32)
        if self.time_aligned:
            return (match_to_frames(record.time_s, record.valence, time_s).astype(np.float32),
                    match_to_frames(record.time_s, record.arousal, time_s).astype(np.float32))
        rows = self.lookup[index]
        return record.valence[rows].astype(np.float32), record.arousal[rows].astype(np.float32)


def _table(record: VideoRecord, labels: _Labels, index, time_s, squares, points) -> pd.DataFrame:
    valence, arousal = labels.values(index, time_s)
    n = len(index)
    columns = {
        "video": np.full(n, record.video_id, dtype=object), "split": np.full(n, record.split, dtype=object),
        "frame_index": index, "time_s": time_s, "valence": valence, "arousal": arousal,
        "emotion": np.full(n, record.emotion or "", dtype=object), "row": np.arange(n, dtype=np.int64),
        "x0": squares[:, 0], "y0": squares[:, 1], "side": squares[:, 2],
    }
    for i in range(faces.N_LANDMARKS):
        columns[f"x_{i}"] = points[:, i, 0]
    for i in range(faces.N_LANDMARKS):
        columns[f"y_{i}"] = points[:, i, 1]
    return pd.DataFrame(columns)


def _claim(out: Path, settings: dict) -> None:
    """Create ``out`` for these settings, or check that it was made with them."""
    marker = out / store.STORE_FILE
    if marker.is_file():
        previous = json.loads(marker.read_text())
        if previous != settings:
            changed = sorted(k for k in settings.keys() | previous.keys() if settings.get(k) != previous.get(k))
            raise ValueError(f"{marker}: this store was made with other settings ({', '.join(changed)}); "
                             "use another output folder or delete this one")
        return
    out.mkdir(parents=True, exist_ok=True)
    store.atomic_write_json(marker, settings)


def _read_done(out: Path, record: VideoRecord) -> dict:
    return json.loads(store.shard_paths(out, record.split, record.video_id)["done"].read_text())


def _progress(total: int, initial: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="video", desc="prepare", file=sys.stderr,
                disable=not enabled)


def _summary(fmt: str, root: Path, out: Path, records: list[dict], resumed: int, seconds: float) -> dict:
    table = pd.DataFrame(records)
    splits = {}
    for split, part in table.groupby("split", sort=False):
        splits[split] = {"videos": int(len(part)), "frames": int(part["decoded"].sum()),
                         "faces": int(part["kept"].sum()), "dropped": int(part["no_face"].sum())}
    return {
        "format": fmt, "path": str(root), "out": str(out), "videos": int(len(table)),
        "processed": int(len(table) - resumed), "resumed": int(resumed),
        "frames": int(table["decoded"].sum()), "faces": int(table["kept"].sum()),
        "dropped": int(table["no_face"].sum()), "undecodable": int(table["undecodable"].sum()),
        "unlabelled": int(table["unlabelled"].sum()),
        # no frame kept: because no face was found, or because none was labelled (issue 20)
        "videos_without_face": sorted(table.loc[(table["kept"] == 0) & (table["status"] == "ok")
                                                & (table["no_face"] > 0), "video"]),
        "videos_unlabelled": sorted(table.loc[(table["kept"] == 0) & (table["status"] == "ok")
                                              & (table["no_face"] == 0) & (table["unlabelled"] > 0), "video"]),
        "videos_undecodable": sorted(table.loc[(table["decoded"] == 0) & (table["undecodable"] > 0), "video"]),
        "no_media": sorted(table.loc[table["status"] == "no_media", "video"]),
        "splits": splits, "seconds": round(seconds, 3),
    }
