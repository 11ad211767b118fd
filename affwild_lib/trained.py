"""A model file to run, checked: one of ours (``experiments/<name>/model.keras``, or an
AffWildNet in the ``.npz`` layout) or one that ``affwild weights import`` converted from the
authors' release (:mod:`affwild_lib.models.released`). Shared by ``affwild predict`` and
``affwild evaluate --weights``."""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from . import faces

#: Window length when the weights' experiment folder does not say (the paper profile's).
DEFAULT_WINDOW = 80


@dataclass
class Loaded:
    """A model checked to be one of ours: a valence-arousal CNN or CNN-RNN."""

    model: object
    path: Path
    input_size: int
    recurrent: bool           # frames (B, T, S, S, 3) rather than images (B, S, S, 3)
    landmarks: bool           # a second input of (…, 68, 2) landmarks
    window: int | None        # frames per window (CNN-RNNs)
    expects: str = "our crops, p / 127.5 - 1 (affwild prepare)"  # the pixels the weights take


def default_weights() -> Path:
    """The AffWildNet the pipeline trained (``experiments/affwildnet/model.keras``)."""
    from .config import repo_root

    return repo_root() / "experiments" / "affwildnet" / "model.keras"


def load(path: str | Path | None = None, window: int | None = None, size: int = 96) -> Loaded:
    """Load and check a ``.keras`` file (trained here, or converted by ``affwild weights
    import``), or a whole AffWildNet of ours in the ``.npz`` layout
    (:mod:`affwild_lib.models.weights`, at full width and ``size`` x ``size`` crops); a clear
    error for anything else.

    The window length is ``window`` if given, else the ``seq_len`` the experiment was trained
    with (its ``metrics.json`` beside the weights), or the sequence length of a network that
    ``affwild weights import`` converted (its ``.json`` beside it, which also says what crops it
    expects), else :data:`DEFAULT_WINDOW`.
    """
    import keras

    from .models import cnn_rnn, heads  # noqa: F401  (registers the custom layers)

    path = Path(path) if path else default_weights()
    if not path.is_file():
        hint = (" (the pipeline writes it: run `make book`, or pass --weights)"
                if path == default_weights() else "")
        raise FileNotFoundError(f"{path}: no such weights file{hint}")
    if path.suffix == ".npz":
        return _load_npz(path, window, size)
    if path.suffix == ".keras" and not zipfile.is_zipfile(path):
        # Keras says "File not found" of an existing file that is not a whole zip (issue 20)
        size_bytes = path.stat().st_size
        raise ValueError(f"{path}: not a Keras model file we can read: " + (
            "it is empty" if not size_bytes else
            f"its {size_bytes} bytes are not a whole .keras (zip) archive: truncated, or another kind of file"))
    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as error:  # zip, JSON, h5: Keras raises many kinds
        first = (str(error).splitlines() or [""])[0][:160]
        raise ValueError(f"{path}: not a Keras model file we can read ({type(error).__name__}: {first})") from None
    shapes = [tuple(t.shape) for t in model.inputs]
    image = shapes[0]
    recurrent = len(image) == 5
    ok_image = len(image) in (4, 5) and image[-1] == 3 and image[-2] == image[-3] and image[-2]
    ok_points = len(shapes) == 1 or (len(shapes) == 2 and shapes[1][-2:] == (faces.N_LANDMARKS, 2))
    outputs = tuple(model.outputs[0].shape) if len(model.outputs) == 1 else None
    if not (ok_image and ok_points and outputs and outputs[-1] == 2):
        raise ValueError(
            f"{path}: not a valence-arousal model of this project: inputs {shapes}, outputs "
            f"{[tuple(t.shape) for t in model.outputs]}; expected square RGB frames (and 68 "
            "landmarks) in, 2 values (valence, arousal) per frame out"
            + (" (7 outputs: an emotion model of chapter 08)" if outputs and outputs[-1] == 7 else ""))
    from .models.released import record_of

    imported = record_of(path)
    if recurrent and window is None:
        record = path.parent / "metrics.json"
        if imported:
            window = imported.get("window")
        elif record.is_file():
            window = (json.loads(record.read_text()).get("config") or {}).get("seq_len")
    loaded = Loaded(model, path, int(image[-2]), recurrent, len(shapes) == 2,
                    int(window or DEFAULT_WINDOW) if recurrent else None)
    if imported:
        loaded.expects = f"{imported['kind']} (affwild weights import): {imported['preprocessing']}"
    return loaded


def _load_npz(path: Path, window: int | None, size: int) -> Loaded:
    """AffWildNet of Table 8 at full width, every weighted layer set from ``path``."""
    from .models import AFFWILDNET, build, load_npz_weights

    model = build("cnn_rnn", **AFFWILDNET, input_size=size, width=1.0, seq_len=None)
    try:
        names = load_npz_weights(model, path)
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not an AffWildNet weights file we can read ({error})") from None
    missing = [layer.name for layer in model.layers if layer.weights and layer.name not in names]
    if missing:
        raise ValueError(f"{path}: holds no weights for {', '.join(missing)}: only part of an "
                         "AffWildNet (a conv part alone, e.g. VGG-Face, is no trained model)")
    return Loaded(model, path, size, True, True, int(window or DEFAULT_WINDOW))
