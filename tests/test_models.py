"""The architectures of Sect. 4 against Tables 4, 7 and 8 and Figs. 11-13.

Full-size models are built without allocating their weights (``count_params`` and a stateless
scope), so shapes and parameter counts are checked at the paper's own widths in a blink; the
training checks run miniatures (width 1/16, 32x32 crops).
"""
import math

import keras
import numpy as np
import pytest
from conftest import as_pixels

from affwild_lib.losses import CCCLoss, mse_loss
from affwild_lib.models import MODELS, build, count_params, layer_table
from affwild_lib.models import cnn_rnn
from affwild_lib.models.heads import scaled
from affwild_lib.models.weights import (VGG_CONV_LAYERS, WeightsFileError, load_npz_weights,
                                        save_npz_weights, transfer_weights)

pytestmark = pytest.mark.train

TINY = dict(width=1 / 16, input_size=32)


def full(name, **config):
    """The full-size model, its weights shapes only (nothing allocated)."""
    with keras.StatelessScope(initialize_variables=False):
        return build(name, **config)


def shapes(model, names):
    return {n: tuple(model.get_layer(n).output.shape[1:]) for n in names}


# --- CNN-M, Table 4 -------------------------------------------------------------------------

def test_cnn_m_layers_follow_table_4_at_224():
    # TF notation: VALID -> floor((n - k) / s) + 1, SAME -> ceil(n / s)
    model = full("cnn_m", input_size=224)
    assert shapes(model, ["conv1", "conv1_pool", "conv2", "conv2_pool", "conv3", "conv4",
                          "conv5", "conv5_pool", "flatten", "fc1", "fc2"]) == {
        "conv1": (109, 109, 96),       # (224 - 7) // 2 + 1
        "conv1_pool": (54, 54, 96),    # (109 - 3) // 2 + 1
        "conv2": (27, 27, 256),        # ceil(54 / 2)
        "conv2_pool": (14, 14, 256),   # ceil(27 / 2)
        "conv3": (14, 14, 512), "conv4": (14, 14, 512), "conv5": (14, 14, 512),
        "conv5_pool": (7, 7, 512),
        "flatten": (7 * 7 * 512,),
        "fc1": (4096,), "fc2": (2,),
    }
    kernels = {n: tuple(model.get_layer(n).kernel.shape) for n in ["conv1", "conv2", "conv3",
                                                                    "conv4", "conv5"]}
    assert kernels == {"conv1": (7, 7, 3, 96), "conv2": (5, 5, 96, 256), "conv3": (3, 3, 256, 512),
                       "conv4": (3, 3, 512, 512), "conv5": (3, 3, 512, 512)}
    assert model.get_layer("fc2").activation.__name__ == "linear"
    assert model.count_params() == 109_307_042


def test_cnn_m_fc_initialisation_of_sect_4_1_1():
    model = build("cnn_m", **TINY)
    for name in ("fc1", "fc2"):
        kernel, bias = (np.asarray(w) for w in model.get_layer(name).get_weights())
        np.testing.assert_array_equal(bias, 1.0)
        # truncated normal, variance 0.1: cut at two standard deviations
        assert np.abs(kernel).max() <= 2 * math.sqrt(0.1) + 1e-6
    init = model.get_layer("fc1").kernel_initializer
    assert init.stddev == pytest.approx(math.sqrt(0.1))


# --- VGG-Face / VGG-16, Table 7 -------------------------------------------------------------

def test_vgg_blocks_follow_table_7():
    model = full("vgg_face", input_size=224, landmarks=False)
    pools = shapes(model, [f"block{b}_pool" for b in range(1, 6)])
    assert pools == {"block1_pool": (112, 112, 64), "block2_pool": (56, 56, 128),
                     "block3_pool": (28, 28, 256), "block4_pool": (14, 14, 512),
                     "block5_pool": (7, 7, 512)}
    convs = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert convs == list(VGG_CONV_LAYERS) and len(convs) == 13
    assert all(model.get_layer(n).kernel.shape[:2] == (3, 3) for n in convs)
    assert shapes(model, ["fc1", "fc2", "fc3"]) == {"fc1": (4096,), "fc2": (2048,), "fc3": (2,)}
    assert model.get_layer("fc3").activation.__name__ == "linear"
    assert model.get_layer("fc1_dropout").rate == 0.5


