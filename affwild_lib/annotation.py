"""From raw joystick traces to per-frame labels (paper Sects. 3.3-3.4).

Each Aff-Wild annotator moved a joystick while watching a video; the tool sampled it "at a
variable time rate" (Sect. 3.1), so every annotator's trace has its own timestamps. The paper
turns those traces into one label per frame in two steps:

1. *Matching* (Sect. 3.3): each frame takes the value at the nearest annotation timestamp;
   when two timestamps are equally near, the frame takes their average.
2. *Fusion* (Sect. 3.4): the cross-correlations between annotators are computed per video and
   the mean of "the most correlated annotations (between 2 to 4 annotations)" is the label.

Table 11 also trains on a single annotator, "the one with the highest correlation to the
landmarks": :func:`most_landmark_correlated` is that variant.

Everything is vectorised over frames; the only loops run over annotators (6-8 per video).

The last part of the module reads a video's traces from disk and fuses them again for
``prepare`` (:func:`relabel`): the release's own traces, the ones people made with
``affwild annotate`` and an expert's choice among them (Sect. 3.4). Layout, under a *traces
root* (:func:`traces_root`; the tool writes it, :mod:`affwild_lib.annotation_tool.traces`)::

    annotations_raw/<dimension>/<video>/<annotator>.csv     a finished session: time_s,value
    annotations_drafts/<dimension>/<video>/<annotator>.json  a session in progress (never fused)
    annotations_validation/<dimension>/<video>.json          an expert's choice of 2-4 annotators

``annotations_raw`` is the release's own layout (the book page *Data formats*,
``book/data_formats.md``), so :func:`affwild_lib.datasets.affwild.read_raw_traces` reads a
person's trace as it reads a release annotator's.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .datasets.affwild import DIMENSIONS, read_raw_traces
from .datasets.video import probe

#: The experts kept "between 2 to 4" of the most correlated annotations (Sect. 3.4).
K_MIN, K_MAX = 2, 4
#: Labels equal to the release's to within its files' rounding (6 decimals, float32) are its own.
RELEASE_ROUNDING = 2e-6

#: Two timestamps whose distances to a frame differ by less than this (seconds) count as
#: equally near: frame and joystick clocks are floats, an exact equality test would be luck.
TIE_TOLERANCE_S = 1e-9


def match_to_frames(ann_times, ann_values, frame_times,
                    tie_tol: float = TIE_TOLERANCE_S) -> np.ndarray:
    """Value of one annotator's trace at each frame time, by nearest timestamp (Sect. 3.3).

    - Nearest neighbour in time; a frame equally near (within ``tie_tol``) to two
      timestamps gets their average, as the paper prescribes.
    - Timestamps need not be sorted: they are sorted stably first (a joystick log written by
      several threads can come out of order; stability keeps equal stamps in file order).
    - Repeated timestamps are one sample whose value is the mean of the repeats (they are
      all at the same distance from any frame, so the tie rule gives exactly this).
    - Frames before the first or after the last timestamp take the first/last value.

    Returns a float64 array shaped like ``frame_times``.
    """
    t = np.asarray(ann_times, dtype=np.float64).ravel()
    v = np.asarray(ann_values, dtype=np.float64).ravel()
    f = np.asarray(frame_times, dtype=np.float64)
    if t.size == 0:
        raise ValueError("empty annotation trace: no timestamps to match frames to")
    if t.shape != v.shape:
        raise ValueError(f"{t.size} timestamps but {v.size} values")
    if not (np.isfinite(t).all() and np.isfinite(v).all()):
        raise ValueError("annotation timestamps and values must be finite")

    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    t, inverse, counts = np.unique(t, return_inverse=True, return_counts=True)
    v = np.bincount(inverse, weights=v) / counts

    if t.size == 1:
        return np.full(f.shape, v[0])
    flat = f.ravel()
    right = np.clip(np.searchsorted(t, flat), 1, t.size - 1)
    left = right - 1
    d_left = np.abs(flat - t[left])
    d_right = np.abs(t[right] - flat)
    out = np.where(d_left < d_right, v[left], v[right])
    tie = np.abs(d_left - d_right) <= tie_tol
    out[tie] = 0.5 * (v[left][tie] + v[right][tie])
    return out.reshape(f.shape)


def annotator_correlations(matrix) -> np.ndarray:
    """Pairwise Pearson correlations between annotators (rows) over frames (columns).

    A constant trace has no defined correlation; it gets 0 with everyone else (it carries no
    information about the others) and 1 with itself.
    """
    x = np.asarray(matrix, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError("expected an (annotators, frames) matrix")
    x = x - x.mean(axis=1, keepdims=True)
    norm = np.sqrt((x * x).sum(axis=1))
    safe = np.where(norm > 0, norm, 1.0)
    r = (x @ x.T) / np.outer(safe, safe)
    r[norm == 0, :] = 0.0
    r[:, norm == 0] = 0.0
    np.fill_diagonal(r, 1.0)
    return np.clip(r, -1.0, 1.0)


def top_k_mean(matrix, k_min: int = K_MIN, k_max: int = K_MAX, threshold: float = 0.5):
    """Mean of the 2-4 most mutually correlated annotations (Sect. 3.4).

    The paper leaves the choice to two experts looking at the cross-correlations; we make
    it a rule:

    1. start from the pair of annotators with the highest correlation;
    2. repeatedly add the annotator whose mean correlation with those already chosen is
       highest, while that mean is at least ``threshold`` and fewer than ``k_max`` are
       chosen (ties go to the lower index).

    So the result always holds ``k_min``..``k_max`` annotators (all of them when fewer than
    ``k_min`` exist), and an annotator who disagrees with the consensus is only taken when
    needed to reach ``k_min``. Returns ``(mean trace, chosen row indices in choice order)``.
    """
    x = np.asarray(matrix, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError("expected a non-empty (annotators, frames) matrix")
    if not 1 <= k_min <= k_max:
        raise ValueError(f"need 1 <= k_min <= k_max, got {k_min}, {k_max}")
    n = x.shape[0]
    if n <= k_min:
        chosen = list(range(n))
        return x.mean(axis=0), chosen

    r = annotator_correlations(x)
    off = r - 2.0 * np.eye(n)  # a pair is two different annotators
    i, j = np.unravel_index(np.argmax(off), off.shape)
    chosen = [int(min(i, j)), int(max(i, j))]
    while len(chosen) < min(k_max, n):  # fewer annotators than k_max: stop when all are in
        rest = [c for c in range(n) if c not in chosen]
        score = r[np.ix_(rest, chosen)].mean(axis=1)
        best = int(np.argmax(score))
        if len(chosen) >= k_min and score[best] < threshold:
            break
        chosen.append(rest[best])
    return x[chosen].mean(axis=0), chosen


def most_landmark_correlated(matrix, landmark_features, n_components: int = 10):
    """The annotator whose trace the landmarks explain best (Table 11's "1 Annotator").

    "Highest correlation to the landmarks" needs a number per annotator: we use the
    multiple correlation R^2 of a least-squares fit of the trace on the landmarks. The
    landmark features (frames x features, e.g. the 136 normalised coordinates) are first
    reduced to their ``n_components`` leading principal components: 136 coordinates are
    highly collinear, and a fit on all of them over a short video would explain noise.

    Returns ``(index of the best annotator, R^2 per annotator)``.
    """
    y = np.asarray(matrix, dtype=np.float64)
    f = np.asarray(landmark_features, dtype=np.float64)
    f = f.reshape(f.shape[0], -1)
    if y.ndim != 2 or y.shape[1] != f.shape[0]:
        raise ValueError("matrix is (annotators, frames); landmark_features is (frames, ...)")
    f = f - f.mean(axis=0)
    u, s, _ = np.linalg.svd(f, full_matrices=False)
    k = int(min(n_components, np.sum(s > s[0] * 1e-9) if s.size else 0))
    basis = u[:, :k]  # orthonormal, centred: the fit is a projection
    yc = y - y.mean(axis=1, keepdims=True)
    explained = ((yc @ basis) ** 2).sum(axis=1)
    total = (yc * yc).sum(axis=1)
    r2 = np.where(total > 0, explained / np.where(total > 0, total, 1.0), 0.0)
    return int(np.argmax(r2)), r2


def fuse(raw_traces: Mapping[str, tuple[Sequence[float], Sequence[float]]], frame_times,
         k_min: int = K_MIN, k_max: int = K_MAX, threshold: float = 0.5):
    """Per-frame labels of one video and one dimension from its raw annotator traces.

    ``raw_traces`` maps annotator name -> (timestamps in s, values). Each trace is matched
    to the frames (:func:`match_to_frames`), then the most correlated 2-4 are averaged
    (:func:`top_k_mean`). Returns ``(labels, chosen annotator names)``.
    """
    if not raw_traces:
        raise ValueError("no annotator traces to fuse")
    names = list(raw_traces)
    matrix = np.stack([match_to_frames(*raw_traces[a], frame_times) for a in names])
    labels, idx = top_k_mean(matrix, k_min=k_min, k_max=k_max, threshold=threshold)
    return labels, [names[i] for i in idx]


# -- a video's traces on disk, and its labels fused again from them (Sects. 3.1, 3.4) -----------

class TraceError(ValueError):
    """A trace, or a request about traces, that is refused, with a message meant for the person
    who made it (the annotation tool answers it as a 400; ``prepare`` stops on it)."""


def traces_root(data_root: str | Path) -> Path:
    """Where human traces of the release ``data_root`` are kept.

    Never the release itself: raw data is not modified, and the pipeline's data stage rewrites
    ``data/synth`` whenever the generator changes, which would take human traces with it. For a
    release at ``<data>/<collection>/<dataset>`` it is ``<data>/annotations/<collection>/<dataset>``
    (``data/annotations/synth/affwild`` for the default data, ``data/annotations/real/affwild``
    for the licensed one).
    """
    root = Path(data_root).resolve()
    return root.parent.parent / "annotations" / root.parent.name / root.name


def trace_path(root: Path, dimension: str, video_id: str, annotator: str) -> Path:
    return Path(root) / "annotations_raw" / dimension / video_id / f"{annotator}.csv"


def selection_path(root: Path, dimension: str, video_id: str) -> Path:
    return Path(root) / "annotations_validation" / dimension / f"{video_id}.json"


def release_annotators(data_root: str | Path, dimension: str, video_id: str) -> set[str]:
    """Annotators whose traces came with the release, in lower case (a human may not take their
    ids, whatever the case: on some file systems ``Jane.csv`` and ``jane.csv`` are one file)."""
    folder = Path(data_root) / "annotations_raw" / dimension / video_id
    return {p.stem.lower() for p in folder.glob("*.csv")} if folder.is_dir() else set()


def all_traces(data_root: str | Path, dimension: str, video_id: str,
               root: Path | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The release's traces of one video, then the human ones under ``root`` (default
    :func:`traces_root`). A human id equal to a release annotator's is refused at login, so
    neither hides the other; should one appear all the same, the release's is kept."""
    traces = dict(read_raw_traces(data_root, video_id, dimension))
    for name, trace in read_raw_traces(root or traces_root(data_root), video_id, dimension).items():
        traces.setdefault(name, trace)
    return traces


def read_selection(root: Path, dimension: str, video_id: str) -> list[str] | None:
    """The expert's choice for this video (Sect. 3.4), or None where no expert has validated it."""
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
    3.4), else the automatic choice of the 2-4 most correlated annotators (Sects. 3.3-3.4,
    :func:`fuse`). Returns ``(labels, chosen, how)``."""
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
    from all of its traces (Sect. 3.4; used by ``prepare``). Returns ``(records, what was done)``.

    A labelled video gets fused labels on the frames the release labels; a video the release
    leaves unlabelled (a test video) is labelled only where both dimensions can be fused.
    Frame ``i`` is at ``i / fps``, the clock the traces' ``time_s`` share (Sect. 3.3).
    """
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


