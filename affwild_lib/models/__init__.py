"""The architectures of Sect. 4, as Keras 3 functional models that run on TensorFlow or JAX.

- ``cnn_m``: the challenge's CNN-M baseline (Table 4): image -> (2,);
- ``vgg_face``: VGG-Face CNN, FC 4096-2048-2 (Table 7, Fig. 12): image [, landmarks] -> (2,);
- ``vgg16``: the same architecture, to start from ImageNet weights;
- ``resnet50``: ResNet-50 CNN, FC 1500-256-2 (Fig. 11): image [, landmarks] -> (2,);
- ``cnn_rnn``: CNN + fc1 + RNN (Sect. 4.2.1.3): frames [, landmarks] -> (T, 2); AffWildNet
  (Table 8, Fig. 13) is its configuration :data:`AFFWILDNET` (VGG-Face, 2 x GRU 128), the
  defaults;
- ``mm_net``, ``fatauva_net``, ``drc_net_shallow``, ``drc_net_deep``, ``drc_net_lstm``: the
  three challenge entries of Table 6 (Sect. 4.1.2), miniatures of the paper's descriptions
  (``mm_net.py``, ``fatauva_net.py``, ``drc_net.py``); the recurrent ones (:data:`RECURRENT`)
  take frames like ``cnn_rnn``.

Shapes: image (B, H, W, 3); landmarks (B, 68, 2); frames (B, T, H, W, 3) with landmarks
(B, T, 68, 2). Every builder takes ``input_size`` (96, or (H, W)), ``width`` (multiplier of
channels and hidden units; 1 is the paper's) and ``head`` ("va": 2 linear outputs, valence
then arousal; "emotions": 7 softmax outputs, Sect. 5.2). ``build("vgg_face", width=1/16,
input_size=48)`` is the miniature the ``tiny`` profile trains on a CPU.

The package loads Keras only when one of these is first used (``affwild --help`` and the
commands that train nothing stay quick to start). So ``import affwild_lib.models`` alone no
longer registers the custom layers a saved model needs: load ``.keras`` files with
:func:`affwild_lib.trained.load`, or import ``affwild_lib.models.cnn_rnn`` first.
"""
from __future__ import annotations

import importlib

#: public name -> the module that defines it
_LAZY = {"AFFWILDNET": "cnn_rnn", "MODELS": "registry", "blocks": "registry", "build": "registry",
         "count_params": "registry", "layer_table": "registry", "load_npz_weights": "weights",
         "save_npz_weights": "weights", "transfer_weights": "weights"}


#: The models that take sequences of frames (B, T, H, W, 3) and predict every frame (a plain
#: constant, so that the experiments' registry reads it without loading Keras).
RECURRENT = frozenset({"cnn_rnn", "mm_net", "drc_net_lstm"})


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


__all__ = sorted([*_LAZY, "RECURRENT"])