@pytest.mark.parametrize("size", [96, 224])
def test_vgg16_conv_part_has_14714688_parameters(size):
    model = full("vgg16", input_size=size, landmarks=False)
    conv = sum(model.get_layer(n).count_params() for n in VGG_CONV_LAYERS)
    assert conv == 14_714_688


@pytest.mark.parametrize("name, fc1_units", [("vgg_face", 4096), ("resnet50", 1500)])
def test_landmarks_add_136_inputs_to_fc1(name, fc1_units):
    with_lm = full(name, landmarks=True)
    without = full(name, landmarks=False)
    assert [i.name for i in with_lm.inputs] == ["image", "landmarks"]
    assert [i.name for i in without.inputs] == ["image"]
    k_with = with_lm.get_layer("fc1").kernel.shape
    k_without = without.get_layer("fc1").kernel.shape
    assert k_with[0] - k_without[0] == 68 * 2
    assert k_with[1] == k_without[1] == fc1_units
    # 136 x fc1 weights, plus LandmarkScaling's mean and scale (136 each, not trained)
    assert with_lm.count_params() - without.count_params() == 136 * fc1_units + 2 * 136
    scaling = with_lm.get_layer("landmarks_scaling")
    assert not scaling.trainable_weights and len(scaling.non_trainable_weights) == 2


# --- ResNet-50, Fig. 11 ---------------------------------------------------------------------

def test_resnet50_stages_and_fc_layers_of_fig_11():
    model = full("resnet50", input_size=224, landmarks=False)
    assert shapes(model, ["conv1_relu", "pool1_pool", "conv2_block3_out", "conv3_block4_out",
                          "conv4_block6_out", "conv5_block3_out", "avg_pool"]) == {
        "conv1_relu": (112, 112, 64), "pool1_pool": (56, 56, 64),
        "conv2_block3_out": (56, 56, 256), "conv3_block4_out": (28, 28, 512),
        "conv4_block6_out": (14, 14, 1024), "conv5_block3_out": (7, 7, 2048),
        "avg_pool": (2048,),
    }
    blocks = {n.split("_")[0] + "_" + n.split("_")[1] for n in
              (layer.name for layer in model.layers) if n.endswith("_add")}
    assert len(blocks) == 3 + 4 + 6 + 3
    assert shapes(model, ["fc1", "fc2", "fc3"]) == {"fc1": (1500,), "fc2": (256,), "fc3": (2,)}
    conv_part = keras.Model(model.input, model.get_layer("avg_pool").output)
    assert conv_part.count_params() == 23_587_712  # keras.applications.ResNet50, no top


# --- AffWildNet, Table 8 --------------------------------------------------------------------

@pytest.mark.parametrize("backbone, fc1_units", [("vgg_face", 4096), ("resnet50", 1500)])
def test_affwildnet_follows_table_8(backbone, fc1_units):
    model = full("cnn_rnn", backbone=backbone, seq_len=10)
    assert [tuple(i.shape) for i in model.inputs] == [(None, 10, 96, 96, 3), (None, 10, 68, 2)]
    assert shapes(model, ["fc1", "gru1", "gru2", "fc2"]) == {
        "fc1": (10, fc1_units), "gru1": (10, 128), "gru2": (10, 128), "fc2": (10, 2)}
    assert model.get_layer("gru1").units == model.get_layer("gru2").units == 128
    assert model.get_layer("fc1_dropout").rate == model.get_layer("gru1_dropout").rate == 0.5
    # Keras GRU (reset_after): 3 gates x (inputs x units + units x units + 2 biases x units)
    assert model.get_layer("gru1").count_params() == 3 * (fc1_units * 128 + 128 * 128 + 2 * 128)


