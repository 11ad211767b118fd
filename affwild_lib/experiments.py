"""The named experiments: one per row of the paper's Tables 5 and 9-14 (Sect. 4).

An :class:`Experiment` holds the paper's settings of one row (architecture, landmarks,
annotation, RNN, loss, batch size, learning rate, dropout, oversampling, initialisation,
sequence length). :func:`resolve` scales it to a profile of ``params.yaml``:

* ``paper``: the paper's values (width 1, 96 x 96 crops, batch 80 for CNN-M and the CNN-RNNs,
  50 for the CNNs, learning rate 1e-3, dropout 0.5; Sects. 4.1.1, 4.2.1, 4.2.1.3), and
  sequences of 80 frames, which is our choice: the paper gives no sequence length;
* ``tiny``: miniatures that train in seconds on a CPU (width 1/16, 48 x 48 crops, ...).

The profile's keys live under ``profiles.<profile>.train`` in ``params.yaml``; any key left out
takes the value of :data:`PROFILE_DEFAULTS`. ``None`` for ``batch``/``seq_len`` keeps the
experiment's own (paper) value; ``batch`` is frames per step for the CNNs, ``rnn_batch``
sequences per step for the CNN-RNNs.

``params.yaml``'s top-level ``experiments:`` block holds per-experiment overrides (any field of
:class:`Experiment`, e.g. ``affwildnet: {rnn_units: 100}``), applied after the profile, so a
change to one experiment's block reruns that experiment's DVC stage alone.

``bn_momentum`` (tiny: 0.9) speeds up the batch-norm moving averages of CNN-M and ResNet-50:
with Keras' 0.99 they are still far from the data after the few dozen steps of a tiny run, and
validation (inference mode) would measure that rather than the model.

The paper gives no number of epochs; ``paper`` uses 20 with model selection on a held-out
fifth of the training subjects, which is our choice, not the paper's.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

#: Per profile, the settings that scale an experiment; params.yaml's ``train`` overrides them.
PROFILE_DEFAULTS = {
    "tiny": dict(width=0.0625, input_size=48, epochs=5, seq_len=16, seq_stride=8, batch=16,
                 rnn_batch=4, max_steps_per_epoch=40, val_fraction=0.2, seed=0, bn_momentum=0.9,
                 store="data/prepared/affwild", weights={}),
    "paper": dict(width=1.0, input_size=96, epochs=20, seq_len=None, seq_stride=None,
                  batch=None, rnn_batch=None, max_steps_per_epoch=None, val_fraction=0.2, seed=0,
                  bn_momentum=None, store="data/prepared/affwild",
                  weights={"vgg_face": "weights/vgg_face.npz", "vgg16": "weights/vgg16.npz",
                           "resnet50": "weights/resnet50.npz", "cnn_m": "weights/cnn_m.npz"}),
}

#: Initialisation per conv backbone (Sect. 4.2): VGG-Face on faces, the others on ImageNet.
#: CNN-M was pre-trained on FaceValue (Sect. 4.1.1).
INIT_OF_BACKBONE = {"vgg_face": "vggface", "vgg16": "imagenet", "resnet50": "imagenet",
                    "cnn_m": "facevalue"}


@dataclass(frozen=True)
class Experiment:
    """One row of a paper table: the settings to train and evaluate it.

    ``model`` is a name of :data:`affwild_lib.models.MODELS`; ``backbone`` is the conv part
    (the model itself for CNNs, VGG-Face or ResNet-50 under AffWildNet). ``tables`` lists the
    rows reproduced, as ``"<table>:<row>"`` (``"loss:..."``, ``"oversampling:..."`` for the
    Sect. 4.2 ablations that have no table).
    """

    name: str
    model: str
    backbone: str
    landmarks: bool = True
    annotation: str = "mean"          # 'mean' (the release's labels) | 'single' (Table 11)
    rnn: str | None = None            # 'gru' | 'lstm' for AffWildNet
    rnn_layers: int = 0
    rnn_units: int = 0
    loss: str = "ccc"                 # 'ccc' (Eq. 3) | 'mse' (Sect. 4.1.1)
    batch_size: int = 50
    learning_rate: float = 1e-3
    dropout: float = 0.5
    oversampling: bool = True         # Sect. 4.2 quadrant oversampling
    init: str = "vggface"             # 'random' | 'imagenet' | 'vggface' | 'facevalue'
    seq_len: int | None = None        # frames per training sequence (RNNs only)
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
    seed: int = 0
    bn_momentum: float | None = None  # batch-norm moving-average momentum; None: the model's
    store: str | None = None          # the frame store (absolute after resolve)
    data_root: str | None = None      # the raw release (raw traces, subject list)
    weights: str | None = None        # pre-trained weights file for ``init``; None: random

    @property
    def is_rnn(self) -> bool:
        return self.model == "affwildnet"

    def model_config(self) -> dict:
        """Keyword arguments of :func:`affwild_lib.models.build` for this experiment."""
        config = dict(input_size=self.input_size, width=self.width)
        if self.model == "cnn_m":
            return config  # Table 4: no landmarks, no dropout
        config.update(landmarks=self.landmarks, dropout=self.dropout)
        if self.is_rnn:
            config.update(backbone=self.backbone, rnn=self.rnn, rnn_units=self.rnn_units,
                          rnn_layers=self.rnn_layers, seq_len=None)
        return config

    def as_dict(self) -> dict:
        return asdict(self)


def _cnn(name, backbone, tables, **kw) -> Experiment:
    """A CNN of Sect. 4.2.1.1-4.2.1.2: batch 50, lr 1e-3, dropout 0.5, CCC loss."""
    return Experiment(name=name, model=backbone, backbone=backbone, tables=tables,
                      init=INIT_OF_BACKBONE[backbone], **kw)


def _cnn_rnn(name, rnn, layers, units, tables, **kw) -> Experiment:
    """A CNN-RNN of Sect. 4.2.1.3 on VGG-Face with landmarks: batch 80 (the paper), sequences
    of 80 frames (ours: the paper does not give the length)."""
    return Experiment(name=name, model="affwildnet", backbone="vgg_face", rnn=rnn,
                      rnn_layers=layers, rnn_units=units, batch_size=80, seq_len=80,
                      tables=tables, **kw)


_ALL = [
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
    _cnn("cnn-vggface-nolandmarks", "vgg_face", ("10:Without Landmarks",), landmarks=False,
         description="Best CNN without landmarks (scenario 1)"),
    _cnn("cnn-vggface-1annotator", "vgg_face", ("11:1 Annotator",), annotation="single",
         description="Best CNN trained on the annotator most correlated with the landmarks"),
    _cnn("cnn-vggface-mse", "vgg_face", ("loss:MSE",), loss="mse",
         description="Best CNN trained with MSE instead of the CCC loss (Sect. 4.2)"),
    _cnn("cnn-vggface-nooversampling", "vgg_face", ("oversampling:off",), oversampling=False,
         description="Best CNN without the quadrant oversampling of Sect. 4.2"),
    _cnn_rnn("affwildnet", "gru", 2, 128,
             ("12:best CNN-GRU", "13:best CNN-RNN", "14:128 units, 2 Hidden Layers"),
             description="AffWildNet (Table 8, Fig. 13): VGG-Face, landmarks, FC 4096, 2 x GRU 128"),
    _cnn_rnn("cnnrnn-lstm-2x128", "lstm", 2, 128, ("12:best CNN-LSTM",),
             description="AffWildNet with LSTM cells (no peepholes in Keras)"),
    _cnn_rnn("cnnrnn-gru-1x100", "gru", 1, 100, ("14:100 units, 1 Hidden Layer",)),
    _cnn_rnn("cnnrnn-gru-2x100", "gru", 2, 100, ("14:100 units, 2 Hidden Layers",)),
    _cnn_rnn("cnnrnn-gru-1x128", "gru", 1, 128, ("14:128 units, 1 Hidden Layer",)),
    _cnn_rnn("cnnrnn-gru-1x150", "gru", 1, 150, ("14:150 units, 1 Hidden Layer",)),
    _cnn_rnn("cnnrnn-gru-2x150", "gru", 2, 150, ("14:150 units, 2 Hidden Layers",)),
]

#: name -> the paper's settings of that row.
EXPERIMENTS: dict[str, Experiment] = {e.name: e for e in _ALL}


def get(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        raise KeyError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]


def by_table(table: str | int) -> list[Experiment]:
    """The experiments reproducing rows of ``table`` (e.g. 14, or "loss")."""
    prefix = f"{table}:"
    return [e for e in _ALL if any(t.startswith(prefix) for t in e.tables)]


def profile_settings(profile: str | None = None, root: Path | None = None) -> tuple[str, dict, dict]:
    """(profile name, its ``train`` settings with defaults filled in, the whole profile)."""
    from .config import profile_params

    name, params = profile_params(profile, root)
    settings = dict(PROFILE_DEFAULTS.get(name, PROFILE_DEFAULTS["paper"]))
    settings.update({k: v for k, v in (params.get("train") or {}).items()})
    return name, settings, params


def resolve(name: str, profile: str | None = None, root: Path | None = None,
            **overrides) -> Experiment:
    """Experiment ``name`` as profile ``profile`` runs it (the active one when None).

    Width, input size, epochs, steps, validation share and seed come from the profile; batch
    size and sequence length too unless the profile sets them to None (then the paper's).
    The weights file is the profile's for the experiment's backbone, made absolute; it stays
    set even if the file is missing (training then falls back to random and says so).
    ``overrides`` replace any resulting field (tests: ``epochs=1``, ``store=tmp``, ...).
    """
    from .config import load_params, repo_root

    base = get(name)
    root = Path(root) if root else repo_root()
    profile_name, s, params = profile_settings(profile, root)
    changes: dict = dict(profile=profile_name, width=float(s["width"]),
                         input_size=int(s["input_size"]), epochs=int(s["epochs"]),
                         max_steps_per_epoch=s.get("max_steps_per_epoch"),
                         val_fraction=float(s["val_fraction"]), seed=int(s["seed"]),
                         bn_momentum=s.get("bn_momentum"),
                         store=str((root / s["store"]).resolve()),
                         data_root=str((root / params.get("data_root", "data/synth") / "affwild").resolve()))
    batch = s.get("rnn_batch") if base.is_rnn else s.get("batch")
    if batch:
        changes["batch_size"] = int(batch)
    if base.is_rnn:
        if s.get("seq_len"):
            changes["seq_len"] = int(s["seq_len"])
        seq_len = changes.get("seq_len", base.seq_len)
        changes["seq_stride"] = int(s.get("seq_stride") or max(1, seq_len // 2))
    path = (s.get("weights") or {}).get(base.backbone) if base.init != "random" else None
    changes["weights"] = str((root / path).resolve()) if path else None
    known = {f.name for f in fields(Experiment)}
    from_params = (load_params(root).get("experiments") or {}).get(name) or {}
    for source, given in (("params.yaml experiments." + name, from_params), ("overrides", overrides)):
        unknown = set(given) - known
        if unknown:
            raise TypeError(f"{source}: unknown experiment field(s): {', '.join(sorted(unknown))}")
        changes.update(given)
    if base.is_rnn and "seq_len" in from_params and "seq_stride" not in from_params:
        changes["seq_stride"] = max(1, int(changes["seq_len"]) // 2)
    return replace(base, **changes)


__all__ = ["EXPERIMENTS", "Experiment", "PROFILE_DEFAULTS", "by_table", "get", "profile_settings",
           "resolve"]
