"""AffWildNet as a prior for other datasets (Sect. 5): RECOLA, AFEW-VA and EmotiW (AFEW).

One :class:`Transfer` is one row of Tables 15-18: a model trained on one of the three
datasets, either starting from the AffWildNet of chapter 05 (``prior=True``,
``experiments/affwildnet/model.keras``) or without it. ``run(name)`` trains and evaluates it
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

Profiles: ``params.yaml`` ``profiles.<p>.transfer`` gives epochs, steps, batch sizes, window
length and stride (one value, or one per dataset: AFEW-VA's clips are often shorter than
RECOLA's useful windows, and a clip shorter than a window gives no training window) and
``finetune_lr``; width, crop size and seed are the ``train`` block's, since a prior must have
the shape AffWildNet was trained in.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

#: Per dataset: the store and the protocol.
DATASETS = {
    "recola": dict(task="va", train="train", select="dev", test="test", folds=0,
                   title="RECOLA", section="5.1.1"),
    "afew-va": dict(task="va", train="all", select=None, test="all", folds=5,
                    title="AFEW-VA", section="5.1.2"),
    "afew": dict(task="emotions", train="train", select=None, test="val", folds=0,
                 title="AFEW (EmotiW 2017)", section="5.2.1"),
}
#: AFEW's categories, in the order of its folders and of the 7 output units.
EMOTIONS = ("Angry", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise")
#: How Table 18 names them.
PAPER_EMOTIONS = {"Angry": "Anger"}
PRIOR = "affwildnet"
PROFILE_DEFAULTS = {
    "tiny": dict(epochs=3, max_steps_per_epoch=15, batch=16, rnn_batch=4, seq_len=8, seq_stride=4,
                 finetune_lr=1e-4, folds=5, val_fraction=0.2),
    "paper": dict(epochs=20, max_steps_per_epoch=None, batch=50, rnn_batch=80,
                  seq_len={"recola": 80, "afew-va": 10, "afew": 16},
                  seq_stride={"recola": 40, "afew-va": 5, "afew": 8},
                  finetune_lr=1e-4, folds=5, val_fraction=0.2),
}


@dataclass(frozen=True)
class Transfer:
    """One row of Tables 15-18: a model, a dataset, and whether it starts from AffWildNet."""

    name: str
    dataset: str                      # a key of DATASETS
    model: str                        # 'affwildnet' (CNN-RNN) | 'vgg_face' | 'vgg16' | 'resnet50'
    backbone: str = "vgg_face"        # the CNN part of a CNN-RNN
    rnn: str | None = None
    rnn_layers: int = 0
    rnn_units: int = 0
    landmarks: bool = True
    prior: bool = False               # start from chapter 05's AffWildNet
    mode: str = "whole"               # with a prior: 'whole' | 'frozen' (Sect. 4.2)
    learning_rate: float = 1e-3
    dropout: float = 0.5
    tables: tuple[str, ...] = ()
    description: str = ""
    # ---- filled by resolve() from the profile ----
    profile: str | None = None
    width: float = 1.0
    input_size: int = 96
    epochs: int = 20
    max_steps_per_epoch: int | None = None
    batch_size: int = 50
    seq_len: int | None = None
    seq_stride: int | None = None
    folds: int = 5
    val_fraction: float = 0.2
    seed: int = 0
    bn_momentum: float | None = None
    store: str | None = None
    data_root: str | None = None
    prior_path: str | None = None

    @property
    def is_rnn(self) -> bool:
        return self.model == "affwildnet"

    @property
    def task(self) -> str:
        return DATASETS[self.dataset]["task"]

    def model_config(self) -> dict:
        config = dict(input_size=self.input_size, width=self.width, landmarks=self.landmarks,
                      dropout=self.dropout, head=self.task)
        if self.is_rnn:
            config.update(backbone=self.backbone, rnn=self.rnn, rnn_units=self.rnn_units,
                          rnn_layers=self.rnn_layers, seq_len=None)
        return config


def _affwildnet(name, dataset, tables, prior, **kw) -> Transfer:
    """AffWildNet's architecture (Table 8: VGG-Face, landmarks, FC 4096, 2 x GRU 128)."""
    return Transfer(name=name, dataset=dataset, model="affwildnet", backbone="vgg_face", rnn="gru",
                    rnn_layers=2, rnn_units=128, prior=prior, tables=tables, **kw)


