"""The `affwild` console script."""
import subprocess
import sys

import pytest

from affwild_lib import __version__
from affwild_lib.cli import main


def test_unknown_subcommand_prints_usage_and_fails(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code != 0
    assert "usage: affwild" in capsys.readouterr().err


def test_no_subcommand_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "usage: affwild" in capsys.readouterr().err


def test_version():
    out = subprocess.run([sys.executable, "-m", "affwild_lib", "--version"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"affwild {__version__}"


def _affwild(*args):
    return subprocess.run([sys.executable, "-m", "affwild_lib", *args], capture_output=True, text=True)


def test_data_check_prints_one_json_line():
    import json
    from pathlib import Path

    fixture = Path(__file__).parent / "fixtures" / "recola"
    proc = _affwild("data", "check", "--format", "recola", str(fixture))
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    summary = json.loads(last)
    assert summary["format"] == "recola" and summary["videos"] == 2
    assert summary["labels"]["arousal"]["max"] == 0.2531


def test_data_check_bad_input_names_the_file_and_exits_nonzero(tmp_path):
    bad = tmp_path / "ratings_gold_standard" / "valence"
    bad.mkdir(parents=True)
    (tmp_path / "ratings_gold_standard" / "arousal").mkdir()
    (bad / "train_1.arff").write_text("@relation x\n@attribute Instance_name string\n")
    proc = _affwild("data", "check", "--format", "recola", str(tmp_path))
    assert proc.returncode == 1
    assert "train_1.arff" in proc.stderr and "Traceback" not in proc.stderr


def test_data_check_unknown_format_fails():
    proc = _affwild("data", "check", "--format", "nope", ".")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


def test_prepare_without_path_or_profile_says_what_to_give(tmp_path):
    proc = _affwild("prepare", "--format", "affwild", "--out", str(tmp_path / "store"))
    assert proc.returncode == 2 and "--profile" in proc.stderr


def test_prepare_on_a_missing_release_names_it(tmp_path):
    proc = _affwild("prepare", "--format", "recola", str(tmp_path / "nowhere"), "--out", str(tmp_path / "s"))
    assert proc.returncode == 1 and "nowhere" in proc.stderr and "Traceback" not in proc.stderr


def test_model_info_prints_summary_then_json_with_params_and_layers():
    import json

    proc = _affwild("model-info", "baseline-cnnm", "--profile", "paper")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    assert info["params"] == 25_420_962  # CNN-M of Table 4 at 96x96 (tests/test_models.py)
    names = [layer["name"] for layer in info["layers"]]
    assert "conv1" in names and info["layers"][-1]["output_shape"] == [None, 2]
    assert "Total params" in proc.stdout


def test_unknown_experiment_lists_the_known_ones():
    proc = _affwild("train", "no-such-experiment")
    assert proc.returncode == 2 and "affwildnet" in proc.stderr


def test_synth_into_a_file_is_one_clear_line(tmp_path):
    target = tmp_path / "not-a-folder"
    target.write_text("keep me")
    proc = _affwild("synth", "--out", str(target), "--no-progress")
    assert proc.returncode == 1 and "not-a-folder" in proc.stderr and "Traceback" not in proc.stderr
    assert target.read_text() == "keep me"


def test_evaluate_before_training_says_so(tmp_path):
    proc = _affwild("evaluate", "baseline-cnnm", "--out", str(tmp_path / "exp"))
    assert proc.returncode == 1 and "train the experiment first" in proc.stderr


def test_transfer_help_lists_the_rows_and_an_unknown_one_is_refused(capsys):
    from affwild_lib.transfer import TRANSFERS

    with pytest.raises(SystemExit) as exc:
        main(["transfer", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in TRANSFERS:
        assert name in out
    with pytest.raises(SystemExit) as exc:
        main(["transfer", "recola-nothing"])
    assert exc.value.code == 2 and "invalid choice" in capsys.readouterr().err
