"""AffWildNet as a prior for other datasets (Sect. 5): RECOLA, AFEW-VA and EmotiW (AFEW).

One row of Tables 15-18 is an :class:`affwild_lib.experiments.Experiment` trained on one of
the three datasets (:data:`affwild_lib.experiments.TRANSFERS`), either starting from the
AffWildNet of chapter 05 (``init="affwildnet"``, ``experiments/affwildnet/model.keras``) or
without it. ``run(name)`` trains and evaluates it
and writes ``experiments/<name>/``::

    metrics.json    test scores (CCC, Pearson CC, MSE; or per-class and total accuracy),
                    per fold, how each model was initialised, the settings
    scores.json     the headline alone (``dvc metrics show``)
    predictions.csv valence-arousal: one row per test frame (every frame once; for AFEW-VA
                    predicted by the fold that held it out). Emotions: one row per clip,
                    the true and the predicted emotion
    frames.csv      emotions only: per test frame, the 7 class probabilities
    history.csv     per run (fold) and epoch: training loss, validation score, seconds
    runs/<run>/     model.keras and result.json of each run (fold); a run whose result.json
                    matches the settings is not redone, so an interrupted stage resumes

The protocols, as Sect. 5 describes them:

* **RECOLA** (Table 15): train on ``train``, choose the epoch on ``dev``, test on ``test``.
  The 25 Hz gold standard was aligned to the video frames by time when the store was made
  (:mod:`affwild_lib.prepare`, nearest label timestamp).
* **AFEW-VA** (Tables 16, 17): labels divided by 10 (:func:`affwild_lib.datasets.afew_va.
  scale_labels`); 5-fold person-independent cross-validation as in Kossaifi et al. [29]
  (:func:`person_folds`); inside each fold a fifth of the training subjects chooses the epoch.
* **EmotiW** (Table 18): AFEW's ``train`` clips to train (a fifth of their subjects held out
  to choose the epoch), its ``val`` clips to test, as the paper reports the EmotiW 2017
  validation set. The output layer becomes 7 softmax units (Sect. 5.2.1); frames (CNNs) or
  windows of frames (CNN-RNNs) are trained with cross-entropy against the clip's emotion, and a
  clip's label is read from its frames by :func:`aggregate`.

Fine-tuning modes (Sect. 4.2, "we experimented following two approaches"):
``mode="whole"`` trains every layer with the small learning rate ``finetune_lr``;
``mode="frozen"`` freezes the convolutional part (and its batch norms) and retrains the fully
connected and recurrent layers with the usual 1e-3 (:func:`freeze_cnn`). Each chapter says
which it uses.

The settings of each row and how a profile scales it are the registry's
(:mod:`affwild_lib.experiments`, ``params.yaml`` ``profiles.<p>.transfer``); the epoch loop, the
prediction loop, the scores and the writers are :mod:`affwild_lib.engine`'s. What is here is
Sect. 5's own: the protocols' runs and folds, the prior, and the clips' emotions.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import engine as E
from .atomic import write_file, write_json
from .datasets.afew import EMOTIONS
from .experiments import DATASETS, TRANSFERS, Experiment, by_dataset, get, resolve


# --------------------------------------------------------------------------------------------
# Protocol pieces: folds, labels, aggregation


def person_folds(subject_of: dict[str, str], frames: dict[str, int], k: int = 5) -> dict[str, int]:
    """video -> fold (0..k-1), person-independent: all videos of a subject in one fold.

    Subjects are dealt, largest first (by frames), to the fold with the fewest frames so far,
    so the folds have about equal test sets; ties go to the lower fold, subjects by name, so
    the folds depend on the data alone. Needs at least ``k`` subjects. The real AFEW-VA lists
    no subjects: each clip is then its own "subject", and a person filmed in two clips could
    fall in two folds (the split of [29] is not published).
    """
    subjects: dict[str, int] = {}
    for video, subject in subject_of.items():
        subjects[subject] = subjects.get(subject, 0) + int(frames.get(video, 0))
    if len(subjects) < k:
        raise ValueError(f"{len(subjects)} subjects cannot make {k} person-independent folds")
    load = [0] * k
    fold_of_subject = {}
    for subject in sorted(subjects, key=lambda s: (-subjects[s], s)):
        fold = min(range(k), key=lambda f: (load[f], f))
        fold_of_subject[subject] = fold
        load[fold] += subjects[subject]
    return {video: fold_of_subject[subject] for video, subject in subject_of.items()}


def emotion_index(emotions) -> np.ndarray:
    """Class index (0-6, in :data:`EMOTIONS` order) of each emotion name; an unknown name is an
    error naming it."""
    lookup = {e: i for i, e in enumerate(EMOTIONS)}
    names = pd.Series(emotions, dtype=object)
    unknown = sorted(set(names) - set(lookup))
    if unknown:
        raise ValueError(f"unknown emotion(s) {unknown}; expected {', '.join(EMOTIONS)}")
    return names.map(lookup).to_numpy(np.int64)


AGGREGATIONS = ("mean", "vote")


def aggregate(probabilities: np.ndarray, videos, rule: str = "mean") -> pd.DataFrame:
    """One emotion per clip from its frames' class probabilities (Sect. 5.2.1, note i).

    ``mean`` (our choice): the class of highest probability averaged over the clip's frames.
    It weighs each frame by how sure the network is, so a few confidently expressive frames can
    outvote many neutral-looking ones, and it never ties in practice. ``vote``: the most frequent
    per-frame argmax, ties to the class with the higher mean probability. Returns one row per
    clip (in first-appearance order): ``video``, ``predicted`` (index), ``n_frames`` and the
    mean probabilities ``p_<emotion>``.
    """
    if rule not in AGGREGATIONS:
        raise ValueError(f"rule must be one of {AGGREGATIONS}, not {rule!r}")
    probabilities = np.asarray(probabilities, dtype=np.float64)
    videos = pd.Series(np.asarray(videos)).astype(str)
    frame = pd.DataFrame(probabilities, columns=[f"p_{e}" for e in EMOTIONS])
    groups = frame.groupby(videos.to_numpy(), sort=False)
    mean = groups.mean()
    if rule == "mean":
        predicted = mean.to_numpy().argmax(axis=1)
    else:
        votes = pd.get_dummies(pd.Series(probabilities.argmax(axis=1)).astype(
            pd.CategoricalDtype(range(len(EMOTIONS))))).groupby(videos.to_numpy(), sort=False).sum()
        votes = votes.loc[mean.index].to_numpy(np.float64)
        # ties broken by the mean probability: add less than one vote's worth
        predicted = (votes + 0.5 * mean.to_numpy()).argmax(axis=1)
    out = mean.reset_index(names="video")
    out.insert(1, "predicted", predicted)
    out.insert(2, "n_frames", groups.size().to_numpy())
    return out


# --------------------------------------------------------------------------------------------
# Models


def freeze_cnn(model) -> list[str]:
    """Freeze everything but the fully connected and recurrent layers (Sect. 4.2's second
    mode); return the names of the layers left trainable. Frozen batch norms run in inference
    mode, so their statistics stay the prior's."""
    import keras

    trainable = []
    for layer in model.layers:
        keep = isinstance(layer, (keras.layers.Dense, keras.layers.GRU, keras.layers.LSTM))
        layer.trainable = keep
        if keep:
            trainable.append(layer.name)
    return trainable


