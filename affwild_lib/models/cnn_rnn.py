"""The CNN plus RNN architecture of Sect. 4.2.1.3, and AffWildNet, its Table 8 configuration.

Every CNN-RNN of the paper (Tables 12, 14, 15 and 18) is :func:`build` with some backbone, cell
type, depth and width; AffWildNet (Table 8, Fig. 13) is :data:`AFFWILDNET`, also the
builder's defaults. Table 8, applied to a sequence of T frames::

    block 1  conv & pooling part of VGG-Face (or ResNet-50), on every frame
    block 2  fully connected 1, 4096 units (1500 on ResNet-50), ReLU, dropout
             (+ the frame's 136 landmark values at its input, scenario 2)
    block 3  RNN layer 1, 128 GRU units, dropout
    block 4  RNN layer 2, 128 GRU units
    block 5  fully connected 2, 2 linear units per frame (valence, arousal)

Sect. 4.2.1.3 and Table 14 also tried one RNN layer, 100 or 150 units and LSTM cells
(Table 12); two GRU layers of 128 were best. Keras' LSTM has no peephole connections, which the
paper's LSTM had, so ``rnn="lstm"`` is the plain LSTM. Keras' GRU is by default the
``reset_after`` variant (the one cuDNN runs), which has one more bias vector per gate than
TensorFlow 1's cell; ``reset_after=False`` is TensorFlow 1's ``GRUCell`` exactly (the reset gate
applied to the state before the candidate's matrix), which the authors' released AffWildNet
needs (:mod:`affwild_lib.models.released`).

The CNN runs on every frame by folding time into the batch, (B, T, H, W, 3) -> (B*T, H, W, 3),
and unfolding its features back to (B, T, F): one big convolution batch, which XLA compiles far
better than a TimeDistributed wrapper.
"""
from __future__ import annotations

from functools import partial

import keras
from keras import layers, ops

from . import resnet, vgg
from .heads import N_LANDMARKS, LandmarkScaling, PIXELS, fc_stack, image_size, output_layer, pixels

BACKBONES = {
    # name: (conv part, fully connected 1 units at width 1), Table 8's caption
    "vgg_face": (vgg.conv_part, 4096),
    "vgg16": (vgg.conv_part, 4096),
    "resnet50": (resnet.conv_part, 1500),
}
RNNS = {"gru": layers.GRU, "lstm": layers.LSTM}
#: AffWildNet (Table 8): VGG-Face, landmarks at fully connected 1, 2 x GRU 128.
AFFWILDNET = dict(backbone="vgg_face", landmarks=True, rnn="gru", rnn_units=128, rnn_layers=2)


@keras.saving.register_keras_serializable(package="affwild")
class FoldTime(layers.Layer):
    """(B, T, ...) -> (B*T, ...): frames of all sequences as one batch."""

    def call(self, x):
        return ops.reshape(x, (-1, *x.shape[2:]))

    def compute_output_shape(self, input_shape):
        b, t = input_shape[:2]
        return (None if b is None or t is None else b * t, *input_shape[2:])


@keras.saving.register_keras_serializable(package="affwild")
class UnfoldTime(layers.Layer):
    """(B*T, ...) back to (B, T, ...), T read from the sequence the frames came from."""

    def call(self, x, sequence):
        steps = sequence.shape[1] if sequence.shape[1] is not None else ops.shape(sequence)[1]
        return ops.reshape(x, (-1, steps, *x.shape[1:]))

    def compute_output_shape(self, x_shape, sequence_shape):
        return (sequence_shape[0], sequence_shape[1], *x_shape[1:])


def build(input_size=96, seq_len: int | None = None, width: float = 1.0,
          backbone: str = "vgg_face", landmarks: bool = True, rnn: str = "gru",
          rnn_units: int = 128, rnn_layers: int = 2, fc_units: int | None = None,
          dropout: float = 0.5, head: str = "va", name: str = "cnn_rnn",
          reset_after: bool = True, pool_padding: str = "valid",
          rescale: tuple[float, float] = PIXELS) -> keras.Model:
    """A CNN-RNN: frames (B, T, H, W, 3) (+ landmarks (B, T, 68, 2)) -> (B, T, 2); with the
    defaults, AffWildNet of Table 8.

    ``seq_len`` fixes T (None: any length). ``backbone`` is ``vgg_face``, ``vgg16`` or
    ``resnet50``; ``fc_units`` defaults to Table 8's 4096 or 1500. ``rnn`` is ``gru`` or
    ``lstm`` with ``rnn_layers`` (1 or 2) of ``rnn_units`` (100, 128 or 150 in Table 14).
    ``width`` scales channels and fc1, not the RNN: a miniature keeps Table 14's 100, 128 or
    150 units, since the RNN costs little next to the CNN and its size is what Table 14 compares.
    ``head="emotions"`` gives 7 softmax units per frame (Sect. 5.2); a clip's emotion is then
    read from the frames together (train part). ``reset_after``, ``pool_padding`` (VGG only) and
    ``rescale`` make the authors' released networks (:mod:`affwild_lib.models.released`).
    """
    if backbone not in BACKBONES:
        raise ValueError(f"unknown backbone {backbone!r}; expected one of {sorted(BACKBONES)}")
    if rnn not in RNNS:
        raise ValueError(f"unknown rnn {rnn!r}; expected one of {sorted(RNNS)}")
    conv_part, default_fc = BACKBONES[backbone]
    if pool_padding != "valid":
        if conv_part is not vgg.conv_part:
            raise ValueError(f"pool_padding={pool_padding!r} is for the VGG backbones, not {backbone!r}")
        conv_part = partial(vgg.conv_part, pool_padding=pool_padding)

    frames = keras.Input(shape=(seq_len, *image_size(input_size), 3), dtype="uint8", name="frames")
    x = conv_part(FoldTime(name="fold_time")(pixels(frames, rescale)), width)
    x = layers.Flatten(name="flatten")(x)
    x = UnfoldTime(name="unfold_time")(x, frames)  # (B, T, features)
    inputs = frames
    if landmarks:
        points = keras.Input(shape=(seq_len, N_LANDMARKS, 2), name="landmarks")
        flat = layers.Reshape((-1, 2 * N_LANDMARKS), name="landmarks_flat")(points)
        flat = LandmarkScaling(name="landmarks_scaling")(flat)
        x = layers.Concatenate(name="features_and_landmarks")([x, flat])
        inputs = [frames, points]
    x = fc_stack(x, [fc_units or default_fc], dropout, width)  # block 2, per frame
    for i in range(1, rnn_layers + 1):  # blocks 3-4
        options = {"reset_after": reset_after} if rnn == "gru" else {}
        x = RNNS[rnn](rnn_units, return_sequences=True, name=f"{rnn}{i}", **options)(x)
        if dropout and i < rnn_layers:
            x = layers.Dropout(dropout, name=f"{rnn}{i}_dropout")(x)
    out = output_layer(x, head, name="fc2")  # block 5, per frame
    return keras.Model(inputs, out, name=name)