@pytest.mark.parametrize("rnn, units, layers", [("lstm", 150, 1), ("gru", 100, 2)])
def test_affwildnet_rnn_variants_of_tables_12_and_14(rnn, units, layers):
    model = full("cnn_rnn", rnn=rnn, rnn_units=units, rnn_layers=layers)
    rnns = [layer for layer in model.layers if isinstance(layer, keras.layers.RNN)]
    assert [r.name for r in rnns] == [f"{rnn}{i}" for i in range(1, layers + 1)]
    assert all(r.units == units for r in rnns)


def test_affwildnet_runs_on_any_sequence_length():
    model = build("cnn_rnn", **TINY)
    for steps in (1, 5):
        frames = np.zeros((2, steps, 32, 32, 3), "uint8")
        points = np.zeros((2, steps, 68, 2), "float32")
        assert tuple(model([frames, points]).shape) == (2, steps, 2)


def test_fold_time_keeps_frames_apart():
    # the per-frame CNN must see each frame once, in order: fold then unfold is the identity
    frames = keras.Input((None, 4, 4, 3))
    folded = cnn_rnn.FoldTime()(frames)
    out = cnn_rnn.UnfoldTime()(keras.layers.Flatten()(folded), frames)
    x = np.random.default_rng(0).normal(size=(3, 5, 4, 4, 3)).astype("float32")
    y = keras.ops.convert_to_numpy(keras.Model(frames, out)(x))
    np.testing.assert_array_equal(y, x.reshape(3, 5, -1))


# --- pixels: the model normalises the stored uint8 crops (Sect. 3.3) ------------------------

@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_takes_uint8_and_maps_it_to_minus_one_one(name):
    model = build(name, **TINY)
    assert str(model.inputs[0].dtype) == "uint8"
    layer = model.get_layer("pixels")
    x = np.array([[0, 127, 128, 255]], dtype=np.uint8)
    y = keras.ops.convert_to_numpy(layer(x))
    assert y.dtype == np.float32 and y[0, 0] == -1.0 and y[0, -1] == 1.0
    assert abs(y[0, 1]) < 0.01 and abs(y[0, 2]) < 0.01


def test_predict_batch_refuses_float_images():
    # a float crop would be cast to uint8 silently (and predict nonsense)
    from affwild_lib.engine import predict_batch

    model = build("vgg_face", landmarks=False, **TINY)
    with pytest.raises(TypeError, match="takes uint8 images"):
        predict_batch(model, np.zeros((2, 32, 32, 3), np.float32), 2)
    assert predict_batch(model, np.zeros((2, 32, 32, 3), np.uint8), 4).shape == (2, 2)


# --- heads, widths, registry ----------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(MODELS))
def test_emotions_head_gives_7_probabilities(name):
    model = build(name, head="emotions", **TINY)
    assert model.output.shape[-1] == 7
    rng = np.random.default_rng(1)
    # a symbolic sequence length (None) becomes 3 frames
    inputs = [rng.normal(size=(2, *(d or 3 for d in i.shape[1:]))).astype("float32")
              for i in model.inputs]
    inputs[0] = as_pixels(inputs[0])
    probs = keras.ops.convert_to_numpy(model(inputs if len(inputs) > 1 else inputs[0]))
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)


def test_width_multiplier_scales_channels_and_units():
    assert scaled(4096, 1 / 16) == 256 and scaled(64, 1 / 16) == 4 and scaled(3, 0.01) == 1
    model = build("vgg_face", **TINY)
    assert model.get_layer("block1_conv1").filters == 4
    assert model.get_layer("fc1").units == 256 and model.get_layer("fc3").units == 2
    assert count_params("vgg_face", **TINY) == model.count_params() < 200_000


def test_registry():
    assert count_params("vgg16") == count_params("vgg_face")
    assert build("vgg16", **TINY).name == "vgg16"
    with pytest.raises(ValueError, match="unknown model"):
        build("alexnet")
    table = layer_table(build("cnn_m", **TINY))
    assert list(table.columns) == ["layer", "type", "output shape", "parameters"]
    assert table["parameters"].sum() == build("cnn_m", **TINY).count_params()


