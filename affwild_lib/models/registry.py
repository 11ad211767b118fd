"""The registry of the architectures: ``build(name, **config)`` and its helpers (see the
package's docstring)."""
from __future__ import annotations

from functools import partial

import keras

from . import cnn_m, cnn_rnn, resnet, vgg

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

