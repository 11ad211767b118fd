"""``check(format, root)``: read a copy of a release and summarise it, as one JSON object.

``affwild data check`` prints it, so a user can see at once that their copy of a licensed
dataset is complete (counts per split against the paper's, Sect. 2) and how much each
documented reader policy dropped.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from . import affwild
from .afew import EMOTIONS
from .afew_va import landmarks_outside
from .readers import read
from .record import VideoRecord
from .video import verify, verify_image


def check(fmt: str, root: str | Path) -> dict:
    """Validate the release at ``root`` (every reader error is raised, and every video and
    image is checked to decode: :func:`verify_media`) and summarise it.

    Keys: ``format``, ``root``, ``videos`` (``clips`` for AFEW and AFEW-VA), ``frames``,
    ``labelled_frames``, ``splits`` (videos and frames per split), ``labels`` (min and max of
    valence and arousal over labelled frames, None without labels), ``dropped`` (frames per
    policy), plus per format: ``raw_traces`` (Aff-Wild), ``emotions`` (AFEW, clips per split
    and emotion), ``landmarks_outside_image`` (AFEW-VA, clips).
    """
    records = read(fmt, root)
    verify_media(records)
    unit = "clips" if fmt in ("afew", "afew-va") else "videos"
    splits: dict[str, dict[str, int]] = {}
    for record in records:
        counts = splits.setdefault(record.split, {unit: 0, "frames": 0})
        counts[unit] += 1
        counts["frames"] += record.n_frames
    labelled = [r for r in records if r.labelled]
    dropped: Counter[str] = Counter()
    for record in records:
        dropped.update(record.dropped)
    summary = {
        "format": fmt,
        "root": str(root),
        unit: len(records),
        "frames": sum(r.n_frames for r in records),
        "labelled_frames": sum(r.n_frames for r in labelled),
        "splits": splits,
        "labels": {name: _range([getattr(r, name) for r in labelled]) for name in ("valence", "arousal")},
        "dropped": dict(sorted(dropped.items())),
    }
    if fmt == "affwild":
        summary["raw_traces"] = _raw_traces(Path(root), records)
    elif fmt == "afew":
        summary["emotions"] = _emotions(records)
    elif fmt == "afew-va":
        summary["landmarks_outside_image"] = sum(landmarks_outside(r) for r in records)
    return summary


def verify_media(records: list[VideoRecord]) -> None:
    """Raise for the first video or image of ``records`` that does not decode to its end: a
    header survives a cut file, so reading it (what the readers do) is not enough (issue 20).
    Videos are checked at their last frame (:func:`~affwild_lib.datasets.video.verify`), images
    decoded whole."""
    for record in records:
        if record.frame_files is not None:
            for path in record.frame_files:
                verify_image(path)
        elif record.media is not None and Path(record.media).is_file():
            verify(record.media)


def _range(arrays: list[np.ndarray]) -> dict[str, float] | None:
    values = np.concatenate(arrays) if arrays else np.zeros(0)
    # Labels are float32: round so the JSON shows 0.2531, not 0.2531000077724457.
    return {"min": round(float(values.min()), 6), "max": round(float(values.max()), 6)} if values.size else None


def _raw_traces(root: Path, records: list[VideoRecord]) -> dict[str, int]:
    """Read (and so validate) every optional per-annotator trace; count videos and traces."""
    videos = traces = 0
    for record in records:
        found = [affwild.read_raw_traces(root, record.video_id, d) for d in affwild.DIMENSIONS]
        videos += any(found)
        traces += sum(len(f) for f in found)
    return {"videos": videos, "traces": traces}


def _emotions(records: list[VideoRecord]) -> dict[str, dict[str, int]]:
    counts = {split: dict.fromkeys(EMOTIONS, 0) for split in dict.fromkeys(r.split for r in records)}
    for record in records:
        counts[record.split][record.emotion] += 1
    return counts
