"""DRC-Net, a challenge entry of Table 6 (Sect. 4.1.2; Mahoor and Hasani [34], bib ``hasani2017drcnet``).

The paper's description: "three neural network-based methods which are based on
Inception-ResNet modules redesigned specifically for the task of facial affect estimation ...
Shallow Inception-ResNet, Deep Inception-ResNet, and Inception-ResNet with LSTMs. Facial
features are extracted in different scales and both the valence and arousal are
simultaneously estimated in each frame. Best results are obtained by the Deep Inception-ResNet
method." Table 6's DRC-Net row is the deep variant; the other two are our extra rows.

An Inception-ResNet module runs branches of different receptive fields side by side (1x1;
1x1 then 3x3; 1x1 then two 3x3), concatenates them (the "different scales"), projects them
back with a 1x1 convolution and adds the result, scaled, to its input. As miniatures:

    stem      3x3/2 (32), 3x3 (32), 3x3 (64) convolutions, 3x3/2 max-pool
    shallow   stem, 1 module (A), global average pooling, FC 2
    deep      stem, 3 modules A, a reduction (3x3/2 convolution and max-pool side by side),
              3 modules B (wider: 1x1, and 1x7 then 7x1, branches), pooling, FC 2
    lstm      the deep CNN on every frame, then LSTM 1 x 128, FC 2 per frame

Ours, where [34] as the paper summarises it leaves a choice open: the numbers of modules, the
branch widths (those of Inception-ResNet-v1's modules A and B, scaled by ``width``), the
residual scale (0.2), the LSTM's size (128, not thinned) and the absence of landmarks (the
entry used the face images alone).
"""
from __future__ import annotations

import keras
from keras import layers

from .cnn_rnn import FoldTime, UnfoldTime
from .heads import image_input, image_size, output_layer, pixels, scaled

VARIANTS = ("shallow", "deep", "lstm")
#: Modules A and B per variant; the LSTM variant runs the deep CNN.
DEPTH = {"shallow": (1, 0), "deep": (3, 3), "lstm": (3, 3)}
RESIDUAL_SCALE = 0.2


def conv(x, filters, kernel, name, stride=1):
    x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def _residual(x, branches, name):
    mixed = layers.Concatenate(name=f"{name}_mixed")(branches)
    up = layers.Conv2D(x.shape[-1], 1, name=f"{name}_up")(mixed)
    up = layers.Rescaling(RESIDUAL_SCALE, name=f"{name}_scale")(up)
    return layers.Activation("relu", name=f"{name}_out")(layers.Add(name=f"{name}_add")([x, up]))


def module_a(x, width, name):
    """Three scales: 1x1; 1x1 -> 3x3; 1x1 -> 3x3 -> 3x3 (32 maps each at width 1)."""
    c = scaled(32, width)
    b1 = conv(x, c, 1, f"{name}_b1")
    b2 = conv(conv(x, c, 1, f"{name}_b2a"), c, 3, f"{name}_b2b")
    b3 = conv(conv(conv(x, c, 1, f"{name}_b3a"), c, 3, f"{name}_b3b"), c, 3, f"{name}_b3c")
    return _residual(x, [b1, b2, b3], name)


def module_b(x, width, name):
    """Two scales, wider: 1x1 (128); 1x1 -> 1x7 -> 7x1 (128)."""
    c = scaled(128, width)
    b1 = conv(x, c, 1, f"{name}_b1")
    b2 = conv(conv(conv(x, c, 1, f"{name}_b2a"), c, (1, 7), f"{name}_b2b"), c, (7, 1), f"{name}_b2c")
    return _residual(x, [b1, b2], name)


def reduction(x, width, name):
    """Halve the grid: a 3x3/2 convolution and a 3x3/2 max-pool side by side."""
    a = conv(x, scaled(192, width), 3, f"{name}_conv3", stride=2)
    b = layers.MaxPooling2D(3, strides=2, padding="same", name=f"{name}_pool")(x)
    return layers.Concatenate(name=f"{name}_concat")([a, b])


def conv_part(x, variant: str = "deep", width: float = 1.0):
    """The Inception-ResNet CNN of a variant: images (N, H, W, 3) -> pooled features."""
    n_a, n_b = DEPTH[variant]
    x = conv(x, scaled(32, width), 3, "stem1", stride=2)
    x = conv(x, scaled(32, width), 3, "stem2")
    x = conv(x, scaled(64, width), 3, "stem3")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
    for i in range(1, n_a + 1):
        x = module_a(x, width, f"blockA{i}")
    if n_b:
        x = reduction(x, width, "reductionA")
        for i in range(1, n_b + 1):
            x = module_b(x, width, f"blockB{i}")
    return layers.GlobalAveragePooling2D(name="avg_pool")(x)


def build(input_size=96, variant: str = "deep", width: float = 1.0, dropout: float = 0.5,
          head: str = "va", landmarks: bool = False, seq_len: int | None = None,
          name: str | None = None, **_) -> keras.Model:
    """DRC-Net's ``variant``: 'shallow' or 'deep', image (B, H, W, 3) -> (B, 2); 'lstm', frames
    (B, T, H, W, 3) -> (B, T, 2). It takes no landmarks (``landmarks=True`` is refused); other
    CNN-RNN keywords are ignored, its LSTM being fixed above."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown DRC-Net variant {variant!r}; expected one of {VARIANTS}")
    if landmarks:
        raise ValueError("DRC-Net takes the face images alone: set landmarks to false")
    name = name or f"drc_net_{variant}"
    if variant != "lstm":
        image = image_input(input_size)
        x = conv_part(pixels(image), variant, width)
        if dropout:
            x = layers.Dropout(dropout, name="dropout")(x)
        return keras.Model(image, output_layer(x, head, name="fc_out"), name=name)
    frames = keras.Input(shape=(seq_len, *image_size(input_size), 3), dtype="uint8", name="frames")
    x = conv_part(FoldTime(name="fold_time")(pixels(frames)), "deep", width)
    x = UnfoldTime(name="unfold_time")(x, frames)
    x = layers.LSTM(128, return_sequences=True, name="lstm1")(x)
    if dropout:
        x = layers.Dropout(dropout, name="lstm1_dropout")(x)
    return keras.Model(frames, output_layer(x, head, name="fc_out"), name=name)
