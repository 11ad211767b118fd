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

The epoch loop, the prediction loop, the scores, the devices and the writers are
:mod:`affwild_lib.engine`'s, shared with Sect. 5 (:mod:`affwild_lib.transfer`); what is here is
the checkpoint and resume of a Sect. 4 experiment, and its outputs.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from . import data as D
from . import engine as E
from .atomic import read_npz, write_file, write_json
from .engine import experiment_dir
from .experiments import Experiment, resolve
from .models import build
from .models.heads import set_landmark_statistics
from .store import FrameStore

CHECKPOINT = "checkpoint"
STATE = "state.npz"
TRAIN_RECORD = "train.json"
#: Test frames of the Fig. 14 stretch (the paper shows "over 6000 consecutive frames").
FIG14_FRAMES = 6000
#: Fields of an experiment that do not change what an epoch computes: a checkpoint made under
#: other values of these can be resumed (e.g. to train for more epochs).
RESUMABLE_FIELDS = ("epochs", "description", "tables", "store", "data_root", "profile", "seeds")
#: Where the further seeds of an experiment train (``seeds/seed-<s>/``, the train stage's) and
#: where evaluate writes their test predictions (``seed_predictions/seed-<s>.csv``).
SEEDS, SEED_PREDICTIONS = "seeds", "seed_predictions"
#: What ``scores.json`` holds (``dvc metrics show``).
HEADLINE = ("ccc_valence", "ccc_arousal", "ccc_mean", "mse_valence", "mse_arousal", "epoch_chosen",
            "n_test_frames")


# --------------------------------------------------------------------------------------------
# Model


def _sect4(exp: Experiment) -> Experiment:
    """``exp``, checked to be a Sect. 4 (Aff-Wild) experiment: Sect. 5's rows run in transfer.py."""
    if exp.dataset != "affwild":
        raise ValueError(f"{exp.name} is a Sect. 5 experiment: run it with `affwild transfer {exp.name}`")
    return exp


def build_model(exp: Experiment) -> tuple[keras.Model, dict]:
    """The experiment's model, initialised as ``exp.init`` asks when a weights file fits, and
    the initialisation actually used (:func:`affwild_lib.engine.init_from_weights`)."""
    model = build(exp.model, **exp.model_config())
    E.set_bn_momentum(model, exp.bn_momentum)
    return model, E.init_from_weights(model, exp)


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


