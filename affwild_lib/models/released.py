"""The authors' released networks as our Keras 3 models (Sect. 4.2.1, Tables 7-8).

The authors released trained networks (repository ``dkollias/Aff-Wild-models``, for research
use, not redistributable) as TensorFlow 1 ``Saver`` checkpoints (``model.ckpt-0``) whose model
code needs TensorFlow 1.8 and ``tf.contrib.slim``. :func:`import_checkpoint` reads such a
checkpoint with TensorFlow 2's ``tf.train.load_checkpoint`` and writes one of our ``.keras``
models, which ``affwild predict`` and ``affwild evaluate`` then run on TensorFlow or JAX.

What the release is, from its model code (``tf.train.list_variables`` names each variable):

- input: RGB face crops of 96 x 96, ``(p - 128) / 128``; 80-frame sequences, time folded into
  the batch for the CNN;
- the VGG-Face trunk: 13 convolutions ``conv_1`` ... ``conv_13`` (``weights`` 3 x 3 x in x out,
  ``biases``), ReLU, SAME padding; 5 max-pools 2 x 2 / 2 with SAME padding (96 -> 3);
- ``affwildnet-vggface`` (Table 8 without the landmarks): ``linear_1`` (4608 -> 4096, ReLU), two
  TensorFlow 1 ``GRUCell`` of 128 (``rnn_1/rnn/multi_rnn_cell/cell_<k>/gru_cell/{gates,
  candidate}/{kernel,bias}``), then ``rnn_1/weights_rnn`` (128 x 2) and ``rnn_1/biases_rnn``,
  linear;
- ``vggface-4096`` and ``vggface-2000`` (Table 7's CNN, scenario 1): ``linear_1`` (4096, ReLU),
  ``linear2_1`` (4096 or 2000, ReLU), ``linear3_1`` (2, linear).

Our builders make exactly these networks: SAME pooling, no landmarks, Keras' GRU with
``reset_after=False`` (TensorFlow 1's cell) and the gates reordered (:func:`gru_weights`), and
the release's pixel scaling as the model's first layer (:func:`affwild_lib.models.heads.pixels`)
so that our ``[-1, 1]`` crops go in unchanged.

Left out: the ResNet-50 AffWildNet (``affwildnet_resnet``). It is slim's ``resnet_v1_50``,
which puts each block's stride in its last unit's 3 x 3 convolution where
``keras.applications`` (and our ``resnet.py``) put it in the first unit's 1 x 1, and names and
orders its batch norms otherwise: a second ResNet builder, not a renaming.

A checkpoint in the release's layout with random values (:func:`write_checkpoint`) and the
release's forward pass written with raw TensorFlow ops as its model code computes it
(:func:`release_forward`) make the parity test that CI runs, and chapter 09's demonstration;
neither uses this module's import path.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: The release's pixels, (p - 128) / 128, from the stored uint8 p (heads.pixels; ours: p / 127.5 - 1).
RELEASE_PIXELS = (1.0 / 128.0, -1.0)
#: Crop side and sequence length of the release (its evaluation script's flags).
RELEASE_SIZE = 96
RELEASE_WINDOW = 80
#: VGG-Face's 13 convolutions, output channels, with the pool after the 2nd, 4th, 7th, 10th, 13th.
VGG_CHANNELS = (64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512)
VGG_POOLS_AFTER = (2, 4, 7, 10, 13)
GRU_UNITS = 128
GRU_SCOPE = "rnn_1/rnn/multi_rnn_cell/cell_{k}/gru_cell"
#: Variables a training checkpoint holds beside the network's: the step and optimiser slots.
_NOT_THE_NETWORK = re.compile(
    r"(^global_step$|^beta[12]_power(_\d+)?$|/(Adam|Adam_\d+|Momentum|RMSProp(_\d+)?|ExponentialMovingAverage)$)")


class CheckpointError(ValueError):
    """A checkpoint that is not the release named: a missing, extra or misshapen variable."""


class NeedsTensorFlow(CheckpointError):
    """TensorFlow is not installed, and only it reads and writes TF 1 checkpoints."""


def tensorflow():
    """TensorFlow, which this module needs to read, write or recompute a TF 1 checkpoint. A
    JAX-only machine (the GPU path, ``KERAS_BACKEND=jax``) has none and gets one line saying what
    to do: import where TensorFlow is, then carry the ``.keras``, which runs on any backend."""
    try:
        import tensorflow as tf
    except ImportError:
        raise NeedsTensorFlow(
            "the authors' checkpoints are TensorFlow 1 files, and reading or writing one needs "
            "TensorFlow, which is not installed here: run `affwild weights import` where it is "
            "(this project's environment pins it), then use the .keras it writes on any backend") from None
    return tf


def tensorflow_available() -> bool:
    """Whether :func:`tensorflow` imports (chapter 09 leaves its parity check out otherwise)."""
    try:
        tensorflow()
    except NeedsTensorFlow:
        return False
    return True


@dataclass(frozen=True)
class Kind:
    """One released network: its name in the release's evaluation script, its head."""

    name: str
    network: str          # the release's --network flag
    fc: tuple[int, ...]   # hidden FC units (ReLU) after the trunk
    recurrent: bool
    description: str


