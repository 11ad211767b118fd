"""Training, resuming and evaluating named experiments (affwild_lib.train, affwild_lib.data).

The toy frame store of conftest.py (8 short videos whose labels are a learnable function of
the images); miniature models (width 1/16, 32 x 32) train on it for a few epochs of a few steps.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from affwild_lib import data as D
from affwild_lib.metrics import ccc
from affwild_lib.store import FrameStore
from conftest import TOY_SIZE as SIZE

pytestmark = pytest.mark.train

ROOT = Path(__file__).resolve().parent.parent
FAST = dict(width=1 / 16, input_size=SIZE, epochs=3, max_steps_per_epoch=8, batch_size=16,
            seq_len=8, seq_stride=4, seed=0, weights=None)  # random init: no pretrained/ file read


def run(name, toy_store, out, **kw):
    from affwild_lib.train import train

    settings = {**FAST, **kw}
    return train(name, "tiny", out=out, store=str(toy_store), data_root=str(toy_store),
                 verbose=0, **settings)


# --------------------------------------------------------------------------------------------
# Data


def test_subject_split_keeps_subjects_together(tmp_path):
    table = pd.DataFrame({"video": ["1", "1", "2", "3", "3", "4", "5"]})
    (tmp_path / "synth_truth").mkdir()
    (tmp_path / "synth_truth" / "subjects.csv").write_text(
        "subject,split,sex,videos\na,train,F,1 3\nb,train,M,2\nc,train,M,4\nd,train,F,5\n")
    train_rows, val_rows, held = D.subject_split(table, tmp_path, 0.2, seed=0)
    assert len(held) == 1 and sorted(np.r_[train_rows, val_rows]) == list(range(7))
    videos = set(table["video"][val_rows])
    assert videos in ({"1", "3"}, {"2"}, {"4"}, {"5"})
    # without a subject list every video is a subject
    _, _, held = D.subject_split(table, None, 0.4, seed=0)
    assert len(held) == 2 and set(held) <= {"1", "2", "3", "4", "5"}


def test_eval_windows_cover_every_frame_once(toy_store):
    store = FrameStore(toy_store)
    rows = np.arange(len(store.table("test")))
    windows, mask = D.eval_windows(store.table("test"), rows, 7)
    assert sorted(windows[mask]) == list(rows)
    videos = store.table("test")["video"].to_numpy()
    assert all(len(set(videos[w])) == 1 for w in windows)  # never across videos


def test_batches_are_deterministic_per_epoch(toy_store):
    store = FrameStore(toy_store)
    labels = store.labels("train")
    items = D.training_items(store, "train", np.arange(200), labels, 8, 4, True, seed=0)
    assert items.ndim == 2 and (np.diff(items, axis=1) == 1).all()
    one = D.StoreBatches(store, "train", items, labels, 4, landmarks=True, seed=3)
    two = D.StoreBatches(store, "train", items, labels, 4, landmarks=True, seed=3)
    one.set_epoch(2), two.set_epoch(2)
    (x1, p1), y1 = one[1]
    (x2, p2), y2 = two[1]
    assert x1.shape == (4, 8, SIZE, SIZE, 3) and p1.shape == (4, 8, 68, 2) and y1.shape == (4, 8, 2)
    np.testing.assert_array_equal(x1, x2)
    assert x1.dtype == np.uint8  # the model normalises (models.heads.pixels)
    np.testing.assert_array_equal(x1, store.images("train", one.rows(1)))
    two.set_epoch(3)
    assert not np.array_equal(one.rows(1), two.rows(1))


# --------------------------------------------------------------------------------------------
# Training: every architecture family learns the toy signal


@pytest.mark.parametrize("name", ["baseline-cnnm", "cnn-vggface", "cnn-resnet50", "affwildnet", "mm-net",
                                  "fatauva-net"])
def test_training_learns(name, toy_store, tmp_path):
    # the deep, thin miniatures learn the toy signal in a few steps without dropout
    kw = {"cnn-resnet50": dict(max_steps_per_epoch=10, dropout=0.0, bn_momentum=0.5),
          "cnn-vggface": dict(max_steps_per_epoch=12, dropout=0.0)}.get(name, {})
    metrics = run(name, toy_store, tmp_path / name, **kw)
    history = pd.read_csv(tmp_path / name / "history.csv")
    assert len(history) == metrics["epochs_run"]
    assert history["loss"].iloc[-1] < history["loss"].iloc[0]
    assert history["val_ccc_mean"].max() > history["val_ccc_mean"].iloc[0]
    assert np.isfinite(metrics["ccc_mean"])


def test_a_sect5_row_is_sent_to_affwild_transfer(toy_store, tmp_path):
    from affwild_lib.train import evaluate, train

    for call in (lambda: train("recola-affwildnet", "tiny", out=tmp_path),
                 lambda: evaluate("recola-affwildnet", "tiny", out=tmp_path)):
        with pytest.raises(ValueError, match="Sect. 5 experiment: run it with `affwild transfer"):
            call()


def test_outputs_have_the_promised_fields(toy_store, tmp_path):
    from affwild_lib.train import evaluate

    out = tmp_path / "affwildnet"
    metrics = run("affwildnet", toy_store, out, epochs=1, max_steps_per_epoch=3)
    for key in ("ccc_valence", "ccc_arousal", "ccc_mean", "mse_valence", "mse_arousal", "per_video",
                "validation", "epoch_chosen", "epochs_run", "wall_seconds", "backend", "profile",
                "data_source", "n_params", "initialisation"):
        assert key in metrics, key
    assert metrics["initialisation"]["used"] == "random" and metrics["initialisation"]["note"]
    assert json.loads((out / "metrics.json").read_text())["ccc_mean"] == metrics["ccc_mean"]
    for name in ("model.keras", "history.csv", "predictions.csv", "checkpoint/state.npz",
                 "train.json", "scores.json", "plots/fig14.csv", "plots/fig15_labels.csv",
                 "plots/fig15_predictions.csv"):
        assert (out / name).is_file(), name
    headline = json.loads((out / "scores.json").read_text())
    assert headline["ccc_mean"] == metrics["ccc_mean"] and "per_video" not in headline
    fig14 = pd.read_csv(out / "plots" / "fig14.csv", dtype={"video": str})
    assert fig14["video"].nunique() == 1 and fig14["frame_index"].is_monotonic_increasing
    assert len(pd.read_csv(out / "plots" / "fig15_predictions.csv")) == len(FrameStore(toy_store).table("test"))
    pred = pd.read_csv(out / "predictions.csv", dtype={"video": str})
    assert list(pred.columns) == ["video", "frame_index", "valence", "arousal",
                                  "valence_pred", "arousal_pred", "valence_stream", "arousal_stream"]
    assert len(pred) == len(FrameStore(toy_store).table("test")) and pred.notna().all().all()
    # the streaming figures (the state carried across each video, clipped): what predict gives
    stream = metrics["streaming"]
    assert stream["mode"] == "stream" and pred[["valence_stream", "arousal_stream"]].abs().max().max() <= 1
    assert stream["ccc_valence"] == pytest.approx(ccc(pred["valence"], pred["valence_stream"]), abs=1e-6)
    assert not np.allclose(pred["valence_stream"], pred["valence_pred"])  # not the windows again
    # the official, pooled CCC is the numpy CCC of predictions.csv
    assert metrics["ccc_valence"] == pytest.approx(ccc(pred["valence"], pred["valence_pred"]), abs=1e-6)
    assert metrics["ccc_arousal"] == pytest.approx(ccc(pred["arousal"], pred["arousal_pred"]), abs=1e-6)
    # evaluate alone (model.keras loaded) gives the numbers of the model kept in memory again
    again = evaluate("affwildnet", "tiny", out=out, store=str(toy_store), data_root=str(toy_store),
                     **FAST)
    assert again["ccc_mean"] == pytest.approx(metrics["ccc_mean"], abs=1e-6)
    assert again["streaming"]["ccc_mean"] == pytest.approx(metrics["streaming"]["ccc_mean"], abs=1e-6)


def test_seeds_train_apart_and_evaluate_reports_their_spread(toy_store, tmp_path):
    """Issue 17: train.seeds runs per experiment; the further seeds in seeds/seed-<s>/, their
    test predictions in seed_predictions/, the spread in metrics.json, the claims read them."""
    from affwild_lib import claims, results
    from affwild_lib.train import evaluate, train_seeds

    kw = {**FAST, "epochs": 1, "max_steps_per_epoch": 3, "seeds": 2, "store": str(toy_store),
          "data_root": str(toy_store)}
    for name in ("cnn-vggface", "cnn-vggface-random"):
        records = train_seeds(name, "tiny", out=tmp_path / name, verbose=0, **kw)
        assert len(records) == 2 and (tmp_path / name / "seeds" / "seed-1" / "model.keras").is_file()
        metrics = evaluate(name, "tiny", out=tmp_path / name, **kw)
    assert [s["seed"] for s in metrics["seeds"]] == [0, 1]
    summary = metrics["seed_summary"]
    assert summary["n_seeds"] == 2 and summary["ccc_mean"]["sd"] > 0
    assert summary["ccc_mean"]["mean"] == pytest.approx(np.mean([s["ccc_mean"] for s in metrics["seeds"]]))
    seed1 = pd.read_csv(tmp_path / "cnn-vggface" / "seed_predictions" / "seed-1.csv")
    assert len(seed1) == len(FrameStore(toy_store).table("test"))
    table = results.scores(tmp_path)
    assert table.loc["cnn-vggface", "n_seeds"] == 2
    assert table.loc["cnn-vggface", "ccc_mean"] == pytest.approx(summary["ccc_mean"]["mean"])
    c = claims.compare(tmp_path, "cnn-vggface", "cnn-vggface-random")
    assert c["n_seeds_a"] == c["n_seeds_b"] == 2 and c["seed_sd_a"] is not None
    side = results.side_by_side(9, table)
    assert any(col[1] == "ccc_mean_sd" for col in side.columns)


def test_a_finished_run_trains_again_and_more_epochs_resume(toy_store, tmp_path, capsys):
    out = tmp_path / "cnn"
    run("cnn-vggface", toy_store, out, epochs=1, max_steps_per_epoch=2)
    first = pd.read_csv(out / "history.csv")
    run("cnn-vggface", toy_store, out, epochs=1, max_steps_per_epoch=2)
    assert "training again from scratch" in capsys.readouterr().out
    assert len(pd.read_csv(out / "history.csv")) == 1
    run("cnn-vggface", toy_store, out, epochs=2, max_steps_per_epoch=2)  # resumes: one more
    history = pd.read_csv(out / "history.csv")
    assert list(history["epoch"]) == [1, 2]
    assert history["loss"].iloc[0] == pytest.approx(first["loss"].iloc[0], rel=1e-5)


def test_a_checkpoint_without_its_history_starts_afresh(toy_store, tmp_path):
    """What DVC leaves when it removes a stage's outputs before a rerun: no crash, a fresh run."""
    class Killed(Exception):
        pass

    def kill(epoch, row):
        raise Killed

    out = tmp_path / "cnn"
    with pytest.raises(Killed):
        run("cnn-vggface", toy_store, out, epochs=2, max_steps_per_epoch=2, on_epoch_end=kill)
    (out / "history.csv").unlink()
    with pytest.warns(UserWarning, match="is gone"):
        run("cnn-vggface", toy_store, out, epochs=2, max_steps_per_epoch=2)
    assert list(pd.read_csv(out / "history.csv")["epoch"]) == [1, 2]


