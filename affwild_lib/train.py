"""Train and evaluate a named experiment (Sect. 4), resumably, on TensorFlow or JAX.

``train("affwildnet")`` writes ``experiments/affwildnet/``::

    model.keras        the weights of the epoch with the best validation CCC
    history.csv        per epoch: training loss, validation CCC and MSE, seconds
    train.json         how it was trained: initialisation used, held-out subjects, chosen
                       epoch, seconds (what evaluate reports beside the scores)
    checkpoint/        state.npz (weights incl. dropout RNG state, optimizer state, epoch,
                       best so far, numpy RNG state; written atomically after every epoch)
                       and state.json (the same bookkeeping, readable)
    metrics.json       test CCC pooled over all frames (the official evaluation, Sect. 4.1),
                       MSE, per-video CCC, the chosen epoch, the honest initialisation, ...
    scores.json        the headline test scores alone (DVC ``metrics``: ``dvc metrics show``)
    predictions.csv    per test frame: video, frame_index, labels and predictions
    plots/             Fig. 14's data (predictions and labels over the longest test video)
                       and Fig. 15's (label and prediction pairs), DVC ``plots``

A checkpoint that already holds every epoch is not "resumed" into doing nothing: a rerun
(e.g. DVC rerunning the stage after a code change) trains afresh. Asking for more epochs than
a finished run had resumes it. A checkpoint is resumed only with its ``history.csv`` and
``model.keras`` beside it (the DVC stage keeps them: ``persist``) and only into a model with the
same variables (their shapes, in order), so code that changed the architecture starts afresh.

Model selection: a fifth of the training *subjects* is held out (``data.subject_split``); the
epoch with the best mean validation CCC (valence, arousal) is kept, as the participants of the
challenge did (Sect. 4.1: "free to split the training data into train and validation").
Validation is measured against the release's labels, the quantity the test reports.

CNNs train on frames, CNN-RNNs on windows of consecutive frames of one video (Sect. 4.2.1.3);
an RNN is evaluated on non-overlapping windows covering every test frame (``data.eval_windows``).

Several devices: JAX uses ``keras.distribution.DataParallel`` (the CCC of a batch is then
computed over the whole global batch); TensorFlow uses ``tf.distribute.MirroredStrategy``
(the CCC loss is then per replica's share of the batch, averaged).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import warnings
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from . import data as D
from .engine import seed_everything
from .experiments import Experiment, resolve
from .losses import CCCLoss, mse_loss
from .metrics import ccc, mse
from .models import build, load_npz_weights
from .models.heads import set_landmark_statistics
from .store import FrameStore

CHECKPOINT = "checkpoint"
STATE = "state.npz"
TRAIN_RECORD = "train.json"
#: Test frames of the Fig. 14 stretch (the paper shows "over 6000 consecutive frames").
FIG14_FRAMES = 6000
#: Fields of an experiment that do not change what an epoch computes: a checkpoint made under
#: other values of these can be resumed (e.g. to train for more epochs).
RESUMABLE_FIELDS = ("epochs", "description", "tables", "store", "data_root", "profile")


def experiment_dir(name: str, out=None) -> Path:
    from .config import repo_root

    return Path(out) if out else repo_root() / "experiments" / name


# --------------------------------------------------------------------------------------------
# Devices


def distribution() -> tuple[contextlib.AbstractContextManager, int]:
    """(scope to build and compile the model in, number of devices): data parallel over every
    visible accelerator, or CPU device when there are several."""
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
# Model


def build_model(exp: Experiment) -> tuple[keras.Model, dict]:
    """The experiment's model, initialised as ``exp.init`` asks when a weights file fits.

    Returns the model and the initialisation actually used: pre-trained weights need the file
    (none are shipped) and full width; otherwise the model stays random and says why.
    """
    model = build(exp.model, **exp.model_config())
    if exp.bn_momentum is not None:  # see experiments.py: tiny runs are too short for 0.99
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = float(exp.bn_momentum)
    info = {"requested": exp.init, "used": "random", "weights_file": exp.weights, "note": ""}
    if exp.init == "random":
        info["note"] = "random initialisation requested"
    elif not exp.weights or not Path(exp.weights).is_file():
        info["note"] = f"no {exp.init} weights file ({exp.weights}); random initialisation"
    elif exp.width != 1:
        info["note"] = f"width {exp.width} != 1: full-size weights do not fit; random initialisation"
    else:
        info["layers"] = load_npz_weights(model, exp.weights)
        info["used"] = exp.init
    return model, info


def compile_model(model: keras.Model, exp: Experiment) -> None:
    loss = CCCLoss() if exp.loss == "ccc" else mse_loss
    model.compile(optimizer=keras.optimizers.Adam(exp.learning_rate), loss=loss)
    model.optimizer.build(model.trainable_variables)  # its variables exist before a restore


# --------------------------------------------------------------------------------------------
# Prediction over every frame of a set


def predict_rows(model, store: FrameStore, split: str, rows: np.ndarray, exp: Experiment,
                 batch_size: int | None = None) -> np.ndarray:
    """(len(rows), 2) predictions; batches padded to one size (one compiled shape)."""
    rows = np.asarray(rows, dtype=np.int64)
    out = np.full((len(rows), 2), np.nan, np.float32)
    position = np.full(len(store.table(split)), -1, np.int64)
    position[rows] = np.arange(len(rows))
    points = store.landmarks(split) if exp.landmarks and exp.model != "cnn_m" else None
    if exp.is_rnn:
        items, mask = D.eval_windows(store.table(split), rows, exp.seq_len)
    else:
        items, mask = rows, np.ones(len(rows), bool)
    b = batch_size or exp.batch_size
    for start in range(0, len(items), b):
        chunk = items[start:start + b]
        pad = b - len(chunk)
        padded = np.concatenate([chunk, np.repeat(chunk[-1:], pad, axis=0)]) if pad else chunk
        pred = keras.ops.convert_to_numpy(model.predict_on_batch(D.inputs_for(store, split, padded, points)))
        pred, keep = pred[:len(chunk)], mask[start:start + b]
        out[position[chunk[keep]]] = pred[keep]
    return out


def scores(labels: np.ndarray, pred: np.ndarray) -> dict:
    """CCC and MSE per dimension, pooled over the labelled frames (Sect. 4.1's evaluation)."""
    ok = ~np.isnan(labels).any(axis=1)
    if not ok.any():
        return {k: None for k in ("ccc_valence", "ccc_arousal", "ccc_mean", "mse_valence", "mse_arousal")}
    out = {f"ccc_{d}": ccc(labels[ok, i], pred[ok, i]) for i, d in enumerate(("valence", "arousal"))}
    out["ccc_mean"] = (out["ccc_valence"] + out["ccc_arousal"]) / 2
    out.update({f"mse_{d}": mse(labels[ok, i], pred[ok, i]) for i, d in enumerate(("valence", "arousal"))})
    return out


# --------------------------------------------------------------------------------------------
# Checkpoints


def _variables_hash(model) -> str:
    """Shapes of the model's variables in order: what a checkpoint is loaded into by index.
    (Not their names: Keras numbers unnamed layers per process, so names change between runs.)"""
    spec = [tuple(v.shape) for v in model.variables]
    return hashlib.sha256(json.dumps(spec).encode()).hexdigest()[:16]


def _config_hash(exp: Experiment) -> str:
    config = {k: v for k, v in exp.as_dict().items() if k not in RESUMABLE_FIELDS}
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _atomic(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp" + path.suffix)  # keep the suffix: np.savez, model.save
    write(tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def save_checkpoint(folder: Path, model, meta: dict) -> None:
    """Weights (every model variable, dropout RNG states included), optimizer state and
    ``meta`` in one file, replaced atomically: a kill leaves the previous epoch's intact."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {f"model_{i}": keras.ops.convert_to_numpy(v.value) for i, v in enumerate(model.variables)}
    arrays.update({f"opt_{i}": keras.ops.convert_to_numpy(v.value)
                   for i, v in enumerate(model.optimizer.variables)})
    arrays["meta"] = np.array(json.dumps(meta))
    _atomic(folder / STATE, lambda p: np.savez(p, **arrays))
    _atomic(folder / "state.json", lambda p: p.write_text(json.dumps(meta, indent=1) + "\n"))


def load_checkpoint(folder: Path, model) -> dict | None:
    path = folder / STATE
    if not path.is_file():
        return None
    with np.load(path) as archive:
        meta = json.loads(str(archive["meta"]))
        for i, v in enumerate(model.variables):
            v.assign(archive[f"model_{i}"])
        for i, v in enumerate(model.optimizer.variables):
            v.assign(archive[f"opt_{i}"])
    return meta


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    _atomic(path, lambda p: frame.to_csv(p, index=False))


# --------------------------------------------------------------------------------------------
# Training


def prepare_data(exp: Experiment):
    """The store, the split rows, training labels and the held-out subjects of ``exp``."""
    store = FrameStore(exp.store)
    if store.size != exp.input_size:
        raise ValueError(f"{exp.store}: crops of {store.size} px, the experiment wants "
                         f"{exp.input_size}; prepare the store at that size (params.yaml prepare.size)")
    table = store.table("train")
    train_rows, val_rows, held = D.subject_split(table, exp.data_root, exp.val_fraction, exp.seed)
    release = store.labels("train")
    annotators = None
    if exp.annotation == "single":
        labels, annotators = D.single_annotator_labels(store, "train", exp.data_root)
    elif exp.annotation == "mean":
        labels = release
    else:
        raise ValueError(f"annotation must be 'mean' or 'single', not {exp.annotation!r}")
    return store, train_rows, val_rows, held, labels, release, annotators


def train(name: str, profile: str | None = None, out=None, resume: bool = True, *,
          verbose="auto", on_epoch_end=None, evaluate_after: bool = True, **overrides) -> dict:
    """Train experiment ``name`` under ``profile``; evaluate the best epoch; return its metrics
    (``evaluate_after=False``: return the training record of ``train.json`` instead).

    ``resume``: continue from ``out/checkpoint`` after the last finished epoch (a run with
    other settings starts afresh, with a warning); False discards it. ``on_epoch_end(epoch,
    row)`` is called after each epoch's checkpoint. ``overrides`` replace resolved experiment
    fields (``epochs=1``, ``store=...``).
    """
    exp = resolve(name, profile, **overrides)
    folder = experiment_dir(name, out)
    folder.mkdir(parents=True, exist_ok=True)
    seed_everything(exp.seed)
    store, train_rows, val_rows, held, labels, release, annotators = prepare_data(exp)

    scope, n_devices = distribution()
    batch = exp.batch_size
    if batch % n_devices:
        batch = max(n_devices, batch - batch % n_devices)
        warnings.warn(f"batch {exp.batch_size} -> {batch}: a multiple of the {n_devices} devices")
    items = D.training_items(store, "train", train_rows, labels, exp.seq_len if exp.is_rnn else None,
                             exp.seq_stride, exp.oversampling, exp.seed)
    uses_points = exp.landmarks and exp.model != "cnn_m"
    dataset = D.StoreBatches(store, "train", items, labels, batch, uses_points, seed=exp.seed,
                             max_steps=exp.max_steps_per_epoch)
    with scope:
        model, init = build_model(exp)
        set_landmark_statistics(model, store.landmarks("train")[train_rows])
        compile_model(model, exp)

    ckpt = folder / CHECKPOINT
    meta = None
    if resume:
        meta = _resume(ckpt, model, exp, folder)
    else:
        (ckpt / STATE).unlink(missing_ok=True)
    if meta is None:
        meta = {"epoch": 0, "best_ccc": None, "best_epoch": None, "seconds": 0.0,
                "config_hash": _config_hash(exp), "variables_hash": _variables_hash(model), "init": init, "held_out_subjects": held,
                "annotators": annotators, "n_train_items": int(len(items))}
        for stale in ("history.csv", "model.keras"):
            (folder / stale).unlink(missing_ok=True)
    history = pd.read_csv(folder / "history.csv").to_dict("records") if meta["epoch"] else []

    for epoch in range(meta["epoch"], exp.epochs):
        started = time.perf_counter()
        dataset.set_epoch(epoch)
        fit = model.fit(dataset, epochs=1, verbose=verbose, shuffle=False)
        val = scores(release[val_rows], predict_rows(model, store, "train", val_rows, exp, batch))
        row = {"epoch": epoch + 1, "loss": float(fit.history["loss"][-1]),
               **{f"val_{k}": v for k, v in val.items()}, "seconds": time.perf_counter() - started}
        history.append(row)
        improved = np.isfinite(val["ccc_mean"]) and (meta["best_ccc"] is None
                                                     or not np.isfinite(meta["best_ccc"])
                                                     or val["ccc_mean"] > meta["best_ccc"])
        if improved or not (folder / "model.keras").is_file():  # always keep some model
            meta.update(best_ccc=val["ccc_mean"], best_epoch=epoch + 1)
            _atomic(folder / "model.keras", lambda p: model.save(p))
        _write_csv(folder / "history.csv", pd.DataFrame(history))
        meta.update(epoch=epoch + 1, seconds=meta["seconds"] + row["seconds"],
                    numpy_rng=_rng_state())
        save_checkpoint(ckpt, model, meta)
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1, row)
    record = {"experiment": name, "profile": exp.profile, "epochs_run": meta["epoch"],
              "epoch_chosen": meta["best_epoch"], "validation_ccc_mean": meta["best_ccc"],
              "seconds": meta["seconds"], "backend": keras.backend.backend(), "n_devices": n_devices,
              **{k: meta.get(k) for k in ("init", "held_out_subjects", "annotators", "n_train_items")}}
    _atomic(folder / TRAIN_RECORD, lambda p: p.write_text(json.dumps(record, indent=1) + "\n"))
    return evaluate(name, profile, out, **overrides) if evaluate_after else record


def _rng_state():
    state = np.random.get_state()
    return [state[0], state[1].tolist(), *state[2:]]


def _resume(ckpt: Path, model, exp: Experiment, folder: Path) -> dict | None:
    path = ckpt / STATE
    if not path.is_file():
        return None
    with np.load(path) as archive:
        stored = json.loads(str(archive["meta"]))
    if stored.get("config_hash") != _config_hash(exp):
        warnings.warn(f"{ckpt}: made with other settings; training from scratch")
        return None
    if stored.get("variables_hash") != _variables_hash(model):
        warnings.warn(f"{ckpt}: made for another architecture (the code changed); training from scratch")
        return None
    if not ((folder / "history.csv").is_file() and (folder / "model.keras").is_file()):
        warnings.warn(f"{ckpt}: its history.csv or model.keras is gone; training from scratch")
        return None
    if stored.get("epoch", 0) >= exp.epochs:
        print(f"{ckpt}: a finished run of {stored['epoch']} epochs; training again from scratch")
        return None
    meta = load_checkpoint(ckpt, model)
    if meta.get("numpy_rng"):
        name, keys, *rest = meta["numpy_rng"]
        np.random.set_state((name, np.array(keys, dtype=np.uint32), *rest))
    return meta


# --------------------------------------------------------------------------------------------
# Evaluation


def evaluate(name: str, profile: str | None = None, out=None, **overrides) -> dict:
    """Evaluate the saved best model of ``name`` on the test split; write metrics.json and
    predictions.csv; return the metrics."""
    exp = resolve(name, profile, **overrides)
    folder = experiment_dir(name, out)
    if not (folder / "model.keras").is_file():
        raise FileNotFoundError(f"{folder / 'model.keras'}: train the experiment first")
    store = FrameStore(exp.store)
    scope, n_devices = distribution()
    with scope:
        model = keras.saving.load_model(folder / "model.keras", compile=False)
    table = store.table("test")
    labels = store.labels("test")
    pred = predict_rows(model, store, "test", np.arange(len(table)), exp)
    predictions = pd.DataFrame({"video": table["video"].astype(str), "frame_index": table["frame_index"],
                                "valence": labels[:, 0], "arousal": labels[:, 1],
                                "valence_pred": pred[:, 0], "arousal_pred": pred[:, 1]})
    _write_csv(folder / "predictions.csv", predictions)

    history = pd.read_csv(folder / "history.csv")
    record = folder / TRAIN_RECORD
    meta = json.loads(record.read_text()) if record.is_file() else {}
    chosen = meta.get("epoch_chosen")  # train.json: the epoch model.keras holds
    best = (history.loc[history["epoch"] == chosen].iloc[0] if chosen in set(history["epoch"])
            else history.loc[history["val_ccc_mean"].idxmax()])
    per_video = {str(v): {**scores(labels[idx], pred[idx]), "n_frames": int(len(idx))}
                 for v, idx in table.groupby("video", sort=False).indices.items()}
    test = scores(labels, pred)
    metrics = {
        "experiment": name, "tables": list(exp.tables), **test,
        "n_test_frames": int(len(table)), "per_video": per_video,
        "validation": {k.removeprefix("val_"): float(best[k]) for k in history if k.startswith("val_")},
        "epoch_chosen": int(best["epoch"]), "epochs_run": int(len(history)),
        "wall_seconds": float(history["seconds"].sum()),
        "backend": keras.backend.backend(), "n_devices": n_devices, "profile": exp.profile,
        "data_source": "synthetic" if (Path(exp.data_root) / "synth_truth").is_dir() else "real",
        "n_params": int(model.count_params()),
        "initialisation": meta.get("init") or {"requested": exp.init, "used": "unknown"},
        "held_out_subjects": meta.get("held_out_subjects"),
        "single_annotators": meta.get("annotators"),
        "config": exp.as_dict(),
    }
    _atomic(folder / "metrics.json", lambda p: p.write_text(json.dumps(metrics, indent=1) + "\n"))
    headline = {k: metrics[k] for k in ("ccc_valence", "ccc_arousal", "ccc_mean", "mse_valence",
                                        "mse_arousal", "epoch_chosen", "n_test_frames")}
    _atomic(folder / "scores.json", lambda p: p.write_text(json.dumps(headline, indent=1) + "\n"))
    write_plot_data(folder / "plots", predictions)
    return metrics


def write_plot_data(folder: Path, predictions: pd.DataFrame) -> None:
    """Fig. 14 and Fig. 15 data of one experiment, as DVC ``plots`` read them.

    ``fig14.csv``: predictions and labels over up to :data:`FIG14_FRAMES` frames of the longest
    test video (Sect. 4.2.2: "over 6000 consecutive frames of test data");
    ``fig15_labels.csv`` and ``fig15_predictions.csv``: every test frame's (valence, arousal) as
    labelled and as predicted (the two 2-D histograms of Fig. 15).
    """
    folder.mkdir(parents=True, exist_ok=True)
    longest = predictions["video"].value_counts(sort=True).index[0]
    stretch = predictions[predictions["video"] == longest].head(FIG14_FRAMES)
    _write_csv(folder / "fig14.csv", stretch.reset_index(drop=True))
    _write_csv(folder / "fig15_labels.csv", predictions[["valence", "arousal"]])
    _write_csv(folder / "fig15_predictions.csv", predictions[["valence_pred", "arousal_pred"]]
               .set_axis(["valence", "arousal"], axis=1))


def model_info(name: str, profile: str | None = None, **overrides) -> dict:
    """Parameters and model config of an experiment, without allocating its weights."""
    from .models import count_params

    exp = resolve(name, profile, **overrides)
    return {"experiment": name, "model": exp.model, "config": exp.model_config(),
            "n_params": count_params(exp.model, **exp.model_config()), "tables": list(exp.tables)}


__all__ = ["build_model", "evaluate", "experiment_dir", "model_info", "predict_rows", "scores", "train"]
