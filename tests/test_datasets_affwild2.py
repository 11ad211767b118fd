"""The Aff-Wild2 valence-arousal reader on a hand-written copy of the VA_Set layout."""
import json
from pathlib import Path

import numpy as np
import pytest

from affwild_lib.datasets import DatasetError, check, read
from fixtures.media import copy_fixture, snapshot, write_image

TRAIN_FILE = "annotations/VA_Set/Training_Set/video1.txt"


@pytest.fixture
def root(tmp_path) -> Path:
    """video1 (Training_Set, 5 frames, two with -5) has its face crops; video2_left has none."""
    root = copy_fixture("affwild2", tmp_path)
    for i in range(1, 6):
        write_image(root / f"cropped_aligned/video1/{i:05d}.jpg", (112, 112))
    return root


def test_reads_both_splits_with_markers_dropped(root):
    train, val = read("affwild2", root)
    assert (train.video_id, train.split, val.video_id, val.split) == ("video1", "train", "video2_left", "val")
    # Frame 2 is -5 in both values, frame 4 in arousal only: both unannotated.
    np.testing.assert_array_equal(train.frame_index, [0, 2, 4])
    np.testing.assert_allclose(train.valence, [0.1, 0.3, -1.0], rtol=1e-6)
    np.testing.assert_allclose(train.arousal, [0.2, -0.4, 1.0], rtol=1e-6)
    assert train.dropped == {"unannotated": 2, "no_face_image": 0}
    assert train.time_s is None


def test_frame_files_are_one_indexed_crops(root):
    train, val = read("affwild2", root)
    assert train.media == root / "cropped_aligned/video1"
    assert [p.name for p in train.frame_files] == ["00001.jpg", "00003.jpg", "00005.jpg"]
    assert val.media is None and val.frame_files is None
    np.testing.assert_array_equal(val.frame_index, np.arange(4))


def test_labelled_frame_without_crop_is_dropped(root):
    (root / "cropped_aligned/video1/00003.jpg").unlink()
    train = read("affwild2", root)[0]
    np.testing.assert_array_equal(train.frame_index, [0, 4])
    assert [p.name for p in train.frame_files] == ["00001.jpg", "00005.jpg"]
    assert train.dropped == {"unannotated": 2, "no_face_image": 1}


@pytest.mark.parametrize("header", ["arousal,valence", "valence, arousal", "0.1,0.2"])
def test_wrong_header_names_line_1(root, header):
    path = root / TRAIN_FILE
    path.write_text(path.read_text().replace("valence,arousal", header, 1))
    with pytest.raises(DatasetError, match="valence,arousal") as error:
        read("affwild2", root)
    assert (error.value.path, error.value.line) == (str(path), 1)


def test_non_numeric_value_names_its_line(root):
    path = root / TRAIN_FILE
    path.write_text("valence,arousal\n0.1,0.2\n0.3,n/a\n")
    with pytest.raises(DatasetError, match="n/a") as error:
        read("affwild2", root)
    assert error.value.line == 3


def test_row_with_one_value_names_its_line(root):
    path = root / TRAIN_FILE
    path.write_text("valence,arousal\n0.1,0.2\n0.3\n")
    with pytest.raises(DatasetError, match="2 comma-separated fields") as error:
        read("affwild2", root)
    assert error.value.line == 3


def test_value_out_of_range_other_than_marker(root):
    (root / TRAIN_FILE).write_text("valence,arousal\n0.1,0.2\n-4,0.1\n")
    with pytest.raises(DatasetError, match="-4 outside") as error:
        read("affwild2", root)
    assert error.value.line == 3


def test_unknown_split_folder_is_an_error(root):
    (root / "annotations/VA_Set/Test_Set_v2").mkdir()
    with pytest.raises(DatasetError, match="unknown split folder"):
        read("affwild2", root)


def test_check_summarises_the_release(root):
    summary = check("affwild2", root)
    assert json.loads(json.dumps(summary)) == summary  # the CLI prints it as JSON
    assert summary["videos"] == 2
    assert summary["splits"] == {"train": {"videos": 1, "frames": 3}, "val": {"videos": 1, "frames": 4}}
    assert summary["labelled_frames"] == summary["frames"] == 7
    assert summary["labels"]["valence"] == {"min": -1.0, "max": pytest.approx(0.3)}
    assert summary["dropped"] == {"no_face_image": 0, "unannotated": 2}


def test_reading_and_checking_write_nothing(root):
    before = snapshot(root)
    read("affwild2", root)
    check("affwild2", root)
    assert snapshot(root) == before
