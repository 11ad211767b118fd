"""The same models, loss and metrics on TensorFlow and on JAX (Keras 3, no TensorFlow-only calls).

Keras fixes its backend when first imported, so each backend runs in its own Python process
(KERAS_BACKEND set before the import), both at once. This process writes the miniature models'
weights and inputs; each backend loads them, predicts, takes one training step and computes
the CCC loss and metrics; the predictions must agree across backends and the loss and metrics
with the numpy CCC.
"""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from affwild_lib.metrics import ccc
from affwild_lib.models import build, save_npz_weights

pytestmark = pytest.mark.train

ROOT = Path(__file__).resolve().parent.parent
FAMILIES = {  # tiny versions: what the ``tiny`` profile trains
    "cnn_m": dict(width=1 / 16, input_size=32),
    "vgg_face": dict(width=1 / 16, input_size=32),
    "resnet50": dict(width=1 / 16, input_size=32),
    "cnn_rnn": dict(width=1 / 16, input_size=32, backbone="vgg_face", seq_len=3),
}
# one compiled training step each: batch norm (CNN-M), and the VGG conv part, landmarks, time
# folding and GRUs (AffWildNet); ResNet-50's training graph takes a minute to trace on a CPU
TRAIN_STEP = ("cnn_m", "cnn_rnn")

SCRIPT = r'''
import json, sys
from pathlib import Path
import numpy as np
import keras
from affwild_lib.losses import CCCLoss, ccc_loss
from affwild_lib.models import build, load_npz_weights

work = Path(sys.argv[1]); families = json.loads(sys.argv[2]); train = json.loads(sys.argv[3])
out = {"backend": keras.backend.backend()}
for name, config in families.items():
    model = build(name, **config)
    load_npz_weights(model, work / f"{name}.npz")
    data = np.load(work / f"{name}_data.npz")
    inputs = [data["images"], data["points"]] if len(model.inputs) == 2 else data["images"]
    pred = keras.ops.convert_to_numpy(model(inputs, training=False))
    np.save(work / f"{name}_pred_{out['backend']}.npy", pred)
    row = {"ccc_loss": float(keras.ops.convert_to_numpy(ccc_loss(data["labels"], pred)))}
    if name in train:
        model.compile(keras.optimizers.Adam(1e-3), loss=CCCLoss())
        logs = model.train_on_batch(inputs, data["labels"], return_dict=True)
        row["train_loss"] = float(logs["loss"])
    out[name] = row
print("RESULT " + json.dumps(out))
'''


def backends():
    found = ["tensorflow"]
    if importlib.util.find_spec("jax") is not None:
        found.append("jax")
    return found


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Write weights and data, run every backend at once, return their results."""
    work = tmp_path_factory.mktemp("backends")
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    for name, config in FAMILIES.items():
        model = build(name, **config)
        save_npz_weights(model, work / f"{name}.npz")
        steps = (config["seq_len"],) if name == "cnn_rnn" else ()
        labels = rng.uniform(-1, 1, (6, *steps, 2))
        images = labels[..., None, None, :1] + rng.normal(0, 0.5, (6, *steps, 32, 32, 3))
        np.savez(work / f"{name}_data.npz", images=np.clip(np.round((images + 1) * 127.5), 0, 255).astype("uint8"),
                 points=rng.normal(size=(6, *steps, 68, 2)).astype("float32"),
                 labels=labels.astype("float32"))

    procs = {}
    for backend in backends():
        env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(ROOT),
               "TF_CPP_MIN_LOG_LEVEL": "3",
               # XLA's CPU compiler at full optimisation takes ~1 s per tiny kernel
               "XLA_FLAGS": "--xla_backend_optimization_level=0 "
                            "--xla_llvm_disable_expensive_passes=true"}
        procs[backend] = subprocess.Popen(
            [sys.executable, "-c", SCRIPT, str(work), json.dumps(FAMILIES), json.dumps(TRAIN_STEP)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = {}
    for backend, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=600)
        lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
        assert proc.returncode == 0 and lines, f"{backend} failed:\n{stderr[-3000:]}"
        results[backend] = json.loads(lines[-1][len("RESULT "):])
    return work, results


@pytest.mark.parametrize("backend", backends())
def test_backend_is_the_one_asked_for(runs, backend):
    assert runs[1][backend]["backend"] == backend


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_ccc_loss_of_the_predictions_equals_numpy(runs, backend, name):
    work, results = runs
    pred = np.load(work / f"{name}_pred_{backend}.npy")
    labels = np.load(work / f"{name}_data.npz")["labels"]
    expected = np.mean([1 - ccc(labels[..., d], pred[..., d]) for d in (0, 1)])
    assert results[backend][name]["ccc_loss"] == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("name", TRAIN_STEP)
def test_one_training_step(runs, backend, name):
    loss = runs[1][backend][name]["train_loss"]
    assert np.isfinite(loss) and 0.0 <= loss <= 2.0  # 1 - rho_c lies in [0, 2]


@pytest.mark.skipif(len(backends()) < 2, reason="JAX is not installed")
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_same_weights_same_predictions_on_both_backends(runs, name):
    # padding, pooling, the GRU and the time folding must mean the same thing on both
    work, _ = runs
    tf_pred = np.load(work / f"{name}_pred_tensorflow.npy")
    jax_pred = np.load(work / f"{name}_pred_jax.npy")
    np.testing.assert_allclose(jax_pred, tf_pred, atol=1e-4, rtol=1e-4)