def build_model(t: Experiment, train_points: np.ndarray):
    """The model of ``t`` and how it was initialised (a dict for metrics.json).

    With the prior, the weights come from ``experiments/affwildnet/model.keras``: as saved for
    valence and arousal, or copied layer by layer into the 7-emotion network but its output
    layer (:func:`affwild_lib.models.transfer_weights`). Without it, the conv part starts from
    the backbone's pre-training where the profile names a weights file
    (:func:`affwild_lib.engine.init_from_weights`), and the landmark scaling is set from this
    dataset's training frames.
    """
    from .models import build, transfer_weights
    from .models.heads import set_landmark_statistics

    info = {"prior": None, "mode": t.mode if t.prior else None, "copied_layers": None}
    if t.prior:
        path = Path(t.prior_path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: the AffWildNet prior is missing; train it first "
                                    "(`affwild train affwildnet` or `dvc repro train-rnn@affwildnet`)")
        from .trained import load

        prior = load(path).model  # a damaged or foreign file is named as such (issue 20)
        if t.task == "va":
            model = prior
        else:
            model = build(t.model, **t.model_config())
            copied, kept = transfer_weights(prior, model, skip=("fc2",))
            not_copied = [n for n in kept if n != "fc2"]
            if not_copied:
                raise ValueError(f"{path}: the prior's layers {not_copied} do not fit the "
                                 f"7-emotion AffWildNet of this profile (width, crop size?)")
            info["copied_layers"] = len(copied)
        info["prior"] = str(path)
        if t.mode == "frozen":
            info["trainable_layers"] = freeze_cnn(model)
        elif t.mode != "whole":
            raise ValueError(f"mode must be 'whole' or 'frozen', not {t.mode!r}")
    else:  # the backbone's pre-training (Sect. 5: VGG-Face or ImageNet), or random
        model = build(t.model, **t.model_config())
        info["weights"] = E.init_from_weights(model, t)
        if t.landmarks:
            set_landmark_statistics(model, train_points)
    E.set_bn_momentum(model, t.bn_momentum)
    info["initialisation"] = "affwildnet" if t.prior else info["weights"]["used"]
    return model, info


