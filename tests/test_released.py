"""The authors' released networks (issue 18, affwild_lib.models.released): a checkpoint written
in the release's exact layout, as its files were made (``tf.compat.v1`` variables and a
``Saver``), imported, and our Keras model's outputs against the release's forward pass computed
independently from raw TensorFlow ops, on TensorFlow and JAX; bad checkpoints; ``predict`` and
``evaluate`` on an imported model; the conv-part importers."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from affwild_lib.models import released as R
from conftest import write_toy_store

pytestmark = pytest.mark.train

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-4  # the issue's: outputs are O(1)
MINI = 1 / 16     # the release's names at shapes a CPU test affords (the GRU keeps 128 units)


def _pixels(kind, n=2, frames=80, seed=0):
    shape = (n, frames, 96, 96, 3) if R.KINDS[kind].recurrent else (n * 3, 96, 96, 3)
    return np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("release")
    return {kind: R.write_checkpoint(kind, root / kind / "model.ckpt", width=MINI, seed=1)
            for kind in R.KINDS}


def _ours(path, pixels):
    import keras

    model = keras.saving.load_model(path, compile=False)
    return np.asarray(model.predict(pixels, verbose=0))


@pytest.mark.parametrize("kind", sorted(R.KINDS))
def test_an_imported_network_computes_what_the_release_computes(kind, checkpoints, tmp_path):
    record = R.import_checkpoint(checkpoints[kind], kind, tmp_path / "model.keras")
    pixels = _pixels(kind)
    reference = R.release_forward(R.read_checkpoint(checkpoints[kind]), kind, pixels)
    ours = _ours(tmp_path / "model.keras", pixels)
    assert ours.shape == reference.shape
    assert np.abs(reference).mean() > 0.05  # the comparison is of real signals, not of zeros
    assert np.abs(ours - reference).max() < TOLERANCE
    assert record["width"] == MINI and record["window"] == (80 if R.KINDS[kind].recurrent else None)
    assert json.loads((tmp_path / "model.json").read_text())["kind"] == kind


def test_the_released_affwildnet_at_full_size(tmp_path):
    """The release's own shapes (VGG-Face, 4608 -> 4096, 2 x GRU 128), one 80-frame sequence."""
    prefix = R.write_checkpoint("affwildnet-vggface", tmp_path / "ckpt" / "model.ckpt", seed=2)
    variables = R.read_checkpoint(prefix)
    assert variables["linear_1/weights"].shape == (4608, 4096)
    assert variables[f"{R.GRU_SCOPE.format(k=0)}/gates/kernel"].shape == (4096 + 128, 256)
    record = R.import_checkpoint(prefix, "affwildnet-vggface", tmp_path / "affwildnet.keras")
    pixels = _pixels("affwildnet-vggface", n=1)
    reference = R.release_forward(variables, "affwildnet-vggface", pixels)
    assert np.abs(_ours(tmp_path / "affwildnet.keras", pixels) - reference).max() < TOLERANCE
    assert record["width"] == 1.0 and record["parameters"] == sum(v.size for v in variables.values())


def test_the_gate_order_is_what_makes_it_match(checkpoints, tmp_path, monkeypatch):
    """The parity test has teeth: TF 1's (reset, update) left in Keras' (update, reset) order
    gives other outputs."""
    right = R.gru_weights

    def swapped(gk, gb, ck, cb, n_inputs):
        u = cb.shape[0]
        return right(np.concatenate([gk[:, u:], gk[:, :u]], 1), np.concatenate([gb[u:], gb[:u]]),
                     ck, cb, n_inputs)

    monkeypatch.setattr(R, "gru_weights", swapped)
    kind = "affwildnet-vggface"
    R.import_checkpoint(checkpoints[kind], kind, tmp_path / "wrong.keras")
    pixels = _pixels(kind, n=1, frames=20)
    reference = R.release_forward(R.read_checkpoint(checkpoints[kind]), kind, pixels)
    assert np.abs(_ours(tmp_path / "wrong.keras", pixels) - reference).max() > 1e-2