KINDS = {
    "affwildnet-vggface": Kind("affwildnet-vggface", "affwildnet_vggface", (4096,), True,
                               "AffWildNet, VGG-Face + 2 x GRU 128 (Table 8, no landmarks)"),
    "vggface-4096": Kind("vggface-4096", "vggface_4096", (4096, 4096), False,
                         "VGG-Face CNN, FC 4096-4096-2 (Table 7, scenario 1)"),
    "vggface-2000": Kind("vggface-2000", "vggface_2000", (4096, 2000), False,
                         "VGG-Face CNN, FC 4096-2000-2 (Table 7, scenario 1)"),
}
#: Released, but not importable here (see the module's docstring).
LEFT_OUT = {"affwildnet-resnet": "the ResNet-50 AffWildNet is slim's resnet_v1_50, whose stride "
            "placement and batch-norm layout differ from keras.applications' (and ours): not supported"}


def kind_of(name: str) -> Kind:
    if name in LEFT_OUT:
        raise ValueError(f"--kind {name}: {LEFT_OUT[name]}")
    if name not in KINDS:
        raise ValueError(f"unknown kind {name!r}; expected one of {sorted(KINDS)}")
    return KINDS[name]


# --------------------------------------------------------------------------------------------
# The release's variables


def _fc_names(kind: Kind) -> list[str]:
    if kind.recurrent:
        return ["linear_1"]
    return ["linear_1", "linear2_1", "linear3_1"][:len(kind.fc) + 1]


def layout(kind: str | Kind, width: float = 1.0) -> dict[str, tuple[int, ...]]:
    """Checkpoint variable name -> shape of the released network ``kind``.

    ``width`` < 1 scales the trunk's channels and the hidden FC units as our miniatures do (the
    GRU keeps its 128 units): the release's names at shapes a CPU test can afford.
    """
    from .heads import scaled

    kind = kind if isinstance(kind, Kind) else kind_of(kind)
    shapes: dict[str, tuple[int, ...]] = {}
    c_in = 3
    for k, c in enumerate(VGG_CHANNELS, start=1):
        c = scaled(c, width)
        shapes[f"conv_{k}/weights"], shapes[f"conv_{k}/biases"] = (3, 3, c_in, c), (c,)
        c_in = c
    n_in = 3 * 3 * c_in  # 96 -> 3 after five SAME pools
    units = [scaled(u, width) for u in kind.fc]
    for name, n_out in zip(_fc_names(kind), units + ([] if kind.recurrent else [2])):
        shapes[f"{name}/weights"], shapes[f"{name}/biases"] = (n_in, n_out), (n_out,)
        n_in = n_out
    if kind.recurrent:
        for k in range(2):
            scope = GRU_SCOPE.format(k=k)
            shapes[f"{scope}/gates/kernel"] = (n_in + GRU_UNITS, 2 * GRU_UNITS)
            shapes[f"{scope}/gates/bias"] = (2 * GRU_UNITS,)
            shapes[f"{scope}/candidate/kernel"] = (n_in + GRU_UNITS, GRU_UNITS)
            shapes[f"{scope}/candidate/bias"] = (GRU_UNITS,)
            n_in = GRU_UNITS
        shapes["rnn_1/weights_rnn"], shapes["rnn_1/biases_rnn"] = (GRU_UNITS, 2), (2,)
    return shapes