_ALL = [
    # Table 15, RECOLA
    _affwildnet("recola-affwildnet", "recola", ("15:Fine-tuned AffWildNet",), True,
                description="AffWildNet fine-tuned on RECOLA, every layer, small learning rate"),
    _affwildnet("recola-affwildnet-frozen", "recola", ("15x:AffWildNet, CNN frozen",), True,
                mode="frozen",
                description="AffWildNet on RECOLA with its CNN frozen: FC and GRU layers retrained"),
    Transfer("recola-resnet-gru", "recola", "affwildnet", backbone="resnet50", rnn="gru",
             rnn_layers=2, rnn_units=128, tables=("15:ResNet-GRU",),
             description="ResNet-50 + 2-layer GRU trained on RECOLA alone (Sect. 5.1.1)"),
    _affwildnet("recola-affwildnet-noprior", "recola", ("15x:AffWildNet, no Aff-Wild prior",), False,
                description="AffWildNet's architecture trained on RECOLA alone: the prior's effect"),
    # Tables 16 and 17, AFEW-VA
    _affwildnet("afewva-affwildnet", "afew-va",
                ("16:Fine-tuned AffWildNet", "17:Fine-tuned AffWildNet"), True,
                description="AffWildNet fine-tuned on AFEW-VA, every layer, small learning rate"),
    Transfer("afewva-cnn-vggface", "afew-va", "vgg_face", tables=("17:only CNN",),
             description="VGG-Face conv + FC 4096-2048 trained on AFEW-VA alone (Sect. 5.1.2)"),
    _affwildnet("afewva-affwildnet-noprior", "afew-va", ("17x:AffWildNet, no Aff-Wild prior",), False,
                description="AffWildNet's architecture trained on AFEW-VA alone"),
    # Table 18, EmotiW
    Transfer("emotiw-vgg16", "afew", "vgg16", tables=("18:VGG-16",)),
    Transfer("emotiw-vgg16-rnn", "afew", "affwildnet", backbone="vgg16", rnn="gru", rnn_layers=2,
             rnn_units=128, tables=("18:VGG-16 + RNN",)),
    Transfer("emotiw-resnet", "afew", "resnet50", tables=("18:ResNet",)),
    Transfer("emotiw-resnet-rnn", "afew", "affwildnet", backbone="resnet50", rnn="gru",
             rnn_layers=2, rnn_units=128, tables=("18:ResNet + RNN",)),
    _affwildnet("emotiw-vggface-rnn", "afew", ("18:VGG-Face + RNN",), False,
                description="VGG-Face + 2 x GRU 128 with landmarks: AffWildNet without the prior"),
    _affwildnet("emotiw-affwildnet", "afew", ("18:fine-tuned AffWildNet",), True,
                description="AffWildNet with a 7-unit softmax output, fine-tuned on AFEW"),
]
#: name -> the row's settings.
TRANSFERS: dict[str, Transfer] = {t.name: t for t in _ALL}


def get(name: str) -> Transfer:
    if name not in TRANSFERS:
        raise KeyError(f"unknown transfer experiment {name!r}; known: {', '.join(TRANSFERS)}")
    return TRANSFERS[name]


def by_dataset(dataset: str) -> list[Transfer]:
    return [t for t in _ALL if t.dataset == dataset]


def resolve(name: str, profile: str | None = None, root: Path | None = None, **overrides) -> Transfer:
    """``name`` as profile ``profile`` runs it: the ``train`` block's width, crop size, seed and
    batch-norm momentum (those of the prior), the ``transfer`` block's schedule."""
    from .config import repo_root
    from .experiments import profile_settings

    root = Path(root) if root else repo_root()
    base = get(name)
    profile_name, train, params = profile_settings(profile, root)
    s = dict(PROFILE_DEFAULTS.get(profile_name, PROFILE_DEFAULTS["paper"]))
    s.update(params.get("transfer") or {})
    for key in ("seq_len", "seq_stride"):  # one value, or one per dataset
        if isinstance(s[key], dict):
            s[key] = s[key][base.dataset]
    batch = s["rnn_batch"] if base.is_rnn else s["batch"]
    lr = float(s["finetune_lr"]) if base.prior and base.mode == "whole" else base.learning_rate
    changes = dict(
        profile=profile_name, width=float(train["width"]), input_size=int(train["input_size"]),
        epochs=int(s["epochs"]), max_steps_per_epoch=s.get("max_steps_per_epoch"),
        batch_size=int(batch), seq_len=int(s["seq_len"]) if base.is_rnn else None,
        seq_stride=int(s["seq_stride"]) if base.is_rnn else None, folds=int(s["folds"]),
        val_fraction=float(s["val_fraction"]), seed=int(train["seed"]),
        bn_momentum=train.get("bn_momentum"), learning_rate=lr,
        store=str((root / "data" / "prepared" / base.dataset).resolve()),
        data_root=str((root / params.get("data_root", "data/synth") / base.dataset).resolve()),
        prior_path=str((root / "experiments" / PRIOR / "model.keras").resolve()) if base.prior else None,
    )
    changes.update(overrides)
    return replace(base, **changes)


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


