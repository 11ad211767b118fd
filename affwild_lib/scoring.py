"""Score Aff-Wild challenge entries as the organisers did (Sect. 4.1, Eqs. 1-2).

Entries and labels share Aff-Wild's per-frame label layout (the book page *Data formats*,
``book/data_formats.md``)::

    <dir>/valence/<video>.txt    one float per line, line i = frame i (1-based)
    <dir>/arousal/<video>.txt

The challenge criteria are CCC (Eq. 1) and MSE (Eq. 2) of valence and of arousal, computed
once over all test frames of all videos pooled together, with biased (1/N) moments, as the
official evaluation script does (book page *Data formats*, "Challenge entries and the
metric"); the challenge score is the mean of the two CCCs. Per-video CCC is reported as an
extra only: averaging it over videos changes the figures a lot.

Policies:

- Gold lines equal to -5 or -100 are unannotated markers: those frames are left out of the
  scores, for each dimension on its own (a frame may count for valence and not for arousal).
  Other gold values must lie in [-1, 1].
- A prediction file must have exactly one line per gold line (one value for every frame, as
  challenge entries had to), each a finite number. Predictions are not range-checked.
- Every gold video needs a prediction file and every prediction file a gold video.
- A trailing empty line at the end of a file is tolerated; a blank line before it is an error.
- Every problem is a :class:`DatasetError` ``path:line: message`` (``path: message`` for a
  missing file or folder, where no line is to blame).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from .atomic import replace_folder
from .datasets._text import check_range, read_lines, to_floats
from .datasets.errors import DatasetError
from .metrics import ccc, mse

DIMENSIONS = ("valence", "arousal")
UNANNOTATED = (-5.0, -100.0)  # Aff-Wild2's -5 and the loaders' -100 (book/data_formats.md)
GOLD_SPLIT = Path("annotations") / "test"


def _read_values(path: Path, gold: bool) -> np.ndarray:
    lines = read_lines(path)  # drops trailing blank lines; a blank line inside fails to_floats
    line_numbers = np.arange(1, len(lines) + 1)
    values = to_floats(path, lines, line_numbers)  # non-numeric, NaN and inf name their line
    if gold:
        check_range(path, values, line_numbers, -1.0, 1.0, markers=UNANNOTATED)
    return values


def read_layout(folder: str | os.PathLike, gold: bool = False) -> dict[str, dict[str, np.ndarray]]:
    """Read ``<folder>/{valence,arousal}/<video>.txt`` into ``{dimension: {video: values}}``.

    Values are float64, one per frame, frame order. Both dimension folders must exist, hold the
    same videos, and a video's two files the same number of lines. ``gold=True`` also checks
    labels lie in [-1, 1] or are an unannotated marker (-5, -100). Files not ending in ``.txt``
    are ignored. Raises :class:`DatasetError` (``path:line: message``).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(folder, None, "missing folder")
    layout: dict[str, dict[str, np.ndarray]] = {}
    for dimension in DIMENSIONS:
        sub = folder / dimension
        if not sub.is_dir():
            raise DatasetError(sub, None, f"missing folder (expected {folder}/{{valence,arousal}}/<video>.txt)")
        layout[dimension] = {p.stem: _read_values(p, gold) for p in sorted(sub.glob("*.txt")) if p.is_file()}
    if not any(layout.values()):
        raise DatasetError(folder, None, "no <video>.txt files in valence/ or arousal/")
    first, second = DIMENSIONS
    for a, b in ((first, second), (second, first)):
        for video in layout[a]:
            if video not in layout[b]:
                raise DatasetError(folder / b / f"{video}.txt", None,
                                   f"missing file ({folder / a / video}.txt exists)")
    for video, values in layout[first].items():
        other = layout[second][video]
        if len(values) != len(other):
            longer = folder / (first if len(values) > len(other) else second) / f"{video}.txt"
            raise DatasetError(longer, min(len(values), len(other)) + 1,
                               f"{max(len(values), len(other))} lines, but the {video}.txt of the other "
                               f"dimension has {min(len(values), len(other))}")
    return layout


def gold_folder(gold: str | os.PathLike) -> Path:
    """The labels folder: ``gold`` itself, or ``<gold>/annotations/test`` for a release root."""
    gold = Path(gold)
    if any((gold / d).is_dir() for d in DIMENSIONS):
        return gold
    if (gold / GOLD_SPLIT).is_dir():
        return gold / GOLD_SPLIT
    if (gold / "annotations").is_dir() or (gold / "videos").is_dir():
        raise DatasetError(gold / GOLD_SPLIT, None,
                           "missing folder: a release root needs its test labels to be scored against")
    return gold