def test_on_jax_too(checkpoints, tmp_path):
    """Imported and run in a process on Keras' JAX backend (the GPU machines')."""
    kind = "affwildnet-vggface"
    pixels = _pixels(kind, n=1)
    np.save(tmp_path / "pixels.npy", pixels)
    np.save(tmp_path / "reference.npy", R.release_forward(R.read_checkpoint(checkpoints[kind]), kind, pixels))
    script = f"""
import numpy as np, keras
assert keras.backend.backend() == "jax"
from affwild_lib.models import released as R
R.import_checkpoint({str(checkpoints[kind])!r}, {kind!r}, {str(tmp_path / 'jax.keras')!r})
model = keras.saving.load_model({str(tmp_path / 'jax.keras')!r}, compile=False)
ours = np.asarray(model.predict(np.load({str(tmp_path / 'pixels.npy')!r}), verbose=0))
print(float(np.abs(ours - np.load({str(tmp_path / 'reference.npy')!r})).max()))
"""
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert float(proc.stdout.strip().splitlines()[-1]) < TOLERANCE


# --------------------------------------------------------------------------------------------
# Checkpoints that are not the release


def _write_variables(prefix: Path, shapes: dict) -> Path:
    import tensorflow as tf

    prefix.parent.mkdir(parents=True, exist_ok=True)
    graph = tf.Graph()
    with graph.as_default():
        for name, shape in shapes.items():
            tf.compat.v1.get_variable(name, initializer=np.zeros(shape, np.float32))
        saver = tf.compat.v1.train.Saver()
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            return Path(saver.save(session, str(prefix)))


def _nothing_written(folder: Path):
    assert [p.name for p in folder.iterdir()] == [], "a failed import left files behind"


@pytest.mark.parametrize("case", ["missing", "misshapen", "extra"])
def test_a_variable_that_does_not_fit_is_named_and_nothing_is_written(case, tmp_path):
    shapes = R.layout("vggface-4096", MINI)
    bad = "linear2_1/weights"
    if case == "missing":
        del shapes[bad]
    elif case == "misshapen":
        shapes[bad] = (shapes[bad][0], shapes[bad][1] + 1)
    else:
        shapes["linear4_1/weights"] = (2, 2)
        bad = "linear4_1/weights"
    prefix = _write_variables(tmp_path / "ckpt" / "model.ckpt", shapes)
    (tmp_path / "out").mkdir()
    with pytest.raises(R.CheckpointError, match=bad):
        R.import_checkpoint(prefix, "vggface-4096", tmp_path / "out" / "model.keras")
    _nothing_written(tmp_path / "out")


def test_another_architecture_is_told_which_kind_it_is(checkpoints, tmp_path):
    with pytest.raises(R.CheckpointError, match="those of --kind affwildnet-vggface"):
        R.import_checkpoint(checkpoints["affwildnet-vggface"], "vggface-2000", tmp_path / "m.keras")
    # the two CNNs share their names: told apart by the shapes
    with pytest.raises(R.CheckpointError, match="linear2_1.*those of --kind vggface-4096"):
        R.import_checkpoint(checkpoints["vggface-4096"], "vggface-2000", tmp_path / "m.keras")
    _nothing_written(tmp_path)


def test_optimiser_slots_and_the_step_are_not_the_network(tmp_path):
    shapes = R.layout("vggface-2000", MINI)
    shapes.update({f"{n}/Adam": s for n, s in list(shapes.items())[:3]} | {"beta1_power": ()})
    prefix = _write_variables(tmp_path / "ckpt" / "model.ckpt", shapes)
    assert set(R.read_checkpoint(prefix)) == set(R.layout("vggface-2000", MINI))


def test_the_release_folder_can_be_given(checkpoints, tmp_path):
    assert set(R.read_checkpoint(checkpoints["vggface-4096"].parent)) == set(R.layout("vggface-4096", MINI))
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no checkpoints"):
        R.read_checkpoint(tmp_path / "empty")


