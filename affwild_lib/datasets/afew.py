"""AFEW, as the EmotiW 2017 challenge released it (Sect. 2.2, 5.2; book page *Data formats*).

::

    <root>/Train_AFEW/<Emotion>/<clip>.avi    Emotion: Angry, Disgust, Fear, Happy, Neutral,
    <root>/Val_AFEW/<Emotion>/<clip>.avi               Sad, Surprise
    AlignedFaces_LBPTOP_Points/Faces/<clip>/*.jpg     optional organisers' face crops, looked
                                                      for in the split folder, then in <root>

Policies:

- Splits are ``train`` and ``val``; a folder of a split that is not one of the seven emotions
  is an error (``AlignedFaces_LBPTOP_Points`` excepted); one clip id twice in a split too.
- No valence or arousal: the clips carry one emotion each (``emotion``).
- Without face crops the record lists every frame of the video, with times from its fps.
- With them (the paper used the organisers' crops, Sect. 5.2.1 note ii) the record lists the
  crops, in natural name order, as ``frame_files``; the crops do not say which video frame
  each came from, so ``frame_index`` numbers them 0, 1, ... and ``time_s`` is None. Video
  frames beyond the number of crops are counted in ``dropped['no_face']``.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .errors import DatasetError
from .record import VideoRecord
from .video import find_videos, image_size, probe

SPLITS = {"Train_AFEW": "train", "Val_AFEW": "val"}
EMOTIONS = ("Angry", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise")
FACES = Path("AlignedFaces_LBPTOP_Points") / "Faces"


def read(root: str | Path) -> list[VideoRecord]:
    """One record per clip: Train_AFEW then Val_AFEW, emotions and clips in name order."""
    root = Path(root)
    split_dirs = [root / name for name in SPLITS if (root / name).is_dir()]
    if not split_dirs:
        raise DatasetError(root, None, f"neither {' nor '.join(SPLITS)} is here")
    records = []
    for split_dir in split_dirs:
        seen: dict[str, Path] = {}
        for folder in sorted(p for p in split_dir.iterdir() if p.is_dir() and p.name != FACES.parts[0]):
            if folder.name not in EMOTIONS:
                raise DatasetError(folder, None, f"unknown emotion folder {folder.name!r}; "
                                                 f"expected one of {', '.join(EMOTIONS)}")
            for clip_id, path in find_videos(folder).items():
                if clip_id in seen:
                    raise DatasetError(path, None, f"clip id {clip_id!r} also at {seen[clip_id]}")
                seen[clip_id] = path
                candidates = (split_dir / FACES / clip_id, root / FACES / clip_id)
                faces = next((d for d in candidates if d.is_dir()), None)
                records.append(_read_clip(SPLITS[split_dir.name], folder.name, clip_id, path, faces))
    return records


def _read_clip(split: str, emotion: str, clip_id: str, path: Path, faces: Path | None) -> VideoRecord:
    info = probe(path)
    record = VideoRecord(dataset="afew", video_id=clip_id, split=split, media=path, emotion=emotion)
    if faces is None:
        record.frame_index = np.arange(info.n_frames)
        record.time_s = record.frame_index / info.fps
        record.frame_size = (info.width, info.height)
        record.dropped = {"no_face": 0}
        return record
    crops = sorted(faces.glob("*.jpg"), key=_natural_key)
    record.frame_index = np.arange(len(crops))
    record.frame_files = crops
    record.frame_size = image_size(crops[0]) if crops else None
    record.dropped = {"no_face": max(info.n_frames - len(crops), 0)}
    return record


def _natural_key(path: Path) -> list:
    """``frame_2.jpg`` before ``frame_10.jpg``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]
