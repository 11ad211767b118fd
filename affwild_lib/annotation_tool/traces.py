"""What the annotation tool writes on disk, and reads back for its pages (Sects. 3.1 and 3.4).

The layout of the *traces root* and what fusion reads from it (finished traces, experts' choices)
live in :mod:`affwild_lib.annotation`, which ``prepare`` uses without this package; the names the
tool's server and chapter 02 take from here are re-exported. This module adds the tool's own part:
the videos it may serve, the checks a request passes, and the writes. A draft lives in a folder of
its own with another suffix, so nothing that reads ``annotations_raw/*.csv`` can take half a
session for a whole one. ``affwild annotate --traces DIR`` puts the traces root elsewhere than
:func:`~affwild_lib.annotation.traces_root`.

Every write goes through :mod:`affwild_lib.atomic` (a temporary file in the same folder, renamed
in place), so a reader sees the earlier file or the new one, never half of one.
"""
from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import atomic
# Re-exported: the server and chapter 02 reach the traces root through this module.
from ..annotation import (K_MAX, K_MIN, TraceError, all_traces, fuse_video,  # noqa: F401
                          read_selection, release_annotators, selection_path, trace_path,
                          traces_root)
from ..datasets.affwild import DIMENSIONS, TRACE_HEADER, read_raw_traces  # noqa: F401
from ..datasets.errors import DatasetError
from ..datasets.video import find_videos, probe

#: Annotator identifiers: a letter or digit, then letters, digits, '-' or '_', 32 at most. Anything
#: else is refused rather than rewritten, so that two people never end up with one file.
ANNOTATOR_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
#: How far from the video's start and end a finished trace may begin and stop, in seconds: the
#: browser reports the end of playback up to a frame or two before the last frame's time.
COVERAGE_SLACK_S = 0.5


@dataclass(frozen=True)
class Video:
    """One video the tool can show: its id, split, file and what the container says of it."""
    video_id: str
    split: str
    path: Path
    duration_s: float
    fps: float
    codec: str


def check_id(kind: str, value: str) -> str:
    """``value`` if it is a valid identifier, else :class:`TraceError` saying what is allowed."""
    if not isinstance(value, str) or not ANNOTATOR_ID.fullmatch(value):
        raise TraceError(f"{kind} {value!r} is not allowed: use 1-32 letters, digits, '-' or '_', "
                         "starting with a letter or digit")
    return value


def check_dimension(dimension: str) -> str:
    if dimension not in DIMENSIONS:
        raise TraceError(f"dimension must be one of {', '.join(DIMENSIONS)}, not {dimension!r}")
    return dimension


def list_videos(data_root: str | Path) -> dict[str, Video]:
    """The videos of an Aff-Wild-layout release (``videos/<split>/<id>.<ext>``), by id.

    Only these files are ever served: a request names an id, never a path.
    """
    videos_dir = Path(data_root) / "videos"
    if not videos_dir.is_dir():
        raise TraceError(f"{videos_dir}: no such folder. DATA_DIR must hold an Aff-Wild release "
                         "(videos/<split>/<id>.mp4), e.g. data/synth/affwild")
    found: dict[str, Video] = {}
    for split_dir in sorted(p for p in videos_dir.iterdir() if p.is_dir()):
        for video_id, path in find_videos(split_dir).items():
            if not ANNOTATOR_ID.fullmatch(video_id):
                raise TraceError(f"{path}: a video id (the file's name) of letters, digits, '-' or "
                                 "'_' is needed to name its traces; rename the file")
            if video_id in found:
                raise TraceError(f"{path}: id {video_id} is also {found[video_id].path}")
            found[video_id] = _describe(video_id, split_dir.name, path)
    if not found:
        raise TraceError(f"{videos_dir}: no video found")
    return found


def _describe(video_id: str, split: str, path: Path) -> Video:
    try:
        info = probe(path)
    except DatasetError:  # unreadable here: listed all the same, the browser will say it can't play
        return Video(video_id, split, path.resolve(), math.nan, math.nan, "unreadable")
    return Video(video_id, split, path.resolve(), info.duration_s, info.fps, info.codec)


# -- finished sessions ---------------------------------------------------------------------------

def draft_path(root: Path, dimension: str, video_id: str, annotator: str) -> Path:
    return Path(root) / "annotations_drafts" / dimension / video_id / f"{annotator}.json"