def build_model(t: Transfer, train_points: np.ndarray):
    """The model of ``t`` and how it was initialised (a dict for metrics.json).

    With the prior, the weights come from ``experiments/affwildnet/model.keras``: as saved for
    valence and arousal, or copied layer by layer into the 7-emotion network but its output
    layer (:func:`affwild_lib.models.transfer_weights`). Without it, the model is built
    randomly (no ImageNet or VGG-Face weights are shipped) and its landmark scaling is set from
    this dataset's training frames.
    """
    import keras

    from .models import build, transfer_weights
    from .models.heads import set_landmark_statistics

    info = {"prior": None, "mode": t.mode if t.prior else None, "copied_layers": None}
    if t.prior:
        path = Path(t.prior_path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: the AffWildNet prior is missing; train it first "
                                    "(`affwild train affwildnet` or `dvc repro train-rnn@affwildnet`)")
        prior = keras.saving.load_model(path, compile=False)
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
    else:
        model = build(t.model, **t.model_config())
        if t.landmarks:
            set_landmark_statistics(model, train_points)
    if t.bn_momentum is not None:
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = float(t.bn_momentum)
    info["initialisation"] = "affwildnet" if t.prior else "random"
    return model, info


def _compile(model, t: Transfer) -> None:
    import keras

    from .losses import CCCLoss

    loss = CCCLoss() if t.task == "va" else keras.losses.SparseCategoricalCrossentropy()
    model.compile(optimizer=keras.optimizers.Adam(t.learning_rate), loss=loss)


def predict(model, store, split: str, rows: np.ndarray, t: Transfer) -> np.ndarray:
    """(len(rows), outputs) per-frame predictions; every frame once, batches of one size."""
    import keras

    from . import data as D

    rows = np.asarray(rows, dtype=np.int64)
    points = store.landmarks(split) if t.landmarks else None
    position = np.full(len(store.table(split)), -1, np.int64)
    position[rows] = np.arange(len(rows))
    if t.is_rnn:
        items, mask = D.eval_windows(store.table(split), rows, t.seq_len)
    else:
        items, mask = rows, np.ones(len(rows), bool)
    out = None
    b = t.batch_size
    for start in range(0, len(items), b):
        chunk = items[start:start + b]
        pad = b - len(chunk)
        padded = np.concatenate([chunk, np.repeat(chunk[-1:], pad, axis=0)]) if pad else chunk
        pred = keras.ops.convert_to_numpy(model.predict_on_batch(D.inputs_for(store, split, padded, points)))
        if out is None:
            out = np.full((len(rows), pred.shape[-1]), np.nan, np.float32)
        pred, keep = pred[:len(chunk)], mask[start:start + b]
        out[position[chunk[keep]]] = pred[keep]
    return out if out is not None else np.zeros((0, 2 if t.task == "va" else len(EMOTIONS)), np.float32)


# --------------------------------------------------------------------------------------------
# Scores


def va_scores(labels: np.ndarray, pred: np.ndarray) -> dict:
    """Pooled CCC (Eq. 1), Pearson CC (Eq. 5) and MSE per dimension, and the CCC mean."""
    from .metrics import ccc, mse, pearson

    out = {}
    for i, d in enumerate(("valence", "arousal")):
        out[f"ccc_{d}"] = ccc(labels[:, i], pred[:, i])
        out[f"pcc_{d}"] = pearson(labels[:, i], pred[:, i])
        out[f"mse_{d}"] = mse(labels[:, i], pred[:, i])
    out["ccc_mean"] = (out["ccc_valence"] + out["ccc_arousal"]) / 2
    return out


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


def runs(t: Transfer, store) -> list[_Run]:
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


def _labels(t: Transfer, store, split: str) -> np.ndarray:
    if t.task == "va":
        return store.labels(split)
    return emotion_index(store.table(split)["emotion"])


