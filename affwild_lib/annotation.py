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
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

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


def top_k_mean(matrix, k_min: int = 2, k_max: int = 4, threshold: float = 0.5):
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
         k_min: int = 2, k_max: int = 4, threshold: float = 0.5):
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
