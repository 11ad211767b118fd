"""What the four architectures of Sect. 4 share: width scaling, inputs, the FC layers and heads.

Each model ends in a small fully connected network (Table 4 fc1-fc2, Table 7 blocks 6-8,
Fig. 11 FC 1500-256, Table 8 blocks 2 and 5). The last layer is the *head*:

- ``head="va"``: 2 linear units, valence then arousal (Sects. 4.1.1 and 4.2.1.2);
- ``head="emotions"``: 7 softmax units, the seven basic emotions of EmotiW (Sect. 5.2, where
  "the AffWildNet's output layer was modified to include 7 neurons").

A *width multiplier* scales every channel count and hidden FC/RNN size (never the head), so the
same architecture runs as a miniature on a CPU (the ``tiny`` profile); width 1 is the paper's.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers

HEADS = {"va": (2, None), "emotions": (7, "softmax")}
N_LANDMARKS = 68  # 68 2-D landmark positions, 136 values (Sect. 4.2.1.2, scenario 2)


def scaled(units: int, width: float) -> int:
    """``units`` times the width multiplier, rounded, and at least 1."""
    if width <= 0:
        raise ValueError(f"width must be positive, got {width}")
    return max(1, int(round(units * width)))


def image_size(input_size) -> tuple[int, int]:
    """``96`` or ``(96, 96)`` -> ``(96, 96)``."""
    if isinstance(input_size, int):
        return input_size, input_size
    height, width = input_size
    return int(height), int(width)


#: Sect. 3.3's intensity normalisation, ``p / 127.5 - 1``: the store's uint8 [0, 255] to [-1, 1],
#: as (scale, offset) of :func:`pixels`.
PIXELS = (1.0 / 127.5, -1.0)


def image_input(input_size, name: str = "image") -> keras.KerasTensor:
    """A face crop, RGB **uint8**, as the prepare stage stores it: the model normalises it
    itself (:func:`pixels`), so batches cross to the device at a quarter of float32's bytes."""
    return keras.Input(shape=(*image_size(input_size), 3), dtype="uint8", name=name)


def pixels(x, rescale: tuple[float, float] = PIXELS):
    """The model's first layer: uint8 intensities ``p`` to ``p * scale + offset`` in the compute
    dtype (float32, or bfloat16 under a mixed policy: 0-255 are exact in both).

    Ours is Sect. 3.3's ``p / 127.5 - 1`` (:data:`PIXELS`). A network trained on other pixels
    takes its own map here, inside the model, so that every reader of crops (train, evaluate,
    predict, streaming) feeds the stored uint8 unchanged: the authors' released networks take
    ``(p - 128) / 128`` (:data:`affwild_lib.models.released.RELEASE_PIXELS`).
    """
    scale, offset = rescale
    return layers.Rescaling(scale, offset, name="pixels")(x)


def check_images(model, images) -> None:
    """Raise unless ``images`` are what ``model``'s first input takes: uint8 crops (a float array
    in [-1, 1] would be cast to uint8 silently, and predict nonsense)."""
    want = getattr(model.inputs[0], "dtype", None)
    got = getattr(images, "dtype", None)
    if want is not None and got is not None and str(got) != str(want):
        raise TypeError(f"{model.name} takes {want} images (the store's crops, 0-255), got {got}")


def landmarks_input(name: str = "landmarks") -> keras.KerasTensor:
    """The 68 landmark positions of a frame, (x, y) each."""
    return keras.Input(shape=(N_LANDMARKS, 2), name=name)


@keras.saving.register_keras_serializable(package="affwild")
class LandmarkScaling(layers.Layer):
    """Standardises the 136 landmark values with the training set's mean and spread.

    Our addition, not the paper's: the positions arrive in [0, 1] of the crop, where an
    expression moves a mouth corner by a hundredth; unscaled, the FC layer learns identity from
    the image long before it sees that. The statistics are non-trainable weights set by
    :func:`set_landmark_statistics` before training, so they are saved with the model (and
    identity, mean 0 and scale 1, until set).
    """

    def build(self, input_shape):
        n = input_shape[-1]
        self.mean = self.add_weight(name="mean", shape=(n,), initializer="zeros", trainable=False)
        self.scale = self.add_weight(name="scale", shape=(n,), initializer="ones", trainable=False)

    def call(self, x):
        return (x - self.mean) / self.scale


def set_landmark_statistics(model, points) -> bool:
    """Set the model's :class:`LandmarkScaling` from training landmarks ``(n, ..., 68, 2)``;
    False when the model takes no landmarks."""
    try:
        layer = model.get_layer("landmarks_scaling")
    except ValueError:
        return False
    flat = np.asarray(points, np.float64).reshape(-1, 2 * N_LANDMARKS)
    layer.mean.assign(flat.mean(0).astype("float32"))
    layer.scale.assign(np.maximum(flat.std(0), 1e-3).astype("float32"))
    return True


def with_landmarks(features, landmarks):
    """Concatenate the flattened landmarks to the CNN features (scenario 2, Sect. 4.2.1.2).

    They enter the first FC layer next to "the outputs of the last pooling layer of the CNN",
    so that the FC layers map both "to the same feature space" (Sect. 4.2.1.1); standardised
    first (:class:`LandmarkScaling`).
    """
    flat = layers.Flatten(name="landmarks_flat")(landmarks)
    flat = LandmarkScaling(name="landmarks_scaling")(flat)
    return layers.Concatenate(name="features_and_landmarks")([features, flat])


def output_layer(x, head: str = "va", name: str = "fc_out", kernel_initializer="glorot_uniform",
                 bias_initializer="zeros"):
    """The output layer: 2 linear units (valence, arousal) or 7 softmax units (emotions)."""
    if head not in HEADS:
        raise ValueError(f"unknown head {head!r}; expected one of {sorted(HEADS)}")
    units, activation = HEADS[head]
    return layers.Dense(units, activation=activation, name=name,
                        kernel_initializer=kernel_initializer, bias_initializer=bias_initializer)(x)


def fc_stack(x, units: list[int], dropout: float, width: float):
    """Hidden FC layers ``fc1, fc2, ...`` with ReLU, each followed by dropout (Sect. 4.2.1: 0.5)."""
    for i, n in enumerate(units, start=1):
        x = layers.Dense(scaled(n, width), activation="relu", name=f"fc{i}")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"fc{i}_dropout")(x)
    return x


def features_to_model(image, features, landmarks: bool, fc_units, dropout: float, width: float,
                      head: str, name: str) -> keras.Model:
    """The part Figs. 11 and 12 share after the conv part: landmarks (scenario 2) joined to the
    image features at the first FC layer, the FC stack, the output layer."""
    inputs = image
    if landmarks:
        points = landmarks_input()
        features = with_landmarks(features, points)
        inputs = [image, points]
    x = fc_stack(features, list(fc_units), dropout, width)
    return keras.Model(inputs, output_layer(x, head, name=f"fc{len(fc_units) + 1}"), name=name)
