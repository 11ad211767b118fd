"""The AFEW (EmotiW) reader on a tiny tree of clips in emotion folders.

AFEW has no text to write by hand: its release is videos in ``<Split>/<Emotion>/`` folders, so
the whole tree is made here with PyAV and Pillow.
"""
import json
from pathlib import Path

import numpy as np
import pytest

from affwild_lib.datasets import DatasetError, check, read
from fixtures.media import snapshot, write_image, write_video

FPS = 25
FACES = "AlignedFaces_LBPTOP_Points/Faces"


@pytest.fixture
def root(tmp_path) -> Path:
    """Two train clips (Happy, Sad), one val clip (Angry) with three organiser face crops."""
    root = tmp_path / "AFEW"
    write_video(root / "Train_AFEW/Happy/000001.avi", 4, FPS, (48, 32))
    write_video(root / "Train_AFEW/Sad/000002.avi", 3, FPS, (48, 32))
    write_video(root / "Val_AFEW/Angry/000003.avi", 5, FPS, (48, 32))
    for name in ("frame_1.jpg", "frame_2.jpg", "frame_10.jpg"):
        write_image(root / FACES / "000003" / name, (24, 24))
    return root


def test_reads_clips_with_split_and_emotion(root):
    records = read("afew", root)
    assert [(r.split, r.emotion, r.video_id) for r in records] == [
        ("train", "Happy", "000001"), ("train", "Sad", "000002"), ("val", "Angry", "000003")]
    assert all(r.dataset == "afew" and not r.labelled for r in records)


def test_clip_without_faces_lists_every_video_frame(root):
    happy = read("afew", root)[0]
    assert happy.media == root / "Train_AFEW/Happy/000001.avi"
    np.testing.assert_array_equal(happy.frame_index, np.arange(4))
    np.testing.assert_allclose(happy.time_s, np.arange(4) / FPS)
    assert happy.frame_size == (48, 32) and happy.frame_files is None
    assert happy.dropped == {"no_face": 0}


def test_organiser_faces_become_the_frames_in_natural_order(root):
    angry = read("afew", root)[2]
    assert [p.name for p in angry.frame_files] == ["frame_1.jpg", "frame_2.jpg", "frame_10.jpg"]
    np.testing.assert_array_equal(angry.frame_index, [0, 1, 2])
    assert angry.time_s is None and angry.frame_size == (24, 24)
    assert angry.dropped == {"no_face": 2}  # 5 video frames, 3 crops


def test_faces_inside_a_split_folder_are_found_and_not_an_emotion(root):
    write_image(root / "Train_AFEW" / FACES / "000002/000002_0.jpg", (24, 24))
    sad = read("afew", root)[1]
    assert [p.name for p in sad.frame_files] == ["000002_0.jpg"]


def test_unknown_emotion_folder_is_an_error(root):
    write_video(root / "Val_AFEW/Contempt/000004.avi", 2, FPS)
    with pytest.raises(DatasetError, match="unknown emotion folder 'Contempt'") as error:
        read("afew", root)
    assert error.value.path == str(root / "Val_AFEW/Contempt")


def test_clip_in_two_emotion_folders_is_an_error(root):
    write_video(root / "Train_AFEW/Fear/000001.avi", 2, FPS)
    with pytest.raises(DatasetError, match="'000001' also at"):
        read("afew", root)


def test_clip_that_will_not_decode_is_an_error(root):
    (root / "Train_AFEW/Sad/000002.avi").write_bytes(b"RIFF....AVI garbage" * 4)
    # FFmpeg accepts the RIFF header, then finds no video stream in it.
    with pytest.raises(DatasetError, match="no video stream") as error:
        read("afew", root)
    assert error.value.path == str(root / "Train_AFEW/Sad/000002.avi")


def test_folder_without_splits_is_an_error(tmp_path):
    with pytest.raises(DatasetError, match="neither Train_AFEW nor Val_AFEW"):
        read("afew", tmp_path)


def test_check_counts_clips_per_emotion(root):
    summary = check("afew", root)
    assert json.loads(json.dumps(summary)) == summary  # the CLI prints it as JSON
    assert summary["clips"] == 3 and summary["frames"] == 4 + 3 + 3
    assert summary["labelled_frames"] == 0
    assert summary["labels"] == {"valence": None, "arousal": None}
    assert summary["splits"] == {"train": {"clips": 2, "frames": 7}, "val": {"clips": 1, "frames": 3}}
    assert summary["emotions"]["train"] == {
        "Angry": 0, "Disgust": 0, "Fear": 0, "Happy": 1, "Neutral": 0, "Sad": 1, "Surprise": 0}
    assert summary["emotions"]["val"]["Angry"] == 1
    assert summary["dropped"] == {"no_face": 2}


def test_reading_and_checking_write_nothing(root):
    before = snapshot(root)
    read("afew", root)
    check("afew", root)
    assert snapshot(root) == before