def test_landmark_statistics_are_set_from_training_and_saved(toy_store, tmp_path):
    import keras

    out = tmp_path / "cnn"
    run("cnn-vggface", toy_store, out, epochs=1, max_steps_per_epoch=2)
    model = keras.saving.load_model(out / "model.keras", compile=False)
    layer = model.get_layer("landmarks_scaling")
    points = FrameStore(toy_store).landmarks("train").reshape(-1, 136)
    mean = keras.ops.convert_to_numpy(layer.mean)
    assert not np.allclose(mean, 0)
    assert np.all((mean > points.min(0) - 1e-6) & (mean < points.max(0) + 1e-6))
    scaled = keras.ops.convert_to_numpy(layer(points.astype("float32")))
    assert abs(scaled.mean()) < 0.5 and 0.3 < scaled.std() < 3


def test_resume_after_a_kill_matches_an_uninterrupted_run(toy_store, tmp_path):
    import keras

    class Killed(Exception):
        pass

    def kill_after_first(epoch, row):
        if epoch == 1:
            raise Killed

    settings = dict(epochs=2, max_steps_per_epoch=4)
    run("cnn-vggface", toy_store, tmp_path / "whole", **settings)
    with pytest.raises(Killed):
        run("cnn-vggface", toy_store, tmp_path / "killed", on_epoch_end=kill_after_first, **settings)
    assert len(pd.read_csv(tmp_path / "killed" / "history.csv")) == 1
    run("cnn-vggface", toy_store, tmp_path / "killed", **settings)
    whole = np.load(tmp_path / "whole" / "checkpoint" / "state.npz")
    resumed = np.load(tmp_path / "killed" / "checkpoint" / "state.npz")
    assert sorted(whole.files) == sorted(resumed.files)
    for key in whole.files:
        if key != "meta":
            np.testing.assert_allclose(whole[key], resumed[key], rtol=1e-5, atol=1e-6, err_msg=key)
    h1 = pd.read_csv(tmp_path / "whole" / "history.csv")
    h2 = pd.read_csv(tmp_path / "killed" / "history.csv")
    np.testing.assert_allclose(h1["loss"], h2["loss"], rtol=1e-5)