# --------------------------------------------------------------------------------------------
# Scores


def emotion_scores(true: np.ndarray, predicted: np.ndarray) -> dict:
    """Per-class and total accuracy (Table 18) and the confusion matrix (rows: true)."""
    from .metrics import accuracy_per_class, total_accuracy

    per_class = accuracy_per_class(true, predicted, len(EMOTIONS))
    confusion = np.zeros((len(EMOTIONS), len(EMOTIONS)), np.int64)
    np.add.at(confusion, (np.asarray(true, int), np.asarray(predicted, int)), 1)
    return {"accuracy_total": total_accuracy(true, predicted),
            **{f"accuracy_{e}": (None if np.isnan(a) else float(a)) for e, a in zip(EMOTIONS, per_class)},
            "confusion": confusion.tolist()}


# --------------------------------------------------------------------------------------------
# Runs


@dataclass
class _Run:
    """One training run: rows of the store to train on, to choose the epoch on, to test."""

    name: str
    train_split: str
    train_rows: np.ndarray
    select_split: str
    select_rows: np.ndarray
    test_split: str
    test_rows: np.ndarray
    held_out: list = field(default_factory=list)


def runs(t: Experiment, store) -> list[_Run]:
    """The runs of ``t``'s protocol (one; or one per fold for AFEW-VA)."""
    from .data import subject_split, video_subjects

    spec = DATASETS[t.dataset]
    table = store.table(spec["train"])
    if spec["folds"]:
        subject_of = video_subjects(table, t.data_root)
        frames = table["video"].astype(str).value_counts().to_dict()
        fold_of = person_folds(subject_of, frames, t.folds)
        fold = table["video"].astype(str).map(fold_of).to_numpy()
        out = []
        for k in range(t.folds):
            test_rows = np.flatnonzero(fold == k)
            rest = np.flatnonzero(fold != k)
            sub = table.iloc[rest].reset_index(drop=True)
            tr, va, held = subject_split(sub, t.data_root, t.val_fraction, t.seed)
            out.append(_Run(f"fold{k + 1}", spec["train"], rest[tr], spec["train"], rest[va],
                            spec["test"], test_rows, held))
        return out
    if spec["select"]:
        return [_Run("run", spec["train"], np.arange(len(table)), spec["select"],
                     np.arange(len(store.table(spec["select"]))), spec["test"],
                     np.arange(len(store.table(spec["test"]))))]
    tr, va, held = subject_split(table, t.data_root, t.val_fraction, t.seed)
    return [_Run("run", spec["train"], tr, spec["train"], va, spec["test"],
                 np.arange(len(store.table(spec["test"]))), held)]


