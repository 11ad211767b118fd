"""The one machinery that trains, predicts, scores and writes an experiment (Sects. 4 and 5).

``train.py`` (checkpoints and resume of a Sect. 4 experiment), ``transfer.py`` (folds and clip
aggregation of Sect. 5) and ``predict.py`` (any video) all run on what is here:

* :func:`seed_everything`: a run is a function of its seed;
* :func:`distribution`: data parallel over the visible devices;
* :func:`set_bn_momentum`, :func:`init_from_weights`, :func:`compile_model`: the model as an
  experiment asks for it;
* :func:`predict_batch`, :func:`predict_rows`: the one prediction loop, in batches of a fixed
  shape (padded), windows for a CNN-RNN;
* :func:`fit_epochs`, :func:`improves`: the epoch loop and model selection on validation;
* :func:`va_scores`, :func:`data_source`, :func:`va_predictions`, :func:`write_results`: the
  scores and the files every experiment writes.
"""
from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING

import keras
import numpy as np
import pandas as pd

from .atomic import write_file, write_json
from .config import data_source  # noqa: F401  (E.data_source: what train and transfer label runs with)

if TYPE_CHECKING:
    from .experiments import Experiment


# --------------------------------------------------------------------------------------------
# Seeds


def seed_everything(seed: int) -> None:
    """Make a run a function of ``seed``: Python's, NumPy's and the backend's random streams
    seeded, and the backend's ops deterministic, so the same seed gives the same scores.

    TensorFlow: ``enable_op_determinism`` (ops with no deterministic kernel then raise rather
    than vary). JAX is deterministic on the CPU; on a GPU it is only when started with
    ``XLA_FLAGS=--xla_gpu_deterministic_ops=true`` (scatter-adds and some reductions otherwise
    run in varying order), which must be set before JAX starts and costs speed, so it is left
    to the user (book page *Using the real datasets and a GPU*).
    """
    keras.utils.set_random_seed(int(seed))
    np.random.seed(int(seed))
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()



# --------------------------------------------------------------------------------------------
# Where an experiment's files go


def experiment_dir(name: str, out=None) -> Path:
    """``out``, or ``experiments/<name>/`` of the repository."""
    from .config import repo_root

    return Path(out) if out else repo_root() / "experiments" / name


# --------------------------------------------------------------------------------------------
# Devices


def distribution() -> tuple[contextlib.AbstractContextManager, int]:
    """(scope to build and compile the model in, number of devices): data parallel over every
    visible accelerator, or CPU device when there are several.

    JAX: ``keras.distribution.DataParallel`` (the CCC of a batch is then computed over the
    whole global batch); TensorFlow: ``tf.distribute.MirroredStrategy`` (the CCC loss is then
    per replica's share of the batch, averaged).
    """
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        devices = jax.devices()
        if len(devices) > 1:
            keras.distribution.set_distribution(keras.distribution.DataParallel(
                devices=keras.distribution.list_devices()))
        return contextlib.nullcontext(), len(devices)
    if backend == "tensorflow":
        import tensorflow as tf

        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        if len(devices) > 1:
            return tf.distribute.MirroredStrategy([d.name for d in devices]).scope(), len(devices)
    return contextlib.nullcontext(), 1


# --------------------------------------------------------------------------------------------
# Models


def set_bn_momentum(model: keras.Model, momentum: float | None) -> None:
    """Batch-norm moving-average momentum (``None``: the model's own); see experiments.py on
    why tiny runs use 0.9."""
    if momentum is None:
        return
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = float(momentum)


def init_from_weights(model: keras.Model, exp: Experiment) -> dict:
    """Sect. 4.2's pre-trained initialisation from ``exp.weights`` (the profile's file for the
    backbone: the synthetic pre-training's, :mod:`affwild_lib.pretrain`, or converted real
    weights). A missing file leaves the model random and says so; a file that does not fit the
    model (other width or crop size) is an error naming it. ``weights.json`` beside a file
    (written by the pre-training) says what it was trained on."""
    import json

    from .models import load_npz_weights

    info = {"requested": exp.init, "used": "random", "weights_file": exp.weights, "note": ""}
    if exp.init == "random":
        info["note"] = "random initialisation requested"
    elif not exp.weights or not Path(exp.weights).is_file():
        info["note"] = f"no {exp.init} weights file ({exp.weights}); random initialisation"
    else:
        info["layers"] = load_npz_weights(model, exp.weights)
        info["used"] = exp.init
        record = Path(exp.weights).with_suffix(".json")
        if record.is_file():
            made = json.loads(record.read_text())
            info["pretrained_on"] = {k: made.get(k) for k in (
                "corpus", "stands_for", "classes", "train_images", "steps", "final_val_accuracy")}
            info["note"] = f"synthetic pre-training on the {made.get('corpus')} corpus ({made.get('stands_for')})"
        else:
            info["note"] = "weights file without a pre-training record (converted real weights)"
    return info


