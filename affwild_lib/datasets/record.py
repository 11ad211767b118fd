"""The common record every dataset reader returns.

The four datasets of the paper (Aff-Wild, Sect. 2.4; RECOLA, Sect. 2.1; AFEW-VA, Sect. 2.3;
AFEW / EmotiW, Sect. 2.2) and Aff-Wild2 ship in different layouts (the book page *Data
formats*, ``book/data_formats.md``). Each reader turns one video or clip of its release into
a :class:`VideoRecord`, so that the preprocessing and the models never need to know which
release a frame came from.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class VideoRecord:
    """One video (Aff-Wild, Aff-Wild2, RECOLA) or clip (AFEW-VA, AFEW) of a release.

    Per-frame arrays all have the same length ``n`` (the labelled or listed frames, in
    order). Valence and arousal are always in [-1, 1] here, whatever the release stores
    (AFEW-VA's integers in [-10, 10] are divided by 10, as the paper does in Sect. 5.1.2).
    """

    dataset: str                      # 'affwild' | 'affwild2' | 'recola' | 'afew-va' | 'afew'
    video_id: str
    split: str                        # as the release names it: 'train', 'test', 'dev', 'val', ...
    media: Path | None = None         # the video file, or the folder of frame images
    subject: str | None = None        # where the release says it
    frame_index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # 0-based
    time_s: np.ndarray | None = None  # frame (or label) times in seconds, where known
    valence: np.ndarray | None = None  # float32 in [-1, 1]; None where not distributed
    arousal: np.ndarray | None = None
    landmarks: np.ndarray | None = None  # (n, 68, 2) float32 pixel coordinates, where given
    boxes: np.ndarray | None = None      # (n, 4) x0, y0, x1, y1, where given
    emotion: str | None = None          # AFEW: the clip's category
    frame_files: list[Path] | None = None  # where frames are image files
    frame_size: tuple[int, int] | None = None  # (width, height) of the listed frames, where known
    dropped: dict[str, int] = field(default_factory=dict)  # policy name -> frames dropped

    @property
    def n_frames(self) -> int:
        return int(len(self.frame_index))

    @property
    def labelled(self) -> bool:
        return self.valence is not None and self.arousal is not None