def read_checkpoint(source: str | Path) -> dict[str, np.ndarray]:
    """Every network variable of a TF 1 checkpoint (prefix ``.../model.ckpt-0``, or its folder)
    as NumPy arrays; the step counter and optimiser slots are left out."""
    tf = tensorflow()
    source = Path(source)
    prefix = source
    if source.suffix in (".index", ".meta") or re.fullmatch(r"\.data-\d+-of-\d+", source.suffix):
        prefix = source.with_suffix("")  # model.ckpt-0.index -> model.ckpt-0
    if source.is_dir():  # the release's folder: the one checkpoint in it
        found = sorted(source.glob("*.index"))
        if len(found) != 1:
            raise FileNotFoundError(
                f"{source}: {'no' if not found else len(found)} checkpoints (*.index) in this folder; "
                + ("give the one to import: " + ", ".join(f.with_suffix('').name for f in found)
                   if found else "expected model.ckpt-0.index beside its .data-* file"))
        prefix = found[0].with_suffix("")
    if not Path(f"{prefix}.index").is_file():
        raise FileNotFoundError(f"{source}: no TensorFlow checkpoint (expected {prefix}.index "
                                "beside its .data-* file, or a folder holding one)")
    try:
        reader = tf.train.load_checkpoint(str(prefix))
    except Exception as error:  # DataLossError, NotFoundError, ValueError...
        first = (str(error).splitlines() or [""])[0][:200]
        raise CheckpointError(f"{source}: not a TensorFlow checkpoint we can read "
                              f"({type(error).__name__}: {first})") from None
    names = [n for n in reader.get_variable_to_shape_map() if not _NOT_THE_NETWORK.search(n)]
    return {n: reader.get_tensor(n) for n in sorted(names)}


def _width(variables: dict[str, np.ndarray]) -> float:
    """The width multiplier a checkpoint was made at (1 for the release): conv_1's channels / 64."""
    first = variables.get("conv_1/weights")
    if first is None or first.ndim != 4:
        return 1.0  # check() names what is missing
    return first.shape[-1] / VGG_CHANNELS[0]


def _hint(variables: dict[str, np.ndarray], width: float) -> str:
    """'; its variables are those of --kind K' where another kind fits them exactly."""
    shapes = {n: tuple(a.shape) for n, a in variables.items()}
    fits = [k.name for k in KINDS.values() if layout(k, width) == shapes]
    return f"; its variables are those of --kind {fits[0]}" if fits else ""


def check(kind: Kind, variables: dict[str, np.ndarray], source, width: float) -> None:
    """Raise :class:`CheckpointError` naming the first variables that do not fit ``kind``."""
    wanted = layout(kind, width)
    missing = [n for n in wanted if n not in variables]
    extra = [n for n in variables if n not in wanted]
    if missing or extra:
        hint = _hint(variables, width)
        parts = ([f"no variable {', '.join(missing[:4])}" + (" ..." if len(missing) > 4 else "")]
                 if missing else []) + ([f"variable {', '.join(extra[:4])}" + (" ..." if len(extra) > 4 else "")
                                        + " is not part of it"] if extra else [])
        raise CheckpointError(f"{source}: not a {kind.name} checkpoint ({kind.description}): "
                              f"{'; '.join(parts)}{hint}")
    for name, shape in wanted.items():
        if tuple(variables[name].shape) != shape:
            raise CheckpointError(f"{source}: variable {name} has shape {tuple(variables[name].shape)}, "
                                  f"{kind.name} needs {shape}{_hint(variables, width)}")


# --------------------------------------------------------------------------------------------
# Our model of it


def build(kind: str | Kind, width: float = 1.0):
    """Our Keras model of the released network ``kind`` (random weights): 96 x 96 uint8 crops
    as the store holds them; AffWildNet takes sequences of any length."""
    from . import cnn_rnn, vgg

    kind = kind if isinstance(kind, Kind) else kind_of(kind)
    name = kind.name.replace("-", "_") + "_released"
    if kind.recurrent:
        return cnn_rnn.build(input_size=RELEASE_SIZE, seq_len=None, width=width,
                             backbone="vgg_face", landmarks=False, rnn="gru",
                             rnn_units=GRU_UNITS, rnn_layers=2, fc_units=kind.fc[0],
                             reset_after=False, pool_padding="same", rescale=RELEASE_PIXELS,
                             name=name)
    return vgg.build(input_size=RELEASE_SIZE, width=width, landmarks=False, fc_units=kind.fc,
                     pool_padding="same", rescale=RELEASE_PIXELS, name=name)