def compile_model(model: keras.Model, exp: Experiment) -> None:
    """Adam at the experiment's learning rate, on its loss: the CCC loss (Eq. 3), MSE (the
    challenge baseline, Sect. 4.1.1) or cross-entropy (Sect. 5.2). The optimizer's variables
    are made now, so that a checkpoint can be restored into them."""
    from .losses import CCCLoss, mse_loss

    losses = {"ccc": CCCLoss, "mse": lambda: mse_loss,
              "crossentropy": keras.losses.SparseCategoricalCrossentropy}
    if exp.loss not in losses:
        raise ValueError(f"loss must be one of {sorted(losses)}, not {exp.loss!r}")
    model.compile(optimizer=keras.optimizers.Adam(exp.learning_rate), loss=losses[exp.loss]())
    model.optimizer.build(model.trainable_variables)


# --------------------------------------------------------------------------------------------
# Prediction: one loop, fixed batch shapes


def predict_batch(model: keras.Model, inputs, size: int) -> np.ndarray:
    """Predictions of the ``n <= size`` items of ``inputs`` (an array, or a tuple of arrays with
    the items along axis 0): the batch is padded to ``size`` with its last item, so every call
    has one shape and the model compiles once; the padding's predictions are dropped. Images
    are the store's uint8 crops: the model normalises them (:func:`affwild_lib.models.heads.pixels`)."""
    from .models.heads import check_images

    arrays = inputs if isinstance(inputs, tuple) else (inputs,)
    check_images(model, arrays[0])
    n = len(arrays[0])
    if n > size:
        raise ValueError(f"{n} items for a batch of {size}")
    padded = tuple(np.concatenate([a, np.repeat(a[-1:], size - n, axis=0)]) if n < size else a
                   for a in arrays)
    out = model.predict_on_batch(padded if isinstance(inputs, tuple) else padded[0])
    return keras.ops.convert_to_numpy(out)[:n]


def predict_rows(model: keras.Model, store, split: str, rows: np.ndarray, exp: Experiment,
                 batch_size: int | None = None) -> np.ndarray:
    """(len(rows), outputs) predictions of store rows, every row once: frames for a CNN;
    for a CNN-RNN, non-overlapping windows of ``exp.seq_len`` frames covering each video's
    rows (:func:`affwild_lib.data.eval_windows`), each from a zero state, as evaluation scores
    them (Sect. 4.2.1.3)."""
    from . import data as D

    rows = np.asarray(rows, dtype=np.int64)
    position = np.full(len(store.table(split)), -1, np.int64)
    position[rows] = np.arange(len(rows))
    points = store.landmarks(split) if exp.uses_landmarks else None
    if exp.is_rnn:
        items, mask = D.eval_windows(store.table(split), rows, exp.seq_len)
    else:
        items, mask = rows, np.ones(len(rows), bool)
    out = np.full((len(rows), int(model.outputs[0].shape[-1])), np.nan, np.float32)
    b = batch_size or exp.batch_size
    for start in range(0, len(items), b):
        chunk, keep = items[start:start + b], mask[start:start + b]
        pred = predict_batch(model, D.inputs_for(store, split, chunk, points), b)
        out[position[chunk[keep]]] = pred[keep]
    return out


