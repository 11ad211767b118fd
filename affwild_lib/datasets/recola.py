"""RECOLA (Sect. 2.1) as the AVEC 2016 challenge released its gold standard.

::

    <root>/ratings_gold_standard/{arousal,valence}/{train,dev,test}_<N>.arff
    <root>/recordings_video/<name>.mp4|.avi      optional

Each ARFF file holds the attributes ``Instance_name`` (string), ``frameTime`` and
``GoldStandard`` (numeric) and one ``dev_1,0.04,-0.022925`` row per label, every 0.04 s
(25 Hz; 7,501 rows over 300 s in the release, not required here). Lines end in LF or CRLF;
blank lines and ``%`` comments are skipped, as ARFF allows.

Policies: ``frame_index`` is the row index and ``time_s`` the ``frameTime``; the valence and
arousal files of one recording must have identical ``frameTime`` columns; every row's
``Instance_name`` must be the file's name; one recording is one subject, so ``subject`` is the
recording's name; ``media`` is the recording's video where ``recordings_video`` has it.
The book page *Data formats* (``book/data_formats.md``) describes the layout for users.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ._text import check_range, read_lines, split_columns, to_floats
from .errors import DatasetError
from .record import VideoRecord
from .video import VIDEO_SUFFIXES, probe

SPLITS = ("train", "dev", "test")
NAME = re.compile(r"(train|dev|test)_(\d+)")
ATTRIBUTES = ("Instance_name", "frameTime", "GoldStandard")


def read(root: str | Path) -> list[VideoRecord]:
    """One record per recording, splits in train, dev, test order, then by number."""
    root = Path(root)
    gold_dir = root / "ratings_gold_standard"
    folders = {dimension: gold_dir / dimension for dimension in ("valence", "arousal")}
    for folder in folders.values():
        if not folder.is_dir():
            raise DatasetError(folder, None, "missing folder")
    paths = sorted({p for folder in folders.values() for p in folder.glob("*.arff")}, key=lambda p: p.name)
    names = {p.stem for p in paths}
    for path in paths:
        if not NAME.fullmatch(path.stem):
            raise DatasetError(path, None, "file name must be {train,dev,test}_<N>.arff")
    ordered = sorted(names, key=lambda n: (SPLITS.index(n.split("_")[0]), int(n.split("_")[1])))
    return [_read_recording(root, folders, name) for name in ordered]


def _read_recording(root: Path, folders: dict[str, Path], name: str) -> VideoRecord:
    valence_path, arousal_path = folders["valence"] / f"{name}.arff", folders["arousal"] / f"{name}.arff"
    valence_times, valence, line_numbers = _read_arff(valence_path, name)
    arousal_times, arousal, _ = _read_arff(arousal_path, name)
    if len(valence_times) != len(arousal_times):
        raise DatasetError(valence_path, None,
                           f"{len(valence_times)} rows but {arousal_path} has {len(arousal_times)}")
    differ = np.flatnonzero(valence_times != arousal_times)
    if differ.size:
        i = differ[0]
        raise DatasetError(valence_path, line_numbers[i],
                           f"frameTime {valence_times[i]:g}, but {arousal_times[i]:g} in {arousal_path}")
    videos = [root / "recordings_video" / f"{name}{suffix}" for suffix in VIDEO_SUFFIXES]
    for video in videos:
        if video.is_dir():
            raise DatasetError(video, None, "a folder, not a video file")
    media = next((v for v in videos if v.is_file()), None)
    if media is not None:
        probe(media)  # a file that does not open fails here, before prepare writes anything
    return VideoRecord(
        dataset="recola", video_id=name, split=name.split("_")[0], subject=name,
        media=media,
        frame_index=np.arange(len(valence_times)), time_s=valence_times,
        valence=valence.astype(np.float32), arousal=arousal.astype(np.float32), dropped={},
    )


def _read_arff(path: Path, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``frameTime``, ``GoldStandard`` and the 1-based line number of each data row."""
    lines = read_lines(path)
    attributes, data_line = _read_header(path, lines)
    rows = pd.Series(lines[data_line:], dtype=object).str.strip()
    is_row = (rows != "") & ~rows.str.startswith("%")
    line_numbers = np.arange(data_line + 1, len(lines) + 1)[is_row.to_numpy()]
    if not line_numbers.size:
        raise DatasetError(path, None, "no data rows after @data")
    columns = dict(zip(attributes, split_columns(path, rows[is_row].tolist(), line_numbers, len(attributes))))

    instances = pd.Series(columns["Instance_name"], dtype=object).str.strip("'\"").to_numpy()
    wrong = np.flatnonzero(instances != name)
    if wrong.size:
        i = wrong[0]
        raise DatasetError(path, line_numbers[i], f"Instance_name {instances[i]!r} in the file of {name!r}")
    times = to_floats(path, columns["frameTime"], line_numbers)
    not_increasing = np.flatnonzero(np.diff(times) <= 0)
    if not_increasing.size:
        raise DatasetError(path, line_numbers[not_increasing[0] + 1], "frameTime does not increase")
    values = to_floats(path, columns["GoldStandard"], line_numbers)
    check_range(path, values, line_numbers, -1.0, 1.0)
    return times, values, line_numbers


def _read_header(path: Path, lines: list[str]) -> tuple[list[str], int]:
    """The attribute names, in column order, and the line number of ``@data``."""
    attributes = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        keyword = text.split(maxsplit=1)[0].lower() if text else ""
        if not text or text.startswith("%") or keyword == "@relation":
            continue
        if keyword == "@attribute":
            parts = text.split()
            if len(parts) < 3:
                raise DatasetError(path, number, f"malformed @attribute line: {text!r}")
            attributes.append(parts[1].strip("'\""))
        elif keyword == "@data":
            missing = [a for a in ATTRIBUTES if a not in attributes]
            if missing:
                raise DatasetError(path, number, f"no @attribute {', '.join(missing)} before @data")
            return attributes, number
        else:
            raise DatasetError(path, number, f"unexpected line in the ARFF header: {text!r}")
    raise DatasetError(path, None, "no @data line")
