"""Issue 20: bad input anywhere gets one line naming the file (and the line or frame where there is
one), a non-zero exit, no traceback, nothing written under the input and no partial output.

One test per case of the issue, named after it (cases 2-5 and 17, the options, are in
``test_cli.py``), each with the siblings of its case: the same flaw in another reader or command.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pandas as pd
import pytest

from affwild_lib.cli import main
from affwild_lib.datasets import DatasetError, check
from fixtures.media import copy_fixture, snapshot, write_image, write_video

ROOT = Path(__file__).resolve().parent.parent


def _affwild(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "affwild_lib", *map(str, args)], capture_output=True,
                          text=True, **kw)


def one_line(err: str, *needles: str) -> str:
    """The error line of a failed command: last on stderr, naming every needle, no traceback."""
    assert "Traceback" not in err, err[-2000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith("affwild: error: "), err[-2000:]
    for needle in needles:
        assert needle in last, (needle, last)
    return last


def check_fails(capsys, fmt: str, root: Path, *needles: str) -> str:
    before = snapshot(root)
    assert main(["data", "check", "--format", fmt, str(root)]) == 1
    assert snapshot(root) == before
    return one_line(capsys.readouterr().err, *needles)


def noise_frames(n: int, size: int = 64) -> list[np.ndarray]:
    """Frames that do not compress, so that half a file is half its frames."""
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (size, size, 3), dtype=np.uint8) for _ in range(n)]


def write_truncated(path: Path, frames, keep: float = 0.5) -> Path:
    """A video cut at ``keep`` of its bytes whose header survives the cut: the MP4 index is
    written first (``faststart``, as streaming sites serve them), an AVI's header always is."""
    whole = path.with_name("whole-" + path.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"movflags": "faststart"} if path.suffix == ".mp4" else {}
    with av.open(str(whole), "w", options=options) as container:
        stream = container.add_stream("mpeg4", rate=30)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for pixels in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        container.mux(stream.encode())
    data = whole.read_bytes()
    whole.unlink()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


@pytest.fixture
def affwild(tmp_path) -> Path:
    """The Aff-Wild fixture with its videos: train 101 (5 labels) and 102 (4 labels)."""
    root = copy_fixture("affwild", tmp_path)
    write_video(root / "videos/train/101.mp4", 5)
    write_video(root / "videos/train/102.avi", 6)
    return root


# --------------------------------------------------------------------------------------------
# Case 1 (and 15's siblings): a truncated or corrupt file passes `data check`


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_20_1_data_check_finds_a_video_truncated_behind_an_intact_header(affwild, capsys, suffix):
    (affwild / "videos/train/101.mp4").unlink()
    cut = write_truncated(affwild / f"videos/train/101{suffix}", noise_frames(60))
    with av.open(str(cut)) as container:  # the header still announces every frame
        assert container.streams.video[0].frames == 60
    last = check_fails(capsys, "affwild", affwild, str(cut), "truncated")
    assert "60 frames" in last


def test_20_1_a_whole_video_still_passes_data_check(affwild, capsys):
    assert main(["data", "check", "--format", "affwild", str(affwild)]) == 0
    assert json.loads(capsys.readouterr().out)["videos"] == 2


def test_20_1_prepare_warns_on_stderr_when_frames_did_not_decode(affwild, tmp_path):
    (affwild / "videos/train/101.mp4").unlink()
    cut = write_truncated(affwild / "videos/train/101.avi", noise_frames(60))
    proc = _affwild("prepare", "--format", "affwild", affwild, "--out", tmp_path / "store", "--size", 32,
                    "--workers", 1, "--no-progress")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["undecodable"] > 0
    warning = [line for line in proc.stderr.splitlines() if line.startswith("affwild: warning:")]
    assert len(warning) == 1 and str(cut) in warning[0] and f"{summary['undecodable']} frames" in warning[0]