# --------------------------------------------------------------------------------------------
# Other backends and several devices, each in its own process (Keras fixes them at import)

SCRIPT = r'''
import json, os, sys
if os.environ.get("SPLIT_CPUS"):  # before TensorFlow starts: two logical CPU devices
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from affwild_lib.train import train
store, out, name = sys.argv[1:4]
m = train(name, "tiny", out=out, store=store, data_root=store, verbose=0, width=1/16,
          input_size=32, epochs=1, max_steps_per_epoch=2, batch_size=8, seq_len=4, seq_stride=4)
import pandas as pd, keras
h = pd.read_csv(out + "/history.csv")
print("RESULT", json.dumps({"backend": keras.backend.backend(), "loss": float(h["loss"][0]),
                            "ccc": m["ccc_mean"], "n_devices": m["n_devices"]}))
'''


def _run_subprocess(env_extra, toy_store, out, name):
    env = {**os.environ, **env_extra}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(toy_store), str(out), name],
                          env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


@pytest.mark.parametrize("name", ["baseline-cnnm", "affwildnet"])
def test_the_same_seed_gives_the_same_scores_in_another_process(toy_store, tmp_path, name):
    """Determinism (engine.seed_everything): two processes, one seed, the same bytes of
    scores.json. (In one process a seed drawn at import would repeat and hide the bug that
    made the baseline irreproducible: an initialiser made at import time.)"""
    env = {"KERAS_BACKEND": "tensorflow"}
    one = _run_subprocess(env, toy_store, tmp_path / "one", name)
    two = _run_subprocess(env, toy_store, tmp_path / "two", name)
    assert one == two
    assert (tmp_path / "one" / "scores.json").read_bytes() == (tmp_path / "two" / "scores.json").read_bytes()


@pytest.mark.skipif(not __import__("importlib").util.find_spec("jax"), reason="jax not installed")
def test_jax_backend_on_two_devices(toy_store, tmp_path):
    """JAX, with two host devices: DataParallel over both, one epoch, finite loss."""
    result = _run_subprocess({"KERAS_BACKEND": "jax",
                              "XLA_FLAGS": "--xla_force_host_platform_device_count=2"},
                             toy_store, tmp_path / "jax", "baseline-cnnm")
    assert result["backend"] == "jax" and result["n_devices"] == 2
    assert np.isfinite(result["loss"]) and np.isfinite(result["ccc"])


def test_tensorflow_mirrored_on_two_cpu_devices(toy_store, tmp_path):
    """TensorFlow with two logical CPUs: MirroredStrategy, one epoch, finite loss."""
    result = _run_subprocess({"KERAS_BACKEND": "tensorflow", "SPLIT_CPUS": "1"},
                             toy_store, tmp_path / "tf", "cnn-vggface")
    assert result["backend"] == "tensorflow" and result["n_devices"] == 2
    assert np.isfinite(result["loss"])