def gru_weights(gates_kernel, gates_bias, candidate_kernel, candidate_bias, n_inputs: int):
    """TensorFlow 1 ``GRUCell`` variables -> Keras ``GRU(reset_after=False)`` weights.

    TF 1: ``r, u = split(sigmoid([x, h] G + g))``, ``c = tanh([x, r * h] C + c_b)``,
    ``h' = u * h + (1 - u) * c``. Keras: ``z, r, h~`` from ``x W + h U + b`` in that column
    order, ``h' = z * h + (1 - z) * h~``: so Keras' update gate z is TF 1's u, and the rows of
    ``[x, h]`` split into the input kernel W and the recurrent kernel U.
    """
    units = candidate_bias.shape[0]
    r, u = slice(0, units), slice(units, 2 * units)
    gx, gh = gates_kernel[:n_inputs], gates_kernel[n_inputs:]
    cx, ch = candidate_kernel[:n_inputs], candidate_kernel[n_inputs:]
    kernel = np.concatenate([gx[:, u], gx[:, r], cx], axis=1)
    recurrent = np.concatenate([gh[:, u], gh[:, r], ch], axis=1)
    bias = np.concatenate([gates_bias[u], gates_bias[r], candidate_bias])
    return [kernel, recurrent, bias]


def _keras_weights(kind: Kind, v: dict[str, np.ndarray]) -> dict[str, list[np.ndarray]]:
    """Our layer name -> its weights, from the checkpoint's variables."""
    from .weights import VGG_CONV_LAYERS

    out = {layer: [v[f"conv_{k}/weights"], v[f"conv_{k}/biases"]]
           for k, layer in enumerate(VGG_CONV_LAYERS, start=1)}
    for i, name in enumerate(_fc_names(kind), start=1):
        out[f"fc{i}"] = [v[f"{name}/weights"], v[f"{name}/biases"]]
    if kind.recurrent:
        n_in = v["linear_1/weights"].shape[1]
        for k in range(2):
            s = GRU_SCOPE.format(k=k)
            out[f"gru{k + 1}"] = gru_weights(v[f"{s}/gates/kernel"], v[f"{s}/gates/bias"],
                                            v[f"{s}/candidate/kernel"], v[f"{s}/candidate/bias"], n_in)
            n_in = GRU_UNITS
        out["fc2"] = [v["rnn_1/weights_rnn"], v["rnn_1/biases_rnn"]]
    return out


def import_checkpoint(source: str | Path, kind: str, out: str | Path) -> dict:
    """Convert the released checkpoint ``source`` of ``kind`` into our ``.keras`` model ``out``.

    Every variable is checked (names, shapes) before a model is built; ``out`` and its record
    ``out.json`` (kind, source, the preprocessing the weights expect) are written atomically,
    so nothing half-imported is left. Returns the record.
    """
    kind_ = kind_of(kind)
    out = Path(out)
    if out.suffix != ".keras":
        raise ValueError(f"--out {out}: a {kind} model is written as a .keras file")
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder; give the .keras file to write")
    variables = read_checkpoint(source)
    width = _width(variables)
    check(kind_, variables, source, width)
    model = build(kind_, width)
    weights = _keras_weights(kind_, variables)
    for layer in model.layers:
        if layer.weights and layer.name not in weights:
            raise AssertionError(f"layer {layer.name} has no released weights")  # our bug, not the file's
    for name, values in weights.items():
        model.get_layer(name).set_weights([np.asarray(a, np.float32) for a in values])
    record = {"kind": kind_.name, "network": kind_.network, "description": kind_.description,
              "source": str(Path(source).resolve()), "width": width,
              "input_size": RELEASE_SIZE, "window": RELEASE_WINDOW if kind_.recurrent else None,
              "landmarks": False,
              "preprocessing": "RGB face crops of 96 x 96 scaled (p - 128) / 128 by the release; "
                               "the model's first layer maps our p / 127.5 - 1 crops onto that",
              "parameters": int(model.count_params())}
    out.parent.mkdir(parents=True, exist_ok=True)
    _save_atomically(model, record, out)
    return record


