"""The Aff-Wild reader on a hand-written copy of the release layout (book/data_formats.md)."""
import shutil
import json
from pathlib import Path

import numpy as np
import pytest

from affwild_lib.datasets import DatasetError, check, read, read_raw_traces
from fixtures.media import copy_fixture, snapshot, write_video

FPS = 30


@pytest.fixture
def root(tmp_path) -> Path:
    """Train videos 101 (5 frames, 5 labels) and 102 (6 frames, 4 labels, one -100), and an
    unlabelled test video 201 (4 frames), as test labels are not distributed."""
    root = copy_fixture("affwild", tmp_path)
    write_video(root / "videos/train/101.mp4", 5, FPS)
    write_video(root / "videos/train/102.avi", 6, FPS)
    write_video(root / "videos/test/201.mp4", 4, FPS)
    return root


def by_id(records):
    return {r.video_id: r for r in records}


def test_reads_videos_in_split_then_id_order(root):
    records = read("affwild", root)
    assert [(r.split, r.video_id) for r in records] == [("test", "201"), ("train", "101"), ("train", "102")]
    assert all(r.dataset == "affwild" and r.frame_size == (32, 32) for r in records)


def test_labels_are_one_per_line_frame_by_frame(root):
    video = by_id(read("affwild", root))["101"]
    assert video.media == root / "videos/train/101.mp4"
    np.testing.assert_array_equal(video.frame_index, np.arange(5))
    np.testing.assert_allclose(video.time_s, np.arange(5) / FPS)
    assert video.valence.dtype == np.float32
    np.testing.assert_allclose(video.valence, [0.12, 0.25, 0.31, -0.05, -0.4], rtol=1e-6)
    np.testing.assert_allclose(video.arousal, [0.5, 0.45, 0.6, 0.7, 0.1], rtol=1e-6)
    assert video.dropped == {"unannotated": 0, "unlabelled_tail": 0}


def test_unannotated_marker_and_short_label_file_drop_frames(root):
    video = by_id(read("affwild", root))["102"]
    # Line 2 is -100 (unannotated); frames 4 and 5 of the 6-frame video have no line (Sect. 3.4).
    np.testing.assert_array_equal(video.frame_index, [0, 2, 3])
    np.testing.assert_allclose(video.time_s, np.array([0, 2, 3]) / FPS)
    np.testing.assert_allclose(video.valence, [0.9, -1.0, 1.0])
    np.testing.assert_allclose(video.arousal, [-0.3, 0.0, 0.25])
    assert video.dropped == {"unannotated": 1, "unlabelled_tail": 2}


def test_marker_in_one_dimension_drops_the_frame(root):
    (root / "annotations/train/arousal/101.txt").write_text("0.5\n0.45\n-100\n0.7\n0.1\n")
    video = by_id(read("affwild", root))["101"]
    np.testing.assert_array_equal(video.frame_index, [0, 1, 3, 4])
    assert video.dropped["unannotated"] == 1


def test_split_without_annotations_lists_every_frame_unlabelled(root):
    video = by_id(read("affwild", root))["201"]
    assert video.split == "test" and not video.labelled
    assert video.valence is None and video.arousal is None
    np.testing.assert_array_equal(video.frame_index, np.arange(4))


def test_label_file_longer_than_video_is_an_error(root):
    for dimension in ("valence", "arousal"):
        (root / f"annotations/train/{dimension}/101.txt").write_text("0.1\n" * 6)
    with pytest.raises(DatasetError) as error:
        read("affwild", root)
    assert error.value.path == str(root / "annotations/train/valence/101.txt")
    assert error.value.line == 6
    assert "5 frames" in error.value.message


def test_non_numeric_line_names_file_and_line(root):
    (root / "annotations/train/valence/101.txt").write_text("0.12\n0.25\nzero\n-0.05\n-0.4\n")
    with pytest.raises(DatasetError, match="zero") as error:
        read("affwild", root)
    assert str(error.value).startswith(f"{root / 'annotations/train/valence/101.txt'}:3: ")


def test_value_outside_range_is_an_error(root):
    (root / "annotations/train/arousal/101.txt").write_text("0.5\n1.5\n0.6\n0.7\n0.1\n")
    with pytest.raises(DatasetError, match=r"1\.5 outside \[-1, 1\]") as error:
        read("affwild", root)
    assert (Path(error.value.path).name, error.value.line) == ("101.txt", 2)


