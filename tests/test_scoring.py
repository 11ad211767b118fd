"""`affwild score` and affwild_lib.scoring: challenge entries scored as in Sect. 4.1."""
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from affwild_lib.datasets import DatasetError
from affwild_lib.metrics import ccc, mse
from affwild_lib.scoring import read_layout, score, write_layout

GOLD = {
    "valence": {"a": [0.1, -0.2, 0.3, -5], "b": [0.5, 0.4, -100]},
    "arousal": {"a": [0.2, 0.2, -100, 0.4], "b": [-0.3, 0.0, 0.6]},
}
PRED = {
    "valence": {"a": [0.0, -0.1, 0.2, 0.9], "b": [0.4, 0.6, 0.1]},
    "arousal": {"a": [0.1, 0.3, 0.5, 0.2], "b": [-0.2, 0.1, 0.3]},
}


def _write(folder, layout, end="\n"):
    for dimension, videos in layout.items():
        (folder / dimension).mkdir(parents=True, exist_ok=True)
        for video, values in videos.items():
            (folder / dimension / f"{video}.txt").write_text("\n".join(str(v) for v in values) + end)
    return folder


@pytest.fixture
def dirs(tmp_path):
    return _write(tmp_path / "pred", PRED), _write(tmp_path / "gold", GOLD)


def test_pooled_scores_match_hand_computation_without_unannotated_frames(dirs):
    result = score(*dirs)
    # valence: a drops its frame 4 (-5), b its frame 3 (-100); arousal: a drops frame 3.
    v_true, v_pred = [0.1, -0.2, 0.3, 0.5, 0.4], [0.0, -0.1, 0.2, 0.4, 0.6]
    a_true, a_pred = [0.2, 0.2, 0.4, -0.3, 0.0, 0.6], [0.1, 0.3, 0.2, -0.2, 0.1, 0.3]
    assert result["ccc_valence"] == pytest.approx(ccc(v_true, v_pred))
    assert result["ccc_arousal"] == pytest.approx(ccc(a_true, a_pred))
    assert result["ccc_mean"] == pytest.approx((ccc(v_true, v_pred) + ccc(a_true, a_pred)) / 2)
    assert result["mse_valence"] == pytest.approx(mse(v_true, v_pred))
    assert result["mse_arousal"] == pytest.approx(mse(a_true, a_pred))
    assert (result["n_frames_valence"], result["n_frames_arousal"], result["n_videos"]) == (5, 6, 2)
    # pooled, not the mean of the per-video CCCs
    per_video = result["per_video"]
    assert per_video["a"]["ccc_valence"] == pytest.approx(ccc(v_true[:3], v_pred[:3]))
    assert per_video["b"]["ccc_arousal"] == pytest.approx(ccc(a_true[3:], a_pred[3:]))
    assert per_video["a"]["n_frames"] == 4 and per_video["b"]["n_frames"] == 3
    mean_per_video = (per_video["a"]["ccc_valence"] + per_video["b"]["ccc_valence"]) / 2
    assert result["ccc_valence"] != pytest.approx(mean_per_video)


def test_gold_may_be_a_release_root(dirs, tmp_path):
    pred, gold = dirs
    root = tmp_path / "release"
    (root / "annotations").mkdir(parents=True)
    gold.rename(root / "annotations" / "test")
    assert score(pred, root)["ccc_valence"] == score(pred, root / "annotations" / "test")["ccc_valence"]


def test_read_layout_tolerates_one_trailing_empty_line_and_crlf(tmp_path):
    _write(tmp_path / "x", {"valence": {"v": [0.5, 0.25]}, "arousal": {"v": [0, 1]}}, end="\r\n")
    layout = read_layout(tmp_path / "x")
    assert layout["valence"]["v"].tolist() == [0.5, 0.25] and layout["arousal"]["v"].tolist() == [0, 1]


def _error(pred, gold):
    with pytest.raises(DatasetError) as err:
        score(pred, gold)
    return str(err.value)


def test_missing_prediction_names_the_expected_file(dirs):
    pred, gold = dirs
    (pred / "valence" / "b.txt").unlink()
    (pred / "arousal" / "b.txt").unlink()
    message = _error(pred, gold)
    assert str(pred / "valence" / "b.txt") in message and "missing prediction" in message