def _labels(t: Experiment, store, split: str) -> np.ndarray:
    if t.task == "va":
        return store.labels(split)
    return emotion_index(store.table(split)["emotion"])


def _validation_score(t: Experiment, store, split, rows, pred) -> float:
    """What chooses the epoch: mean CCC, or clip accuracy after aggregation."""
    if t.task == "va":
        score = E.va_scores(store.labels(split)[rows], pred)["ccc_mean"]
        return float("nan") if score is None else score  # no labelled frame to choose on
    videos = store.table(split)["video"].astype(str).to_numpy()[rows]
    clips = aggregate(pred, videos)
    true = pd.Series(_labels(t, store, split)[rows]).groupby(videos, sort=False).first()
    return float(np.mean(clips["predicted"].to_numpy() == true.loc[clips["video"]].to_numpy()))


#: The code a finished run depends on besides its settings: a change to any of these (the
#: reason DVC reruns the stage) must not leave old folds standing beside new ones.
CODE = ("transfer.py", "engine.py", "experiments.py", "data.py", "losses.py", "metrics.py",
        "store.py", "models")


def _settings_hash(t: Experiment) -> str:
    """What a finished run was made from: the settings, the prior's and the store's bytes, and
    the code of :data:`CODE`."""
    config = {k: v for k, v in t.as_dict().items() if k not in ("description", "tables", "seeds")}
    config["prior"] = _file_hash(t.prior_path)
    config["weights"] = _file_hash(t.weights)  # a backbone pre-trained again: the runs redone
    config["store"] = _file_hash(Path(t.store) / "manifest.parquet")
    here = Path(__file__).parent
    sources = sorted(p for name in CODE for p in ([here / name] if name.endswith(".py")
                                                   else (here / name).rglob("*.py")))
    config["code"] = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _file_hash(path: str | None) -> str | None:
    if not path or not Path(path).is_file():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


class _Model:
    """One compiled model per experiment, put back to its initial state for each run (fold).

    Keras traces the training and prediction steps of every new model object again: about 10 s
    per fold on a CPU at the tiny profile, more than the fold's training. Resetting the weights
    (batch-norm statistics included) and the optimizer's state gives each fold the weights and
    optimizer a new model would start from, without that cost (the dropout masks continue one
    random stream across folds instead of restarting it).
    """

    def __init__(self, t: Experiment, train_points: np.ndarray):
        import keras

        self.model, self.init = build_model(t, train_points)
        E.compile_model(self.model, t)
        self.weights = self.model.get_weights()
        self.optimizer = [keras.ops.convert_to_numpy(v.value) for v in self.model.optimizer.variables]

    def fresh(self, t: Experiment, train_points: np.ndarray):
        from .models.heads import set_landmark_statistics

        self.model.set_weights(self.weights)
        for variable, value in zip(self.model.optimizer.variables, self.optimizer):
            variable.assign(value)
        if not t.prior and t.landmarks:  # this fold's training frames, as a new model would
            set_landmark_statistics(self.model, train_points)
        return self.model


