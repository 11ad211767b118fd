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

Converting the official weights (once, on your machine):

* VGG-Face, MatConvNet ``vgg_face.mat`` (Oxford VGG): its conv layers ``conv<b>_<i>`` carry
  ``weights = [filters, biases]`` with filters already H x W x in x out::

      import numpy as np, scipy.io
      net = scipy.io.loadmat("vgg_face.mat", squeeze_me=True, struct_as_record=False)["net"]
      out = {}
      for layer in net.layers:
          if layer.type == "conv" and layer.name.startswith("conv"):    # skip fc6-fc8
              b, i = layer.name[4:].split("_")                          # conv3_2 -> 3, 2
              kernel, bias = layer.weights
              out[f"block{b}_conv{i}/kernel"] = kernel.astype("float32")
              out[f"block{b}_conv{i}/bias"] = bias.reshape(-1).astype("float32")
      np.savez("vgg_face.npz", **out)

* VGG-Face, Caffe ``VGG_FACE.caffemodel``: blobs are (out, in, H, W); transpose kernels with
  ``kernel.transpose(2, 3, 1, 0)``, and reverse the input-channel axis of ``conv1_1``
  (``kernel[:, :, ::-1, :]``) since Caffe feeds BGR images and ours are RGB.
* VGG-16 or ResNet-50 on ImageNet: the layer names of ``keras.applications`` are ours, so
  ``save_npz_weights(keras.applications.VGG16(include_top=False), "vgg16.npz")`` (weights as
  Keras fetches them) writes the file directly.

These networks were trained on differently normalised inputs (mean-subtracted 0-255 pixels)
than our [-1, 1] crops; fine-tuning (Sect. 4.2) absorbs the difference.
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
    path = Path(path)
    with np.load(path) as archive:
        arrays = {key: archive[key] for key in archive.files}
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
