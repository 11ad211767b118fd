"""The CNN based on ResNet-50 (Sect. 4.2.1.1, Eq. 4, Fig. 11).

ResNet-50 (He et al. 2016): a 7x7 convolution with 64 maps and a 3x3 max-pool, then four
stages of 3, 4, 6 and 3 bottleneck blocks (1x1, 3x3, 1x1 convolutions with 64, 128, 256 and
512 maps, the last one widened four times), each block adding its input back (Eq. 4:
``o = B(x, W) + h(x)``), then global average pooling to 2048 features. On top sit the two FC
layers the paper chose, 1500 and 256 units, and the output layer (Fig. 11); in scenario 2 the
136 landmark values join the 2048 features at the input of the first FC layer.

Layer names and the conv part (23,587,712 parameters at width 1) follow
``keras.applications.ResNet50`` (v1: the stride sits on the first 1x1 convolution of a stage),
so ImageNet weights converted from it load by name (``weights.py``). Built from core layers
here so that it scales with the width multiplier and runs on any Keras backend.
"""
from __future__ import annotations

import keras
from keras import layers

from .heads import features_to_model, image_input, pixels, scaled

STAGES = [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]  # (maps, blocks, first stride)
BN_EPSILON = 1.001e-5  # as in keras.applications, whose weights this matches


def conv_bn(x, filters, kernel, stride, name, relu=True):
    x = layers.Conv2D(filters, kernel, strides=stride, padding="same", name=f"{name}_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x) if relu else x


def bottleneck(x, filters, stride, name, project):
    """One block of Eq. 4: 1x1 -> 3x3 -> 1x1 (4x wider), plus the input (projected if needed)."""
    shortcut = conv_bn(x, 4 * filters, 1, stride, f"{name}_0", relu=False) if project else x
    y = conv_bn(x, filters, 1, stride, f"{name}_1")
    y = conv_bn(y, filters, 3, 1, f"{name}_2")
    y = conv_bn(y, 4 * filters, 1, 1, f"{name}_3", relu=False)
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.Activation("relu", name=f"{name}_out")(y)


def conv_part(x, width: float = 1.0):
    """ResNet-50 without its classifier, on images (N, H, W, 3): (N, 2048 * width) features."""
    x = layers.ZeroPadding2D(3, name="conv1_pad")(x)
    x = layers.Conv2D(scaled(64, width), 7, strides=2, name="conv1_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, (filters, blocks, stride) in enumerate(STAGES, start=2):
        for block in range(1, blocks + 1):
            x = bottleneck(x, scaled(filters, width), stride if block == 1 else 1,
                           name=f"conv{stage}_block{block}", project=block == 1)
    return layers.GlobalAveragePooling2D(name="avg_pool")(x)


def build(input_size=96, width: float = 1.0, landmarks: bool = True, head: str = "va",
          fc_units=(1500, 256), dropout: float = 0.5, name: str = "resnet50") -> keras.Model:
    """ResNet-50 CNN of Fig. 11: image (+ landmarks) -> (2,) valence-arousal, or (7,).

    ``landmarks=True`` is scenario 2 (inputs ``[image, landmarks]``), ``False`` scenario 1.
    ``width`` scales the channels and ``fc_units`` (Sect. 4.2.1.1: 1500 and 256).
    """
    image = image_input(input_size)
    x = conv_part(pixels(image), width)
    return features_to_model(image, x, landmarks, fc_units, dropout, width, head, name)