def test_unreadable_sources_and_bad_outputs(checkpoints, tmp_path):
    garbage = tmp_path / "bad" / "model.ckpt-0"
    garbage.parent.mkdir()
    Path(f"{garbage}.index").write_bytes(b"not a checkpoint at all")
    with pytest.raises(R.CheckpointError, match="not a TensorFlow checkpoint we can read"):
        R.import_checkpoint(garbage, "vggface-4096", tmp_path / "a.keras")
    with pytest.raises(FileNotFoundError, match="no TensorFlow checkpoint"):
        R.import_checkpoint(tmp_path / "nothing", "vggface-4096", tmp_path / "a.keras")
    with pytest.raises(ValueError, match="written as a .keras file"):
        R.import_checkpoint(checkpoints["vggface-4096"], "vggface-4096", tmp_path / "a.npz")
    with pytest.raises(ValueError, match="resnet_v1_50"):
        R.import_checkpoint(checkpoints["vggface-4096"], "affwildnet-resnet", tmp_path / "a.keras")
    assert not list(tmp_path.glob("*.keras")) and not list(tmp_path.glob("*.json"))


# --------------------------------------------------------------------------------------------
# What an imported network is for


@pytest.fixture(scope="module")
def imported(checkpoints, tmp_path_factory):
    out = tmp_path_factory.mktemp("imported") / "affwildnet.keras"
    R.import_checkpoint(checkpoints["affwildnet-vggface"], "affwildnet-vggface", out)
    return out


def test_predict_runs_it_on_a_real_face_and_says_what_it_expects(imported):
    from affwild_lib import predict
    from test_faces import carphone_path

    table, summary = predict.predict_video(carphone_path(), imported, progress=False)
    assert summary["window"] == 80 and summary["input_size"] == 96
    assert "affwildnet-vggface" in summary["expects"] and "(p - 128) / 128" in summary["expects"]
    assert summary["faces"] > 100 and table.loc[table["face"], "valence"].notna().all()


def test_evaluate_scores_it_with_the_tables_protocol(imported, tmp_path):
    from affwild_lib.train import evaluate_weights

    store = write_toy_store(tmp_path / "store96", {"test": 2}, frames=90, size=96)
    metrics = evaluate_weights("affwildnet", imported, tmp_path / "out", store=str(store))
    assert metrics["protocol"] == "windows of 80 frames" and metrics["n_test_frames"] == 180
    assert metrics["imported"]["kind"] == "affwildnet-vggface"
    assert np.isfinite(metrics["ccc_valence"]) and (tmp_path / "out" / "predictions.csv").is_file()
    small = write_toy_store(tmp_path / "store32", {"test": 1})
    with pytest.raises(ValueError, match="takes 96 x 96 crops"):
        evaluate_weights("affwildnet", imported, tmp_path / "out2", store=str(small))
    with pytest.raises(ValueError, match="a CNN-RNN, and cnn-vggface is a CNN"):
        evaluate_weights("cnn-vggface", imported, tmp_path / "out3", store=str(store))
    from affwild_lib.engine import experiment_dir

    own = experiment_dir("affwildnet")
    before = sorted(p.name for p in own.iterdir()) if own.is_dir() else None
    with pytest.raises(ValueError, match="own folder"):
        evaluate_weights("affwildnet", imported, own, store=str(store))
    assert (sorted(p.name for p in own.iterdir()) if own.is_dir() else None) == before
    assert not (tmp_path / "out2").exists() and not (tmp_path / "out3").exists()


def test_the_command_line(checkpoints, tmp_path):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "affwild_lib", "weights", "import", *map(str, args)],
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})

    proc = cli(checkpoints["vggface-2000"], "--kind", "vggface-2000", "--out", tmp_path / "v.keras")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["kind"] == "vggface-2000"
    proc = cli(checkpoints["vggface-2000"], "--kind", "vggface-4096", "--out", tmp_path / "w.keras")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("affwild: error: ")