def score(pred_dir: str | os.PathLike, gold_dir: str | os.PathLike) -> dict:
    """Score the entry in ``pred_dir`` against the labels in ``gold_dir`` (Sect. 4.1).

    ``gold_dir`` is a labels folder (``.../annotations/test``) or a release root. Returns
    ``ccc_valence``, ``ccc_arousal``, ``ccc_mean`` (the challenge score), ``mse_valence``,
    ``mse_arousal`` (Eqs. 1-2 over all annotated frames of all videos pooled, biased moments),
    ``n_frames_valence``, ``n_frames_arousal`` (frames scored), ``n_videos`` and ``per_video``
    ``{video: {ccc_valence, ccc_arousal, n_frames}}``, ``n_frames`` being the video's gold
    lines and a CCC ``None`` where a video has no annotated frame in that dimension.
    """
    pred_dir, gold_dir = Path(pred_dir), gold_folder(gold_dir)
    gold = read_layout(gold_dir, gold=True)
    pred = read_layout(pred_dir)
    for dimension in DIMENSIONS:
        for video in gold[dimension]:
            if video not in pred[dimension]:
                raise DatasetError(pred_dir / dimension / f"{video}.txt", None,
                                   f"missing prediction for gold video {video!r} "
                                   f"({gold_dir / dimension / video}.txt)")
        for video in pred[dimension]:
            if video not in gold[dimension]:
                raise DatasetError(pred_dir / dimension / f"{video}.txt", None,
                                   f"prediction for video {video!r}, which has no labels in {gold_dir / dimension}")
        for video, labels in gold[dimension].items():
            values = pred[dimension][video]
            if len(values) != len(labels):
                path = pred_dir / dimension / f"{video}.txt"
                line = len(labels) + 1 if len(values) > len(labels) else max(len(values), 1)
                raise DatasetError(path, line, f"expected {len(labels)} lines (one per frame of "
                                   f"{gold_dir / dimension / video}.txt), found {len(values)}")

    result: dict = {}
    per_video: dict[str, dict] = {v: {"n_frames": len(gold[DIMENSIONS[0]][v])} for v in gold[DIMENSIONS[0]]}
    for dimension in DIMENSIONS:
        y_true, y_pred = [], []
        for video, labels in gold[dimension].items():
            keep = ~np.isin(labels, UNANNOTATED)
            y_true.append(labels[keep])
            y_pred.append(pred[dimension][video][keep])
            per_video[video][f"ccc_{dimension}"] = ccc(y_true[-1], y_pred[-1]) if keep.any() else None
        y_true, y_pred = np.concatenate(y_true), np.concatenate(y_pred)
        if not y_true.size:
            raise DatasetError(gold_dir / dimension, None,
                               "every frame is unannotated (-5 or -100): nothing to score")
        # Pooled over all frames of all videos, not averaged per video (book/data_formats.md).
        result[f"ccc_{dimension}"] = ccc(y_true, y_pred)
        result[f"mse_{dimension}"] = mse(y_true, y_pred)
        result[f"n_frames_{dimension}"] = int(y_true.size)
    result["ccc_mean"] = (result["ccc_valence"] + result["ccc_arousal"]) / 2
    result["mse_mean"] = (result["mse_valence"] + result["mse_arousal"]) / 2
    result["n_videos"] = len(per_video)
    result["per_video"] = per_video
    return result


def _is_layout(folder: Path) -> bool:
    """True if ``folder`` holds nothing but ``valence/`` and ``arousal/`` with ``.txt`` files."""
    for child in folder.iterdir():
        if child.name not in DIMENSIONS or not child.is_dir() or child.is_symlink():
            return False
        if any(not (f.is_file() and f.suffix == ".txt") or f.is_symlink() for f in child.iterdir()):
            return False
    return True


def _fill_nearest(frames: np.ndarray, n: int) -> np.ndarray:
    """For each frame 0..n-1, the position in sorted ``frames`` of the nearest one (ties: earlier)."""
    target = np.arange(n)
    right = np.clip(np.searchsorted(frames, target, side="left"), 0, len(frames) - 1)
    left = np.clip(right - 1, 0, len(frames) - 1)
    take_left = np.abs(target - frames[left]) <= np.abs(frames[right] - target)
    return np.where(take_left, left, right)