def predict_stream(model: keras.Model, store, split: str, window: int, landmarks: bool,
                   mode: str = "stream") -> np.ndarray:
    """(rows, 2) predictions of every row of ``split`` by a CNN-RNN run over each whole video
    (:mod:`affwild_lib.streaming`: ``mode`` "stream", the state carried, what ``affwild predict``
    does; or "sliding"), clipped to [-1, 1] as ``predict`` clips them. Not the tables' protocol
    (that is :func:`predict_rows`): the figures beside it."""
    from .streaming import Streamer, predict_video_rows

    table = store.table(split)
    points = store.landmarks(split) if landmarks else None
    out = np.full((len(table), 2), np.nan, np.float32)
    streamer = Streamer(model, window, mode)  # one for every video: compiled once
    for _, idx in table.groupby("video", sort=False).indices.items():
        idx = np.sort(idx)  # a video's rows in frame order
        out[idx] = predict_video_rows(model, store.images(split, idx),
                                      None if points is None else points[idx], window, mode,
                                      streamer=streamer)
    return np.clip(out, -1.0, 1.0)


# --------------------------------------------------------------------------------------------
# Training: the epoch loop with model selection


def improves(score: float, best: float | None) -> bool:
    """Whether an epoch's validation ``score`` beats ``best`` so far: the first epoch always
    counts (some model must be kept), a NaN never beats a number."""
    return best is None or (np.isfinite(score) and (not np.isfinite(best) or score > best))


def fit_epochs(model: keras.Model, dataset, epochs: int, validate, *, start: int = 0,
               best: float | None = None, verbose="auto", on_epoch_end=None) -> float | None:
    """Train epochs ``start`` .. ``epochs - 1``, one ``model.fit`` each (the dataset's order is
    a function of the seed and the epoch: :meth:`affwild_lib.data.StoreBatches.set_epoch`),
    and validate after each: ``validate(model)`` returns ``(score, columns)``, the score that
    chooses the epoch (Sect. 4.1: the best on a held-out part of the training data) and what
    the history records. ``on_epoch_end(epoch, row, improved)`` keeps what the caller keeps
    (a checkpoint, the best weights). Returns the best score."""
    for epoch in range(start, epochs):
        started = time.perf_counter()
        dataset.set_epoch(epoch)
        fit = model.fit(dataset, epochs=1, verbose=verbose, shuffle=False)
        score, columns = validate(model)
        score = float("nan") if score is None else score  # nothing to validate on: no choice
        row = {"epoch": epoch + 1, "loss": float(fit.history["loss"][-1]), **columns,
               "seconds": time.perf_counter() - started}
        improved = improves(score, best)
        if improved:
            best = score
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1, row, improved)
    return best


# --------------------------------------------------------------------------------------------
# Scores and outputs


def va_scores(labels: np.ndarray, pred: np.ndarray) -> dict:
    """CCC (Eq. 1), Pearson CC (Eq. 5) and MSE per dimension, pooled over the labelled frames
    (Sect. 4.1's evaluation), and the CCC mean; None when no frame is labelled."""
    from .metrics import ccc, mse, pearson

    keys = [f"{m}_{d}" for d in ("valence", "arousal") for m in ("ccc", "pcc", "mse")] + ["ccc_mean"]
    ok = ~np.isnan(labels).any(axis=1)
    if not ok.any():
        return dict.fromkeys(keys)
    out = {}
    for i, d in enumerate(("valence", "arousal")):
        y, p = labels[ok, i], pred[ok, i]
        out.update({f"ccc_{d}": ccc(y, p), f"pcc_{d}": pearson(y, p), f"mse_{d}": mse(y, p)})
    out["ccc_mean"] = (out["ccc_valence"] + out["ccc_arousal"]) / 2
    return out


def va_predictions(table, labels: np.ndarray, pred: np.ndarray, **columns) -> pd.DataFrame:
    """One row per frame: video, frame_index, any ``columns``, the labels and the predictions
    (``predictions.csv``)."""
    return pd.DataFrame({"video": np.asarray(table["video"]).astype(str),
                         "frame_index": np.asarray(table["frame_index"]), **columns,
                         "valence": labels[:, 0], "arousal": labels[:, 1],
                         "valence_pred": pred[:, 0], "arousal_pred": pred[:, 1]})


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    write_file(path, lambda p: frame.to_csv(p, index=False))


def write_results(folder: Path, metrics: dict, headline) -> None:
    """``metrics.json``, and ``scores.json`` with the ``headline`` keys alone (DVC ``metrics``:
    ``dvc metrics show``)."""
    write_json(folder / "metrics.json", metrics)
    write_json(folder / "scores.json", {k: metrics[k] for k in headline})