def test_only_exactly_minus_100_is_the_marker(root):
    (root / "annotations/train/valence/102.txt").write_text("0.9\n-99\n-1\n1.0\n")
    with pytest.raises(DatasetError, match="-99 outside") as error:
        read("affwild", root)
    assert error.value.line == 2


def test_valence_and_arousal_lengths_must_agree(root):
    (root / "annotations/train/arousal/101.txt").write_text("0.5\n0.45\n0.6\n0.7\n")
    with pytest.raises(DatasetError) as error:
        read("affwild", root)
    assert error.value.path.endswith("valence/101.txt")
    assert str(root / "annotations/train/arousal/101.txt") in error.value.message


def test_missing_arousal_file_is_an_error(root):
    (root / "annotations/train/arousal/102.txt").unlink()
    with pytest.raises(DatasetError, match="missing file") as error:
        read("affwild", root)
    assert error.value.path == str(root / "annotations/train/arousal/102.txt")


def test_unannotated_video_in_an_annotated_split_is_an_error(root):
    write_video(root / "videos/train/103.mp4", 3, FPS)
    with pytest.raises(DatasetError, match="no annotation") as error:
        read("affwild", root)
    assert error.value.path == str(root / "videos/train/103.mp4")


def test_label_file_without_video_is_an_error(root):
    (root / "videos/train/102.avi").unlink()
    with pytest.raises(DatasetError, match="not in the split's videos") as error:
        read("affwild", root)
    assert error.value.path.endswith("102.txt")


def test_video_that_will_not_decode_is_an_error(root):
    (root / "videos/train/101.mp4").write_bytes(b"not a video at all" * 8)
    with pytest.raises(DatasetError, match="cannot read video") as error:
        read("affwild", root)
    assert error.value.path == str(root / "videos/train/101.mp4")


def test_release_without_optional_folders_still_loads(root):
    expected = [(r.video_id, r.n_frames) for r in read("affwild", root)]
    for folder in ("annotations_raw", "landmarks", "bboxs"):
        shutil.rmtree(root / folder)
    assert [(r.video_id, r.n_frames) for r in read("affwild", root)] == expected
    assert read_raw_traces(root, "101", "valence") == {}


def test_raw_traces_per_annotator(root):
    traces = read_raw_traces(root, "101", "valence")
    assert sorted(traces) == ["A1", "A2"]
    times, values = traces["A2"]
    np.testing.assert_allclose(times, [0.0, 0.05, 0.101, 0.16])
    np.testing.assert_allclose(values, [0.15, 0.28, 0.35, -0.10])
    assert list(read_raw_traces(root, "101", "arousal")) == ["A1"]
    assert read_raw_traces(root, "102", "valence") == {}


def test_raw_trace_errors(root):
    with pytest.raises(ValueError, match="dimension"):
        read_raw_traces(root, "101", "dominance")
    trace = root / "annotations_raw/valence/101/A1.csv"
    trace.write_text("time_s,value\n0.00,0.1\n0.05,0.2\n0.03,0.2\n")
    with pytest.raises(DatasetError, match="backwards") as error:
        read_raw_traces(root, "101", "valence")
    assert error.value.line == 4
    trace.write_text("t,v\n0.00,0.1\n")
    with pytest.raises(DatasetError, match="time_s,value") as error:
        read_raw_traces(root, "101", "valence")
    assert error.value.line == 1


def test_check_summarises_the_release(root):
    summary = check("affwild", root)
    assert json.loads(json.dumps(summary)) == summary
    assert summary == {
        "format": "affwild",
        "root": str(root),
        "videos": 3,
        "frames": 12,
        "labelled_frames": 8,
        "splits": {"test": {"videos": 1, "frames": 4}, "train": {"videos": 2, "frames": 8}},
        "labels": {"valence": {"min": -1.0, "max": 1.0},
                   "arousal": {"min": pytest.approx(-0.3), "max": pytest.approx(0.7)}},
        "dropped": {"unannotated": 1, "unlabelled_tail": 2},
        "raw_traces": {"videos": 1, "traces": 3},
    }


def test_reading_and_checking_write_nothing(root):
    before = snapshot(root)
    read("affwild", root)
    check("affwild", root)
    assert snapshot(root) == before
