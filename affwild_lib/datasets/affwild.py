"""Aff-Wild, the paper's database (Sect. 2.4, 3), in its release layout.

::

    <root>/videos/<split>/<id>.mp4|.avi                   split: train, test
    <root>/annotations/<split>/{valence,arousal}/<id>.txt  one value in [-1, 1] per line,
                                                           line i (1-based) = frame i-1
    <root>/annotations_raw/<dimension>/<id>/<annotator>.csv   optional: time_s,value

``landmarks/`` and ``bboxs/`` are released in a format no public code documents: not read.
For users, the book page *Data formats* (``book/data_formats.md``) describes the layout and
these policies.

Policies:

- Labels are optional per split (test labels are not distributed): in a split without an
  ``annotations/<split>`` folder every frame of the video is listed, valence and arousal None.
- In a split with one, every video needs both files and every file needs a video.
- A frame whose valence or arousal is -100 (the loaders' fill for unannotated frames) is
  dropped, counted in ``dropped['unannotated']``.
- An empty label file is an error: a video the annotators left wholly unlabelled would
  otherwise pass as one, and its frames vanish from training unnoticed (issue 20).
- A label file shorter than its video leaves the last frames unlabelled: the paper's
  verification pass dropped frames "especially at the end of the videos" (Sect. 3.4). They are
  counted in ``dropped['unlabelled_tail']``. A label file longer than its video is an error.
- Frame times are ``frame_index / fps``, with fps from the video.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ._text import check_range, read_lines, split_columns, to_floats
from .errors import DatasetError
from .record import VideoRecord
from .video import find_videos, probe

DIMENSIONS = ("valence", "arousal")
UNANNOTATED = -100.0
TRACE_HEADER = "time_s,value"


def read(root: str | Path) -> list[VideoRecord]:
    """One record per video of ``<root>/videos/<split>/``, splits and ids in name order."""
    root = Path(root)
    videos_dir = root / "videos"
    if not videos_dir.is_dir():
        raise DatasetError(videos_dir, None, "missing folder")
    split_dirs = sorted(p for p in videos_dir.iterdir() if p.is_dir())
    labels_root = root / "annotations"
    if labels_root.is_dir():
        for labels_dir in sorted(labels_root.iterdir()):
            if labels_dir.is_dir() and not (videos_dir / labels_dir.name).is_dir():
                raise DatasetError(labels_dir, None,
                                   f"annotations for a split with no {videos_dir / labels_dir.name}")
    records = []
    for split_dir in split_dirs:
        videos = find_videos(split_dir)
        labels_dir = labels_root / split_dir.name
        if labels_dir.is_dir():
            _check_label_files_have_videos(labels_dir, videos)
        else:
            labels_dir = None  # labels not distributed for this split (usually test)
        for video_id, path in videos.items():
            records.append(_read_video(split_dir.name, video_id, path, labels_dir))
    return records


def _check_label_files_have_videos(labels_dir: Path, videos: dict[str, Path]) -> None:
    for dimension in DIMENSIONS:
        for path in sorted((labels_dir / dimension).glob("*.txt")):
            if path.stem not in videos:
                raise DatasetError(path, None, "label file for a video not in the split's videos folder")


def _read_video(split: str, video_id: str, path: Path, labels_dir: Path | None) -> VideoRecord:
    info = probe(path)
    dropped = {"unannotated": 0, "unlabelled_tail": 0}
    valence = arousal = None
    frame_index = np.arange(info.n_frames)
    if labels_dir is not None:
        valence_path, arousal_path = (labels_dir / dimension / f"{video_id}.txt" for dimension in DIMENSIONS)
        if not valence_path.exists() and not arousal_path.exists():
            raise DatasetError(path, None, f"video has no annotation in {labels_dir}")
        valence, arousal = _read_labels(valence_path), _read_labels(arousal_path)
        if len(valence) != len(arousal):
            raise DatasetError(valence_path, None, f"{len(valence)} labels but {arousal_path} has {len(arousal)}")
        if len(valence) > info.n_frames:
            raise DatasetError(valence_path, info.n_frames + 1,
                               f"{len(valence)} labels for {path}, which has {info.n_frames} frames")
        annotated = (valence != UNANNOTATED) & (arousal != UNANNOTATED)
        dropped = {"unannotated": int((~annotated).sum()), "unlabelled_tail": info.n_frames - len(valence)}
        frame_index = np.flatnonzero(annotated)
        valence, arousal = valence[annotated].astype(np.float32), arousal[annotated].astype(np.float32)
    return VideoRecord(
        dataset="affwild", video_id=video_id, split=split, media=path,
        frame_index=frame_index, time_s=frame_index / info.fps, valence=valence, arousal=arousal,
        frame_size=(info.width, info.height), dropped=dropped,
    )


def _read_labels(path: Path) -> np.ndarray:
    lines = read_lines(path)
    if not lines:
        raise DatasetError(path, None, "empty: no frame is labelled (a split without labels has no "
                                       "annotations/<split> folder at all)")
    line_numbers = np.arange(1, len(lines) + 1)
    values = to_floats(path, lines, line_numbers)
    check_range(path, values, line_numbers, -1.0, 1.0, markers=(UNANNOTATED,))
    return values


def read_raw_traces(root: str | Path, video_id: str,
                    dimension: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The per-annotator joystick traces of one video: annotator -> (time_s, value).

    They are the input of the annotation processing of Sect. 3.3-3.4 (matching samples to
    frames, then fusing annotators), not labels, so they stay out of :class:`VideoRecord`.
    The real release does not include them (our synthetic one does): a missing folder gives
    ``{}``.
    Each ``<annotator>.csv`` has the header ``time_s,value``; times must not go backwards
    (samples come at a variable rate, Sect. 3.1) and values lie in [-1, 1].
    """
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension must be one of {DIMENSIONS}, not {dimension!r}")
    folder = Path(root) / "annotations_raw" / dimension / video_id
    if not folder.is_dir():
        return {}
    traces = {}
    for path in sorted(folder.glob("*.csv")):
        if path.name.startswith("."):  # a writer's temporary file, or macOS's ._ metadata
            continue
        lines = read_lines(path)
        if not lines or lines[0].strip() != TRACE_HEADER:
            raise DatasetError(path, 1, f"first line must be {TRACE_HEADER!r}")
        line_numbers = np.arange(2, len(lines) + 1)
        times, values = (to_floats(path, column, line_numbers)
                         for column in split_columns(path, lines[1:], line_numbers, 2))
        check_range(path, values, line_numbers, -1.0, 1.0)
        backwards = np.flatnonzero(np.diff(times) < 0)
        if backwards.size:
            raise DatasetError(path, line_numbers[backwards[0] + 1], "time_s goes backwards")
        traces[path.stem] = (times, values)
    return traces
