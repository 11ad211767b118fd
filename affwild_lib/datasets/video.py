"""Frame count, frame rate, frame size, duration and codec of a video file (PyAV); size of an image.

Aff-Wild (Sect. 2.4) and AFEW (Sect. 2.2) ship videos rather than frames; their readers need
the number of frames (to match the per-frame labels) and the frame rate (to give each frame a
time). AFEW-VA's frames and AFEW's face crops are images, whose size is all we need of them.
Files are only opened for reading.

A header can outlive its file: a video cut short (a download stopped halfway, a full disk)
keeps the frame count it announced. :func:`verify` finds that, and a damaged image, without
decoding a whole release (``affwild data check``, issue 20).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import DatasetError

VIDEO_SUFFIXES = (".mp4", ".avi")


@dataclass(frozen=True)
class VideoInfo:
    n_frames: int
    fps: float
    width: int
    height: int
    #: The container's duration where it states one, else ``n_frames / fps``.
    duration_s: float
    #: FFmpeg's name for the stream's codec (``h264``, ``mpeg4``, ...): whether a browser plays it.
    codec: str


def probe(path: str | Path) -> VideoInfo:
    """Describe the first video stream of ``path``.

    The frame count comes from the container's stream header where it has one (MP4 and AVI
    do, so a whole release is probed in seconds); otherwise the stream is decoded to count.
    A file that will not open or decode raises :class:`DatasetError` naming it.
    """
    path = Path(path)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise DatasetError(path, None, "no video stream")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
            n_frames = stream.frames or sum(1 for _ in container.decode(stream))
            width, height = stream.codec_context.width, stream.codec_context.height
            codec, duration = stream.codec_context.name, container.duration
    except (av.FFmpegError, OSError) as error:
        raise DatasetError(path, None, f"cannot read video: {error}") from error
    if not rate:
        raise DatasetError(path, None, "video stream has no frame rate")
    if n_frames <= 0:
        raise DatasetError(path, None, "video has no frames")
    duration_s = float(duration) / 1e6 if duration else n_frames / float(rate)  # PyAV: microseconds
    return VideoInfo(int(n_frames), float(rate), int(width), int(height), duration_s, str(codec))


def verify(path: str | Path) -> VideoInfo:
    """:func:`probe`, then check that the frame the header announces last does decode.

    It seeks to the last frame's time and decodes from the keyframe before it: milliseconds,
    whatever the length. Only when that fails is the file decoded from the start, to say how
    many frames it really holds.
    """
    path = Path(path)
    info = probe(path)
    if _last_frame_decodes(path, info):
        return info
    try:
        with av.open(str(path)) as container:
            decoded = 0
            try:
                for _ in container.decode(video=0):
                    decoded += 1
            except (av.FFmpegError, OSError):
                pass  # what follows a damaged packet is what is missing
    except (av.FFmpegError, OSError) as error:
        raise DatasetError(path, None, f"cannot read video: {error}") from error
    raise DatasetError(path, None, f"truncated or damaged: its header announces {info.n_frames} frames, "
                                   f"but only {decoded} decode")


def _last_frame_decodes(path: Path, info: VideoInfo) -> bool:
    last = None
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            if not stream.time_base:
                return True  # nothing to seek by: probe's count is all we know
            start = stream.start_time or 0
            target = start + int((info.n_frames - 1) / info.fps / stream.time_base)
            container.seek(target, stream=stream, backward=True, any_frame=False)
            for frame in container.decode(stream):
                if frame.pts is not None:
                    last = frame.pts
    except (av.FFmpegError, OSError):
        return False
    # within half a frame of the announced last frame (rates are rounded in headers)
    return last is not None and last >= target - 0.5 / info.fps / stream.time_base


def find_videos(folder: Path) -> dict[str, Path]:
    """Map id -> file for the videos directly in ``folder`` (ids are file stems).

    One id stored twice (say ``.mp4`` and ``.avi``) is ambiguous and raises; so does a folder
    named like a video, which would otherwise leave its labels without one.
    """
    videos: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.is_dir() and path.suffix.lower() in VIDEO_SUFFIXES:
            raise DatasetError(path, None, "a folder, not a video file")
        if path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES:
            if path.stem in videos:
                raise DatasetError(path, None, f"second video for id {path.stem!r}: {videos[path.stem]}")
            videos[path.stem] = path
    return videos


def image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) of an image, from its header alone (Pillow decodes lazily)."""
    if Path(path).is_dir():
        raise DatasetError(path, None, "a folder, not an image file")
    try:
        with Image.open(path) as image:
            return image.size
    except (UnidentifiedImageError, OSError) as error:
        raise DatasetError(path, None, f"cannot read image: {error}") from None


def verify_image(path: str | Path) -> None:
    """Decode the whole image: a truncated PNG keeps a readable header."""
    if Path(path).is_dir():
        raise DatasetError(path, None, "a folder, not an image file")
    try:
        with Image.open(path) as image:
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise DatasetError(path, None, f"truncated or damaged image: {error}") from None


def read_frames(path: str | Path, indices) -> dict[int, np.ndarray]:
    """The frames at 0-based ``indices`` of a video, as RGB uint8 arrays (index -> frame).

    Decodes from the start and stops after the last index wanted, so a few example frames of
    a long video cost only the decoding up to them. Indices past the end are absent from the
    result.
    """
    wanted = set(int(i) for i in indices)
    if not wanted:
        return {}
    last, frames = max(wanted), {}
    try:
        with av.open(str(path)) as container:
            for i, frame in enumerate(container.decode(video=0)):
                if i in wanted:
                    frames[i] = frame.to_ndarray(format="rgb24")
                if i >= last:
                    break
    except (av.FFmpegError, OSError) as error:
        raise DatasetError(Path(path), None, f"cannot decode video: {error}") from error
    return frames
