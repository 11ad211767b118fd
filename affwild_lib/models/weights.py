"""Pre-trained weights from a local file: VGG-Face, VGG-16 or ResNet-50 (Sect. 4.2).

The paper initialises the conv part from VGG-Face (face recognition), VGG-16 or ResNet-50
(ImageNet); VGG-Face was best (Table 9). None of these can be shipped here (the VGG-Face
weights may not be redistributed), and nothing is downloaded: you convert them once into one
simple file, and ``load_npz_weights`` reads it.

The layout: a NumPy ``.npz`` archive whose keys are ``<layer name>/<variable name>``, e.g.::

    block1_conv1/kernel   (3, 3, 3, 64)    float32, HWIO: height, width, in, out channels
    block1_conv1/bias     (64,)
    ...
    block5_conv3/kernel   (3, 3, 512, 512)
    block5_conv3/bias     (512,)

Batch-norm layers (ResNet-50) add ``<layer>/gamma``, ``beta``, ``moving_mean`` and
``moving_variance``. Layer names are those of our models (``vgg.py``: ``block<b>_conv<i>``;
``resnet.py``: ``conv1_conv``, ``conv2_block1_1_conv``, ... as in ``keras.applications``);
layers of the model that the file does not name (the FC layers, the RNN) keep their
initialisation.

Converting the official weights, once, on your machine (``affwild weights import``, below):

* VGG-Face from MatConvNet's ``vgg_face.mat`` (Oxford VGG, ``--kind vgg-face-mat``): its conv
  layers ``conv<b>_<i>`` hold ``[filters, biases]`` with filters already H x W x in x out; fc6-fc8
  are left out.
* VGG-16 or ResNet-50 on ImageNet from the ``keras.applications`` weight files you already
  have (``--kind keras-vgg16`` / ``keras-resnet50``, e.g.
  ``vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5``): their layer names are ours.
* The authors' trained networks (TF 1 checkpoints, :mod:`affwild_lib.models.released`) become
  whole ``.keras`` models rather than conv parts.

VGG-Face's Caffe ``VGG_FACE.caffemodel`` is not read: parsing it needs Caffe's protobuf schema.
These networks were trained on differently normalised inputs (mean-subtracted 0-255 pixels)
than ours (crops mapped to [-1, 1] by the model's ``pixels`` layer); fine-tuning (Sect. 4.2) absorbs the difference.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

VGG_CONV_LAYERS = tuple(
    f"block{b}_conv{i}" for b, n in enumerate((2, 2, 3, 3, 3), start=1) for i in range(1, n + 1)
)


class WeightsFileError(ValueError):
    """A weights file that does not fit the model: missing layer, unknown layer, wrong shape."""


def _variables(layer) -> dict:
    return {v.name: v for v in layer.weights}


def load_npz_weights(model, path, layers=None) -> list[str]:
    """Set the weights of the layers named in the ``.npz`` at ``path``; return their names.

    ``layers`` (e.g. ``VGG_CONV_LAYERS``) lists layers the file must hold; by default every
    layer the file names is loaded. Every name and shape is checked before anything is set, and
    a mismatch raises ``WeightsFileError`` naming the file, the layer, and the expected and
    found shapes (a model built with ``width`` != 1 cannot take full-size weights).
    """
    from ..atomic import read_npz

    path = Path(path)
    try:  # the project's one .npz reader names a missing or damaged file; here as WeightsFileError
        arrays = read_npz(path, "not a weights file we can read: convert or pre-train it again")
    except (FileNotFoundError, ValueError) as error:
        raise WeightsFileError(str(error)) from None
    by_layer: dict[str, dict[str, np.ndarray]] = {}
    for key, value in arrays.items():
        layer_name, sep, var_name = key.rpartition("/")
        if not sep:
            raise WeightsFileError(f"{path}: key {key!r} is not '<layer>/<variable>'")
        by_layer.setdefault(layer_name, {})[var_name] = value
    missing = [name for name in (layers or ()) if name not in by_layer]
    if missing:
        raise WeightsFileError(f"{path}: no weights for layer(s) {', '.join(missing)}")
    names = list(layers) if layers else list(by_layer)

    plan = []
    for name in names:
        try:
            layer = model.get_layer(name)
        except ValueError:
            raise WeightsFileError(
                f"{path}: layer {name!r} is not in model {model.name!r}") from None
        variables = _variables(layer)
        if set(by_layer[name]) != set(variables):
            raise WeightsFileError(f"{path}: layer {name!r} has variables {sorted(variables)}, "
                                   f"the file {sorted(by_layer[name])}")
        for var_name, variable in variables.items():
            found = by_layer[name][var_name].shape
            if tuple(variable.shape) != tuple(found):
                raise WeightsFileError(f"{path}: layer {name!r} {var_name}: expected shape "
                                       f"{tuple(variable.shape)}, found {tuple(found)}")
            plan.append((variable, by_layer[name][var_name]))
    for variable, value in plan:
        variable.assign(value.astype(variable.dtype))
    return names


def save_npz_weights(model, path, layers=None) -> list[str]:
    """Write the weights of ``layers`` (default: every layer that has weights) in the layout
    above; the inverse of ``load_npz_weights``. Returns the layer names written."""
    if layers:
        chosen = [model.get_layer(name) for name in layers]
    else:
        chosen = [layer for layer in model.layers if layer.weights]
    arrays = {f"{layer.name}/{name}": np.asarray(v.numpy()) for layer in chosen
              for name, v in _variables(layer).items()}
    np.savez(path, **arrays)
    return [layer.name for layer in chosen]


def transfer_weights(source, target, skip=()) -> tuple[list[str], list[str]]:
    """Copy weights layer by layer where names and shapes agree: e.g. the valence-arousal
    AffWildNet into the 7-emotion one (Sect. 5.2), or a trained CNN into a CNN-RNN.

    Returns (copied, not copied) layer names; a layer is not copied when ``skip`` names it,
    ``source`` lacks it, or its shapes differ (a changed head).
    """
    src = {layer.name: layer for layer in source.layers if layer.weights}
    copied, kept = [], []
    for layer in target.layers:
        if not layer.weights:
            continue
        other = src.get(layer.name)
        shapes = [tuple(w.shape) for w in layer.weights]
        if (other is not None and layer.name not in skip
                and [tuple(w.shape) for w in other.weights] == shapes):
            layer.set_weights(other.get_weights())
            copied.append(layer.name)
        else:
            kept.append(layer.name)
    return copied, kept


# --------------------------------------------------------------------------------------------
# affwild weights import


def _write_npz_atomically(arrays: dict[str, np.ndarray], out: Path) -> None:
    from ..atomic import write_file

    write_file(out, lambda tmp: np.savez(tmp, **arrays), keep_suffix=True)


def _matconvnet_layers(source: Path) -> list:
    import scipy.io

    try:
        mat = scipy.io.loadmat(source, squeeze_me=True, struct_as_record=False)
    except Exception as error:  # MatReadError, ValueError, a v7.3 (HDF5) file...
        raise WeightsFileError(f"{source}: not a MatConvNet .mat file we can read "
                               f"({type(error).__name__}: {str(error)[:160]})") from None
    net = mat.get("net")
    layers = getattr(net, "layers", None)
    if layers is None:
        raise WeightsFileError(f"{source}: no 'net.layers' (a MatConvNet SimpleNN network, as "
                               "vgg_face.mat is, was expected)")
    return list(np.atleast_1d(layers))


def vgg_face_from_matconvnet(source) -> dict[str, np.ndarray]:
    """VGG-Face's 13 convolutions from MatConvNet's ``vgg_face.mat``, in our ``.npz`` layout."""
    source = Path(source)
    arrays = {}
    for layer in _matconvnet_layers(source):
        name, kind = str(getattr(layer, "name", "")), str(getattr(layer, "type", ""))
        if kind != "conv" or not name.startswith("conv"):
            continue  # relu, pool, fc6-fc8 (stored as convolutions), softmax
        weights = getattr(layer, "weights", None)
        if weights is None:  # the older MatConvNet layout: separate fields
            weights = (getattr(layer, "filters", None), getattr(layer, "biases", None))
        try:
            block, index = name[4:].split("_")
            kernel, bias = weights
        except (ValueError, TypeError):
            raise WeightsFileError(f"{source}: layer {name!r} is not conv<b>_<i> with "
                                   "[filters, biases]") from None
        arrays[f"block{block}_conv{index}/kernel"] = np.asarray(kernel, np.float32)
        arrays[f"block{block}_conv{index}/bias"] = np.asarray(bias, np.float32).reshape(-1)
    missing = [n for n in VGG_CONV_LAYERS if f"{n}/kernel" not in arrays]
    if missing:
        raise WeightsFileError(f"{source}: no convolution for {', '.join(missing)} "
                               "(VGG-Face has conv1_1 ... conv5_3)")
    for layer_name, (channels, c_in) in zip(VGG_CONV_LAYERS, _vgg_shapes()):
        shape = arrays[f"{layer_name}/kernel"].shape
        if shape != (3, 3, c_in, channels):
            raise WeightsFileError(f"{source}: {layer_name} has filters {shape}, "
                                   f"VGG-Face's are {(3, 3, c_in, channels)}")
    return {k: arrays[k] for k in sorted(arrays)}


def _vgg_shapes():
    c_in = 3
    for b, n in enumerate((2, 2, 3, 3, 3), start=1):
        for _ in range(n):
            channels = (64, 128, 256, 512, 512)[b - 1]
            yield channels, c_in
            c_in = channels


def from_keras_applications(source, network: str) -> dict[str, np.ndarray]:
    """VGG-16's or ResNet-50's conv part from a ``keras.applications`` ImageNet weights file
    (the ``..._notop.h5`` Keras downloads, or a weights file saved from
    ``keras.applications.<Model>(include_top=False)``): our layer names are theirs. Nothing is downloaded: the file is read where it is."""
    import keras

    builders = {"vgg16": keras.applications.VGG16, "resnet50": keras.applications.ResNet50}
    source = Path(source)
    try:
        model = builders[network](weights=str(source), include_top=False, input_shape=(None, None, 3))
    except Exception as error:
        raise WeightsFileError(f"{source}: not {network} weights keras.applications can load "
                               f"({type(error).__name__}: {(str(error).splitlines() or [''])[0][:160]})") from None
    return {f"{layer.name}/{name}": np.asarray(v.numpy()) for layer in model.layers
            for name, v in _variables(layer).items()}


#: ``affwild weights import --kind``: the conv parts (written as .npz), then the released networks.
CONV_KINDS = {
    "vgg-face-mat": "VGG-Face's convolutions from MatConvNet's vgg_face.mat (the paper profile's vgg_face)",
    "keras-vgg16": "VGG-16's convolutions from a keras.applications ImageNet weights file (vgg16)",
    "keras-resnet50": "ResNet-50's conv part from a keras.applications ImageNet weights file (resnet50)",
}


def import_kinds() -> dict[str, str]:
    """Every ``--kind`` of ``affwild weights import`` with what it reads."""
    from . import released

    return {**CONV_KINDS, **{k: f"the authors' released {v.description}, a TF 1 checkpoint"
                             for k, v in released.KINDS.items()},
            **{k: f"(not supported: {why})" for k, why in released.LEFT_OUT.items()}}


def import_weights(source, kind: str, out) -> dict:
    """``affwild weights import``: convert ``source`` of ``kind`` into ``out`` (a conv part:
    ``.npz`` in the layout above; a released network: ``.keras``), written atomically."""
    from . import released

    source, out = Path(source), Path(out)
    if kind not in CONV_KINDS:
        return released.import_checkpoint(source, kind, out)  # checks kind, out, source itself
    if out.suffix != ".npz":
        raise ValueError(f"--out {out}: a conv part ({kind}) is written as an .npz file")
    if not source.is_file():
        raise FileNotFoundError(f"{source}: no such file")
    if kind == "vgg-face-mat":
        arrays = vgg_face_from_matconvnet(source)
    else:
        arrays = from_keras_applications(source, kind.removeprefix("keras-"))
    _write_npz_atomically(arrays, out)
    return {"kind": kind, "source": str(source.resolve()), "out": str(out),
            "layers": len({k.rpartition("/")[0] for k in arrays}),
            "parameters": int(sum(a.size for a in arrays.values()))}