@pytest.mark.train
def test_20_1_predict_warns_on_stderr_when_frames_did_not_decode(tmp_path):
    from affwild_lib.models import build
    from test_faces import carphone_path

    model = build("cnn_rnn", input_size=48, width=1 / 16, seq_len=None)
    model.save(tmp_path / "model.keras")
    with av.open(str(carphone_path())) as container:
        frames = [f.to_ndarray(format="rgb24") for f, _ in zip(container.decode(video=0), range(40))]
    cut = write_truncated(tmp_path / "cut.avi", frames, keep=0.6)
    proc = _affwild("predict", cut, "--weights", tmp_path / "model.keras", "--size", 48, "--out",
                    tmp_path / "out", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["undecodable"] > 0
    assert any(line.startswith("affwild: warning:") and str(cut) in line and "did not decode" in line
               for line in proc.stderr.splitlines()), proc.stderr


def test_20_15_a_corrupt_recola_video_fails_data_check_and_prepare_writes_nothing(tmp_path, capsys):
    root = copy_fixture("recola", tmp_path)
    (root / "recordings_video").mkdir()
    write_video(root / "recordings_video/train_1.mp4", 5)
    bad = root / "recordings_video/dev_1.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video" * 20)
    check_fails(capsys, "recola", root, str(bad))
    out = tmp_path / "store"
    assert main(["prepare", "--format", "recola", str(root), "--out", str(out), "--workers", "1",
                 "--no-progress"]) == 1
    one_line(capsys.readouterr().err, str(bad))
    assert not out.exists(), "prepare wrote before it failed"


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_20_15_a_damaged_afew_va_png_fails_data_check(tmp_path, capsys, damage):
    root = copy_fixture("afew_va", tmp_path)
    for clip in ("001", "002"):
        for key in json.loads((root / clip / f"{clip}.json").read_text())["frames"]:
            write_image(root / clip / f"{key}.png", (64, 64))
    png = sorted((root / "002").glob("*.png"))[-1]
    rng = np.random.default_rng(0)
    from PIL import Image

    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(png)
    data = png.read_bytes()
    png.write_bytes({"truncated": data[: len(data) // 2], "garbage": b"not a png" * 10, "empty": b""}[damage])
    check_fails(capsys, "afew-va", root, str(png))


# --------------------------------------------------------------------------------------------
# Case 6: evaluate with an input missing writes nothing; cases 9 and 10: a model that is not
# one, or not this experiment's


FAST = dict(width=1 / 16, input_size=32, epochs=1, max_steps_per_epoch=2, batch_size=16,
            seq_len=8, seq_stride=4, seed=0, weights=None)


@pytest.fixture(scope="module")
def trained(toy_store, tmp_path_factory) -> Path:
    """A CNN (cnn-vggface) and a CNN-RNN (affwildnet), trained for 2 steps on the toy store."""
    pytest.importorskip("keras")
    from affwild_lib.train import train

    out = tmp_path_factory.mktemp("trained")
    for name in ("cnn-vggface", "affwildnet"):
        train(name, "tiny", out=out / name, store=str(toy_store), data_root=str(toy_store), verbose=0,
              **FAST)
    return out


def _copy(trained: Path, name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(trained / name, tmp_path / name))


def _evaluate(name, folder, store, **kw):
    from affwild_lib.train import evaluate

    return evaluate(name, "tiny", out=folder, store=str(store), data_root=str(store), **{**FAST, **kw})


@pytest.mark.train
@pytest.mark.parametrize("missing", ["history.csv", "model.keras"])
def test_20_6_evaluate_writes_nothing_until_everything_it_needs_is_there(trained, toy_store, tmp_path, missing):
    folder = _copy(trained, "cnn-vggface", tmp_path)
    (folder / missing).unlink()
    before = snapshot(folder)
    with pytest.raises((FileNotFoundError, ValueError), match=missing):
        _evaluate("cnn-vggface", folder, toy_store)
    assert snapshot(folder) == before


@pytest.mark.train
@pytest.mark.parametrize("damage", ["truncated", "random", "empty"])
def test_20_9_a_damaged_model_file_is_named_as_such_not_as_missing(trained, toy_store, tmp_path, damage):
    folder = _copy(trained, "cnn-vggface", tmp_path)
    model = folder / "model.keras"
    data = model.read_bytes()
    model.write_bytes({"truncated": data[: len(data) // 2], "random": os.urandom(4096), "empty": b""}[damage])
    before = snapshot(folder)
    with pytest.raises(ValueError) as error:
        _evaluate("cnn-vggface", folder, toy_store)
    message = str(error.value)
    assert str(model) in message and "not a Keras model file" in message and "not found" not in message.lower()
    assert snapshot(folder) == before


@pytest.mark.train
@pytest.mark.parametrize("damage", ["truncated", "random", "empty"])
def test_20_9_sibling_a_damaged_npz_weights_file_is_one_clear_error(tmp_path, damage):
    """The pre-trained conv parts (profiles' ``weights:``) and ``predict --weights x.npz``: a cut
    ``.npz`` raised zipfile's BadZipFile, which no command caught (a traceback)."""
    from affwild_lib.models import build
    from affwild_lib.models.weights import WeightsFileError, load_npz_weights, save_npz_weights

    model = build("cnn_rnn", input_size=32, width=1 / 16, seq_len=None)
    path = tmp_path / "weights.npz"
    save_npz_weights(model, path)
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "random": os.urandom(4096), "empty": b""}[damage])
    with pytest.raises(WeightsFileError, match="not a weights file we can read"):
        load_npz_weights(model, path)
    if damage != "truncated":
        return  # the command's one line: once is enough (a process start costs seconds)
    proc = _affwild("predict", "v.mp4", "--weights", path, "--size", 32, "--out", tmp_path / "out")
    assert proc.returncode == 1
    one_line(proc.stderr, str(path))


@pytest.mark.train
def test_20_10_evaluate_refuses_a_model_of_another_architecture_naming_it(trained, toy_store, tmp_path):
    folder = _copy(trained, "affwildnet", tmp_path)
    shutil.copy(trained / "cnn-vggface" / "model.keras", folder / "model.keras")  # a CNN in a CNN-RNN's place
    before = snapshot(folder)
    with pytest.raises(ValueError) as error:
        _evaluate("affwildnet", folder, toy_store)
    assert str(folder / "model.keras") in str(error.value) and "CNN-RNN" in str(error.value)
    assert snapshot(folder) == before


@pytest.mark.train
def test_20_10_evaluate_refuses_a_store_of_another_crop_size_naming_both(trained, tmp_path):
    from conftest import write_toy_store

    other = write_toy_store(tmp_path / "store24", size=24)
    folder = _copy(trained, "cnn-vggface", tmp_path)
    before = snapshot(folder)
    with pytest.raises(ValueError) as error:
        _evaluate("cnn-vggface", folder, other)
    message = str(error.value)
    assert str(folder / "model.keras") in message and str(other) in message and "24 x 24" in message
    assert snapshot(folder) == before


# --------------------------------------------------------------------------------------------
# Case 7: the data source of a run


def test_20_7_a_missing_data_root_is_not_called_real(tmp_path):
    from affwild_lib.config import data_source

    assert data_source(tmp_path / "no-such-folder") == "unknown"
    (tmp_path / "synth").mkdir()
    (tmp_path / "SYNTHETIC.md").write_text("synthetic\n")
    assert data_source(tmp_path / "synth") == "synthetic"
    other = tmp_path / "elsewhere" / "licensed"
    other.mkdir(parents=True)
    assert data_source(other) == "real"


# --------------------------------------------------------------------------------------------
# Case 8: empty label files


def test_20_8_empty_label_files_are_an_error_not_an_unlabelled_video(affwild, capsys):
    for dimension in ("valence", "arousal"):
        (affwild / f"annotations/train/{dimension}/101.txt").write_text("")
    check_fails(capsys, "affwild", affwild, "annotations/train/valence/101.txt", "empty")


def test_20_8_sibling_an_affwild2_label_file_with_only_its_header(tmp_path, capsys):
    root = copy_fixture("affwild2", tmp_path)
    path = sorted((root / "annotations" / "VA_Set").rglob("*.txt"))[0]
    path.write_text(path.read_text().splitlines()[0] + "\n")
    check_fails(capsys, "affwild2", root, str(path), "empty")


def test_20_8_a_video_left_wholly_unannotated_is_listed_as_unlabelled_not_faceless(affwild, tmp_path):
    from affwild_lib.prepare import prepare

    for dimension in ("valence", "arousal"):
        (affwild / f"annotations/train/{dimension}/101.txt").write_text("-100\n" * 5)
    summary = prepare("affwild", affwild, tmp_path / "store", size=32, workers=1, progress=False)
    assert summary["videos_unlabelled"] == ["101"]
    assert "101" not in summary["videos_without_face"]


# --------------------------------------------------------------------------------------------
# Case 11: a damaged shard of the frame store


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_20_11_a_damaged_shard_is_named_with_what_to_do(toy_store, tmp_path, damage):
    from affwild_lib.store import FrameStore, shard_paths

    copy = Path(shutil.copytree(toy_store, tmp_path / "store"))
    shard = shard_paths(copy, "train", "000")["frames"]
    data = shard.read_bytes()
    shard.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"garbage" * 100)
    with pytest.raises(ValueError) as error:
        FrameStore(copy).images("train", np.arange(4))
    assert str(shard) in str(error.value) and "affwild prepare" in str(error.value)


# --------------------------------------------------------------------------------------------
# Case 12: --out naming a file


@pytest.mark.parametrize("args", [
    ["synth", "--out", "{file}"],
    ["prepare", "--format", "affwild", "{release}", "--out", "{file}"],
    ["prepare", "--format", "affwild", "{release}", "--out", "{file}/store"],
    ["predict", "v.mp4", "--out", "{file}"],
    ["train", "cnn-vggface", "--out", "{file}"],
    ["evaluate", "cnn-vggface", "--out", "{file}"],
    ["transfer", "recola-affwildnet", "--out", "{file}"],
    ["pretrain", "vgg16", "--out", "{file}"],
    ["pretrain-corpus", "faces", "--out", "{file}"],
])
def test_20_12_out_naming_a_file_is_refused_before_anything_runs(affwild, tmp_path, capsys, args):
    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    args = [a.format(file=afile, release=affwild) for a in args]
    with pytest.raises(SystemExit) as exc:
        main(args)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "argument --out" in err and str(afile) in err and "is a file" in err
    assert "Traceback" not in err and afile.read_text() == "mine\n"


# --------------------------------------------------------------------------------------------
# Case 13: Ctrl-C


def _interrupt(args, ready: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run ``affwild ARGS`` in its own process group, press Ctrl-C (SIGINT to the group, as a
    terminal does) once ``ready`` shows on stderr, and return what it printed."""
    log = tmp_path / "stderr.txt"
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "affwild_lib", *map(str, args)], stdout=subprocess.PIPE,
                                stderr=err, text=True, start_new_session=True)
        deadline = time.monotonic() + 120
        while ready not in log.read_text() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proc.poll() is None, f"finished before the interrupt: {log.read_text()[-1000:]}"
        time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(args, proc.returncode, out, log.read_text())


def _many_videos(root: Path, n: int = 4) -> Path:
    from test_faces import carphone_path

    with av.open(str(carphone_path())) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    from fixtures.media import write_frames

    for k in range(n):
        write_frames(root / "videos" / "train" / f"{k:03d}.avi", frames)
        for dimension in ("valence", "arousal"):
            path = root / "annotations" / "train" / dimension / f"{k:03d}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("0.1\n" * len(frames))
    return root


def test_20_13_ctrl_c_during_prepare_says_rerun_to_resume_and_the_rerun_finishes(tmp_path):
    release = _many_videos(tmp_path / "release")
    out = tmp_path / "store"
    args = ["prepare", "--format", "affwild", release, "--out", out, "--size", 32, "--workers", 2]
    proc = _interrupt(args, "prepare:", tmp_path)
    assert proc.returncode == 130, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "KeyboardInterrupt" not in proc.stderr, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines()[-1] == "affwild: interrupted; rerun the same command to resume"
    again = _affwild(*args, "--no-progress")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.strip().splitlines()[-1])["videos"] == 4


@pytest.mark.train
def test_20_13_ctrl_c_during_predict_is_one_line_and_leaves_no_output(tmp_path):
    from affwild_lib.models import build
    from fixtures.media import write_frames
    from test_faces import carphone_path

    build("cnn_rnn", input_size=48, width=1 / 16, seq_len=None).save(tmp_path / "model.keras")
    with av.open(str(carphone_path())) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    video = write_frames(tmp_path / "long.avi", frames * 20)
    proc = _interrupt(["predict", video, "--weights", tmp_path / "model.keras", "--size", 48,
                       "--out", tmp_path / "out"], "predict", tmp_path)
    assert proc.returncode == 130 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines()[-1].startswith("affwild: interrupted")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# --------------------------------------------------------------------------------------------
# Case 14: a folder where a file should be


def test_20_14_a_video_path_that_is_a_folder_is_named_as_such(affwild, capsys):
    (affwild / "videos/train/101.mp4").unlink()
    (affwild / "videos/train/101.mp4").mkdir()
    check_fails(capsys, "affwild", affwild, "videos/train/101.mp4", "a folder")


def test_20_14_siblings_label_file_recola_video_and_afew_va_frame_that_are_folders(affwild, tmp_path, capsys):
    label = affwild / "annotations/train/arousal/102.txt"
    label.unlink()
    label.mkdir()
    check_fails(capsys, "affwild", affwild, str(label), "a folder")

    recola = copy_fixture("recola", tmp_path)
    (recola / "recordings_video" / "train_1.mp4").mkdir(parents=True)
    check_fails(capsys, "recola", recola, "recordings_video/train_1.mp4", "a folder")

    afew_va = copy_fixture("afew_va", tmp_path)
    keys = list(json.loads((afew_va / "001" / "001.json").read_text())["frames"])
    for clip in ("001", "002"):
        for key in json.loads((afew_va / clip / f"{clip}.json").read_text())["frames"]:
            write_image(afew_va / clip / f"{key}.png")
    (afew_va / "001" / f"{keys[0]}.png").unlink()
    (afew_va / "001" / f"{keys[0]}.png").mkdir()
    check_fails(capsys, "afew-va", afew_va, f"{keys[0]}.png", "a folder")


# --------------------------------------------------------------------------------------------
# Case 16: AFEW-VA's JSON, frame by frame


@pytest.mark.parametrize("edit,needles", [
    (lambda frame: frame.pop("valence"), ("'valence'",)),
    (lambda frame: frame.pop("landmarks"), ("'landmarks'",)),
    (lambda frame: frame.update(landmarks=frame["landmarks"][:10]), ("10 landmarks", "68")),
    (lambda frame: frame.update(arousal="high"), ("'arousal'",)),
])
def test_20_16_afew_va_json_errors_name_the_frame(tmp_path, capsys, edit, needles):
    root = copy_fixture("afew_va", tmp_path)
    path = root / "002" / "002.json"
    data = json.loads(path.read_text())
    key = sorted(data["frames"], key=int)[-1]
    for clip in ("001", "002"):
        for k in json.loads((root / clip / f"{clip}.json").read_text())["frames"]:
            write_image(root / clip / f"{k}.png")
    edit(data["frames"][key])
    path.write_text(json.dumps(data, indent=1))
    last = check_fails(capsys, "afew-va", root, str(path), f"frame {key}", *needles)
    assert "inhomogeneous" not in last


# --------------------------------------------------------------------------------------------
# Case 9's siblings: the other .npz files the commands read back


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_20_9_siblings_a_damaged_corpus_or_truth_file_is_named_with_what_to_do(tmp_path, damage):
    from affwild_lib.atomic import read_npz
    from affwild_lib.faces import load_truth
    from affwild_lib.pretrain import load_corpus

    corpus = tmp_path / "faces"
    corpus.mkdir()
    np.savez(corpus / "corpus.npz", images=np.zeros((4, 8, 8, 3), np.uint8), labels=np.arange(4))
    (corpus / "corpus.json").write_text("{}")
    truth = tmp_path / "truth.npz"
    np.savez(truth, landmarks=np.zeros((3, 68, 2), np.float32))
    for path in (corpus / "corpus.npz", truth):
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"garbage" * 50)
    with pytest.raises(ValueError, match="pretrain-corpus") as error:
        load_corpus(corpus)
    assert str(corpus / "corpus.npz") in str(error.value) and "damaged or truncated" in str(error.value)
    with pytest.raises(ValueError, match="synth_truth") as error:
        load_truth(truth)
    assert str(truth) in str(error.value)
    with pytest.raises(FileNotFoundError, match="missing; do this"):
        read_npz(tmp_path / "none.npz", "do this")


@pytest.mark.train
def test_20_9_sibling_a_damaged_checkpoint_is_left_behind_with_a_warning(toy_store, tmp_path):
    """A checkpoint is written whole (atomically), so a damaged one is the disk's doing: the run
    says so and trains from scratch, rather than stopping with zipfile's traceback."""
    from affwild_lib.train import STATE, train

    out = tmp_path / "run"
    train("cnn-vggface", "tiny", out=out, store=str(toy_store), data_root=str(toy_store), verbose=0, **FAST)
    state = next(out.rglob(STATE))
    state.write_bytes(state.read_bytes()[:100])
    with pytest.warns(UserWarning, match="damaged or truncated"):
        metrics = train("cnn-vggface", "tiny", out=out, store=str(toy_store), data_root=str(toy_store),
                        verbose=0, **{**FAST, "epochs": 2})
    assert metrics["epochs_run"] == 2
