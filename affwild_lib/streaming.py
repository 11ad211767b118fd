"""A CNN-RNN over a whole video, its recurrent state carried from frame to frame (causal).

The tables score a CNN-RNN as the paper's authors' evaluation script does: non-overlapping
windows of ``seq_len`` frames, each from a zero state (:func:`affwild_lib.data.eval_windows`).
On a user's video that makes the prediction jump at every window boundary, where the GRU state
is reset (issue 16). Two ways to predict every frame without that reset:

- ``"stream"``: one state for the whole video: frame ``t``'s prediction depends on every face
  frame before it, as an online system's would;
- ``"sliding"``: frame ``t`` is the last frame of its own window ``t - seq_len + 1 .. t``, run
  from a zero state: the length the network was trained on, at ``seq_len`` times the recurrent
  cost (the CNN still runs once per frame).

Both are causal and split the model in two at its first recurrent layer: the per-frame
**encoder** (CNN, flatten, landmarks: run once per frame) and the **tail** (the RNN layers, then
the per-frame output layer). A frame without a face is skipped, as in evaluation: the frames
either side are consecutive to the network.
"""
from __future__ import annotations

import numpy as np

MODES = ("stream", "sliding")


def windows(frames: np.ndarray, window: int) -> np.ndarray:
    """(n, ...) frames as (ceil(n / window), window, ...), the last window padded with the last
    frame (the RNN is causal: padding at the end changes no real frame's prediction)."""
    pad = -len(frames) % window
    if pad:
        frames = np.concatenate([frames, np.repeat(frames[-1:], pad, axis=0)])
    return frames.reshape(-1, window, *frames.shape[1:])


def _rnn_layers(model):
    from keras import layers

    return [layer for layer in model.layers if isinstance(layer, layers.RNN)]


def is_recurrent(model) -> bool:
    return bool(_rnn_layers(model))


class Streamer:
    """Feed the face frames of one video in order (:meth:`push`), get one prediction per frame.

    ``model``: one of our CNN-RNNs (:func:`affwild_lib.models.cnn_rnn.build`); ``window``: the
    frames per call of its encoder (its trained ``seq_len``; any length gives the same numbers)
    and, for ``"sliding"``, the window length. ``batch``: windows per encoder call.
    """

    def __init__(self, model, window: int, mode: str = "stream", batch: int = 4):
        import keras
        from keras import layers

        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        rnns = _rnn_layers(model)
        if not rnns:
            raise ValueError(f"{model.name}: no recurrent layer; a CNN predicts frame by frame")
        self.mode, self.window, self.batch = mode, int(window), int(batch)
        self.chunk = int(model.inputs[0].shape[1] or window)  # a model built for fixed windows
        self.landmarks = len(model.inputs) == 2
        self.encoder = keras.Model(model.inputs, rnns[0].input, name=f"{model.name}_encoder")
        # The tail as one model, states in and out, so it runs compiled rather than eagerly;
        # and, for sliding windows, as a model from a zero state.
        width = int(rnns[0].input.shape[-1])
        feats = keras.Input(shape=(None, width), name="features")
        x, states_in, states_out = _tail(model, rnns[0].input, feats, stateful=True)
        self.stateful = keras.Model([feats, *states_in], [x, *states_out], name=f"{model.name}_stateful")
        plain = keras.Input(shape=(self.window, width), name="window_features")
        self.tail = keras.Model(plain, _tail(model, rnns[0].input, plain, stateful=False)[0],
                                name=f"{model.name}_tail")
        self._zero = [np.zeros((1, int(t.shape[-1])), np.float32) for t in states_in]
        self.reset()
    def reset(self) -> None:
        """Forget the state (a new video)."""
        self._states: list | None = None
        self._history = np.zeros((0, int(self.encoder.outputs[0].shape[-1])), np.float32)

    def features(self, images: np.ndarray, points: np.ndarray | None = None) -> np.ndarray:
        """(n, F) encoder features of ``n`` frames (the store's uint8 crops)."""
        from .engine import predict_batch

        n = len(images)
        x = windows(images, self.chunk)
        inputs = (x, windows(points, self.chunk)) if self.landmarks else x
        arrays = inputs if isinstance(inputs, tuple) else (inputs,)
        out = []
        for start in range(0, len(x), self.batch):
            chunk = tuple(a[start:start + self.batch] for a in arrays)
            out.append(predict_batch(self.encoder, chunk if self.landmarks else chunk[0], self.batch))
        return np.concatenate(out).reshape(-1, out[0].shape[-1])[:n]

    def push(self, images: np.ndarray, points: np.ndarray | None = None) -> np.ndarray:
        """(n, outputs) predictions of the next ``n`` face frames of the video."""
        if not len(images):
            return np.zeros((0, 2), np.float32)
        feats = self.features(images, points)
        if self.mode == "stream":
            return self._stream(feats)
        return self._sliding(feats)

    #: The stateful tail runs on pieces of PIECE frames, the rest split in powers of two, so it
    #: is compiled for at most 9 lengths, whatever the lengths fed to :meth:`push` (each new
    #: length would be traced again).
    PIECE = 256

    def _stream(self, feats: np.ndarray) -> np.ndarray:
        import keras

        states = self._states if self._states is not None else self._zero
        out, start = [], 0
        for length in _pieces(len(feats), self.PIECE):
            got = self.stateful.predict_on_batch([feats[None, start:start + length], *states])
            got = [keras.ops.convert_to_numpy(o) for o in got]
            out.append(got[0][0])
            states, start = got[1:], start + length
        self._states = states
        return np.concatenate(out).astype(np.float32)

    def _sliding(self, feats: np.ndarray) -> np.ndarray:
        import keras

        history = np.concatenate([self._history, feats])
        start = len(self._history)
        out = []
        for first in range(start, len(history), 256):  # 256 windows per call bound the memory
            ends = np.arange(first, min(first + 256, len(history)))
            idx = np.maximum(ends[:, None] - np.arange(self.window - 1, -1, -1)[None, :], 0)
            # before the video's first frame the window repeats that frame, as padding does
            x = self.tail.predict_on_batch(history[idx])
            out.append(keras.ops.convert_to_numpy(x)[:, -1])
        self._history = history[-(self.window - 1):] if self.window > 1 else history[:0]
        return np.concatenate(out).astype(np.float32)


