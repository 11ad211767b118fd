"""The RECOLA reader on hand-written AVEC 2016 gold-standard ARFF files (CRLF and LF)."""
import json
from pathlib import Path

import numpy as np
import pytest

from affwild_lib.datasets import DatasetError, check, read
from fixtures.media import copy_fixture, snapshot, write_video

GOLD = "ratings_gold_standard"


@pytest.fixture
def root(tmp_path) -> Path:
    """train_1 (5 rows, CRLF) with its video, dev_1 (4 rows, LF) without."""
    root = copy_fixture("recola", tmp_path)
    write_video(root / "recordings_video/train_1.mp4", 3, fps=25)
    return root


def edit(path: Path, old: str, new: str) -> None:
    """Replace text in a fixture copy, keeping its line ends."""
    path.write_bytes(path.read_bytes().replace(old.encode(), new.encode(), 1))


def test_fixtures_cover_both_line_ends(root):
    assert b"\r\n" in (root / GOLD / "valence/train_1.arff").read_bytes()
    assert b"\r" not in (root / GOLD / "valence/dev_1.arff").read_bytes()


def test_reads_recordings_train_before_dev(root):
    train, dev = read("recola", root)
    assert (train.video_id, train.split, train.subject) == ("train_1", "train", "train_1")
    assert (dev.video_id, dev.split) == ("dev_1", "dev")


def test_rows_become_frames_at_their_frame_times(root):
    train, dev = read("recola", root)
    np.testing.assert_array_equal(train.frame_index, np.arange(5))
    np.testing.assert_allclose(train.time_s, [0.0, 0.04, 0.08, 0.12, 0.16])
    np.testing.assert_allclose(train.valence, [-0.031207, -0.029836, -0.027518, -0.024403, -0.020117], rtol=1e-6)
    np.testing.assert_allclose(train.arousal, [0.10125, 0.106917, 0.11204, 0.118336, 0.121904], rtol=1e-6)
    np.testing.assert_allclose(dev.valence, [-0.01987, -0.022925, -0.025013, -0.02665], rtol=1e-6)
    assert dev.n_frames == 4 and dev.valence.dtype == np.float32


def test_media_is_the_recording_video_where_present(root):
    train, dev = read("recola", root)
    assert train.media == root / "recordings_video/train_1.mp4"
    assert dev.media is None


def test_mismatched_frame_times_name_both_files(root):
    edit(root / GOLD / "arousal/train_1.arff", "train_1,0.08,", "train_1,0.09,")
    with pytest.raises(DatasetError, match="frameTime 0.08") as error:
        read("recola", root)
    assert (error.value.path, error.value.line) == (str(root / GOLD / "valence/train_1.arff"), 11)
    assert str(root / GOLD / "arousal/train_1.arff") in error.value.message


def test_different_row_counts_are_an_error(root):
    edit(root / GOLD / "arousal/dev_1.arff", "dev_1,0.12,0.244095\n", "")
    with pytest.raises(DatasetError, match="4 rows but .*arousal/dev_1.arff has 3"):
        read("recola", root)


def test_bad_row_names_file_and_line(root):
    edit(root / GOLD / "valence/dev_1.arff", "-0.025013", "?")
    with pytest.raises(DatasetError, match="not a number: '\\?'") as error:
        read("recola", root)
    assert (Path(error.value.path).name, error.value.line) == ("dev_1.arff", 11)


def test_row_with_missing_field_names_its_line(root):
    edit(root / GOLD / "arousal/train_1.arff", "train_1,0.00,0.101250", "train_1,0.101250")
    with pytest.raises(DatasetError, match="expected 3") as error:
        read("recola", root)
    assert error.value.line == 9


def test_row_of_another_recording_is_an_error(root):
    edit(root / GOLD / "arousal/dev_1.arff", "dev_1,0.04", "dev_2,0.04")
    with pytest.raises(DatasetError, match="'dev_2'") as error:
        read("recola", root)
    assert error.value.line == 10


def test_missing_attribute_is_an_error(root):
    edit(root / GOLD / "valence/dev_1.arff", "@attribute GoldStandard numeric", "@attribute Rating numeric")
    with pytest.raises(DatasetError, match="GoldStandard") as error:
        read("recola", root)
    assert error.value.line == 7


def test_missing_arousal_file_is_an_error(root):
    (root / GOLD / "arousal/dev_1.arff").unlink()
    with pytest.raises(DatasetError, match="missing file") as error:
        read("recola", root)
    assert error.value.path == str(root / GOLD / "arousal/dev_1.arff")


def test_file_name_outside_the_splits_is_an_error(root):
    (root / GOLD / "valence/dev_1.arff").rename(root / GOLD / "valence/devel_1.arff")
    with pytest.raises(DatasetError, match=r"\{train,dev,test\}_<N>"):
        read("recola", root)


def test_check_summarises_the_release(root):
    summary = check("recola", root)
    assert json.loads(json.dumps(summary)) == summary  # the CLI prints it as JSON
    assert summary["videos"] == 2 and summary["frames"] == summary["labelled_frames"] == 9
    assert summary["splits"] == {"train": {"videos": 1, "frames": 5}, "dev": {"videos": 1, "frames": 4}}
    assert summary["labels"]["arousal"] == {"min": pytest.approx(0.10125), "max": pytest.approx(0.2531)}
    assert summary["dropped"] == {}


def test_reading_and_checking_write_nothing(root):
    before = snapshot(root)
    read("recola", root)
    check("recola", root)
    assert snapshot(root) == before