def save_checkpoint(folder: Path, model, meta: dict) -> None:
    """Weights (every model variable, dropout RNG states included), optimizer state and
    ``meta`` in one file, replaced atomically: a kill leaves the previous epoch's intact."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {f"model_{i}": keras.ops.convert_to_numpy(v.value) for i, v in enumerate(model.variables)}
    arrays.update({f"opt_{i}": keras.ops.convert_to_numpy(v.value)
                   for i, v in enumerate(model.optimizer.variables)})
    arrays["meta"] = np.array(json.dumps(meta))
    write_file(folder / STATE, lambda p: np.savez(p, **arrays), keep_suffix=True)
    write_json(folder / "state.json", meta)


def load_checkpoint(folder: Path, model) -> dict | None:
    path = folder / STATE
    if not path.is_file():
        return None
    archive = read_npz(path, "train again without it: `affwild train EXP --no-resume`")
    meta = json.loads(str(archive["meta"]))
    for i, v in enumerate(model.variables):
        v.assign(archive[f"model_{i}"])
    for i, v in enumerate(model.optimizer.variables):
        v.assign(archive[f"opt_{i}"])
    return meta


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
          verbose="auto", on_epoch_end=None, evaluate_after: bool = True,
          trained: dict | None = None, **overrides) -> dict:
    """Train experiment ``name`` under ``profile``; evaluate the best epoch; return its metrics
    (``evaluate_after=False``: return the training record of ``train.json`` instead).

    ``resume``: continue from ``out/checkpoint`` after the last finished epoch (a run with
    other settings starts afresh, with a warning); False discards it. ``on_epoch_end(epoch,
    row)`` is called after each epoch's checkpoint. ``overrides`` replace resolved experiment
    fields (``epochs=1``, ``store=...``). ``trained``: where the model goes, its best epoch's
    weights set, under the run's folder (when that epoch was trained in this process), for
    :func:`evaluate` to use rather than load ``model.keras`` again.
    """
    exp = _sect4(resolve(name, profile, **overrides))
    folder = experiment_dir(name, out)
    folder.mkdir(parents=True, exist_ok=True)
    E.seed_everything(exp.seed)
    store, train_rows, val_rows, held, labels, release, annotators = prepare_data(exp)

    scope, n_devices = E.distribution()
    batch = exp.batch_size
    if batch % n_devices:
        batch = max(n_devices, batch - batch % n_devices)
        warnings.warn(f"batch {exp.batch_size} -> {batch}: a multiple of the {n_devices} devices")
    items = D.training_items(store, "train", train_rows, labels, exp.seq_len if exp.is_rnn else None,
                             exp.seq_stride, exp.oversampling, exp.seed)
    dataset = D.StoreBatches(store, "train", items, labels, batch, exp.uses_landmarks, seed=exp.seed,
                             max_steps=exp.max_steps_per_epoch)
    with scope:
        model, init = build_model(exp)
        set_landmark_statistics(model, store.landmarks("train")[train_rows])
        E.compile_model(model, exp)

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

    def validate(model):  # against the release's labels, the quantity the test reports
        val = E.va_scores(release[val_rows], E.predict_rows(model, store, "train", val_rows, exp, batch))
        return val["ccc_mean"], {f"val_{k}": v for k, v in val.items()}

    best_weights = {}

    def keep(epoch, row, improved):  # the best model, the history, then the checkpoint
        history.append(row)
        if improved:
            meta.update(best_ccc=row["val_ccc_mean"], best_epoch=epoch)
            write_file(folder / "model.keras", lambda p: model.save(p), keep_suffix=True)
            if trained is not None or evaluate_after:
                best_weights["weights"] = model.get_weights()
        E.write_csv(folder / "history.csv", pd.DataFrame(history))
        meta.update(epoch=epoch, seconds=meta["seconds"] + row["seconds"], numpy_rng=_rng_state())
        save_checkpoint(ckpt, model, meta)
        if on_epoch_end is not None:
            on_epoch_end(epoch, row)

    E.fit_epochs(model, dataset, exp.epochs, validate, start=meta["epoch"], best=meta["best_ccc"],
                 verbose=verbose, on_epoch_end=keep)
    record = {"experiment": name, "profile": exp.profile, "epochs_run": meta["epoch"],
              "epoch_chosen": meta["best_epoch"], "validation_ccc_mean": meta["best_ccc"],
              "seconds": meta["seconds"], "backend": keras.backend.backend(), "n_devices": n_devices,
              **{k: meta.get(k) for k in ("init", "held_out_subjects", "annotators", "n_train_items")}}
    write_json(folder / TRAIN_RECORD, record)
    trained = {} if trained is None else trained
    if best_weights:  # the model.keras just written, without loading it (and tracing it) again
        model.set_weights(best_weights["weights"])
        trained[str(folder)] = model
    return evaluate(name, profile, out, trained=trained, **overrides) if evaluate_after else record


def seed_runs(exp: Experiment, folder: Path) -> list[tuple[int, Path]]:
    """(seed, folder) of every training run of ``exp``: the first seed in ``folder`` itself,
    the others in ``folder/seeds/seed-<s>``."""
    return [(exp.seed + k, folder if k == 0 else folder / SEEDS / f"seed-{exp.seed + k}")
            for k in range(max(1, exp.seeds))]


def train_seeds(name: str, profile: str | None = None, out=None, *, log=None, **kw) -> list[dict]:
    """:func:`train` once per seed of the profile (``train.seeds``), each resumable on its own;
    writes ``seeds/seeds.json``; returns the training records. One run per row cannot tell a
    gap from seed-to-seed noise (``shared/notes``: test CCC spreads by 0.08 over 3 seeds)."""
    overrides = {k: v for k, v in kw.items() if k not in ("resume", "verbose", "on_epoch_end", "trained")}
    exp = _sect4(resolve(name, profile, **overrides))
    folder = experiment_dir(name, out)
    records, runs = [], seed_runs(exp, folder)
    for seed, run_folder in runs:
        if log and exp.seeds > 1:
            log(f"{name}: seed {seed}")
        records.append(train(name, profile, out=run_folder, evaluate_after=False,
                             **{**kw, "seed": seed}))
    (folder / SEEDS).mkdir(parents=True, exist_ok=True)
    write_json(folder / SEEDS / "seeds.json", {"experiment": name, "seeds": [s for s, _ in runs],
                                               "validation_ccc_mean": [r["validation_ccc_mean"] for r in records]})
    return records


def _rng_state():
    state = np.random.get_state()
    return [state[0], state[1].tolist(), *state[2:]]


def _resume(ckpt: Path, model, exp: Experiment, folder: Path) -> dict | None:
    path = ckpt / STATE
    if not path.is_file():
        return None
    try:
        stored = json.loads(str(read_npz(path, "training from scratch", keys=["meta"])["meta"]))
    except ValueError as error:  # a damaged checkpoint is no reason to stop: start again, say so
        warnings.warn(str(error))
        return None
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


def _test_predictions(model_path: Path, exp: Experiment, store: FrameStore, model=None):
    """A saved model's test predictions: (model, per-frame frame of predictions, (n, 2)
    predictions, streaming scores or None). CNN-RNNs: the tables' non-overlapping windows of the
    training length (the paper's protocol), and beside them the state carried across each
    video, as ``predict`` runs (``valence_stream``, ``arousal_stream``). ``model``: that file's
    model in memory already (just trained), used as it is."""
    model = model if model is not None else _load_fitting(model_path, exp, store).model
    table, labels = store.table("test"), store.labels("test")
    pred = E.predict_rows(model, store, "test", np.arange(len(table)), exp)
    predictions = E.va_predictions(table, labels, pred)
    streaming = None
    if exp.is_rnn:
        stream = E.predict_stream(model, store, "test", exp.seq_len, exp.uses_landmarks)
        predictions["valence_stream"], predictions["arousal_stream"] = stream[:, 0], stream[:, 1]
        streaming = {**E.va_scores(labels, stream), "mode": "stream", "clipped_to": [-1, 1]}
    return model, predictions, pred, streaming


def _kind(recurrent: bool) -> str:
    return "CNN-RNN" if recurrent else "CNN"


def _check_size(loaded, store: FrameStore, store_path) -> None:
    if store.size != loaded.input_size:
        raise ValueError(f"{loaded.path}: the model takes {loaded.input_size} x {loaded.input_size} "
                         f"crops, the store {store_path} holds {store.size} x {store.size}: prepare "
                         f"the data at --size {loaded.input_size} (the profile's prepare.size)")


def _load_fitting(model_path: Path, exp: Experiment, store: FrameStore):
    """Experiment ``exp``'s saved model, checked to be a model file, of the experiment's kind
    (CNN or CNN-RNN, landmarks or not) and of the store's crop size, so that a wrong file is
    named rather than failing deep in Keras (issue 20)."""
    from .trained import load

    with E.distribution()[0]:
        loaded = load(model_path)
    if loaded.recurrent != exp.is_rnn or loaded.landmarks != exp.uses_landmarks:
        def what(recurrent, landmarks):
            return f"a {_kind(recurrent)} {'with' if landmarks else 'without'} landmarks"

        raise ValueError(f"{model_path}: {what(loaded.recurrent, loaded.landmarks)}, but {exp.name} is "
                         f"{what(exp.is_rnn, exp.uses_landmarks)}: not this experiment's model "
                         f"(train it again: affwild train {exp.name})")
    _check_size(loaded, store, exp.store)
    return loaded


#: The scores summarised over seeds (mean, sample sd, min, max): what the tables show.
SEED_SCORES = ("ccc_valence", "ccc_arousal", "ccc_mean", "mse_valence", "mse_arousal")


def seed_summary(runs: list[dict], keys=SEED_SCORES) -> dict:
    """Mean, sample standard deviation (None for one seed), min and max of each score of
    ``keys`` over the seeds' test scores."""
    out = {"n_seeds": len(runs)}
    for key in keys:
        values = np.array([r[key] for r in runs], dtype=float)
        out[key] = {"mean": float(values.mean()), "min": float(values.min()), "max": float(values.max()),
                    "sd": float(values.std(ddof=1)) if len(values) > 1 else None}
    return out


def evaluate(name: str, profile: str | None = None, out=None, trained: dict | None = None,
             **overrides) -> dict:
    """Evaluate the saved best model of ``name`` (and of each further seed) on the test split;
    write metrics.json, predictions.csv and seed_predictions/; return the metrics. Nothing is
    written until every input is there. ``trained``: run folder -> the model of its
    ``model.keras`` already in memory (:func:`train`'s), used instead of loading the file."""
    trained = trained or {}
    exp = _sect4(resolve(name, profile, **overrides))
    folder = experiment_dir(name, out)
    runs = seed_runs(exp, folder)
    for _, run_folder in runs:
        if not (run_folder / "model.keras").is_file():
            raise FileNotFoundError(f"{run_folder / 'model.keras'}: train the experiment first")
    for _, run_folder in runs:
        if not (run_folder / "history.csv").is_file():
            raise FileNotFoundError(f"{run_folder / 'history.csv'}: train the experiment first")
    store = FrameStore(exp.store)
    n_devices = E.distribution()[1]
    table, labels = store.table("test"), store.labels("test")
    model, predictions, pred, streaming = _test_predictions(folder / "model.keras", exp, store,
                                                            trained.get(str(folder)))
    seeds = [{"seed": exp.seed, **E.va_scores(labels, pred), "streaming": streaming}]
    seed_frames = {}
    for seed, run_folder in runs[1:]:
        _, frame, seed_pred, seed_stream = _test_predictions(run_folder / "model.keras", exp, store,
                                                             trained.get(str(run_folder)))
        seeds.append({"seed": seed, **E.va_scores(labels, seed_pred), "streaming": seed_stream})
        seed_frames[seed] = frame

    history = pd.read_csv(folder / "history.csv")
    record = folder / TRAIN_RECORD
    meta = json.loads(record.read_text()) if record.is_file() else {}
    chosen = meta.get("epoch_chosen")  # train.json: the epoch model.keras holds
    best = (history.loc[history["epoch"] == chosen].iloc[0] if chosen in set(history["epoch"])
            else history.loc[history["val_ccc_mean"].idxmax()])
    per_video = {str(v): {**E.va_scores(labels[idx], pred[idx]), "n_frames": int(len(idx))}
                 for v, idx in table.groupby("video", sort=False).indices.items()}
    metrics = {
        "experiment": name, "tables": list(exp.tables), **E.va_scores(labels, pred),
        "n_test_frames": int(len(table)), "per_video": per_video, "streaming": streaming,
        "seeds": seeds, "seed_summary": seed_summary(seeds),
        "validation": {k.removeprefix("val_"): float(best[k]) for k in history if k.startswith("val_")},
        "epoch_chosen": int(best["epoch"]), "epochs_run": int(len(history)),
        "wall_seconds": float(history["seconds"].sum()),
        "backend": keras.backend.backend(), "n_devices": n_devices, "profile": exp.profile,
        "data_source": E.data_source(exp.data_root),
        "n_params": int(model.count_params()),
        "initialisation": meta.get("init") or {"requested": exp.init, "used": "unknown"},
        "held_out_subjects": meta.get("held_out_subjects"),
        "single_annotators": meta.get("annotators"),
        "config": exp.as_dict(),
    }
    for _, run_folder in runs[1:]:  # every seed's training time
        metrics["wall_seconds"] += float(pd.read_csv(run_folder / "history.csv")["seconds"].sum())
    (folder / SEED_PREDICTIONS).mkdir(parents=True, exist_ok=True)
    for seed, frame in seed_frames.items():
        E.write_csv(folder / SEED_PREDICTIONS / f"seed-{seed}.csv", frame)
    write_json(folder / SEED_PREDICTIONS / "seeds.json", {"seeds": [r["seed"] for r in seeds],
                                                          "first_seed_in": "predictions.csv"})
    E.write_csv(folder / "predictions.csv", predictions)
    E.write_results(folder, metrics, HEADLINE)
    write_plot_data(folder / "plots", predictions)
    return metrics


def evaluate_weights(name: str, weights, out, profile: str | None = None, **overrides) -> dict:
    """Evaluate a model file that no experiment of ours trained, e.g. the authors' released
    AffWildNet after ``affwild weights import``, as experiment ``name``'s row is evaluated: on
    the profile's Aff-Wild test split with the tables' protocol (Sect. 4.1: CCC pooled over
    all frames; a CNN-RNN in non-overlapping windows of its sequence length, each from a zero
    state), landmarks fed only if the model takes them. Writes ``out/metrics.json`` and
    ``out/predictions.csv``; nothing is written unless the model fits the row and the store."""
    from .trained import load

    loaded = load(weights)
    row = resolve(name, profile, **overrides)
    if row.is_rnn != loaded.recurrent:
        raise ValueError(f"{loaded.path}: a {_kind(loaded.recurrent)}, and {name} is a "
                         f"{_kind(row.is_rnn)} row: evaluate it as "
                         f"{'affwildnet' if loaded.recurrent else 'cnn-vggface'}")
    exp = _sect4(resolve(name, profile, **{**overrides, "landmarks": loaded.landmarks,
                         **({"seq_len": loaded.window} if loaded.recurrent else {})}))
    store = FrameStore(exp.store)
    _check_size(loaded, store, exp.store)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder")
    if out.resolve() == experiment_dir(name).resolve():
        raise ValueError(f"--out {out} is {name}'s own folder: its results stay as they are; "
                         "choose another folder for this model's")
    table, labels = store.table("test"), store.labels("test")
    pred = E.predict_rows(loaded.model, store, "test", np.arange(len(table)), exp)
    predictions = E.va_predictions(table, labels, pred)
    from .models.released import record_of

    metrics = {"weights": str(Path(weights).resolve()), "imported": record_of(weights),
               "protocol": f"windows of {exp.seq_len} frames" if loaded.recurrent else "frames",
               **E.va_scores(labels, pred), "n_test_frames": int(len(table)),
               "per_video": {str(v): {**E.va_scores(labels[idx], pred[idx]), "n_frames": int(len(idx))}
                             for v, idx in table.groupby("video", sort=False).indices.items()},
               "backend": keras.backend.backend(), "profile": exp.profile,
               "data_source": E.data_source(exp.data_root), "n_params": int(loaded.model.count_params())}
    out.mkdir(parents=True, exist_ok=True)
    E.write_csv(out / "predictions.csv", predictions)
    write_json(out / "metrics.json", metrics)
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
    E.write_csv(folder / "fig14.csv", stretch.reset_index(drop=True))
    E.write_csv(folder / "fig15_labels.csv", predictions[["valence", "arousal"]])
    E.write_csv(folder / "fig15_predictions.csv", predictions[["valence_pred", "arousal_pred"]]
               .set_axis(["valence", "arousal"], axis=1))


def model_info(name: str, profile: str | None = None, **overrides) -> dict:
    """Parameters and model config of an experiment, without allocating its weights."""
    from .models import count_params

    exp = resolve(name, profile, **overrides)
    return {"experiment": name, "model": exp.model, "config": exp.model_config(),
            "n_params": count_params(exp.model, **exp.model_config()), "tables": list(exp.tables)}


__all__ = ["build_model", "evaluate", "experiment_dir", "model_info", "seed_runs", "seed_summary",
           "train", "train_seeds"]