def test_extra_prediction_is_an_error(dirs):
    pred, gold = dirs
    _write(pred, {"valence": {"zzz": [0.1]}, "arousal": {"zzz": [0.1]}})
    message = _error(pred, gold)
    assert "zzz.txt" in message and "no labels" in message


def test_too_many_lines_names_the_first_extra(dirs):
    pred, gold = dirs
    _write(pred, {"valence": {"b": [0.1, 0.2, 0.3, 0.4, 0.5]}, "arousal": {"b": [0.1] * 5}})
    message = _error(pred, gold)
    assert f"{pred / 'valence' / 'b.txt'}:4:" in message and "expected 3" in message and "found 5" in message


def test_too_few_lines_names_the_last(dirs):
    pred, gold = dirs
    _write(pred, {"valence": {"a": [0.1, 0.2]}, "arousal": {"a": [0.1, 0.2]}})
    message = _error(pred, gold)
    assert f"{pred / 'valence' / 'a.txt'}:2:" in message and "expected 4" in message


@pytest.mark.parametrize("bad", ["abc", "nan", "inf", ""])
def test_bad_prediction_line_is_named(dirs, bad):
    pred, gold = dirs
    (pred / "arousal" / "b.txt").write_text(f"0.1\n{bad}\n0.3\n")
    message = _error(pred, gold)
    assert f"{pred / 'arousal' / 'b.txt'}:2:" in message and "not a number" in message


def test_gold_label_out_of_range_is_named(dirs):
    pred, gold = dirs
    (gold / "valence" / "b.txt").write_text("0.5\n-7\n0.1\n")
    assert f"{gold / 'valence' / 'b.txt'}:2:" in _error(pred, gold)


def test_empty_folder_and_missing_dimension(tmp_path, dirs):
    pred, gold = dirs
    empty = tmp_path / "empty"
    (empty / "valence").mkdir(parents=True)
    (empty / "arousal").mkdir()
    assert str(empty) in _error(empty, gold) and "no <video>.txt" in _error(empty, gold)
    import shutil

    shutil.rmtree(pred / "arousal")
    message = _error(pred, gold)
    assert str(pred / "arousal") in message and "missing folder" in message


def test_write_layout_fills_with_the_nearest_frame_and_round_trips(tmp_path):
    predictions = pd.DataFrame({
        "video": ["a", "a", "a", "b"],
        "frame_index": [4, 1, 7, 0],
        "valence_pred": [0.4, 0.1, 0.7, -0.5],
        "arousal_pred": [-0.4, -0.1, -0.7, 0.5],
    })
    filled = write_layout(tmp_path / "entry", predictions, {"a": 10, "b": 2})
    assert filled == {"a": 7, "b": 1}
    layout = read_layout(tmp_path / "entry")
    # predicted 1, 4, 7: frames 0, 2 -> 1; 3, 5 -> 4; 6, 8, 9 -> 7
    expect = [0.1, 0.1, 0.1, 0.4, 0.4, 0.4, 0.7, 0.7, 0.7, 0.7]
    np.testing.assert_allclose(layout["valence"]["a"], expect)
    np.testing.assert_allclose(layout["arousal"]["a"], [-v for v in expect])
    np.testing.assert_allclose(layout["valence"]["b"], [-0.5, -0.5])
    # a tie takes the earlier frame: frame 2 is 1 from both 1 and 3
    tie = pd.DataFrame({"video": ["t", "t"], "frame_index": [1, 3], "valence_pred": [0.1, 0.3],
                        "arousal_pred": [0.1, 0.3]})
    write_layout(tmp_path / "entry", tie, {"t": 4})  # replaces the earlier entry
    np.testing.assert_allclose(read_layout(tmp_path / "entry")["valence"]["t"], [0.1, 0.1, 0.1, 0.3])
    assert not (tmp_path / "entry" / "valence" / "a.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry"]  # no temporary folder left