def _tail(model, start, feats, stateful: bool):
    """The layers of ``model`` after its tensor ``start`` (the first recurrent layer's input),
    called again on ``feats`` in the graph's order, so that parallel recurrent branches (MM-Net's
    memories, issue 21) are rebuilt as they are wired; with ``stateful``, each recurrent layer
    as a twin that takes and returns its state. Dropout is left out (inactive at inference).
    Returns (output, state inputs, state outputs)."""
    import keras
    from keras import layers

    new = {id(start): feats}
    states_in, states_out = [], []
    for layer in model.layers:
        node = layer._inbound_nodes[0]  # every layer of our models is called once
        given = node.input_tensors
        if not given or any(id(t) not in new for t in given):
            continue  # the encoder's part, or an input
        args = [new[id(t)] for t in given]
        if isinstance(layer, layers.Dropout):
            out = args[0]
        elif isinstance(layer, layers.RNN) and stateful:
            twin = type(layer).from_config({**layer.get_config(), "return_state": True,
                                            "return_sequences": True, "name": f"{layer.name}_stateful"})
            init = [keras.Input(shape=(int(layer.cell.units),), name=f"{layer.name}_state{k}")
                    for k in range(2 if isinstance(layer, layers.LSTM) else 1)]
            got = twin(args[0], initial_state=init if len(init) > 1 else init[0])
            twin.set_weights(layer.get_weights())
            out, states_in, states_out = got[0], states_in + init, states_out + list(got[1:])
        else:
            out = layer(args[0] if len(args) == 1 else args)
        new[id(node.output_tensors[0])] = out
    return new[id(model.outputs[0])], states_in, states_out


def _pieces(n: int, piece: int) -> list[int]:
    """``n`` as pieces of ``piece``, then the rest in powers of two, largest first."""
    lengths = [piece] * (n // piece)
    rest, bit = n % piece, piece
    while rest:
        bit //= 2
        if rest >= bit:
            lengths.append(bit)
            rest -= bit
    return lengths


def predict_video_rows(model, images: np.ndarray, points: np.ndarray | None, window: int,
                       mode: str = "stream", chunk: int = 512, streamer: Streamer | None = None) -> np.ndarray:
    """Predictions of all the face frames of one video, fed in chunks of ``chunk`` frames.
    ``streamer``: one made for ``model`` already (reset here), so that the videos of a split share
    its compiled encoder and tail rather than tracing a new pair each."""
    if streamer is None:
        streamer = Streamer(model, window, mode)
    streamer.reset()
    out = [streamer.push(images[s:s + chunk], None if points is None else points[s:s + chunk])
           for s in range(0, len(images), chunk)]
    return np.concatenate(out) if out else np.zeros((0, 2), np.float32)
