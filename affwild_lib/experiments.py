"""The named experiments: one per row of the paper's Tables 5, 6 and 9-18 (Sects. 4 and 5).

One registry, :data:`EXPERIMENTS`. An :class:`Experiment` holds the paper's settings of one
row: the dataset it is trained on (Aff-Wild for Sect. 4; RECOLA, AFEW-VA or AFEW for Sect. 5),
architecture, landmarks, annotation, RNN, loss, batch size, learning rate, dropout,
oversampling, initialisation (pre-trained weights, or Sect. 5's AffWildNet prior) and
sequence length. :func:`resolve` scales it to a profile of ``params.yaml``, the one source of
the profiles' settings:

* ``profiles.<p>.train``: how Sect. 4's rows run (width, crop size, epochs, steps, batch,
  window, seed, batch-norm momentum, store, pre-trained weights). ``null`` for ``batch``,
  ``rnn_batch``, ``seq_len`` keeps the row's own (the paper's) value; ``batch`` is frames per
  step for the CNNs, ``rnn_batch`` sequences per step for the CNN-RNNs.
* ``profiles.<p>.transfer``: Sect. 5's schedule (epochs, steps, batches, windows, one value or
  one per dataset, ``finetune_lr``, folds); width, crop size, seed and batch-norm momentum are
  the ``train`` block's, since a prior must have the shape AffWildNet was trained in.
* ``experiments.<name>`` (top level): per-experiment overrides of Sect. 4's rows (any field,
  e.g. ``affwildnet: {rnn_units: 100}``), applied after the profile, so a change to one
  experiment's block reruns that experiment's DVC stage alone.

The ``paper`` profile holds the paper's values (width 1, 96 x 96 crops, batch 80 for CNN-M and
the CNN-RNNs, 50 for the CNNs, learning rate 1e-3, dropout 0.5; Sects. 4.1.1, 4.2.1, 4.2.1.3),
sequences of 80 frames (the paper gives no length; the authors' released evaluation script,
``eval_script.py`` of github.com/dkollias/Aff-Wild-models, uses ``seq_length`` 80) and 20 epochs with model
selection on a held-out fifth of the training subjects (ours too). ``tiny``'s ``bn_momentum``
0.9 speeds up the batch-norm moving averages of CNN-M and ResNet-50: with Keras' 0.99 they are
still far from the data after the few dozen steps of a tiny run, and validation (inference
mode) would measure that rather than the model. Their ``fc_init: glorot`` starts CNN-M's two
FC layers from Keras' Glorot-uniform weights and zero biases rather than Sect. 4.1.1's truncated
normal of variance 0.1 and biases 1 (``fc_init: paper``, the ``paper`` profile's): that start
gives initial outputs of several units on a [-1, 1] scale, which the authors' 4-5 days of
training undid and a miniature's few hundred steps do not (measured on ``tiny``: after 200
steps its MSE on its own training frames was 0.58 and 0.64, above the constant predictor's
0.11 and 0.17, against 0.02 from the Glorot start; issue 23).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

#: What each experiment can be trained on, and its protocol (Sect. 5: which store splits train,
#: choose the epoch and test; ``select`` None: a fifth of the training subjects chooses it;
#: ``folds``: person-independent cross-validation).
DATASETS = {
    "affwild": dict(task="va", train="train", select=None, test="test", folds=0,
                    title="Aff-Wild", section="4"),
    "recola": dict(task="va", train="train", select="dev", test="test", folds=0,
                   title="RECOLA", section="5.1.1"),
    "afew-va": dict(task="va", train="all", select=None, test="all", folds=5,
                    title="AFEW-VA", section="5.1.2"),
    "afew": dict(task="emotions", train="train", select=None, test="val", folds=0,
                 title="AFEW (EmotiW 2017)", section="5.2.1"),
}

#: Initialisation per conv backbone (Sect. 4.2): VGG-Face on faces, the others on ImageNet.
#: CNN-M was pre-trained on FaceValue (Sect. 4.1.1).
INIT_OF_BACKBONE = {"vgg_face": "vggface", "vgg16": "imagenet", "resnet50": "imagenet",
                    "cnn_m": "facevalue", "fatauva_net": "attributes-aus"}
#: The Sect. 4 experiment whose trained model is Sect. 5's prior.
PRIOR = "affwildnet"
#: Keys each profile block must give (params.yaml is the only place they are set).
TRAIN_KEYS = ("width", "input_size", "epochs", "seq_len", "seq_stride", "batch", "rnn_batch",
              "max_steps_per_epoch", "val_fraction", "seed", "bn_momentum", "fc_init", "store",
              "weights", "seeds")
TRANSFER_KEYS = ("epochs", "max_steps_per_epoch", "batch", "rnn_batch", "seq_len", "seq_stride",
                 "finetune_lr", "folds", "val_fraction")


@dataclass(frozen=True)
class Experiment:
    """One row of a paper table: the settings to train and evaluate it.

    ``model`` is a name of :data:`affwild_lib.models.MODELS` (``cnn_rnn`` for every CNN-RNN;
    AffWildNet is Table 8's configuration of it); ``backbone`` is the conv part (the model
    itself for CNNs). ``tables`` lists the rows reproduced, as ``"<table>:<row>"``
    (``"loss:..."``, ``"oversampling:..."`` for the Sect. 4.2 ablations that have no table;
    ``"15x:..."``: our rows added to Table 15).
    """

    name: str
    model: str
    backbone: str
    dataset: str = "affwild"          # a key of DATASETS
    landmarks: bool = True
    annotation: str = "mean"          # 'mean' (the release's labels) | 'single' (Table 11)
    rnn: str | None = None            # 'gru' | 'lstm' for a CNN-RNN
    rnn_layers: int = 0
    rnn_units: int = 0
    loss: str = "ccc"                 # 'ccc' (Eq. 3) | 'mse' (Sect. 4.1.1) | 'crossentropy' (Sect. 5.2)
    batch_size: int = 50
    learning_rate: float = 1e-3
    dropout: float = 0.5
    oversampling: bool = True         # Sect. 4.2 quadrant oversampling
    init: str = "vggface"             # 'random' | 'imagenet' | 'vggface' | 'facevalue' | 'affwildnet'
                                      # | 'attributes-aus' (FATAUVA-Net's stages, Table 6)
    mode: str = "whole"               # with the AffWildNet prior: 'whole' | 'frozen' (Sect. 4.2)
    seq_len: int | None = None        # frames per training sequence (CNN-RNNs only)
    epochs: int = 20
    tables: tuple[str, ...] = ()
    description: str = ""
    # ---- filled by resolve(): how the profile runs it ----
    profile: str | None = None
    width: float = 1.0
    input_size: int = 96
    seq_stride: int | None = None     # start-to-start distance of training windows
    max_steps_per_epoch: int | None = None
    val_fraction: float = 0.2         # share of training subjects held out for model selection
    folds: int = 0                    # AFEW-VA's person-independent folds
    seed: int = 0
    seeds: int = 1                    # training runs: seeds seed, seed + 1, ... (train.seeds)
    bn_momentum: float | None = None  # batch-norm moving-average momentum; None: the model's
    fc_init: str = "paper"            # CNN-M's FC start: 'paper' (Sect. 4.1.1) or 'glorot'
    store: str | None = None          # the frame store (absolute after resolve)
    data_root: str | None = None      # the raw release (raw traces, subject list)
    weights: str | None = None        # pre-trained weights file for ``init``; None: random
    prior_path: str | None = None     # the AffWildNet model.keras that ``init='affwildnet'`` starts from

    @property
    def is_rnn(self) -> bool:
        """Whether the model takes sequences of frames (a CNN-RNN, MM-Net, DRC-Net's LSTM)."""
        from .models import RECURRENT

        return self.model in RECURRENT

    @property
    def task(self) -> str:
        """'va' (valence and arousal) or 'emotions' (Sect. 5.2's 7 classes)."""
        return DATASETS[self.dataset]["task"]

    @property
    def prior(self) -> bool:
        """Whether it starts from Sect. 4's AffWildNet (the Sect. 5 fine-tunings)."""
        return self.init == "affwildnet"

    @property
    def uses_landmarks(self) -> bool:
        """Whether the model takes the 68 landmarks as a second input (CNN-M never does)."""
        return self.landmarks and self.model != "cnn_m"

    def model_config(self) -> dict:
        """Keyword arguments of :func:`affwild_lib.models.build` for this experiment."""
        config = dict(input_size=self.input_size, width=self.width, head=self.task)
        if self.model == "cnn_m":
            return {**config, "fc_init": self.fc_init}  # Table 4: no landmarks, no dropout
        config.update(landmarks=self.landmarks, dropout=self.dropout)
        if self.is_rnn:
            config.update(backbone=self.backbone, rnn=self.rnn, rnn_units=self.rnn_units,
                          rnn_layers=self.rnn_layers, seq_len=None)
        return config

    def as_dict(self) -> dict:
        return asdict(self)


def _cnn(name, backbone, tables, **kw) -> Experiment:
    """A CNN of Sect. 4.2.1.1-4.2.1.2: batch 50, lr 1e-3, dropout 0.5, CCC loss, started from
    its backbone's pre-training unless ``init`` says otherwise."""
    kw.setdefault("init", INIT_OF_BACKBONE[backbone])
    return Experiment(name=name, model=backbone, backbone=backbone, tables=tables, **kw)


def _cnn_rnn(name, rnn, layers, units, tables, **kw) -> Experiment:
    """A CNN-RNN of Sect. 4.2.1.3 on VGG-Face with landmarks: batch 80 (the paper), sequences
    of 80 frames (ours: the paper does not give the length)."""
    return Experiment(name=name, model="cnn_rnn", backbone="vgg_face", rnn=rnn,
                      rnn_layers=layers, rnn_units=units, batch_size=80, seq_len=80,
                      tables=tables, **kw)


def _entry(name, model, tables, init="random", **kw) -> Experiment:
    """A challenge entry of Table 6 (Sect. 4.1.2) as a miniature of its description, trained as
    AffWildNet's miniature is (same engine, loss, learning rate, dropout, oversampling and, per
    kind, batch and budget): on the face images alone; from random weights where the team's
    pre-training is unknown (MM-Net, DRC-Net: ours), from its attribute and AU stages where the
    description gives them (FATAUVA-Net, ``init='attributes-aus'``)."""
    from .models import RECURRENT

    rnn = model in RECURRENT
    return Experiment(name=name, model=model, backbone=model, landmarks=False, init=init,
                      batch_size=80 if rnn else 50, seq_len=80 if rnn else None, tables=tables, **kw)


def _sect5(name, dataset, model, tables, backbone=None, **kw) -> Experiment:
    """A row of Tables 15-18: trained on ``dataset`` from its backbone's pre-training (VGG-Face
    or ImageNet, the synthetic stand-ins on synthetic data) or from AffWildNet, without
    oversampling; CCC loss, or cross-entropy against the clip's emotion (Sect. 5.2.1)."""
    loss = "ccc" if DATASETS[dataset]["task"] == "va" else "crossentropy"
    kw.setdefault("init", INIT_OF_BACKBONE[backbone or model])
    return Experiment(name=name, model=model, backbone=backbone or model, dataset=dataset,
                      loss=loss, oversampling=False, tables=tables, **kw)


def _sect5_rnn(name, dataset, tables, backbone="vgg_face", prior=False, **kw) -> Experiment:
    """A CNN-RNN of Sect. 5 with AffWildNet's recurrent part (2 x GRU 128); ``prior``: starting
    from chapter 05's AffWildNet."""
    return _sect5(name, dataset, "cnn_rnn", tables, backbone=backbone, rnn="gru", rnn_layers=2,
                  rnn_units=128, **({"init": "affwildnet"} if prior else {}), **kw)


_ALL = [
    # ---- Sect. 4: Aff-Wild (Tables 5, 9-14)
    Experiment(name="baseline-cnnm", model="cnn_m", backbone="cnn_m", landmarks=False,
               loss="mse", batch_size=80, dropout=0.0, oversampling=False, init="facevalue",
               tables=("5:CNN-M",),
               description="Challenge baseline (Sect. 4.1.1, Table 4): CNN-M, MSE, Adam 1e-3, "
                           "batch 80"),
    _cnn("cnn-vggface", "vgg_face",
         ("9:VGG Face", "10:With Landmarks", "11:Mean of Annotators", "13:best CNN",
          "loss:CCC", "oversampling:on"),
         description="Best CNN (Table 7, Fig. 12): VGG-Face conv, landmarks at FC1, 4096-2048"),
    _cnn("cnn-vgg16", "vgg16", ("9:VGG-16",), description="Table 7's CNN from VGG-16 (ImageNet)"),
    _cnn("cnn-resnet50", "resnet50", ("9:ResNet-50",),
         description="ResNet-50 conv, FC 1500-256 (Sect. 4.2.1.1, Fig. 11)"),
    _cnn("cnn-vggface-random", "vgg_face", ("9x:VGG-Face architecture, random initialisation",),
         init="random",
         description="The best CNN without pre-training: what the VGG-Face start buys (ours)"),
    _cnn("cnn-vggface-nolandmarks", "vgg_face", ("10:Without Landmarks",), landmarks=False,
         description="Best CNN without landmarks (scenario 1)"),
    _cnn("cnn-vggface-1annotator", "vgg_face", ("11:1 Annotator",), annotation="single",
         description="Best CNN trained on the annotator most correlated with the landmarks"),
    _cnn("cnn-vggface-mse", "vgg_face", ("loss:MSE",), loss="mse",
         description="Best CNN trained with MSE instead of the CCC loss (Sect. 4.2)"),
    _cnn("cnn-vggface-nooversampling", "vgg_face", ("oversampling:off",), oversampling=False,
         description="Best CNN without the quadrant oversampling of Sect. 4.2"),
    _cnn_rnn("affwildnet", "gru", 2, 128,
             ("12:best CNN-GRU", "13:best CNN-RNN", "14:128 units, 2 Hidden Layers",
              "6x:AffWildNet (Table 13)"),
             description="AffWildNet (Table 8, Fig. 13): VGG-Face, landmarks, FC 4096, 2 x GRU 128"),
    _cnn_rnn("cnnrnn-lstm-2x128", "lstm", 2, 128, ("12:best CNN-LSTM",),
             description="AffWildNet with LSTM cells (no peepholes in Keras)"),
    _cnn_rnn("cnnrnn-gru-1x100", "gru", 1, 100, ("14:100 units, 1 Hidden Layer",)),
    _cnn_rnn("cnnrnn-gru-2x100", "gru", 2, 100, ("14:100 units, 2 Hidden Layers",)),
    _cnn_rnn("cnnrnn-gru-1x128", "gru", 1, 128, ("14:128 units, 1 Hidden Layer",)),
    _cnn_rnn("cnnrnn-gru-1x150", "gru", 1, 150, ("14:150 units, 1 Hidden Layer",)),
    _cnn_rnn("cnnrnn-gru-2x150", "gru", 2, 150, ("14:150 units, 2 Hidden Layers",)),
    # ---- Sect. 4.1.2: the challenge entries (Table 6), miniatures of the paper's descriptions
    _entry("mm-net", "mm_net", ("6:MM-Net",),
           description="MM-Net [31]: residual CNN per frame, three memory networks, their mean"),
    _entry("fatauva-net", "fatauva_net", ("6:FATAUVA-Net",), init="attributes-aus",
           description="FATAUVA-Net [5]: core, attribute, AU and V-A layers, trained in that order"),
    _entry("drc-net-deep", "drc_net_deep", ("6:DRC-Net",),
           description="DRC-Net [34], its best variant: deep Inception-ResNet per frame"),
    _entry("drc-net-shallow", "drc_net_shallow", ("6x:DRC-Net, shallow Inception-ResNet",),
           description="DRC-Net [34]'s shallow Inception-ResNet"),
    _entry("drc-net-lstm", "drc_net_lstm", ("6x:DRC-Net, Inception-ResNet with LSTM",),
           description="DRC-Net [34]'s Inception-ResNet with an LSTM over the frames"),
    # ---- Sect. 5.1.1: RECOLA (Table 15)
    _sect5_rnn("recola-affwildnet", "recola", ("15:Fine-tuned AffWildNet",), prior=True,
               description="AffWildNet fine-tuned on RECOLA, every layer, small learning rate"),
    _sect5_rnn("recola-affwildnet-frozen", "recola", ("15x:AffWildNet, CNN frozen",), prior=True,
               mode="frozen",
               description="AffWildNet on RECOLA with its CNN frozen: FC and GRU layers retrained"),
    _sect5_rnn("recola-resnet-gru", "recola", ("15:ResNet-GRU",), backbone="resnet50",
               description="ResNet-50 + 2-layer GRU trained on RECOLA alone (Sect. 5.1.1)"),
    _sect5_rnn("recola-affwildnet-noprior", "recola", ("15x:AffWildNet, no Aff-Wild prior",),
               description="AffWildNet's architecture trained on RECOLA alone: the prior's effect"),
    # ---- Sect. 5.1.2: AFEW-VA (Tables 16, 17)
    _sect5_rnn("afewva-affwildnet", "afew-va",
               ("16:Fine-tuned AffWildNet", "17:Fine-tuned AffWildNet"), prior=True,
               description="AffWildNet fine-tuned on AFEW-VA, every layer, small learning rate"),
    _sect5("afewva-cnn-vggface", "afew-va", "vgg_face", ("17:only CNN",),
           description="VGG-Face conv + FC 4096-2048 trained on AFEW-VA alone (Sect. 5.1.2)"),
    _sect5_rnn("afewva-affwildnet-noprior", "afew-va", ("17x:AffWildNet, no Aff-Wild prior",),
               description="AffWildNet's architecture trained on AFEW-VA alone"),
    # ---- Sect. 5.2.1: EmotiW (Table 18)
    _sect5("emotiw-vgg16", "afew", "vgg16", ("18:VGG-16",)),
    _sect5_rnn("emotiw-vgg16-rnn", "afew", ("18:VGG-16 + RNN",), backbone="vgg16"),
    _sect5("emotiw-resnet", "afew", "resnet50", ("18:ResNet",)),
    _sect5_rnn("emotiw-resnet-rnn", "afew", ("18:ResNet + RNN",), backbone="resnet50"),
    _sect5_rnn("emotiw-vggface-rnn", "afew", ("18:VGG-Face + RNN",),
               description="VGG-Face + 2 x GRU 128 with landmarks: AffWildNet without the prior"),
    _sect5_rnn("emotiw-affwildnet", "afew", ("18:fine-tuned AffWildNet",), prior=True,
               description="AffWildNet with a 7-unit softmax output, fine-tuned on AFEW"),
]

#: name -> the paper's settings of that row.
EXPERIMENTS: dict[str, Experiment] = {e.name: e for e in _ALL}
#: Sect. 5's rows (trained on RECOLA, AFEW-VA or AFEW): a view of :data:`EXPERIMENTS`.
TRANSFERS: dict[str, Experiment] = {n: e for n, e in EXPERIMENTS.items() if e.dataset != "affwild"}


def get(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        raise KeyError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]


def by_table(table: str | int) -> list[Experiment]:
    """The experiments reproducing rows of ``table`` (e.g. 14, or "loss")."""
    prefix = f"{table}:"
    return [e for e in _ALL if any(t.startswith(prefix) for t in e.tables)]


def by_dataset(dataset: str) -> list[Experiment]:
    """The experiments trained on ``dataset`` (a key of :data:`DATASETS`), in registry order."""
    return [e for e in _ALL if e.dataset == dataset]


def profile_settings(profile: str | None = None, root: Path | None = None,
                     block: str = "train") -> tuple[str, dict, dict]:
    """(profile name, its ``block`` settings, the whole profile), from ``params.yaml``; a key
    that the block lacks is an error naming it."""
    from .config import profile_params

    name, params = profile_params(profile, root)
    settings = dict(params.get(block) or {})
    missing = [k for k in (TRAIN_KEYS if block == "train" else TRANSFER_KEYS) if k not in settings]
    if missing:
        raise KeyError(f"params.yaml: profiles.{name}.{block} lacks {', '.join(missing)}")
    return name, settings, params


def _per_dataset(value, dataset: str):
    """A profile value given once, or per dataset (``{recola: 80, afew-va: 10, ...}``)."""
    return value[dataset] if isinstance(value, dict) else value


def resolve(name: str, profile: str | None = None, root: Path | None = None,
            **overrides) -> Experiment:
    """Experiment ``name`` as profile ``profile`` runs it (the active one when None).

    Sect. 4's rows: width, input size, epochs, steps, validation share and seed come from the
    profile's ``train`` block; batch size and sequence length too unless it sets them to None
    (then the paper's). The weights file is the profile's for the experiment's backbone, made
    absolute; it stays set even if the file is missing (training then falls back to random and
    says so). Sect. 5's rows: the ``transfer`` block's schedule, ``train``'s shape and seed; a
    whole-network fine-tuning of the prior takes ``finetune_lr``. ``overrides`` replace any
    resulting field (tests: ``epochs=1``, ``store=tmp``, ...).
    """
    from .config import load_params, repo_root

    base = get(name)
    root = Path(root) if root else repo_root()
    profile_name, train, params = profile_settings(profile, root)
    data_root = root / params.get("data_root", "data/synth") / base.dataset
    changes: dict = dict(profile=profile_name, width=float(train["width"]),
                         input_size=int(train["input_size"]), seed=int(train["seed"]),
                         bn_momentum=train.get("bn_momentum"), fc_init=train.get("fc_init", "paper"),
                         data_root=str(data_root.resolve()),
                         seeds=int(train.get("seeds") or 1))
    # the pre-trained start of the backbone (Sects. 4.2, 5), but for random or AffWildNet starts
    path = ((train.get("weights") or {}).get(base.backbone)
            if base.init not in ("random", "affwildnet") else None)
    changes["weights"] = str((root / path).resolve()) if path else None
    if base.dataset == "affwild":
        s = train
        changes.update(store=str((root / s["store"]).resolve()))
    else:
        _, s, _ = profile_settings(profile_name, root, "transfer")
        changes.update(store=str((root / "data" / "prepared" / base.dataset).resolve()),
                       folds=int(s["folds"]) if DATASETS[base.dataset]["folds"] else 0)
        if base.prior:
            changes["prior_path"] = str((root / "experiments" / PRIOR / "model.keras").resolve())
            if base.mode == "whole":
                changes["learning_rate"] = float(s["finetune_lr"])
    changes.update(epochs=int(s["epochs"]), max_steps_per_epoch=s.get("max_steps_per_epoch"),
                   val_fraction=float(s["val_fraction"]))
    batch = s.get("rnn_batch") if base.is_rnn else s.get("batch")
    if batch:
        changes["batch_size"] = int(batch)
    if base.is_rnn:
        seq_len = _per_dataset(s.get("seq_len"), base.dataset)
        if seq_len:
            changes["seq_len"] = int(seq_len)
        seq_len = changes.get("seq_len", base.seq_len)
        stride = _per_dataset(s.get("seq_stride"), base.dataset)
        changes["seq_stride"] = int(stride or max(1, seq_len // 2))
    known = {f.name for f in fields(Experiment)}
    # params.yaml's experiments: block overrides Sect. 4's rows (their DVC stages depend on it)
    from_params = ((load_params(root).get("experiments") or {}).get(name) or {}
                   if base.dataset == "affwild" else {})
    for source, given in (("params.yaml experiments." + name, from_params), ("overrides", overrides)):
        unknown = set(given) - known
        if unknown:
            raise TypeError(f"{source}: unknown experiment field(s): {', '.join(sorted(unknown))}")
        changes.update(given)
    given = {**from_params, **overrides}  # a new window length without a stride: half of it, as the profiles
    if base.is_rnn and "seq_len" in given and "seq_stride" not in given and changes.get("seq_len"):
        changes["seq_stride"] = max(1, int(changes["seq_len"]) // 2)
    return replace(base, **changes)


__all__ = ["DATASETS", "EXPERIMENTS", "Experiment", "PRIOR", "TRANSFERS", "by_dataset", "by_table",
           "get", "profile_settings", "resolve"]