def fit_run(t: Experiment, store, run: _Run, folder: Path, log=print, cache: dict | None = None) -> dict:
    """Train one run, keep the epoch with the best validation score (weights kept in memory:
    a run takes seconds to minutes, so an interrupted one is redone whole), save it as
    ``folder/model.keras`` and return its record, test predictions included. ``cache`` keeps
    the compiled model between the runs of one experiment (:class:`_Model`)."""
    from . import data as D

    E.seed_everything(t.seed)
    labels = _labels(t, store, run.train_split)
    points = store.landmarks(run.train_split)[run.train_rows]
    items = D.training_items(store, run.train_split, run.train_rows, labels if t.task == "va" else None,
                             t.seq_len if t.is_rnn else None, t.seq_stride, t.oversampling, seed=t.seed)
    dataset = D.StoreBatches(store, run.train_split, items, labels, t.batch_size, t.uses_landmarks,
                             seed=t.seed, max_steps=t.max_steps_per_epoch)
    cache = {} if cache is None else cache
    if "model" not in cache:
        cache["model"] = _Model(t, points)
    model, init = cache["model"].fresh(t, points), cache["model"].init
    history, kept = [], {}

    def validate(model):
        pred = E.predict_rows(model, store, run.select_split, run.select_rows, t)
        return (score := _validation_score(t, store, run.select_split, run.select_rows, pred)), \
            {"validation": score}

    def keep(epoch, row, improved):  # the best weights in memory: a run is redone whole
        history.append({"run": run.name, **row})
        log(f"{t.name} {run.name} epoch {epoch}: loss {row['loss']:.4f}, validation "
            f"{'CCC' if t.task == 'va' else 'accuracy'} {row['validation']:.3f}, {row['seconds']:.0f} s")
        if improved:
            kept.update(weights=model.get_weights(), epoch=epoch)

    best = E.fit_epochs(model, dataset, t.epochs, validate, verbose=0, on_epoch_end=keep)
    if not kept:
        raise ValueError(f"{t.name}: {t.epochs} epochs trains nothing (params.yaml transfer.epochs)")
    best_weights, chosen = kept["weights"], kept["epoch"]
    model.set_weights(best_weights)
    write_file(folder / "model.keras", lambda p: model.save(p), keep_suffix=True)
    pred = E.predict_rows(model, store, run.test_split, run.test_rows, t)
    result = {"run": run.name, "epoch_chosen": chosen, "validation": best, "history": history,
              "held_out_subjects": run.held_out, "init": init,
              "n_train_items": int(len(items)), "test_rows": run.test_rows.tolist(),
              "predictions": pred.tolist()}
    return result


def run(name: str, profile: str | None = None, out=None, log=print, **overrides) -> dict:
    """Train and evaluate transfer experiment ``name``; write ``experiments/<name>/``; return
    the metrics. A run (fold) whose ``runs/<run>/result.json`` was made from the same settings,
    prior, weights, store and code (:func:`_settings_hash`) is kept, not redone: a stage
    interrupted after three folds of five resumes at the fourth.

    With the profile's ``train.seeds`` > 1 the whole protocol runs once more per further seed in
    ``seeds/seed-<s>/``; their test predictions are copied to ``seed_predictions/seed-<s>.csv``
    (what the claims read) and ``metrics.json`` gains ``seeds`` and ``seed_summary``.
    """
    from .store import FrameStore
    from .train import SEED_PREDICTIONS, SEEDS, seed_summary

    t = resolve(name, profile, **overrides)
    if t.dataset == "affwild":
        raise ValueError(f"{name} is a Sect. 4 experiment: run it with `affwild train {name}`")
    folder = E.experiment_dir(name, out)
    folder.mkdir(parents=True, exist_ok=True)
    store = FrameStore(t.store)
    if store.size != t.input_size:
        raise ValueError(f"{t.store}: crops of {store.size} px, the profile's models take "
                         f"{t.input_size}; prepare it at that size")
    metrics = _run_seed(t, store, folder, log)
    keys = ["ccc_valence", "ccc_arousal", "ccc_mean", "mse_valence", "mse_arousal"] \
        if t.task == "va" else ["accuracy_total"]
    seeds = [{"seed": t.seed, **{k: metrics[k] for k in keys}}]
    (folder / SEED_PREDICTIONS).mkdir(exist_ok=True)
    for k in range(1, max(1, t.seeds)):
        seeded = replace(t, seed=t.seed + k)
        log(f"{t.name}: seed {seeded.seed}")
        sub = folder / SEEDS / f"seed-{seeded.seed}"
        sub.mkdir(parents=True, exist_ok=True)
        other = _run_seed(seeded, store, sub, log)
        seeds.append({"seed": seeded.seed, **{k: other[k] for k in keys}})
        E.write_csv(folder / SEED_PREDICTIONS / f"seed-{seeded.seed}.csv",
                    pd.read_csv(sub / "predictions.csv", dtype={"video": str}))
        metrics["wall_seconds"] += other["wall_seconds"]
    metrics.update(seeds=seeds, seed_summary=seed_summary(seeds, keys))
    E.write_results(folder, metrics, _headline(t))
    return metrics


