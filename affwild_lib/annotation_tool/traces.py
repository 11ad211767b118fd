"""What the annotation tool reads and writes on disk (Sects. 3.1 and 3.4).

Layout, under the *traces root* (:func:`traces_root`)::

    annotations_raw/<dimension>/<video>/<annotator>.csv     a finished session: time_s,value
    annotations_drafts/<dimension>/<video>/<annotator>.json  a session in progress (never fused)
    annotations_validation/<dimension>/<video>.json          an expert's choice of 2-4 annotators

``annotations_raw`` is the layout the synthetic release uses (``FORMATS.md``), so
:func:`affwild_lib.datasets.affwild.read_raw_traces` reads a human's trace as it reads a
synthetic annotator's. A draft lives in a folder of its own with another suffix, so nothing that
reads ``annotations_raw/*.csv`` can take half a session for a whole one.

The traces root is never the release itself: raw data is not modified, and the pipeline's data
stage rewrites ``data/synth`` whenever the generator changes, which would take human traces with
it. For a release at ``<data>/<collection>/<dataset>`` it is
``<data>/annotations/<collection>/<dataset>`` (``data/annotations/synth/affwild`` for the default
data, ``data/annotations/real/affwild`` for the licensed one), which ``prepare`` and chapter 02
read beside the release's own traces. ``affwild annotate --traces DIR`` puts it elsewhere.

Every write goes to a temporary file in the same folder and is renamed in place, so a reader
sees the earlier file or the new one, never half of one.
"""
from __future__ import annotations

import json
import math
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..annotation import fuse
from ..datasets.affwild import DIMENSIONS, TRACE_HEADER, read_raw_traces
from ..datasets.video import find_videos, probe

#: Annotator identifiers: a letter or digit, then letters, digits, '-' or '_', 32 at most. Anything
#: else is refused rather than rewritten, so that two people never end up with one file.
ANNOTATOR_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
#: How far from the video's start and end a finished trace may begin and stop, in seconds: the
#: browser reports the end of playback up to a frame or two before the last frame's time.
COVERAGE_SLACK_S = 0.5
K_MIN, K_MAX = 2, 4  # the expert keeps the 2-4 annotations that agree (Sect. 3.4)
#: Labels equal to the release's to within its files' rounding (6 decimals, float32) are its own.
RELEASE_ROUNDING = 2e-6


class TraceError(ValueError):
    """A request the tool refuses, with a message meant for the person who made it."""


@dataclass(frozen=True)
class Video:
    """One video the tool can show: its id, split, file and what the container says of it."""
    video_id: str
    split: str
    path: Path
    duration_s: float
    fps: float
    codec: str


def traces_root(data_root: str | Path) -> Path:
    """Where human traces of the release ``data_root`` are kept (see the module docstring)."""
    root = Path(data_root).resolve()
    return root.parent.parent / "annotations" / root.parent.name / root.name


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
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.guessed_rate)
            duration = (float(container.duration) / 1e6 if container.duration
                        else probe(path).n_frames / fps)
            return Video(video_id, split, path.resolve(), duration, fps, stream.codec_context.name)
    except Exception:  # unreadable here: listed all the same, the browser will say it can't play
        return Video(video_id, split, path.resolve(), math.nan, math.nan, "unreadable")


def release_annotators(data_root: str | Path, dimension: str, video_id: str) -> set[str]:
    """Annotators whose traces came with the release, in lower case (a human may not take their
    ids, whatever the case: on some file systems ``Jane.csv`` and ``jane.csv`` are one file)."""
    folder = Path(data_root) / "annotations_raw" / dimension / video_id
    return {p.stem.lower() for p in folder.glob("*.csv")} if folder.is_dir() else set()


# -- finished sessions ---------------------------------------------------------------------------

def trace_path(root: Path, dimension: str, video_id: str, annotator: str) -> Path:
    return Path(root) / "annotations_raw" / dimension / video_id / f"{annotator}.csv"


def draft_path(root: Path, dimension: str, video_id: str, annotator: str) -> Path:
    return Path(root) / "annotations_drafts" / dimension / video_id / f"{annotator}.json"


def selection_path(root: Path, dimension: str, video_id: str) -> Path:
    return Path(root) / "annotations_validation" / dimension / f"{video_id}.json"


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


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a uniquely named temporary file in the same folder, so
    concurrent writers never share a temporary file and a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    write_text_atomic(path, TRACE_HEADER + "\n" + "".join(f"{a:.3f},{b:.4f}\n" for a, b in zip(t, v)))
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
    write_text_atomic(path, json.dumps(body))
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


# -- all traces of a video, and the expert's choice (Sect. 3.4) ---------------------------------

