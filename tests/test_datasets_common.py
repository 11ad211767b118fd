"""What all readers share: the dispatcher, the error's message and the video probe."""
import json

import pytest

from affwild_lib.datasets import FORMATS, DatasetError, probe, read
from affwild_lib.datasets.video import find_videos
from fixtures.media import write_video


def test_formats_are_the_five_releases():
    assert FORMATS == ("affwild", "affwild2", "recola", "afew-va", "afew")


def test_unknown_format_lists_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="affwild, affwild2, recola, afew-va, afew"):
        read("semaine", tmp_path)


def test_missing_root_is_a_dataset_error(tmp_path):
    with pytest.raises(DatasetError, match="no such directory"):
        read("recola", tmp_path / "nowhere")


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_folder_is_an_error_for_every_format(fmt, tmp_path):
    with pytest.raises(DatasetError):
        read(fmt, tmp_path)


def test_error_reads_like_a_compiler_message():
    assert str(DatasetError("a/b.txt", 3, "not a number")) == "a/b.txt:3: not a number"
    assert str(DatasetError("a/b.txt", None, "missing file")) == "a/b.txt: missing file"


def test_probe_uses_the_header_count(tmp_path):
    info = probe(write_video(tmp_path / "v.mp4", 7, fps=25, size=(48, 32)))
    assert (info.n_frames, info.fps, info.width, info.height) == (7, 25.0, 48, 32)


def test_probe_decodes_to_count_when_the_container_has_no_count(tmp_path):
    # Matroska stores no frame count in its stream header.
    assert probe(write_video(tmp_path / "v.mkv", 6, fps=30)).n_frames == 6


def test_probe_names_a_file_that_is_not_a_video(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text(json.dumps({"not": "a video"}))
    with pytest.raises(DatasetError, match="cannot read video") as error:
        probe(path)
    assert error.value.path == str(path)


def test_one_id_stored_twice_is_ambiguous(tmp_path):
    write_video(tmp_path / "7.mp4", 2)
    write_video(tmp_path / "7.avi", 2)
    with pytest.raises(DatasetError, match="second video for id '7'"):
        find_videos(tmp_path)


def test_read_frames_returns_the_frames_asked_for(tmp_path):
    from affwild_lib.datasets import read_frames
    from fixtures.media import write_video

    path = tmp_path / "v.mp4"
    write_video(path, n_frames=6)
    frames = read_frames(path, [0, 4, 99])
    assert sorted(frames) == [0, 4]  # 99 is past the end
    assert frames[0].dtype.name == "uint8" and frames[0].ndim == 3 and frames[0].shape[2] == 3