def test_without_tensorflow_the_import_says_what_to_do_and_writes_nothing(checkpoints, tmp_path,
                                                                           monkeypatch, capsys):
    """A JAX-only machine (the GPU path) has no TensorFlow: one line, no traceback, no file."""
    from affwild_lib import cli

    monkeypatch.setitem(sys.modules, "tensorflow", None)  # `import tensorflow` now fails
    assert not R.tensorflow_available()
    out = tmp_path / "v.keras"
    code = cli.main(["weights", "import", str(checkpoints["vggface-2000"]), "--kind", "vggface-2000",
                     "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "needs TensorFlow" in err and "any backend" in err
    assert not out.exists() and not out.with_suffix(".json").exists()
    for call in (lambda: R.write_checkpoint("vggface-2000", tmp_path / "c" / "model.ckpt", width=0.0625),
                 lambda: R.release_forward({}, "vggface-2000", np.zeros((1, 96, 96, 3)))):
        with pytest.raises(R.NeedsTensorFlow):
            call()
    monkeypatch.undo()  # TensorFlow as it was (re-importing it in one process is not safe)
    assert R.tensorflow_available()


# --------------------------------------------------------------------------------------------
# Conv parts: VGG-Face from MatConvNet, VGG-16 and ResNet-50 from keras.applications files


def test_vgg_face_from_matconvnet_loads_into_our_vgg(tmp_path):
    import scipy.io

    from affwild_lib.models import build, load_npz_weights
    from affwild_lib.models.weights import VGG_CONV_LAYERS, import_weights

    rng = np.random.default_rng(0)
    layers, c_in = [], 3
    for b, n in enumerate((2, 2, 3, 3, 3), start=1):
        for i in range(1, n + 1):
            c = (64, 128, 256, 512, 512)[b - 1]
            layers.append({"name": f"conv{b}_{i}", "type": "conv",
                           "weights": np.array([rng.standard_normal((3, 3, c_in, c)).astype(np.float32),
                                                rng.standard_normal((c, 1)).astype(np.float32)], dtype=object)})
            layers.append({"name": f"relu{b}_{i}", "type": "relu"})
            c_in = c
    layers.append({"name": "fc6", "type": "conv",
                   "weights": np.array([np.zeros((7, 7, 512, 8), np.float32), np.zeros(8, np.float32)], dtype=object)})
    cells = np.empty(len(layers), dtype=object)
    cells[:] = layers
    scipy.io.savemat(tmp_path / "vgg_face.mat", {"net": {"layers": cells}})
    summary = import_weights(tmp_path / "vgg_face.mat", "vgg-face-mat", tmp_path / "vgg_face.npz")
    assert summary["layers"] == 13 and summary["parameters"] == 14_714_688
    model = build("vgg_face", input_size=48, landmarks=False)
    assert load_npz_weights(model, tmp_path / "vgg_face.npz", VGG_CONV_LAYERS) == list(VGG_CONV_LAYERS)
    sixth_conv = layers[2 * 5]  # conv3_2: convolutions and ReLUs alternate
    assert sixth_conv["name"] == "conv3_2"
    assert np.array_equal(model.get_layer("block3_conv2").kernel.numpy(), sixth_conv["weights"][0])
    with pytest.raises(ValueError, match="conv part .* .npz"):
        import_weights(tmp_path / "vgg_face.mat", "vgg-face-mat", tmp_path / "vgg_face.keras")
    (tmp_path / "broken.mat").write_bytes(b"MATLAB? no")
    with pytest.raises(ValueError, match="not a MatConvNet .mat file"):
        import_weights(tmp_path / "broken.mat", "vgg-face-mat", tmp_path / "b.npz")
    assert not (tmp_path / "b.npz").exists()


@pytest.mark.parametrize("network", ["vgg16", "resnet50"])
def test_keras_applications_files_load_into_our_conv_parts(network, tmp_path):
    import keras

    from affwild_lib.models import build, load_npz_weights
    from affwild_lib.models.weights import import_weights

    builder = {"vgg16": keras.applications.VGG16, "resnet50": keras.applications.ResNet50}[network]
    source = builder(weights=None, include_top=False, input_shape=(None, None, 3))
    source.save_weights(tmp_path / f"{network}.weights.h5")
    import_weights(tmp_path / f"{network}.weights.h5", f"keras-{network}", tmp_path / f"{network}.npz")
    ours = build(network, input_size=64, landmarks=False)
    names = load_npz_weights(ours, tmp_path / f"{network}.npz")
    first = names[0]
    assert np.array_equal(ours.get_layer(first).weights[0].numpy(), source.get_layer(first).weights[0].numpy())
    assert len(names) == sum(1 for layer in source.layers if layer.weights)
