"""AFEW-VA (Sect. 2.3): 600 film clips with per-frame valence, arousal and 68 landmarks.

::

    <root>/<NNN>/<NNN>.json     {"video_id": "NNN", "frames": {"00000": {"valence": v,
                                  "arousal": a, "landmarks": [[x, y] x 68]}, ...}}
    <root>/<NNN>/00000.png ...  the clip's frames

Policies:

- Labels are integers in [-10, 10]; the record holds them divided by 10 (:func:`scale_labels`),
  as the paper does (Sect. 5.1.2). A non-integer label is an error: it would mean a copy that
  was already rescaled, which dividing again would silently shrink.
- A labelled frame without its PNG is an error; a PNG without a label is dropped, counted in
  ``dropped['unlabelled_png']``.
- Landmarks are taken as pixel coordinates of the PNG, as they are, never rescaled. They
  may have been annotated in another frame size (one public loader multiplies x by 720/960;
  see the book page *Data formats*, ``book/data_formats.md``), so ``frame_size`` records the
  PNG's size (read from the first labelled PNG's header; one clip's frames share a size) and
  ``check`` counts the clips whose landmarks fall outside it.
- There is no official split (``split='all'``) and no subject identity (``subject=None``).
- A clip folder is named by digits only, as the release's 001-600 are; other folders beside
  them (a ``synth_truth/`` of our synthetic data, a folder of the user's notes) are not clips
  and are skipped.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .errors import DatasetError
from .record import VideoRecord
from .video import image_size

LABEL_LIMIT = 10
N_LANDMARKS = 68


def scale_labels(x) -> np.ndarray:
    """AFEW-VA's integer labels in [-10, 10] -> [-1, 1]: ``x / 10`` (Sect. 5.1.2)."""
    return np.asarray(x, dtype=np.float32) / np.float32(LABEL_LIMIT)


def read(root: str | Path) -> list[VideoRecord]:
    """One record per clip folder of ``root``, in name order."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(root, None, "missing folder")
    clips = sorted(p for p in root.iterdir() if p.is_dir() and p.name.isdigit())
    if not clips:
        raise DatasetError(root, None, "no clip folders")
    return [_read_clip(folder) for folder in clips]


def _read_clip(folder: Path) -> VideoRecord:
    json_path = folder / f"{folder.name}.json"
    data = _load_json(json_path)
    frames = data.get("frames") if isinstance(data, dict) else None
    if not isinstance(frames, dict) or not frames:
        raise DatasetError(json_path, None, "no 'frames' object, or it is empty")
    if str(data.get("video_id")) != folder.name:
        raise DatasetError(json_path, None,
                           f"video_id {data.get('video_id')!r} is not the folder's name {folder.name!r}")
    for key in frames:
        if not key.isdigit():
            raise DatasetError(json_path, None, f"frame key {key!r} is not a frame number")
        if not isinstance(frames[key], dict):
            raise DatasetError(json_path, None, f"frame {key}: not an object of valence, arousal, landmarks")
    keys = sorted(frames, key=int)
    pngs = {p.stem: p for p in folder.glob("*.png")}
    for key in keys:
        if key not in pngs:
            raise DatasetError(folder / f"{key}.png", None, f"missing, though {json_path.name} labels frame {key}")
    frame_files = [pngs[key] for key in keys]
    return VideoRecord(
        dataset="afew-va", video_id=folder.name, split="all", media=folder,
        frame_index=np.array([int(key) for key in keys], dtype=np.int64),
        valence=scale_labels(_labels(json_path, frames, keys, "valence")),
        arousal=scale_labels(_labels(json_path, frames, keys, "arousal")),
        landmarks=_landmarks(json_path, frames, keys),
        frame_files=frame_files, frame_size=image_size(frame_files[0]),
        dropped={"unlabelled_png": len(pngs.keys() - frames.keys())},
    )


def _load_json(path: Path):
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(path, None, "missing file") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise DatasetError(path, error.lineno, f"invalid JSON: {error.msg} (column {error.colno})") from None


def _labels(path: Path, frames: dict, keys: list[str], name: str) -> np.ndarray:
    """Each frame's integer ``name``; an error names the first frame that lacks one."""
    values = np.empty(len(keys), dtype=np.float64)
    for i, key in enumerate(keys):
        value = frames[key].get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            got = "no" if value is None else f"{value!r}, not a number, as"
            raise DatasetError(path, None, f"frame {key}: {got} {name!r}")
        if abs(value) > LABEL_LIMIT or value != round(value):
            raise DatasetError(path, None, f"frame {key}: {name} {value:g} is not an integer in [-10, 10]")
        values[i] = value
    return values


def _landmarks(path: Path, frames: dict, keys: list[str]) -> np.ndarray:
    """Each frame's 68 [x, y] pairs; an error names the first frame that lacks them."""
    points = np.empty((len(keys), N_LANDMARKS, 2), dtype=np.float32)
    for i, key in enumerate(keys):
        value = frames[key].get("landmarks")
        if not isinstance(value, list):
            raise DatasetError(path, None, f"frame {key}: no 'landmarks' list of {N_LANDMARKS} [x, y] pairs")
        if len(value) != N_LANDMARKS:
            raise DatasetError(path, None, f"frame {key}: {len(value)} landmarks, expected {N_LANDMARKS}")
        try:
            points[i] = np.array(value, dtype=np.float32)
        except (TypeError, ValueError):
            raise DatasetError(path, None, f"frame {key}: 'landmarks' must be {N_LANDMARKS} [x, y] "
                                           "pairs of numbers") from None
    return points


def landmarks_outside(record: VideoRecord) -> bool:
    """Whether any landmark of the clip lies outside its PNG (see the module's policies)."""
    width, height = record.frame_size
    x, y = record.landmarks[..., 0], record.landmarks[..., 1]
    return bool(np.any((x < 0) | (x > width) | (y < 0) | (y > height)))