def record_of(path: str | Path) -> dict | None:
    """The import record beside an imported model (``FILE.keras`` -> ``FILE.json``), or None."""
    sidecar = Path(path).with_suffix(".json")
    if not sidecar.is_file():
        return None
    try:
        record = json.loads(sidecar.read_text())
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) and record.get("kind") in KINDS else None


def _save_atomically(model, record: dict, out: Path) -> None:
    """The model, then its record: a record is never beside a model it does not describe."""
    from ..atomic import write_file, write_json

    out.with_suffix(".json").unlink(missing_ok=True)
    write_file(out, lambda tmp: model.save(tmp), keep_suffix=True)
    write_json(out.with_suffix(".json"), record)


# --------------------------------------------------------------------------------------------
# The release itself, for the parity test: its checkpoint layout and its forward pass


def write_checkpoint(kind: str, prefix: str | Path, width: float = 1.0, seed: int = 0) -> Path:
    """A checkpoint in the release's exact layout, random values, written as the release's were:
    ``tf.compat.v1`` variables in a graph and a ``Saver`` (``<prefix>-0`` with its ``.index``,
    ``.data-*`` and ``.meta``). Returns the checkpoint prefix."""
    tf = tensorflow()
    rng = np.random.default_rng(seed)
    prefix = Path(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    graph = tf.Graph()
    with graph.as_default():
        for name, shape in layout(kind, width).items():
            fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
            spread = np.sqrt(2.0 / fan_in) if len(shape) > 1 else 0.1  # He: activations stay O(1)
            value = (rng.standard_normal(shape) * spread).astype(np.float32)
            tf.compat.v1.get_variable(name, initializer=value)
        tf.compat.v1.train.get_or_create_global_step()
        saver = tf.compat.v1.train.Saver()
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            return Path(saver.save(session, str(prefix), global_step=0))


def release_forward(variables: dict[str, np.ndarray], kind: str, pixels: np.ndarray) -> np.ndarray:
    """The release's forward pass, raw TensorFlow ops in its model code's order: ``pixels``
    (B, T, 96, 96, 3) in [0, 255] (B, 96, 96, 3 for a CNN) -> (B, T, 2) (or (B, 2))."""
    tf = tensorflow()
    kind_ = kind_of(kind)
    v = {n: tf.constant(a) for n, a in variables.items()}
    x = tf.constant(pixels, tf.float32)
    lead = x.shape[:-3]
    x = (tf.reshape(x, (-1, *x.shape[-3:])) - 128.0) / 128.0  # time folded into the batch
    for k in range(1, len(VGG_CHANNELS) + 1):
        x = tf.nn.conv2d(x, v[f"conv_{k}/weights"], [1, 1, 1, 1], padding="SAME")
        x = tf.nn.relu(tf.nn.bias_add(x, v[f"conv_{k}/biases"]))
        if k in VGG_POOLS_AFTER:
            x = tf.nn.max_pool2d(x, 2, 2, padding="SAME")
    x = tf.reshape(x, (x.shape[0], -1))
    names = _fc_names(kind_)
    for i, name in enumerate(names):
        x = tf.matmul(x, v[f"{name}/weights"]) + v[f"{name}/biases"]
        if kind_.recurrent or i < len(names) - 1:
            x = tf.nn.relu(x)
    if not kind_.recurrent:
        return x.numpy()
    x = tf.reshape(x, (lead[0], lead[1], -1))  # (B, T, 4096)
    for k in range(2):
        s = GRU_SCOPE.format(k=k)
        h = tf.zeros((x.shape[0], GRU_UNITS))
        steps = []
        for t in range(x.shape[1]):  # TF 1's GRUCell, step by step
            gates = tf.sigmoid(tf.matmul(tf.concat([x[:, t], h], 1), v[f"{s}/gates/kernel"])
                               + v[f"{s}/gates/bias"])
            r, u = tf.split(gates, 2, axis=1)
            c = tf.tanh(tf.matmul(tf.concat([x[:, t], r * h], 1), v[f"{s}/candidate/kernel"])
                        + v[f"{s}/candidate/bias"])
            h = u * h + (1 - u) * c
            steps.append(h)
        x = tf.stack(steps, axis=1)
    return (tf.tensordot(x, v["rnn_1/weights_rnn"], 1) + v["rnn_1/biases_rnn"]).numpy()
