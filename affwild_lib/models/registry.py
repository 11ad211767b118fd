"""The registry of the architectures: ``build(name, **config)`` and its helpers (see the
package's docstring)."""
from __future__ import annotations

from functools import partial

import keras

from . import cnn_m, cnn_rnn, drc_net, fatauva_net, mm_net, resnet, vgg

MODELS = {
    "cnn_m": cnn_m.build,
    "vgg_face": partial(vgg.build, name="vgg_face"),
    "vgg16": partial(vgg.build, name="vgg16"),
    "resnet50": resnet.build,
    "cnn_rnn": cnn_rnn.build,
    # the challenge entries of Table 6 (Sect. 4.1.2), as miniatures of their descriptions
    "mm_net": mm_net.build,
    "fatauva_net": fatauva_net.build,
    **{f"drc_net_{v}": partial(drc_net.build, variant=v) for v in drc_net.VARIANTS},
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



def blocks(model: keras.Model):
    """The model as Table 8 lists AffWildNet: one row per block (the input, each conv stage,
    the landmarks, each fully connected and recurrent layer), with its size (channels of a conv
    stage, units of a layer), its output shape and its parameters (a pandas DataFrame).

    A conv stage is the layers sharing a name's first part (``block3_conv2``: VGG's block3;
    ``conv4_block2_1_conv``: ResNet-50's conv4; ``conv2`` and its ``conv2_bn``: CNN-M's conv2),
    so the same rows come out of a model at any width: what :func:`affwild_lib.plots.architecture`
    sets side by side.
    """
    import pandas as pd

    rows: list[dict] = []
    for tensor in model.inputs:
        shape = tuple(tensor.shape[1:])
        kind = "landmarks" if shape[-2:] == (68, 2) else "input"
        rows.append({"block": kind, "kind": kind, "layers": 0,
                     "size": 136 if kind == "landmarks" else shape[-2],
                     "output": shape, "params": 0})
    for layer in model.layers:
        params = layer.count_params()
        if not params:
            continue
        if type(layer).__name__ == "LandmarkScaling":  # the landmarks' training statistics
            next(r for r in rows if r["kind"] == "landmarks")["params"] += params
            continue
        name = layer.name.split("_")[0]
        kind = ("rnn" if isinstance(layer, keras.layers.RNN) else
                "conv" if isinstance(layer, (keras.layers.Conv2D, keras.layers.BatchNormalization)) else
                "fc")
        shape = tuple(layer.output.shape[1:])
        if rows and rows[-1]["block"] == name and kind == "conv":
            rows[-1].update(layers=rows[-1]["layers"] + isinstance(layer, keras.layers.Conv2D),
                            size=shape[-1], output=shape, params=rows[-1]["params"] + params)
        else:
            rows.append({"block": name, "kind": kind, "layers": 1, "size": shape[-1], "output": shape,
                         "params": params})
    return pd.DataFrame(rows)
