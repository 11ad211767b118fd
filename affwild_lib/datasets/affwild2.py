"""Aff-Wild2, the successor of Aff-Wild: its valence-arousal set (book page *Data formats*).

::

    <root>/annotations/VA_Set/{Training_Set,Validation_Set}/<video>.txt
        first line exactly ``valence,arousal``, then one ``v,a`` line per frame
    <root>/cropped_aligned/<video>/00001.jpg ...   frame i (0-based) is ``{i+1:05d}.jpg``

Policies:

- Splits are named ``train`` (Training_Set) and ``val`` (Validation_Set), as for AFEW; any
  other folder under ``VA_Set`` is an error.
- A frame with -5 in valence or arousal is unannotated: dropped, counted in
  ``dropped['unannotated']``.
- Where ``cropped_aligned/<video>`` exists, ``media`` is that folder and ``frame_files`` the
  frames' images; a labelled frame without its image (no face was found in it) is dropped,
  counted in ``dropped['no_face_image']``. Without the folder, ``media`` is None.
- No frame rate is given without the videos, so ``time_s`` is None.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ._text import check_range, read_lines, split_columns, to_floats
from .errors import DatasetError
from .record import VideoRecord

SPLITS = {"Training_Set": "train", "Validation_Set": "val"}
HEADER = "valence,arousal"
UNANNOTATED = -5.0


def read(root: str | Path) -> list[VideoRecord]:
    """One record per annotation file, Training_Set then Validation_Set, names in order."""
    root = Path(root)
    va_dir = root / "annotations" / "VA_Set"
    if not va_dir.is_dir():
        raise DatasetError(va_dir, None, "missing folder")
    for folder in va_dir.iterdir():
        if folder.is_dir() and folder.name not in SPLITS:
            raise DatasetError(folder, None, f"unknown split folder; expected {', '.join(SPLITS)}")
    return [
        _read_video(root, split, path)
        for folder_name, split in SPLITS.items()
        for path in sorted((va_dir / folder_name).glob("*.txt"))
    ]


def _read_video(root: Path, split: str, path: Path) -> VideoRecord:
    lines = read_lines(path)
    if not lines or lines[0] != HEADER:
        raise DatasetError(path, 1, f"first line must be exactly {HEADER!r}, not {lines[0] if lines else ''!r}")
    if len(lines) == 1:
        raise DatasetError(path, None, "empty: a header and no frame's labels")
    line_numbers = np.arange(2, len(lines) + 1)
    valence, arousal = (to_floats(path, column, line_numbers)
                        for column in split_columns(path, lines[1:], line_numbers, 2))
    for values in (valence, arousal):
        check_range(path, values, line_numbers, -1.0, 1.0, markers=(UNANNOTATED,))
    keep = (valence != UNANNOTATED) & (arousal != UNANNOTATED)
    dropped = {"unannotated": int((~keep).sum()), "no_face_image": 0}

    frames_dir = root / "cropped_aligned" / path.stem
    media = frame_files = None
    if frames_dir.is_dir():
        names = np.array([f"{i + 1:05d}.jpg" for i in range(len(keep))])
        has_image = np.isin(names, [p.name for p in frames_dir.iterdir()])  # one listing, no stat per frame
        dropped["no_face_image"] = int((keep & ~has_image).sum())
        keep &= has_image
        media = frames_dir
        frame_files = [frames_dir / name for name in names[keep]]
    return VideoRecord(
        dataset="affwild2", video_id=path.stem, split=split, media=media,
        frame_index=np.flatnonzero(keep), valence=valence[keep].astype(np.float32),
        arousal=arousal[keep].astype(np.float32), frame_files=frame_files, dropped=dropped,
    )