def _headline(t: Experiment) -> list[str]:
    return (["ccc_valence", "ccc_arousal", "ccc_mean", "pcc_valence", "pcc_arousal"] if t.task == "va"
            else ["accuracy_total"] + [f"accuracy_{e}" for e in EMOTIONS])


def _run_seed(t: Experiment, store, folder: Path, log) -> dict:
    """Every run (fold) of ``t`` at its seed into ``folder``, kept where already done."""
    key = _settings_hash(t)
    results, cache = [], {}
    for r in runs(t, store):
        done = folder / "runs" / r.name / "result.json"
        if done.is_file():
            previous = json.loads(done.read_text())
            if previous.get("settings") == key:
                log(f"{t.name} {r.name}: done already, kept")
                results.append(previous)
                continue
        result = fit_run(t, store, r, done.parent, log, cache)
        result["settings"] = key
        write_json(done, result, indent=None)
        results.append(result)
    return _evaluate(t, store, folder, results)


def _evaluate(t: Experiment, store, folder: Path, results: list[dict]) -> dict:
    spec = DATASETS[t.dataset]
    split = spec["test"]
    table = store.table(split)
    rows = np.concatenate([np.asarray(r["test_rows"], np.int64) for r in results])
    pred = np.concatenate([np.asarray(r["predictions"], np.float32).reshape(len(r["test_rows"]), -1)
                           for r in results])
    run_of = np.concatenate([[r["run"]] * len(r["test_rows"]) for r in results])
    order = np.argsort(rows, kind="stable")  # back to store order: videos in turn, frames in order
    rows, pred, run_of = rows[order], pred[order], run_of[order]
    videos = table["video"].astype(str).to_numpy()[rows]
    history = pd.DataFrame([h for r in results for h in r["history"]])
    metrics = {"experiment": t.name, "dataset": t.dataset, "tables": list(t.tables),
               "profile": t.profile, "data_source": E.data_source(t.data_root),
               "runs": {r["run"]: {"epoch_chosen": r["epoch_chosen"], "validation": r["validation"],
                                   "held_out_subjects": r["held_out_subjects"], "init": r["init"],
                                   "n_train_items": r["n_train_items"],
                                   "n_test_frames": len(r["test_rows"])} for r in results},
               "initialisation": results[0]["init"]["initialisation"],
               "wall_seconds": float(history["seconds"].sum()), "n_test_frames": int(len(rows)),
               "n_test_videos": int(len(pd.unique(videos))), "config": t.as_dict()}
    if t.task == "va":
        labels = store.labels(split)[rows]
        metrics.update(E.va_scores(labels, pred))
        metrics["per_run"] = {r: E.va_scores(labels[run_of == r], pred[run_of == r])
                              for r in pd.unique(run_of)}
        predictions = E.va_predictions({"video": videos, "frame_index": table["frame_index"].to_numpy()[rows]},
                                       labels, pred, run=run_of)
    else:
        frames = pd.DataFrame(pred, columns=[f"p_{e}" for e in EMOTIONS])
        frames.insert(0, "video", videos)
        frames.insert(1, "frame_index", table["frame_index"].to_numpy()[rows])
        E.write_csv(folder / "frames.csv", frames)
        predictions = clip_predictions(store, split, frames, store.table(spec["train"]), t.data_root)
        true = emotion_index(predictions["emotion"])
        predicted = emotion_index(predictions["predicted"])
        metrics.update(emotion_scores(true, predicted))
        metrics["n_test_clips"] = int(len(predictions))
        metrics["clips_without_face"] = predictions.loc[predictions["n_frames"] == 0, "video"].tolist()
        metrics["aggregation"] = "mean"
    E.write_csv(folder / "predictions.csv", predictions)
    E.write_csv(folder / "history.csv", history)
    E.write_results(folder, metrics, _headline(t))
    return metrics