# --- training: the loss falls on a small learnable problem ------------------------------------

def learnable(n, steps=None, size=32, seed=0):
    """Crops whose colour sets the label: valence = red level, arousal = green level."""
    rng = np.random.default_rng(seed)
    shape = (n,) if steps is None else (n, steps)
    colour = rng.uniform(-0.8, 0.8, (*shape, 3)).astype("float32")
    images = colour[..., None, None, :] + 0.1 * rng.normal(size=(*shape, size, size, 3))
    points = rng.normal(size=(*shape, 68, 2))
    return as_pixels(images), points.astype("float32"), colour[..., :2]


@pytest.mark.parametrize("name, steps, learning_rate", [
    ("cnn_m", 8, 1e-3), ("vgg_face", 6, 1e-3), ("resnet50", 4, 3e-3), ("cnn_rnn", 6, 1e-3),
])
def test_loss_falls_while_training(name, steps, learning_rate):
    keras.utils.set_random_seed(0)
    model = build(name, **TINY) if name == "cnn_m" else build(name, dropout=0.1, **TINY)
    images, points, labels = learnable(16, steps=4 if name == "cnn_rnn" else None)
    inputs = images if len(model.inputs) == 1 else [images, points]
    # the baseline was trained on MSE (Sect. 4.1.1), the others on the CCC loss (Sect. 4.2);
    # eager steps: tracing these graphs would take TensorFlow far longer than a few steps
    loss = mse_loss if name == "cnn_m" else CCCLoss()
    model.compile(keras.optimizers.Adam(learning_rate), loss=loss, run_eagerly=True)
    losses = [float(model.train_on_batch(inputs, labels)) for _ in range(steps)]
    assert np.mean(losses[-2:]) < 0.85 * losses[0], losses


# --- weights from a local file ----------------------------------------------------------------

def test_npz_weights_round_trip(tmp_path):
    source = build("vgg_face", **TINY)
    path = tmp_path / "vgg_face.npz"
    written = save_npz_weights(source, path, layers=VGG_CONV_LAYERS)
    assert written == list(VGG_CONV_LAYERS)
    with np.load(path) as archive:
        assert archive["block1_conv1/kernel"].shape == (3, 3, 3, 4)  # HWIO
        assert sorted(archive.files)[:2] == ["block1_conv1/bias", "block1_conv1/kernel"]
    target = build("vgg_face", **TINY, landmarks=False)
    assert load_npz_weights(target, path, layers=VGG_CONV_LAYERS) == list(VGG_CONV_LAYERS)
    for name in VGG_CONV_LAYERS:
        for a, b in zip(source.get_layer(name).get_weights(), target.get_layer(name).get_weights()):
            np.testing.assert_array_equal(a, b)


def test_npz_weights_with_a_wrong_shape_fail_clearly(tmp_path):
    model = build("vgg_face", **TINY)
    arrays = {f"{n}/{v.name}": np.zeros(v.shape, "float32")
              for n in VGG_CONV_LAYERS for v in model.get_layer(n).weights}
    arrays["block3_conv2/kernel"] = np.zeros((3, 3, 256, 256), "float32")  # full-size weights
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    before = model.get_layer("block1_conv1").get_weights()[0].copy()
    with pytest.raises(WeightsFileError) as err:
        load_npz_weights(model, bad)
    message = str(err.value)
    assert "bad.npz" in message and "block3_conv2" in message
    assert "expected shape (3, 3, 16, 16), found (3, 3, 256, 256)" in message
    # nothing was set before the check failed
    np.testing.assert_array_equal(model.get_layer("block1_conv1").get_weights()[0], before)

    del arrays["block3_conv2/kernel"], arrays["block3_conv2/bias"]
    np.savez(tmp_path / "short.npz", **arrays)
    with pytest.raises(WeightsFileError, match="no weights for layer.*block3_conv2"):
        load_npz_weights(model, tmp_path / "short.npz", layers=VGG_CONV_LAYERS)
    np.savez(tmp_path / "alien.npz", **{"conv9/kernel": np.zeros(3)})
    with pytest.raises(WeightsFileError, match="'conv9' is not in model"):
        load_npz_weights(model, tmp_path / "alien.npz")