def _validation_score(t: Transfer, store, split, rows, pred) -> float:
    """What chooses the epoch: mean CCC, or clip accuracy after aggregation."""
    if t.task == "va":
        return va_scores(store.labels(split)[rows], pred)["ccc_mean"]
    videos = store.table(split)["video"].astype(str).to_numpy()[rows]
    clips = aggregate(pred, videos)
    true = pd.Series(_labels(t, store, split)[rows]).groupby(videos, sort=False).first()
    return float(np.mean(clips["predicted"].to_numpy() == true.loc[clips["video"]].to_numpy()))


#: The code a finished run depends on besides its settings: a change to any of these (the
#: reason DVC reruns the stage) must not leave old folds standing beside new ones.
CODE = ("transfer.py", "data.py", "losses.py", "metrics.py", "store.py", "models")


def _settings_hash(t: Transfer) -> str:
    """What a finished run was made from: the settings, the prior's and the store's bytes, and
    the code of :data:`CODE`."""
    config = {k: v for k, v in asdict(t).items() if k not in ("description", "tables")}
    config["prior"] = _file_hash(t.prior_path)
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

    def __init__(self, t: Transfer, train_points: np.ndarray):
        import keras

        self.model, self.init = build_model(t, train_points)
        _compile(self.model, t)
        self.model.optimizer.build(self.model.trainable_variables)
        self.weights = self.model.get_weights()
        self.optimizer = [keras.ops.convert_to_numpy(v.value) for v in self.model.optimizer.variables]

    def fresh(self, t: Transfer, train_points: np.ndarray):
        from .models.heads import set_landmark_statistics

        self.model.set_weights(self.weights)
        for variable, value in zip(self.model.optimizer.variables, self.optimizer):
            variable.assign(value)
        if not t.prior and t.landmarks:  # this fold's training frames, as a new model would
            set_landmark_statistics(self.model, train_points)
        return self.model


def fit_run(t: Transfer, store, run: _Run, folder: Path, log=print, cache: dict | None = None) -> dict:
    """Train one run, keep the epoch with the best validation score (weights kept in memory:
    a run takes seconds to minutes, so an interrupted one is redone whole), save it as
    ``folder/model.keras`` and return its record, test predictions included. ``cache`` keeps
    the compiled model between the runs of one experiment (:class:`_Model`)."""
    import keras

    from . import data as D
    from .engine import seed_everything
    from .train import _atomic

    seed_everything(t.seed)
    labels = _labels(t, store, run.train_split)
    points = store.landmarks(run.train_split)[run.train_rows]
    items = D.training_items(store, run.train_split, run.train_rows, labels if t.task == "va" else None,
                             t.seq_len if t.is_rnn else None, t.seq_stride, oversampling=False,
                             seed=t.seed)
    dataset = D.StoreBatches(store, run.train_split, items, labels, t.batch_size, t.landmarks,
                             seed=t.seed, max_steps=t.max_steps_per_epoch)
    cache = {} if cache is None else cache
    if "model" not in cache:
        cache["model"] = _Model(t, points)
    model, init = cache["model"].fresh(t, points), cache["model"].init
    history, best, best_weights = [], None, None
    for epoch in range(t.epochs):
        started = time.perf_counter()
        dataset.set_epoch(epoch)
        fit = model.fit(dataset, epochs=1, verbose=0, shuffle=False)
        pred = predict(model, store, run.select_split, run.select_rows, t)
        score = _validation_score(t, store, run.select_split, run.select_rows, pred)
        row = {"run": run.name, "epoch": epoch + 1, "loss": float(fit.history["loss"][-1]),
               "validation": score, "seconds": time.perf_counter() - started}
        history.append(row)
        log(f"{t.name} {run.name} epoch {epoch + 1}: loss {row['loss']:.4f}, "
            f"validation {'CCC' if t.task == 'va' else 'accuracy'} {score:.3f}, {row['seconds']:.0f} s")
        if best is None or (np.isfinite(score) and (not np.isfinite(best) or score > best)):
            best, best_weights, chosen = score, model.get_weights(), epoch + 1
    model.set_weights(best_weights)
    folder.mkdir(parents=True, exist_ok=True)
    _atomic(folder / "model.keras", lambda p: model.save(p))
    pred = predict(model, store, run.test_split, run.test_rows, t)
    result = {"run": run.name, "epoch_chosen": chosen, "validation": best, "history": history,
              "held_out_subjects": run.held_out, "init": init,
              "n_train_items": int(len(items)), "test_rows": run.test_rows.tolist(),
              "predictions": pred.tolist()}
    return result