def test_write_layout_then_score_gives_the_exact_scores(tmp_path):
    gold = _write(tmp_path / "gold", {"valence": {"v": [0.1, 0.2, 0.3]}, "arousal": {"v": [0.3, 0.2, 0.1]}})
    predictions = pd.DataFrame({"video": ["v"] * 3, "frame_index": [0, 1, 2],
                                "valence_pred": [0.1, 0.2, 0.3], "arousal_pred": [0.3, 0.2, 0.1]})
    write_layout(tmp_path / "pred", predictions, {"v": 3})
    assert score(tmp_path / "pred", gold)["ccc_mean"] == pytest.approx(1.0)


def test_write_layout_refuses_a_folder_with_other_files(tmp_path):
    out = tmp_path / "entry"
    (out / "valence").mkdir(parents=True)
    (out / "notes.md").write_text("keep me")
    predictions = pd.DataFrame({"video": ["a"], "frame_index": [0], "valence_pred": [0.0], "arousal_pred": [0.0]})
    with pytest.raises(FileExistsError, match="entry"):
        write_layout(out, predictions, {"a": 1})
    assert (out / "notes.md").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry"]


def test_write_layout_rejects_bad_predictions(tmp_path):
    row = {"video": ["a"], "frame_index": [5], "valence_pred": [0.0], "arousal_pred": [0.0]}
    with pytest.raises(ValueError, match="outside"):
        write_layout(tmp_path / "e", pd.DataFrame(row), {"a": 3})
    with pytest.raises(ValueError, match="no prediction"):
        write_layout(tmp_path / "e", pd.DataFrame({**row, "frame_index": [0]}), {"a": 3, "b": 2})
    assert not (tmp_path / "e").exists() and not list(tmp_path.iterdir())


def _affwild(*args):
    return subprocess.run([sys.executable, "-m", "affwild_lib", *args], capture_output=True, text=True)


def test_cli_prints_a_table_then_json(dirs):
    pred, gold = dirs
    proc = _affwild("score", str(pred), str(gold))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert summary["ccc_valence"] == pytest.approx(score(pred, gold)["ccc_valence"])
    assert "per_video" not in summary
    assert lines[0].split() == ["valence", "arousal", "mean"] and lines[1].startswith("CCC")
    per_video = json.loads(_affwild("score", "--per-video", str(pred), str(gold)).stdout.splitlines()[-1])
    assert set(per_video["per_video"]) == {"a", "b"}


def test_cli_bad_input_is_one_line_and_exit_1(dirs):
    pred, gold = dirs
    (pred / "valence" / "a.txt").write_text("0.1\n\n0.2\n0.3\n")  # blank line inside
    proc = _affwild("score", str(pred), str(gold))
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert f"{pred / 'valence' / 'a.txt'}:2:" in proc.stderr


def test_experiments_are_scored_as_challenge_entries(tmp_path):
    """Issue 21: an experiment's predictions become an entry (every gold frame, the faceless
    ones filled from the nearest) and `affwild score` scores it, as the organisers did."""
    import pandas as pd

    from affwild_lib.scoring import score_entries

    gold = tmp_path / "gold"
    for dim, values in (("valence", [0.1, 0.2, 0.3, 0.4]), ("arousal", [0.0, -0.1, 0.2, 0.1])):
        (gold / dim).mkdir(parents=True)
        (gold / dim / "v1.txt").write_text("".join(f"{x}\n" for x in values))
    exp = tmp_path / "experiments" / "mm-net"
    exp.mkdir(parents=True)
    pd.DataFrame({"video": ["v1"] * 3, "frame_index": [0, 1, 3], "valence": [0.1, 0.2, 0.4],
                  "arousal": [0.0, -0.1, 0.1], "valence_pred": [0.1, 0.2, 0.4],
                  "arousal_pred": [0.0, -0.1, 0.1]}).to_csv(exp / "predictions.csv", index=False)
    table = score_entries(tmp_path / "experiments", ["mm-net", "not-trained"], gold)
    assert list(table.index) == ["mm-net"] and table.loc["mm-net", "filled"] == 1
    assert table.loc["mm-net", "mse_valence"] > 0  # frame 2 filled from a neighbour, so not perfect
    assert 0.5 < table.loc["mm-net", "ccc_valence"] < 1