def test_transfer_from_va_to_emotions_head():
    va = build("cnn_rnn", **TINY)
    emotions = build("cnn_rnn", head="emotions", **TINY)
    copied, kept = transfer_weights(va, emotions)
    assert kept == ["fc2"]  # the new 7-unit output layer
    assert {"block1_conv1", "fc1", "gru1", "gru2"} <= set(copied)
    np.testing.assert_array_equal(va.get_layer("gru2").get_weights()[0],
                                  emotions.get_layer("gru2").get_weights()[0])


def test_cnn_m_fc_start_is_the_papers_or_glorots():
    """Issue 23: Sect. 4.1.1's FC start (biases 1, variance 0.1) for the paper profile; Keras'
    default (zero biases) for the miniatures, whose budget cannot undo the paper's."""
    import numpy as np

    from affwild_lib.experiments import resolve
    from affwild_lib.models import cnn_m

    paper = cnn_m.build(input_size=48, width=0.0625, fc_init="paper")
    glorot = cnn_m.build(input_size=48, width=0.0625, fc_init="glorot")
    for layer in ("fc1", "fc2"):
        assert np.all(paper.get_layer(layer).bias.numpy() == 1.0)
        assert np.all(glorot.get_layer(layer).bias.numpy() == 0.0)
    assert np.std(paper.get_layer("fc1").kernel.numpy()) > 3 * np.std(glorot.get_layer("fc1").kernel.numpy())
    with pytest.raises(ValueError, match="fc_init"):
        cnn_m.build(input_size=48, width=0.0625, fc_init="he")
    assert resolve("baseline-cnnm", "paper").fc_init == "paper"
    assert resolve("baseline-cnnm", "tiny").model_config()["fc_init"] == "glorot"


# --------------------------------------------------------------------------------------------
# Issue 21: the challenge entries of Table 6, miniatures of Sect. 4.1.2's descriptions


@pytest.mark.parametrize("name,recurrent", [("mm_net", True), ("fatauva_net", False), ("drc_net_deep", False),
                                            ("drc_net_shallow", False), ("drc_net_lstm", True)])
def test_challenge_entries_build_at_both_sizes_and_predict_every_frame(name, recurrent):
    import keras
    import numpy as np

    from affwild_lib.models import RECURRENT, blocks, build

    assert (name in RECURRENT) == recurrent
    with keras.StatelessScope(initialize_variables=False):
        full = build(name, input_size=96, width=1.0)
    assert full.count_params() > 10 * build(name, input_size=32, width=1 / 16).count_params()
    model = build(name, input_size=32, width=1 / 16)
    x = np.zeros((2, 5, 32, 32, 3) if recurrent else (2, 32, 32, 3), np.uint8)
    assert model.predict_on_batch(x).shape == ((2, 5, 2) if recurrent else (2, 2))
    with pytest.raises(ValueError, match="face images alone"):
        build(name, input_size=32, width=1 / 16, landmarks=True)
    assert blocks(model)["kind"].iloc[0] == "input"


def test_mm_net_is_the_mean_of_its_three_memories():
    import keras
    import numpy as np

    from affwild_lib.models import build
    from affwild_lib.models.mm_net import MEMORIES

    model = build("mm_net", input_size=32, width=1 / 16, dropout=0.0)
    members = keras.Model(model.inputs, [model.get_layer(f"memory{k}_out").output for k in range(1, 4)])
    x = np.random.default_rng(0).integers(0, 256, (2, 4, 32, 32, 3), dtype=np.uint8)
    outs = members.predict_on_batch(x)
    assert len(outs) == len(MEMORIES) == 3
    np.testing.assert_allclose(model.predict_on_batch(x), np.mean(outs, axis=0), rtol=1e-5, atol=1e-6)
    assert not np.allclose(outs[0], outs[1])  # three different networks, not one thrice