def run(name: str, profile: str | None = None, out=None, log=print, **overrides) -> dict:
    """Train and evaluate transfer experiment ``name``; write ``experiments/<name>/``; return
    the metrics. A run (fold) whose ``runs/<run>/result.json`` was made from the same settings,
    prior, store and code (:func:`_settings_hash`) is kept, not redone: a stage interrupted
    after three folds of five resumes at the fourth."""
    from .store import FrameStore
    from .train import _atomic, experiment_dir

    t = resolve(name, profile, **overrides)
    folder = experiment_dir(name, out)
    folder.mkdir(parents=True, exist_ok=True)
    store = FrameStore(t.store)
    if store.size != t.input_size:
        raise ValueError(f"{t.store}: crops of {store.size} px, the profile's models take "
                         f"{t.input_size}; prepare it at that size")
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
        _atomic(done, lambda p: p.write_text(json.dumps(result) + "\n"))
        results.append(result)
    return _evaluate(t, store, folder, results)


def _evaluate(t: Transfer, store, folder: Path, results: list[dict]) -> dict:
    from .train import _atomic

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
    data_source = "synthetic" if (Path(t.data_root) / "synth_truth").is_dir() else "real"
    metrics = {"experiment": t.name, "dataset": t.dataset, "tables": list(t.tables),
               "profile": t.profile, "data_source": data_source,
               "runs": {r["run"]: {"epoch_chosen": r["epoch_chosen"], "validation": r["validation"],
                                   "held_out_subjects": r["held_out_subjects"], "init": r["init"],
                                   "n_train_items": r["n_train_items"],
                                   "n_test_frames": len(r["test_rows"])} for r in results},
               "initialisation": results[0]["init"]["initialisation"],
               "wall_seconds": float(history["seconds"].sum()), "n_test_frames": int(len(rows)),
               "n_test_videos": int(len(pd.unique(videos))), "config": asdict(t)}
    if t.task == "va":
        labels = store.labels(split)[rows]
        metrics.update(va_scores(labels, pred))
        metrics["per_run"] = {r: va_scores(labels[run_of == r], pred[run_of == r])
                              for r in pd.unique(run_of)}
        predictions = pd.DataFrame({"video": videos, "frame_index": table["frame_index"].to_numpy()[rows],
                                    "run": run_of, "valence": labels[:, 0], "arousal": labels[:, 1],
                                    "valence_pred": pred[:, 0], "arousal_pred": pred[:, 1]})
        headline = ["ccc_valence", "ccc_arousal", "ccc_mean", "pcc_valence", "pcc_arousal"]
    else:
        frames = pd.DataFrame(pred, columns=[f"p_{e}" for e in EMOTIONS])
        frames.insert(0, "video", videos)
        frames.insert(1, "frame_index", table["frame_index"].to_numpy()[rows])
        _atomic(folder / "frames.csv", lambda p: frames.to_csv(p, index=False))
        predictions = clip_predictions(store, split, frames, store.table(spec["train"]), t.data_root)
        true = emotion_index(predictions["emotion"])
        predicted = emotion_index(predictions["predicted"])
        metrics.update(emotion_scores(true, predicted))
        metrics["n_test_clips"] = int(len(predictions))
        metrics["clips_without_face"] = predictions.loc[predictions["n_frames"] == 0, "video"].tolist()
        metrics["aggregation"] = "mean"
        headline = ["accuracy_total"] + [f"accuracy_{e}" for e in EMOTIONS]
    _atomic(folder / "predictions.csv", lambda p: predictions.to_csv(p, index=False))
    _atomic(folder / "history.csv", lambda p: history.to_csv(p, index=False))
    _atomic(folder / "metrics.json", lambda p: p.write_text(json.dumps(metrics, indent=1) + "\n"))
    scores_ = {k: metrics[k] for k in headline}
    _atomic(folder / "scores.json", lambda p: p.write_text(json.dumps(scores_, indent=1) + "\n"))
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


def _release_emotion(data_root, split: str, video: str) -> str:
    """The emotion folder of a clip in the AFEW release (``<Split>_AFEW/<Emotion>/<clip>.*``)."""
    from .datasets.afew import SPLITS

    folder = {v: k for k, v in SPLITS.items()}[split]
    found = sorted(p.parent.name for p in (Path(data_root) / folder).glob(f"*/{video}.*")
                   if p.parent.name in EMOTIONS)
    if not found:
        raise FileNotFoundError(f"{data_root}/{folder}: clip {video} is in the store but in no emotion folder")
    return found[0]
