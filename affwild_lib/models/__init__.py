"""The architectures of Sect. 4, as Keras 3 functional models that run on TensorFlow or JAX.

- ``cnn_m``: the challenge's CNN-M baseline (Table 4): image -> (2,);
- ``vgg_face``: VGG-Face CNN, FC 4096-2048-2 (Table 7, Fig. 12): image [, landmarks] -> (2,);
- ``vgg16``: the same architecture, to start from ImageNet weights;
- ``resnet50``: ResNet-50 CNN, FC 1500-256-2 (Fig. 11): image [, landmarks] -> (2,);
- ``cnn_rnn``: CNN + fc1 + RNN (Sect. 4.2.1.3): frames [, landmarks] -> (T, 2); AffWildNet
  (Table 8, Fig. 13) is its configuration :data:`AFFWILDNET` (VGG-Face, 2 x GRU 128), the
  defaults.

Shapes: image (B, H, W, 3); landmarks (B, 68, 2); frames (B, T, H, W, 3) with landmarks
(B, T, 68, 2). Every builder takes ``input_size`` (96, or (H, W)), ``width`` (multiplier of
channels and hidden units; 1 is the paper's) and ``head`` ("va": 2 linear outputs, valence
then arousal; "emotions": 7 softmax outputs, Sect. 5.2). ``build("vgg_face", width=1/16,
input_size=48)`` is the miniature the ``tiny`` profile trains on a CPU.
"""
from __future__ import annotations

from functools import partial

import keras

from . import cnn_m, cnn_rnn, resnet, vgg
from .cnn_rnn import AFFWILDNET
from .weights import load_npz_weights, save_npz_weights, transfer_weights

MODELS = {
    "cnn_m": cnn_m.build,
    "vgg_face": partial(vgg.build, name="vgg_face"),
    "vgg16": partial(vgg.build, name="vgg16"),
    "resnet50": resnet.build,
    "cnn_rnn": cnn_rnn.build,
}


def build(name: str, **config) -> keras.Model:
    """The model ``name`` (a key of ``MODELS``) built with ``config``, e.g.
    ``build("cnn_rnn", backbone="resnet50", rnn="lstm", rnn_units=150, width=0.25)``."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {sorted(MODELS)}")
    return MODELS[name](**config)


def count_params(name: str, **config) -> int:
    """Parameters of ``build(name, **config)``, without allocating or initialising the weights
    (a full-size VGG has ~10^8), so model-info on a laptop is instant."""
    with keras.StatelessScope(initialize_variables=False):
        return build(name, **config).count_params()


def layer_table(model: keras.Model):
    """One row per layer: name, type, output shape, parameters (a pandas DataFrame)."""
    import pandas as pd

    return pd.DataFrame(
        [(layer.name, type(layer).__name__, tuple(layer.output.shape), layer.count_params())
         for layer in model.layers],
        columns=["layer", "type", "output shape", "parameters"],
    )


__all__ = ["AFFWILDNET", "MODELS", "build", "count_params", "layer_table", "load_npz_weights",
           "save_npz_weights", "transfer_weights"]
