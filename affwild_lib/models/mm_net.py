"""MM-Net, a challenge entry of Table 6 (Sect. 4.1.2; Li et al. [31], bib ``li2017mmnet``).

The paper's description: "a variation of the deep convolutional residual neural network is
first presented for affective level estimation of facial expressions. Then multiple memory
networks are used to model temporal relations between the video frames. Finally, ensemble
models are used to combine the predictions of the multiple memory networks". As a miniature,
frames (B, T, H, W, 3), uint8 -> (B, T, 2):

    residual CNN   a ResNet-18-like stack on every frame: a 7x7 stem, then four stages of
                   two basic blocks (two 3x3 convolutions and the input added back, Eq. 4's
                   form), 64, 128, 256 and 512 maps, global average pooling
    memories       three recurrent networks over the frame features, each of another kind:
                   LSTM 1 x 128, GRU 1 x 128, LSTM 2 x 64, each with its own linear output
    ensemble       the mean of the three outputs, per frame

Ours, where [31] as the paper summarises it leaves a choice open: the residual CNN's depth and
widths (ResNet-18's), the number and sizes of the memory networks (three, of the sizes above),
and the ensemble (a plain mean, trained end to end with the loss on it, where the team combined
separately trained memories). As in AffWildNet's miniature, ``width`` thins the CNN, not the
recurrent layers.
"""
from __future__ import annotations

import keras
from keras import layers

from .cnn_rnn import FoldTime, UnfoldTime
from .heads import image_size, output_layer, pixels, scaled

#: (maps, first stride) of the four stages of two basic blocks.
STAGES = [(64, 1), (128, 2), (256, 2), (512, 2)]
#: The memory networks: (cell, layers, units).
MEMORIES = (("lstm", 1, 128), ("gru", 1, 128), ("lstm", 2, 64))
CELLS = {"gru": layers.GRU, "lstm": layers.LSTM}


def basic_block(x, filters, stride, name):
    """Two 3x3 convolutions and the input added back (projected where the shape changes)."""
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_proj")(x)
        shortcut = layers.BatchNormalization(name=f"{name}_proj_bn")(shortcut)
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", name=f"{name}_conv1")(x)
    y = layers.BatchNormalization(name=f"{name}_bn1")(y)
    y = layers.Activation("relu", name=f"{name}_relu1")(y)
    y = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.Activation("relu", name=f"{name}_out")(y)


def residual_cnn(x, width: float = 1.0):
    """The per-frame residual CNN: images (N, H, W, 3) -> (N, 512 * width) features."""
    x = layers.Conv2D(scaled(64, width), 7, strides=2, padding="same", name="stem_conv")(x)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.Activation("relu", name="stem_relu")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
    for stage, (filters, stride) in enumerate(STAGES, start=1):
        for block in (1, 2):
            x = basic_block(x, scaled(filters, width), stride if block == 1 else 1, f"res{stage}_block{block}")
    return layers.GlobalAveragePooling2D(name="avg_pool")(x)


def build(input_size=96, seq_len: int | None = None, width: float = 1.0, dropout: float = 0.5,
          head: str = "va", landmarks: bool = False, name: str = "mm_net", **_) -> keras.Model:
    """MM-Net: frames (B, T, H, W, 3) -> (B, T, 2), the mean of :data:`MEMORIES`' outputs.

    It takes no landmarks (``landmarks=True`` is refused: the entry used the face images alone);
    other keywords of the CNN-RNN builder (``rnn``, ``rnn_units``, ...) are ignored, since its
    memories are fixed above.
    """
    if landmarks:
        raise ValueError("MM-Net takes the face images alone: set landmarks to false")
    frames = keras.Input(shape=(seq_len, *image_size(input_size), 3), dtype="uint8", name="frames")
    x = residual_cnn(FoldTime(name="fold_time")(pixels(frames)), width)
    x = UnfoldTime(name="unfold_time")(x, frames)  # (B, T, features)
    outputs = []
    for k, (cell, depth, units) in enumerate(MEMORIES, start=1):
        y = x
        for i in range(1, depth + 1):
            y = CELLS[cell](units, return_sequences=True, name=f"memory{k}_{cell}{i}")(y)
            if dropout:
                y = layers.Dropout(dropout, name=f"memory{k}_dropout{i}")(y)
        outputs.append(output_layer(y, head, name=f"memory{k}_out"))
    out = layers.Average(name="ensemble")(outputs)
    return keras.Model(frames, out, name=name)
