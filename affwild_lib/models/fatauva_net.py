"""FATAUVA-Net, the best challenge entry of Table 6 (Sect. 4.1.2; Chang et al. [5], bib ``chang2017fatauva``).

The paper's description: "a core layer, an attribute layer, an AU layer and a V-A layer are
trained sequentially. The facial part-based response is firstly learned through attribute
recognition Convolutional Neural Networks, and then these layers are applied to supervise the
learning of AUs. Finally, AUs are employed as mid-level representations to estimate the
intensity of valence and arousal." A per-frame CNN, image (B, H, W, 3) uint8 -> (B, 2):

    core        two 3x3 convolutions (32, 64 maps), each with batch norm, ReLU, 2x2 max-pool
    attribute   two 3x3 convolutions (128), a 2x2 max-pool; read out, for its own training
                stage, by global pooling and a sigmoid per facial attribute (``attr_out``)
    AU          a 3x3 convolution (128), flattened (where on the face counts), FC 128 (ReLU)
                and one linear output per action unit (``au_out``): the AU intensities, each
                standardised over the AU corpus's training people
    V-A         FC 64 (ReLU) on the AU intensities, dropout, FC 2

Trained in that order (:mod:`affwild_lib.pretrain`, the ``pretrain fatauva_net`` stage): core
and attribute layers on the attributes of a face corpus; then, from them, the AU layer on that
corpus's AU intensities (each standardised, so that the nine count alike in the loss); then the whole network on valence and arousal (the ``train`` stage of
``fatauva-net``, starting from the AU stage's weights). The team took its attributes and AUs
from other corpora than Aff-Wild (CelebA; AU databases): ours come from the ``attributes``
corpus, new synthetic people none of whom is a SynthAffWild subject, never from SynthAffWild's
own truth.

Ours, where [5] as the paper summarises it leaves a choice open: every size above, the five
attributes (:data:`affwild_lib.pretrain.ATTRIBUTES`), the generator's nine facial actions as the
AUs, the V-A layer reading the AU intensities alone (the "mid-level representation") and no
landmarks (the entry used the face images alone). As in the other miniatures, ``width`` thins
the convolutions and the FC layers before the AUs.
"""
from __future__ import annotations

import keras
from keras import layers

from .heads import image_input, output_layer, pixels, scaled

#: The stages' read-outs: an attribute stage's and an AU stage's heads (not in the V-A model's
#: start but for ``au_out``, whose intensities the V-A layer reads).
ATTRIBUTE_HEAD, AU_HEAD = "attr_out", "au_out"


def _conv(x, filters, name):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def core_and_attribute(image, width: float):
    """The core and attribute layers: uint8 images -> the attribute layer's maps."""
    x = pixels(image)
    x = layers.MaxPooling2D(2, name="core1_pool")(_conv(x, scaled(32, width), "core1"))
    x = layers.MaxPooling2D(2, name="core2_pool")(_conv(x, scaled(64, width), "core2"))
    x = _conv(x, scaled(128, width), "attr1")
    return layers.MaxPooling2D(2, name="attr_pool")(_conv(x, scaled(128, width), "attr2"))


def au_layer(maps, width: float, n_aus: int):
    """The AU layer on the attribute maps: -> AU intensities (linear, one per action unit).

    The maps are flattened, not pooled: an action unit is a response at a place of the face (a
    mouth corner, a brow), so where it is must survive ("part-based"). Pooled, the AU stage of
    the ``small`` run learned nothing (validation MSE at the mean's; ``results/README.md``)."""
    x = _conv(maps, scaled(128, width), "au1")
    x = layers.Flatten(name="au_flat")(x)
    x = layers.Dense(scaled(128, width), activation="relu", name="au_fc")(x)
    return layers.Dense(n_aus, name=AU_HEAD)(x)


def attribute_model(input_size=96, width: float = 1.0, n_attributes: int = 5) -> keras.Model:
    """Stage 1: core + attribute layers, a sigmoid per attribute."""
    image = image_input(input_size)
    x = layers.GlobalAveragePooling2D(name="attr_gap")(core_and_attribute(image, width))
    out = layers.Dense(n_attributes, activation="sigmoid", name=ATTRIBUTE_HEAD)(x)
    return keras.Model(image, out, name="fatauva_attributes")


def au_model(input_size=96, width: float = 1.0, n_aus: int = 9) -> keras.Model:
    """Stage 2: core + attribute + AU layers, the AU intensities."""
    image = image_input(input_size)
    return keras.Model(image, au_layer(core_and_attribute(image, width), width, n_aus), name="fatauva_aus")


def build(input_size=96, width: float = 1.0, dropout: float = 0.5, head: str = "va",
          landmarks: bool = False, n_aus: int = 9, name: str = "fatauva_net", **_) -> keras.Model:
    """FATAUVA-Net: image (B, H, W, 3) uint8 -> (B, 2), V-A read from the AU intensities.

    It takes no landmarks (``landmarks=True`` is refused: the entry used the face images alone);
    other CNN keywords (``fc_units``, ...) are ignored, its layers being fixed above."""
    if landmarks:
        raise ValueError("FATAUVA-Net takes the face images alone: set landmarks to false")
    image = image_input(input_size)
    aus = au_layer(core_and_attribute(image, width), width, n_aus)
    x = layers.Dense(64, activation="relu", name="va_fc")(aus)
    if dropout:
        x = layers.Dropout(dropout, name="va_dropout")(x)
    return keras.Model(image, output_layer(x, head, name="fc_out"), name=name)