@dataclasses.dataclass
class YourTrace:
    """A video and dimension a person annotated with the tool (chapter 02, Sect. 3.4): the
    labels fused with their trace, whom the fusion chose, and the release's own labels."""

    video_id: str
    dimension: str
    time_s: np.ndarray       # the video's frame times
    fused: np.ndarray        # the labels fused with the person's trace (:func:`fuse_video`)
    chosen: list[str]
    released: np.ndarray | None


def compare_with_release(records: Mapping, data_root: str | Path, root: Path):
    """Every trace under ``root`` (the tool's traces root) beside the release ``data_root``:
    one row per trace (samples, span, its correlation with the release's label, whether the
    fusion chose it, how, and how far the fused label moved), and one :class:`YourTrace` per
    video and dimension. ``records``: video id -> the release's record. Returns
    ``(rows, traces)``; both empty when nobody has annotated yet."""
    rows, found = [], {}
    for dim in DIMENSIONS:
        for vid, rec in records.items():
            for name, (t, v) in read_raw_traces(root, vid, dim).items():
                labels, chosen, how = fuse_video(data_root, root, dim, vid, rec.time_s)
                released = getattr(rec, dim)
                yours = match_to_frames(t, v, rec.time_s)
                rows.append({"video": vid, "dimension": dim, "annotator": name, "samples": len(t),
                             "covers (s)": f"{t[0]:.2f}-{t[-1]:.2f}",
                             "r with the release's label": (float(np.corrcoef(yours, released)[0, 1])
                                                            if released is not None and yours.std() > 0 else np.nan),
                             "in the fusion": name in chosen, "chosen by": how,
                             "label change (max |diff|)": (float(np.abs(labels - released).max())
                                                           if released is not None else np.nan)})
                found.setdefault((dim, vid), YourTrace(vid, dim, rec.time_s, labels, list(chosen), released))
    return rows, list(found.values())
