"""The challenge baseline: CNN-M with batch normalisation (Sect. 4.1.1, Table 4).

Table 4 in TensorFlow notation, one row per layer::

    conv1  7x7x96,  stride 2, VALID  -> batch norm (ReLU) -> max-pool 3x3 / 2, VALID
    conv2  5x5x256, stride 2, SAME   -> batch norm (ReLU) -> max-pool 3x3 / 2, SAME
    conv3  3x3x512, stride 1, SAME   -> batch norm (ReLU)
    conv4  3x3x512, stride 1, SAME   -> batch norm (ReLU)
    conv5  3x3x512, stride 1, SAME   -> batch norm (ReLU) -> max-pool 2x2 / 2, SAME
    fc1    4096, ReLU
    fc2    2, linear (valence, arousal)

At 224x224 input the maps are 109, 54, 27, 14, 14, 14, 14 and 7 pixels wide. The FC weights
start from a truncated normal with zero mean and variance 0.1 (so standard deviation
sqrt(0.1)), the FC biases from 1, as Sect. 4.1.1 says. The convolutions carry no bias: the
batch norm that follows each one has its own shift (beta), which a bias would duplicate.
"""
from __future__ import annotations

import math

import keras
from keras import layers

from .heads import image_input, output_layer, pixels, scaled



#: How the two FC layers start: Sect. 4.1.1's, or Keras' default (the miniatures'; see
#: :mod:`affwild_lib.experiments` for why).
FC_INITS = ("paper", "glorot")


def _fc_init(kind: str = "paper") -> dict:
    """The FC initialisers, made anew for each layer at build time: an initialiser made at import
    draws its seed before ``keras.utils.set_random_seed`` runs, so a module-level one gave every
    process other weights (the baseline was not reproducible). ``paper``: Sect. 4.1.1's truncated
    normal of variance 0.1 and biases 1; ``glorot``: Glorot-uniform weights, zero biases."""
    if kind == "paper":
        return dict(kernel_initializer=keras.initializers.TruncatedNormal(mean=0.0, stddev=math.sqrt(0.1)),
                    bias_initializer=keras.initializers.Constant(1.0))
    if kind == "glorot":
        return dict(kernel_initializer="glorot_uniform", bias_initializer="zeros")
    raise ValueError(f"fc_init must be one of {FC_INITS}, not {kind!r}")

# (name, filters, kernel, stride, padding, pool after it: (size, stride, padding) or None)
TABLE_4 = [
    ("conv1", 96, 7, 2, "valid", (3, 2, "valid")),
    ("conv2", 256, 5, 2, "same", (3, 2, "same")),
    ("conv3", 512, 3, 1, "same", None),
    ("conv4", 512, 3, 1, "same", None),
    ("conv5", 512, 3, 1, "same", (2, 2, "same")),
]


def conv_part(x, width: float = 1.0):
    """Table 4's conv1-conv5, each with its batch norm, ReLU and pooling: the part that
    pre-training initialises (FaceValue's role, :mod:`affwild_lib.pretrain`)."""
    for layer_name, filters, kernel, stride, padding, pool in TABLE_4:
        x = layers.Conv2D(scaled(filters, width), kernel, strides=stride, padding=padding,
                          use_bias=False, name=layer_name)(x)
        x = layers.BatchNormalization(name=f"{layer_name}_bn")(x)
        x = layers.ReLU(name=f"{layer_name}_relu")(x)
        if pool is not None:
            size, pool_stride, pool_padding = pool
            x = layers.MaxPooling2D(size, strides=pool_stride, padding=pool_padding,
                                    name=f"{layer_name}_pool")(x)
    return x


def build(input_size=96, width: float = 1.0, head: str = "va", fc_units: int = 4096,
          name: str = "cnn_m", fc_init: str = "paper") -> keras.Model:
    """CNN-M baseline of Table 4: image (H, W, 3) -> (2,) valence-arousal, or (7,) emotions.

    ``width`` scales the conv channels and fc1; ``fc_units`` is fc1 at width 1 (Sect. 4.1.1: 4096);
    ``fc_init`` how fc1 and fc2 start (:data:`FC_INITS`).
    """
    if fc_init not in FC_INITS:  # before any layer is built (no initialiser drawn)
        raise ValueError(f"fc_init must be one of {FC_INITS}, not {fc_init!r}")
    image = image_input(input_size)
    x = layers.Flatten(name="flatten")(conv_part(pixels(image), width))
    x = layers.Dense(scaled(fc_units, width), activation="relu", name="fc1", **_fc_init(fc_init))(x)
    out = output_layer(x, head, name="fc2", **_fc_init(fc_init))
    return keras.Model(image, out, name=name)
