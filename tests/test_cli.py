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


@pytest.mark.parametrize("name,last", [("mm-net", [None, None, 2]), ("fatauva-net", [None, 2]),
                                       ("drc-net-deep", [None, 2])])
def test_model_info_prints_each_challenge_entry_at_the_papers_size(name, last):
    """Table 6's three systems (issue 21), as built at 96 x 96 and full width."""
    import json

    from affwild_lib.experiments import resolve
    from affwild_lib.models import count_params

    proc = _affwild("model-info", name, "--profile", "paper")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    exp = resolve(name, "paper")
    assert info["params"] == count_params(exp.model, **exp.model_config()) > 100_000
    assert info["layers"][0]["output_shape"][-3:] == [96, 96, 3] and info["layers"][-1]["output_shape"] == last


def test_unknown_experiment_lists_the_known_ones():
    proc = _affwild("train", "no-such-experiment")
    assert proc.returncode == 2 and "affwildnet" in proc.stderr


def test_synth_into_a_file_is_one_clear_line(tmp_path):
    target = tmp_path / "not-a-folder"
    target.write_text("keep me")
    proc = _affwild("synth", "--out", str(target), "--no-progress")
    # refused when the command line is read (issue 20, case 12): exit 2, with synth's usage
    assert proc.returncode == 2 and "not-a-folder is a file" in proc.stderr and "Traceback" not in proc.stderr
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


# --------------------------------------------------------------------------------------------
# Issue 20: bad options are refused when the command line is read, before anything is written


@pytest.mark.parametrize("args,option", [
    (["predict", "v.mp4", "--window", "0"], "--window"),        # case 2: silently became 80
    (["predict", "v.mp4", "--window", "-3"], "--window"),       # case 2: accepted, other predictions
    (["predict", "v.mp4", "--size", "3"], "--size"),
    (["prepare", "--format", "affwild", "p", "--out", "OUT", "--size", "0"], "--size"),   # case 3
    (["prepare", "--format", "affwild", "p", "--out", "OUT", "--size", "-5"], "--size"),  # case 3
    (["prepare", "--format", "affwild", "p", "--out", "OUT", "--workers", "-1"], "--workers"),  # case 3
    (["synth", "--out", "OUT", "--workers", "0"], "--workers"),
    (["annotate", "data", "--port", "-1"], "--port"),           # case 4: an OverflowError traceback
    (["annotate", "data", "--port", "99999"], "--port"),        # case 4: listened on 34463
    (["predict", "v.mp4", "--window", "x"], "--window"),
])
def test_20_a_bad_number_is_refused_naming_the_option_before_anything_is_written(tmp_path, args, option):
    args = [str(tmp_path / "OUT") if a == "OUT" else a for a in args]
    proc = subprocess.run([sys.executable, "-m", "affwild_lib", *args], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert f"argument {option}" in proc.stderr and "Traceback" not in proc.stderr
    assert f"usage: affwild {args[0]}" in proc.stderr
    assert not any(tmp_path.iterdir()), "something was written"


def test_20_3_prepare_size_zero_is_not_taken_for_the_default(capsys):
    with pytest.raises(SystemExit):
        main(["prepare", "--format", "affwild", "p", "--out", "o", "--size", "0"])
    assert "--size: 0 is out of range (8 to 4096)" in capsys.readouterr().err


def test_20_4_annotate_traces_that_is_a_file_is_refused_before_serving(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert main(["annotate", str(tmp_path), "--traces", str(afile), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "--traces" in err and "not a folder" in err and afile.read_text() == "x"


def test_20_5_a_malformed_params_yaml_is_one_line_with_its_line(tmp_path, monkeypatch):
    (tmp_path / "params.yaml").write_text("profile: tiny\nprofiles:\n  tiny: [unclosed\n")
    monkeypatch.setenv("AFFWILD_ROOT", str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "affwild_lib", "model-info", "cnn-vggface"],
                          capture_output=True, text=True, env={**__import__("os").environ, "AFFWILD_ROOT": str(tmp_path)})
    assert proc.returncode == 1, proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("affwild: error: ") and "params.yaml:" in line and "not valid YAML" in line
    assert "Traceback" not in proc.stderr


def test_20_17_an_unknown_option_prints_the_subcommands_usage(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["predict", "v.mp4", "--no-such-option"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "usage: affwild predict" in err and "--no-such-option" in err
    with pytest.raises(SystemExit):
        main(["data", "check", "--format", "recola", "p", "--bogus"])
    assert "usage: affwild data check" in capsys.readouterr().err


def test_set_changes_one_field_for_a_variant_and_needs_out(capsys, tmp_path):
    """Issue 23 ("Try this"): `affwild train EXP --set FIELD=VALUE --out DIR` trains a variant
    beside the pipeline's run; a bad field or value is refused when the command line is read."""
    from affwild_lib.cli import setting

    assert setting("seq_len=8") == ("seq_len", 8)
    assert setting("learning_rate=1") == ("learning_rate", 1.0)
    assert setting("landmarks=false") == ("landmarks", False)
    for bad, said in (["seq_len=x", "takes a whole number"], ["nope=1", "FIELD one of"],
                      ["name=x", "FIELD one of"], ["landmarks=2", "true or false"]):
        with pytest.raises(SystemExit) as exc:
            main(["train", "affwildnet", "--set", bad, "--out", str(tmp_path / "o")])
        err = capsys.readouterr().err
        assert exc.value.code == 2 and said in err and "usage: affwild train" in err, err
    assert main(["evaluate", "affwildnet", "--set", "seq_len=8"]) == 1
    assert "needs --out" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
