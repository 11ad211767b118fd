"""The AFEW-VA reader on hand-written clip JSON files (3 frames x 68 landmarks each)."""
import json
from pathlib import Path

import numpy as np
import pytest

from affwild_lib.datasets import DatasetError, check, read, scale_labels
from fixtures.media import copy_fixture, snapshot, write_image

PNG_SIZE = (64, 48)


@pytest.fixture
def root(tmp_path) -> Path:
    """Clips 001 (frames 0-2) and 002 (frames 0-2 labelled, plus an unlabelled 00003.png)."""
    root = copy_fixture("afew_va", tmp_path)
    for clip, n in (("001", 3), ("002", 4)):
        for i in range(n):
            write_image(root / clip / f"{i:05d}.png", PNG_SIZE)
    return root


def test_scale_labels_divides_by_ten():
    scaled = scale_labels([-10, -3, 0, 7, 10])
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled, [-1.0, -0.3, 0.0, 0.7, 1.0])


def test_reads_clips_with_labels_scaled_to_unit_range(root):
    first, second = read("afew-va", root)
    assert (first.video_id, first.split, first.subject, first.media) == ("001", "all", None, root / "001")
    np.testing.assert_array_equal(first.frame_index, [0, 1, 2])
    np.testing.assert_allclose(first.valence, [0.3, 0.4, -0.2], rtol=1e-6)
    np.testing.assert_allclose(first.arousal, [0.5, 0.5, 0.6], rtol=1e-6)
    np.testing.assert_allclose(second.valence, [-1.0, 0.0, 1.0])
    assert [p.name for p in first.frame_files] == ["00000.png", "00001.png", "00002.png"]


def test_landmarks_are_kept_in_pixel_coordinates(root):
    first = read("afew-va", root)[0]
    assert first.landmarks.shape == (3, 68, 2) and first.landmarks.dtype == np.float32
    raw = json.loads((root / "001/001.json").read_text())["frames"]["00001"]["landmarks"]
    np.testing.assert_allclose(first.landmarks[1], raw, rtol=1e-6)  # not rescaled
    assert first.frame_size == PNG_SIZE


def test_png_without_label_is_dropped_and_counted(root):
    first, second = read("afew-va", root)
    assert first.dropped == {"unlabelled_png": 0}
    assert second.dropped == {"unlabelled_png": 1}
    assert second.n_frames == 3


def test_label_without_png_is_an_error(root):
    (root / "001/00001.png").unlink()
    with pytest.raises(DatasetError, match="labels frame 00001") as error:
        read("afew-va", root)
    assert error.value.path == str(root / "001/00001.png")


def test_truncated_json_names_file_and_line(root):
    path = root / "002/002.json"
    path.write_text(path.read_text()[:900])
    with pytest.raises(DatasetError, match="invalid JSON") as error:
        read("afew-va", root)
    assert error.value.path == str(path)
    assert error.value.line == 5  # the cut falls inside the first frame's landmarks line


def test_missing_json_is_an_error(root):
    (root / "001/001.json").unlink()
    with pytest.raises(DatasetError, match="missing file") as error:
        read("afew-va", root)
    assert error.value.path == str(root / "001/001.json")


def test_already_scaled_labels_are_refused(root):
    path = root / "001/001.json"
    path.write_text(path.read_text().replace('"valence": 3,', '"valence": 0.3,'))
    with pytest.raises(DatasetError, match="frame 00000: valence 0.3 is not an integer"):
        read("afew-va", root)


def test_label_out_of_range_is_an_error(root):
    path = root / "002/002.json"
    path.write_text(path.read_text().replace('"arousal": -3,', '"arousal": -11,'))
    with pytest.raises(DatasetError, match="arousal -11"):
        read("afew-va", root)


def test_wrong_number_of_landmarks_is_an_error(root):
    path = root / "001/001.json"
    data = json.loads(path.read_text())
    for frame in data["frames"].values():
        frame["landmarks"] = frame["landmarks"][:66]
    path.write_text(json.dumps(data))
    with pytest.raises(DatasetError, match=r"frame 00000: 66 landmarks, expected 68"):
        read("afew-va", root)


def test_video_id_must_match_its_folder(root):
    path = root / "002/002.json"
    path.write_text(path.read_text().replace('"video_id": "002"', '"video_id": "003"'))
    with pytest.raises(DatasetError, match="'003' is not the folder's name"):
        read("afew-va", root)


def test_check_counts_clips_with_landmarks_outside_the_png(root):
    summary = check("afew-va", root)
    assert json.loads(json.dumps(summary)) == summary  # the CLI prints it as JSON
    assert summary["clips"] == 2 and summary["frames"] == summary["labelled_frames"] == 6
    assert summary["splits"] == {"all": {"clips": 2, "frames": 6}}
    assert summary["labels"]["valence"] == {"min": -1.0, "max": 1.0}
    assert summary["dropped"] == {"unlabelled_png": 1}
    # 002's landmarks reach x = 78 in a 64-pixel-wide PNG: annotated in another frame size.
    assert summary["landmarks_outside_image"] == 1


def test_reading_and_checking_write_nothing(root):
    before = snapshot(root)
    read("afew-va", root)
    check("afew-va", root)
    assert snapshot(root) == before


def test_folders_not_named_by_digits_are_not_clips(root):
    (root / "synth_truth").mkdir()
    (root / "synth_truth" / "notes.txt").write_text("not a clip")
    assert [r.video_id for r in read("afew-va", root)] == ["001", "002"]