def clip_predictions(store, split: str, frames: pd.DataFrame, train_table: pd.DataFrame,
                     data_root, rule: str = "mean") -> pd.DataFrame:
    """One row per clip of ``split``: ``video``, ``emotion`` (true), ``predicted``, ``n_frames``.

    Clips with frames take :func:`aggregate`'s label. A clip in which no face was found (it has
    no frame in the store) still needs an answer, as the challenge scores every clip: it gets
    the most frequent emotion of the training clips, and ``n_frames`` 0 says so; its true
    emotion is the folder the release keeps it in.
    """
    clips = aggregate(frames[[f"p_{e}" for e in EMOTIONS]].to_numpy(), frames["video"], rule)
    clips = clips.set_index("video")
    table = store.table(split)
    emotion = table.groupby(table["video"].astype(str))["emotion"].first()
    fallback = train_table.groupby(train_table["video"].astype(str))["emotion"].first().value_counts().index[0]
    rows = []
    for video in store.videos.loc[store.videos["split"] == split, "video"]:
        if video in clips.index:
            rows.append({"video": video, "emotion": emotion[video],
                         "predicted": EMOTIONS[int(clips.loc[video, "predicted"])],
                         "n_frames": int(clips.loc[video, "n_frames"])})
        else:
            rows.append({"video": video, "emotion": _release_emotion(data_root, split, video),
                         "predicted": fallback, "n_frames": 0})
    return pd.DataFrame(rows)


def accuracy_by_rule(store, split: str, frames: pd.DataFrame, train_table: pd.DataFrame,
                     data_root) -> dict[str, float]:
    """Total accuracy of one model's clip answers under each rule of :data:`AGGREGATIONS`
    (chapter 08: how much the rule that turns frames into one answer per clip matters)."""
    out = {}
    for rule in AGGREGATIONS:
        clips = clip_predictions(store, split, frames, train_table, data_root, rule)
        out[rule] = float(np.mean(clips["predicted"] == clips["emotion"]))
    return out


def _release_emotion(data_root, split: str, video: str) -> str:
    """The emotion folder of a clip in the AFEW release (``<Split>_AFEW/<Emotion>/<clip>.*``)."""
    from .datasets.afew import SPLITS

    folder = {v: k for k, v in SPLITS.items()}[split]
    found = sorted(p.parent.name for p in (Path(data_root) / folder).glob(f"*/{video}.*")
                   if p.parent.name in EMOTIONS)
    if not found:
        raise FileNotFoundError(f"{data_root}/{folder}: clip {video} is in the store but in no emotion folder")
    return found[0]


#: Re-exported for the chapters: the registry's view of Sect. 5 and AFEW's classes.
__all__ = ["AGGREGATIONS", "EMOTIONS", "TRANSFERS", "aggregate", "build_model", "by_dataset",
           "accuracy_by_rule", "clip_predictions", "emotion_index", "emotion_scores", "fit_run", "freeze_cnn", "get",
           "person_folds", "resolve", "run", "runs"]
