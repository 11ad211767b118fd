"""The CNN-RNN over a whole video (affwild_lib.streaming): the state carried from chunk to chunk
gives exactly what one pass of the model over the whole sequence gives; sliding windows give
what the model gives on each window."""
import numpy as np
import pytest

from affwild_lib import streaming

pytestmark = pytest.mark.train

SIZE, T = 32, 8


def _model(rnn="gru", landmarks=True):
    import keras

    from affwild_lib.models import build

    keras.utils.set_random_seed(3)
    return build("cnn_rnn", input_size=SIZE, width=1 / 16, seq_len=None, rnn=rnn, landmarks=landmarks)


def _frames(n, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, SIZE, SIZE, 3)).astype(np.uint8)
    points = rng.uniform(0, 1, (n, 68, 2)).astype(np.float32)
    return images, points


@pytest.mark.parametrize("rnn", ["gru", "lstm"])
def test_stream_equals_one_pass_over_the_whole_video_in_any_chunks(rnn):
    import keras

    model = _model(rnn)
    images, points = _frames(45)
    whole = keras.ops.convert_to_numpy(model.predict_on_batch((images[None], points[None])))[0]
    for chunk in (45, 16, 7, 1):
        got = streaming.predict_video_rows(model, images, points, T, "stream", chunk=chunk)
        np.testing.assert_allclose(got, whole, atol=2e-5, err_msg=f"chunks of {chunk}")


def test_reset_starts_a_new_video_from_a_zero_state():
    model = _model()
    images, points = _frames(20)
    streamer = streaming.Streamer(model, T)
    first = streamer.push(images, points)
    carried = streamer.push(images, points)
    streamer.reset()
    again = streamer.push(images, points)
    np.testing.assert_allclose(again, first, atol=1e-6)
    assert np.abs(carried - first).max() > 1e-4  # the carried state changed the second pass


def test_one_streamer_serves_every_video_of_a_split():
    # predict_stream builds one Streamer for all the videos (compiled once), reset per video
    model = _model()
    videos = [_frames(n, seed=n) for n in (13, 21)]
    shared = streaming.Streamer(model, T)
    for images, points in videos:
        alone = streaming.predict_video_rows(model, images, points, T)
        np.testing.assert_allclose(streaming.predict_video_rows(model, images, points, T, streamer=shared),
                                   alone, atol=1e-6)


def test_sliding_windows_equal_the_model_on_each_window():
    import keras

    model = _model(landmarks=False)
    images, _ = _frames(30, seed=1)
    got = streaming.predict_video_rows(model, images, None, T, "sliding", chunk=11)
    for t in (T - 1, 12, 29):  # a full window ends at t
        window = images[t - T + 1:t + 1][None]
        expected = keras.ops.convert_to_numpy(model.predict_on_batch(window))[0, -1]
        np.testing.assert_allclose(got[t], expected, atol=2e-5)
    # before the first full window, the window starts with copies of the first frame
    padded = np.concatenate([np.repeat(images[:1], T - 3, axis=0), images[:3]])[None]
    np.testing.assert_allclose(got[2], keras.ops.convert_to_numpy(model.predict_on_batch(padded))[0, -1], atol=2e-5)


def test_a_cnn_is_refused_and_modes_are_checked():
    from affwild_lib.models import build

    with pytest.raises(ValueError, match="no recurrent layer"):
        streaming.Streamer(build("vgg_face", input_size=SIZE, width=1 / 16), T)
    with pytest.raises(ValueError, match="mode must be one of"):
        streaming.Streamer(_model(), T, mode="bidirectional")


def test_parallel_memories_stream_and_slide_as_the_model_runs(tmp_path):
    """Issue 21: MM-Net's three memory networks sit side by side after the CNN; the streamer
    rebuilds that graph (not a chain of layers), in both modes."""
    import keras

    from affwild_lib.models import build

    model = build("mm_net", input_size=SIZE, width=1 / 16)
    images, _ = _frames(30, seed=2)
    whole = keras.ops.convert_to_numpy(model.predict_on_batch(images[None]))[0]
    np.testing.assert_allclose(streaming.predict_video_rows(model, images, None, T, "stream", chunk=7),
                               whole, atol=2e-5)
    got = streaming.predict_video_rows(model, images, None, T, "sliding", chunk=11)
    expected = keras.ops.convert_to_numpy(model.predict_on_batch(images[29 - T + 1:30][None]))[0, -1]
    np.testing.assert_allclose(got[29], expected, atol=2e-5)