def write_layout(out_dir: str | os.PathLike, predictions: pd.DataFrame, n_frames: dict[str, int]) -> dict[str, int]:
    """Write an evaluation's predictions as a challenge entry, in the release layout.

    ``predictions`` has the columns of ``predictions.csv``: ``video``, ``frame_index`` (0-based
    frame of the video), ``valence_pred``, ``arousal_pred``; only frames with a detected face
    have a row. ``n_frames`` gives each video's frame count, i.e. the lines of its label file;
    one ``<out_dir>/{valence,arousal}/<video>.txt`` is written per video, values as ``%.6f``.

    Challenge entries had to give a value for every frame (Sect. 4.1), so a frame without a row
    takes the prediction of the nearest frame of the same video that has one (on a tie, the
    earlier frame): predictions hold over short face-detection gaps, and the first and last
    predictions extend to the video's ends. A video of ``n_frames`` without any row, a row for
    a video not in ``n_frames``, a frame out of range, a duplicate row or a non-finite value
    raise ``ValueError``.

    Written atomically: into a temporary folder beside ``out_dir``, then renamed. An existing
    ``out_dir`` is replaced only if it holds nothing but ``valence/`` and ``arousal/`` with
    ``.txt`` files (an earlier entry); anything else raises ``FileExistsError``.

    Returns the number of filled frames per video.
    """
    missing = {"video", "frame_index", "valence_pred", "arousal_pred"} - set(predictions.columns)
    if missing:
        raise ValueError(f"predictions lack the columns {sorted(missing)}")
    out = Path(out_dir).resolve()
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a folder; not touching it")
    if out.is_dir() and not _is_layout(out):
        raise FileExistsError(f"{out} holds more than valence/ and arousal/ .txt files; not touching it")
    df = predictions.assign(video=predictions["video"].astype(str))
    n_frames = {str(k): int(v) for k, v in n_frames.items()}
    unknown = sorted(set(df["video"]) - set(n_frames))
    if unknown:
        raise ValueError(f"predictions for videos not in n_frames: {unknown[:5]}")
    if df.duplicated(["video", "frame_index"]).any():
        row = df[df.duplicated(["video", "frame_index"])].iloc[0]
        raise ValueError(f"two predictions for video {row['video']!r}, frame {row['frame_index']}")
    values = df[["valence_pred", "arousal_pred"]].to_numpy(np.float64)
    if not np.isfinite(values).all():
        row = df[~np.isfinite(values).all(axis=1)].iloc[0]
        raise ValueError(f"non-finite prediction for video {row['video']!r}, frame {row['frame_index']}")
    groups = dict(tuple(df.groupby("video", sort=True)))

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    filled: dict[str, int] = {}
    try:
        for dimension in DIMENSIONS:
            (tmp / dimension).mkdir()
        for video, n in sorted(n_frames.items()):
            rows = groups.get(video)
            if rows is None or rows.empty:
                raise ValueError(f"video {video!r} has no prediction at all: nothing to fill its {n} frames with")
            rows = rows.sort_values("frame_index")
            frames = rows["frame_index"].to_numpy(np.int64)
            if frames[0] < 0 or frames[-1] >= n:
                bad = frames[0] if frames[0] < 0 else frames[-1]
                raise ValueError(f"video {video!r}: frame_index {bad} outside 0..{n - 1}")
            source = _fill_nearest(frames, n)
            filled[video] = n - len(frames)
            for dimension in DIMENSIONS:
                column = rows[f"{dimension}_pred"].to_numpy(np.float64)[source]
                np.savetxt(tmp / dimension / f"{video}.txt", column, fmt="%.6f")
        replace_folder(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return filled


def report(result: dict) -> str:
    """:func:`score`'s result as ``affwild score`` prints it: CCC and MSE of valence, arousal and
    their mean, then what was scored."""
    lines = [f"{'':4}{'valence':>10}{'arousal':>10}{'mean':>10}"]
    for metric in ("ccc", "mse"):
        lines.append(f"{metric.upper():4}" + "".join(f"{result[f'{metric}_{d}']:10.4f}"
                                                     for d in ("valence", "arousal", "mean")))
    lines.append(f"{result['n_videos']} videos, {result['n_frames_valence']} valence and "
                 f"{result['n_frames_arousal']} arousal frames scored")
    return "\n".join(lines)


def score_as_entry(experiment: str | os.PathLike, gold: str | os.PathLike, out: str | os.PathLike) -> dict:
    """An experiment's test predictions (``<experiment>/predictions.csv``) turned into a
    challenge entry under ``out`` and scored as the organisers scored the teams: a value for
    every frame of every gold video (:func:`write_layout` fills the frames without a face from
    the nearest one), then :func:`score` on the files, as ``affwild score OUT GOLD`` does. Returns
    the score without ``per_video``, with ``filled`` (frames filled) and ``printed`` (the
    command's table)."""
    predictions = pd.read_csv(Path(experiment) / "predictions.csv", dtype={"video": str})
    n_frames = {video: len(values) for video, values in read_layout(gold_folder(gold), gold=True)["valence"].items()}
    filled = write_layout(out, predictions, n_frames)
    result = {k: v for k, v in score(out, gold).items() if k != "per_video"}
    return {**result, "filled": int(sum(filled.values())), "printed": report(result)}


def score_entries(experiments: str | os.PathLike, names, gold: str | os.PathLike) -> pd.DataFrame:
    """:func:`score_as_entry` for each experiment of ``names`` that has test predictions under
    ``experiments``: one row per entry (CCC and MSE of valence and arousal over every gold frame,
    their mean CCC, and the frames filled), as the organisers' table of the teams (Table 6)."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            if (Path(experiments) / name / "predictions.csv").is_file():
                scored = score_as_entry(Path(experiments) / name, gold, Path(tmp) / name)
                rows.append({"entry": name, **{k: scored[k] for k in (
                    "ccc_valence", "ccc_arousal", "ccc_mean", "mse_valence", "mse_arousal", "filled")}})
    return pd.DataFrame(rows, columns=["entry", "ccc_valence", "ccc_arousal", "ccc_mean", "mse_valence",
                                       "mse_arousal", "filled"]).set_index("entry")
