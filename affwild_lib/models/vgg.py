"""The CNN based on VGG-Face / VGG-16 (Sect. 4.2.1.2, Table 7, Fig. 12).

VGG-Face and VGG-16 share one architecture (VGG configuration D); they differ only in the
weights they start from (face recognition vs ImageNet, see ``weights.py``). Table 7::

    block 1-5  2, 2, 3, 3, 3 convs of 64, 128, 256, 512, 512 channels, 3x3, stride 1, ReLU,
               each block closed by a 2x2 max-pool of stride 2
    block 6    fully connected 1, 4096, ReLU   (+ the 136 landmark values at its input)
    block 7    fully connected 2, 2048, ReLU
    block 8    fully connected 3, 2, linear    (valence, arousal)

Dropout 0.5 follows fc1 and fc2 (Sect. 4.2.1). The conv part has 14,714,688 parameters at
width 1, whatever the input size. Layer names follow ``block<b>_conv<i>`` / ``block<b>_pool``,
as in ``keras.applications.VGG16``, so converted weights load by name.
"""
from __future__ import annotations

import keras
from keras import layers

from .heads import PIXELS, features_to_model, image_input, pixels, scaled

# (channels, number of 3x3 convs) of blocks 1-5 of Table 7
TABLE_7_BLOCKS = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]


def conv_part(x, width: float = 1.0, pool_padding: str = "valid"):
    """Blocks 1-5 of Table 7 applied to images ``x`` (N, H, W, 3): the last pooling output.

    ``pool_padding="same"`` is the authors' released code's (:mod:`affwild_lib.models.released`):
    the same maps wherever a side is even (96 -> 3), one more row where it is odd (48 -> 2, not 1).

    The kernels start from He's normal initialisation, made for deep ReLU stacks: with Keras'
    Glorot default the 13 plain convolutions of a thin miniature (4 to 32 channels) died on
    the 100-class pre-training of the ``small`` profile (validation accuracy at chance, 0.010,
    for all 15 epochs); with He's it learned (0.30 after 6 epochs). Converted real weights
    replace the initialisation anyway."""
    for b, (channels, n_convs) in enumerate(TABLE_7_BLOCKS, start=1):
        for i in range(1, n_convs + 1):
            x = layers.Conv2D(scaled(channels, width), 3, padding="same", activation="relu",
                              kernel_initializer="he_normal", name=f"block{b}_conv{i}")(x)
        x = layers.MaxPooling2D(2, strides=2, padding=pool_padding, name=f"block{b}_pool")(x)
    return x


def build(input_size=96, width: float = 1.0, landmarks: bool = True, head: str = "va",
          fc_units=(4096, 2048), dropout: float = 0.5, name: str = "vgg_face",
          pool_padding: str = "valid", rescale: tuple[float, float] = PIXELS) -> keras.Model:
    """VGG-Face/VGG-16 CNN of Table 7: image (+ landmarks) -> (2,) valence-arousal, or (7,).

    ``landmarks=True`` is scenario 2 (inputs ``[image, landmarks]``, the paper's best, Table 10),
    ``False`` scenario 1 (input ``image``). ``width`` scales channels and ``fc_units``.
    ``pool_padding`` and ``rescale`` (:func:`affwild_lib.models.heads.pixels`) serve the
    authors' released networks (:mod:`affwild_lib.models.released`).
    """
    image = image_input(input_size)
    x = layers.Flatten(name="flatten")(conv_part(pixels(image, rescale), width, pool_padding))
    return features_to_model(image, x, landmarks, fc_units, dropout, width, head, name)