def check_trace(times, values, duration_s: float) -> tuple[np.ndarray, np.ndarray]:
    """A session's samples as arrays, if they make a whole trace of a video of ``duration_s``.

    Whole means: more than one sample, times finite and never going back, inside the video,
    starting within :data:`COVERAGE_SLACK_S` of its start and reaching within as much of its end;
    values finite and in [-1, 1]. Anything else raises :class:`TraceError` saying which.
    """
    try:
        t = np.asarray(times, dtype=np.float64)
        v = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TraceError("times and values must be lists of numbers") from None
    if t.ndim != 1 or t.shape != v.shape:
        raise TraceError("times and values must be two lists of the same length")
    if t.size < 2:
        raise TraceError("a trace needs at least two samples")
    if not (np.isfinite(t).all() and np.isfinite(v).all()):
        raise TraceError("a trace holds only finite numbers")
    if (np.diff(t) < 0).any():
        raise TraceError(f"times go back at sample {int(np.flatnonzero(np.diff(t) < 0)[0]) + 2}")
    if (np.abs(v) > 1).any():
        raise TraceError("values lie in [-1, 1]")
    if not math.isfinite(duration_s):
        raise TraceError("the length of this video could not be read, so a trace of it can't be "
                         "checked whole: re-encode it (e.g. to H.264 MP4)")
    if t[0] < 0 or t[-1] > duration_s + COVERAGE_SLACK_S:
        raise TraceError(f"times must lie inside the video (0 to {duration_s:.2f} s)")
    if t[0] > COVERAGE_SLACK_S or t[-1] < duration_s - COVERAGE_SLACK_S:
        raise TraceError(f"the trace covers {t[0]:.2f}-{t[-1]:.2f} s of a {duration_s:.2f} s "
                         "video: play it to the end before saving")
    return t, v


def save_trace(root: Path, dimension: str, video_id: str, annotator: str, times, values,
               duration_s: float) -> Path:
    """Write a finished session as ``annotations_raw/.../<annotator>.csv``; drop its draft."""
    t, v = check_trace(times, values, duration_s)
    path = trace_path(root, dimension, video_id, annotator)
    if path.parent.is_dir():
        twins = [p.stem for p in path.parent.glob("*.csv")
                 if p.stem.lower() == annotator.lower() and p.stem != annotator]
        if twins:
            raise TraceError(f"{twins[0]!r} has already annotated this video: identifiers differing "
                             "only in case are one file on some systems; choose another")
    atomic.write_text(path, TRACE_HEADER + "\n" + "".join(f"{a:.3f},{b:.4f}\n" for a, b in zip(t, v)))
    draft_path(root, dimension, video_id, annotator).unlink(missing_ok=True)
    return path


def save_draft(root: Path, dimension: str, video_id: str, annotator: str, state: dict) -> Path:
    """Keep a session in progress (samples so far, where the video stood) to resume it later."""
    times, values = state.get("times", []), state.get("values", [])
    if not (isinstance(times, list) and isinstance(values, list) and len(times) == len(values)):
        raise TraceError("a draft holds two lists of the same length, times and values")
    if len(times) > 1_000_000:
        raise TraceError("a draft of over a million samples is refused")
    position = state.get("position", 0.0)
    try:
        times, values = [float(x) for x in times], [float(x) for x in values]
    except (TypeError, ValueError):
        raise TraceError("a draft's times and values are numbers") from None
    body = {"times": times, "values": values,
            "position": float(position) if isinstance(position, (int, float)) else 0.0,
            "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    path = draft_path(root, dimension, video_id, annotator)
    atomic.write_text(path, json.dumps(body))
    return path


def load_draft(root: Path, dimension: str, video_id: str, annotator: str) -> dict | None:
    path = draft_path(root, dimension, video_id, annotator)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def annotated_by(root: Path, dimension: str, annotator: str) -> set[str]:
    """Videos with a finished trace of ``annotator`` for ``dimension``."""
    folder = Path(root) / "annotations_raw" / dimension
    if not folder.is_dir():
        return set()
    return {p.parent.name for p in folder.glob(f"*/{annotator}.csv")}


def drafts_of(root: Path, dimension: str, annotator: str) -> set[str]:
    folder = Path(root) / "annotations_drafts" / dimension
    if not folder.is_dir():
        return set()
    return {p.parent.name for p in folder.glob(f"*/{annotator}.json")}


# -- the expert's choice (Sect. 3.4) ------------------------------------------------------------

def save_selection(data_root: str | Path, root: Path, dimension: str, video_id: str,
                   chosen: list[str], expert: str) -> Path:
    """Record the 2-4 annotators an expert found to agree on ``video_id`` (Sect. 3.4)."""
    check_id("expert", expert)
    if not all(isinstance(name, str) for name in chosen):
        raise TraceError("'chosen' is a list of annotator names")
    available = all_traces(data_root, dimension, video_id, root)
    chosen = list(dict.fromkeys(chosen))
    if not K_MIN <= len(chosen) <= K_MAX:
        raise TraceError(f"choose {K_MIN} to {K_MAX} annotations, not {len(chosen)}")
    unknown = [str(name) for name in chosen if name not in available]
    if unknown:
        raise TraceError(f"no trace of {', '.join(unknown)} for video {video_id}")
    path = selection_path(root, dimension, video_id)
    atomic.write_json(path, {
        "video": video_id, "dimension": dimension, "chosen": chosen, "expert": expert,
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    return path