def all_traces(data_root: str | Path, dimension: str, video_id: str,
               root: Path | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The release's traces of one video, then the human ones under ``root`` (default
    :func:`traces_root`). A human id equal to a release annotator's is refused at login, so
    neither hides the other; should one appear all the same, the release's is kept."""
    traces = dict(read_raw_traces(data_root, video_id, dimension))
    for name, trace in read_raw_traces(root or traces_root(data_root), video_id, dimension).items():
        traces.setdefault(name, trace)
    return traces


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
    write_text_atomic(path, json.dumps({
        "video": video_id, "dimension": dimension, "chosen": chosen, "expert": expert,
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=1) + "\n")
    return path


def read_selection(root: Path, dimension: str, video_id: str) -> list[str] | None:
    """The expert's choice for this video, or None where no expert has validated it."""
    path = selection_path(root, dimension, video_id)
    if not path.is_file():
        return None
    try:
        chosen = json.loads(path.read_text())["chosen"]
        if not (isinstance(chosen, list) and all(isinstance(c, str) for c in chosen)):
            raise TypeError("'chosen' is not a list of names")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise TraceError(f"{path}: not a validation record ({error})") from None
    return chosen


def fuse_video(data_root: str | Path, root: Path, dimension: str, video_id: str, frame_times):
    """Per-frame labels of one video: the expert's choice averaged where there is one (Sect.
    3.4), else the automatic choice of the 2-4 most correlated annotators (Sect. 3.3,
    :func:`affwild_lib.annotation.fuse`). Returns ``(labels, chosen, how)``."""
    traces = all_traces(data_root, dimension, video_id, root)
    chosen = read_selection(root, dimension, video_id)
    if chosen is not None:
        missing = [name for name in chosen if name not in traces]
        if missing:
            raise TraceError(f"{selection_path(root, dimension, video_id)}: the expert chose "
                             f"{', '.join(missing)}, whose traces are gone")
        labels, _ = fuse({name: traces[name] for name in chosen}, frame_times,
                         k_min=len(chosen), k_max=len(chosen), threshold=-np.inf)
        return labels, chosen, "expert"
    labels, chosen = fuse(traces, frame_times)
    return labels, chosen, "automatic"


def needs_fusion(data_root: str | Path, root: Path, dimension: str, video_id: str) -> bool:
    """Whether a video's released labels give way to a fusion of its traces: an expert chose
    among them, or a human trace was added under ``root`` and there are at least
    :data:`K_MIN` traces in all (one person's trace alone never replaces a release's labels:
    the real Aff-Wild ships none of its raw traces). Elsewhere the release's per-frame labels
    stand (for the synthetic release they are this same fusion of its own traces)."""
    if selection_path(root, dimension, video_id).is_file():
        return True
    human = read_raw_traces(root, video_id, dimension)
    return bool(human) and len(human) + len(release_annotators(data_root, dimension, video_id)) >= K_MIN


def _check_made_for(root: Path, dims, video_id: str, duration_s: float) -> None:
    """Refuse human traces that cannot be of this video: they stop far from its end (the
    release was replaced, say, or the synthetic data regenerated with other settings)."""
    for d in dims:
        for name, (t, _) in read_raw_traces(root, video_id, d).items():
            if abs(t[-1] - duration_s) > 1.0:
                raise TraceError(f"{trace_path(root, d, video_id, name)}: ends at {t[-1]:.2f} s but "
                                 f"video {video_id} lasts {duration_s:.2f} s: it was made for another "
                                 "copy of the video; remove it (or annotate again)")


def relabel(records: list, data_root: str | Path, root: Path) -> tuple[list, list[dict]]:
    """Aff-Wild records with the labels of every dimension that :func:`needs_fusion` re-fused
    from all of its traces (used by ``prepare``). Returns ``(records, what was done)``.

    A labelled video gets fused labels on the frames the release labels; a video the release
    leaves unlabelled (a test video) is labelled only where both dimensions can be fused.
    Frame ``i`` is at ``i / fps``, the clock the traces' ``time_s`` share (Sect. 3.3).
    """
    import dataclasses

    out, log = [], []
    for record in records:
        dims = [d for d in DIMENSIONS if needs_fusion(data_root, root, d, record.video_id)]
        if not dims or (not record.labelled and len(dims) < len(DIMENSIONS)):
            out.append(record)
            continue
        info = probe(record.media)
        _check_made_for(root, dims, record.video_id, info.n_frames / info.fps)
        frame_index = (record.frame_index if record.labelled
                       else np.arange(info.n_frames, dtype=np.int64))
        times = np.arange(info.n_frames) / info.fps
        labels = {d: getattr(record, d) for d in DIMENSIONS}
        changed = not record.labelled
        for d in dims:
            fused, chosen, how = fuse_video(data_root, root, d, record.video_id, times)
            fused = fused[frame_index].astype(np.float32)
            # The same annotators chosen again give the release's own labels (to its 6 decimals):
            # keep them, so that a trace the fusion leaves out changes nothing downstream.
            same = labels[d] is not None and np.allclose(fused, labels[d], rtol=0, atol=RELEASE_ROUNDING)
            if not same:
                labels[d], changed = fused, True
            log.append({"video": record.video_id, "dimension": d, "chosen": chosen, "how": how,
                        "labels_changed": not same})
        out.append(dataclasses.replace(record, frame_index=frame_index,
                                       time_s=frame_index / info.fps, **labels) if changed else record)
    return out, log
