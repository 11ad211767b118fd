"""The one registry of named experiments, Tables 5 and 9-18, and its profile scaling from
params.yaml (affwild_lib.experiments)."""
import pytest

from affwild_lib.experiments import EXPERIMENTS, TRANSFERS, by_table, resolve
from affwild_lib.models import count_params

NAMES = ["baseline-cnnm", "affwildnet", "cnn-vggface", "cnn-vgg16", "cnn-resnet50", "cnn-vggface-random",
         "cnn-vggface-nolandmarks", "cnn-vggface-1annotator", "cnn-vggface-mse",
         "cnn-vggface-nooversampling", "cnnrnn-lstm-2x128", "cnnrnn-gru-1x100",
         "cnnrnn-gru-2x100", "cnnrnn-gru-1x128", "cnnrnn-gru-1x150", "cnnrnn-gru-2x150",
         "mm-net", "fatauva-net", "drc-net-deep", "drc-net-shallow", "drc-net-lstm"]  # Table 6 (issue 21)


def test_every_name_exists():
    sect4 = [n for n, e in EXPERIMENTS.items() if e.dataset == "affwild"]
    assert sorted(sect4) == sorted(NAMES)
    assert set(EXPERIMENTS) == set(NAMES) | set(TRANSFERS) and len(TRANSFERS) == 13


@pytest.mark.parametrize("name, row", [
    ("baseline-cnnm", "5:CNN-M"),
    ("cnn-vggface", "9:VGG Face"), ("cnn-vgg16", "9:VGG-16"), ("cnn-resnet50", "9:ResNet-50"),
    ("cnn-vggface", "10:With Landmarks"), ("cnn-vggface-nolandmarks", "10:Without Landmarks"),
    ("cnn-vggface", "11:Mean of Annotators"), ("cnn-vggface-1annotator", "11:1 Annotator"),
    ("affwildnet", "12:best CNN-GRU"), ("cnnrnn-lstm-2x128", "12:best CNN-LSTM"),
    ("cnn-vggface", "13:best CNN"), ("affwildnet", "13:best CNN-RNN"),
    ("cnnrnn-gru-1x100", "14:100 units, 1 Hidden Layer"),
    ("cnnrnn-gru-2x100", "14:100 units, 2 Hidden Layers"),
    ("cnnrnn-gru-1x128", "14:128 units, 1 Hidden Layer"),
    ("affwildnet", "14:128 units, 2 Hidden Layers"),
    ("cnnrnn-gru-1x150", "14:150 units, 1 Hidden Layer"),
    ("cnnrnn-gru-2x150", "14:150 units, 2 Hidden Layers"),
    ("cnn-vggface-mse", "loss:MSE"), ("cnn-vggface", "loss:CCC"),
    ("cnn-vggface-nooversampling", "oversampling:off"), ("cnn-vggface", "oversampling:on"),
    ("mm-net", "6:MM-Net"), ("fatauva-net", "6:FATAUVA-Net"), ("drc-net-deep", "6:DRC-Net"),
    ("affwildnet", "6x:AffWildNet (Table 13)"),
])
def test_table_rows(name, row):
    assert row in EXPERIMENTS[name].tables
    table = row.split(":")[0]
    assert EXPERIMENTS[name] in by_table(table)


def test_each_table_row_is_reproduced_once():
    rows = [row for e in EXPERIMENTS.values() for row in e.tables]
    assert len(rows) == len(set(rows))
    assert {len(by_table(t)) for t in (9, 10, 11, 12, 13)} == {2, 3}
    assert len(by_table(14)) == 6


def test_settings_follow_the_paper():
    base = EXPERIMENTS["baseline-cnnm"]
    assert (base.model, base.loss, base.batch_size, base.learning_rate) == ("cnn_m", "mse", 80, 1e-3)
    net = EXPERIMENTS["affwildnet"]
    assert (net.backbone, net.landmarks, net.rnn, net.rnn_layers, net.rnn_units) == ("vgg_face", True, "gru", 2, 128)
    assert (net.batch_size, net.seq_len, net.dropout, net.init) == (80, 80, 0.5, "vggface")
    cnn = EXPERIMENTS["cnn-vggface"]
    assert (cnn.batch_size, cnn.learning_rate, cnn.dropout, cnn.loss, cnn.oversampling) == (50, 1e-3, 0.5, "ccc", True)
    assert EXPERIMENTS["cnn-vggface-nolandmarks"].landmarks is False
    assert EXPERIMENTS["cnn-vggface-1annotator"].annotation == "single"
    assert EXPERIMENTS["cnn-vgg16"].init == EXPERIMENTS["cnn-resnet50"].init == "imagenet"
    assert EXPERIMENTS["cnnrnn-lstm-2x128"].rnn == "lstm"
    for name, layers, units in [("cnnrnn-gru-1x100", 1, 100), ("cnnrnn-gru-2x150", 2, 150)]:
        assert (EXPERIMENTS[name].rnn_layers, EXPERIMENTS[name].rnn_units) == (layers, units)


def test_paper_profile_gives_the_paper_values():
    for name in NAMES:
        e, paper = resolve(name, "paper"), EXPERIMENTS[name]
        assert (e.width, e.input_size, e.learning_rate) == (1.0, 96, 1e-3)
        # the CNNs' batch is 50 frames, the baseline's and the CNN-RNNs' 80 (the entries: by kind)
        assert e.batch_size == paper.batch_size == (80 if e.is_rnn or name == "baseline-cnnm" else 50)
        if e.is_rnn:
            assert e.seq_len == 80
        assert e.dropout == paper.dropout and e.max_steps_per_epoch is None
        assert e.profile == "paper"


def test_tiny_profile_scales_down():
    e = resolve("affwildnet", "tiny")
    assert e.width < 1 and e.input_size < 96 and e.batch_size < 80
    assert e.seq_len >= 60  # issue 17: training windows cover at least 2 s of 30 fps video
    assert e.rnn_units == 128 and e.rnn_layers == 2  # the architecture is the paper's, scaled by width
    # only the CNN is thinned: the GRU keeps the paper's 128 units
    from affwild_lib.models import build
    import keras
    with keras.StatelessScope(initialize_variables=False):
        model = build(e.model, **e.model_config())
    assert model.get_layer("gru1").units == 128 and model.get_layer("gru2").units == 128
    assert resolve("cnn-vggface", "tiny", epochs=7).epochs == 7
    with pytest.raises(TypeError):
        resolve("cnn-vggface", "tiny", no_such_field=1)
    with pytest.raises(KeyError):
        resolve("no-such-experiment", "tiny")



def test_pretrained_starts_follow_the_backbone():
    """Table 9: VGG-Face starts from the face corpus, VGG-16 and ResNet-50 from the object
    corpus, CNN-M from FaceValue's stand-in; the random-init control and Sect. 5's prior rows
    read no weights file; Sect. 5's controls start from their backbone's pre-training."""
    weights = {n: resolve(n, "tiny").weights for n in (
        "cnn-vggface", "cnn-vgg16", "cnn-resnet50", "baseline-cnnm", "cnn-vggface-random",
        "affwildnet", "recola-affwildnet", "recola-resnet-gru", "emotiw-vgg16")}
    assert weights["cnn-vggface"].endswith("pretrained/vgg_face/weights.npz")
    assert weights["affwildnet"] == weights["cnn-vggface"]
    assert weights["cnn-vgg16"].endswith("pretrained/vgg16/weights.npz")
    assert weights["cnn-resnet50"].endswith("pretrained/resnet50/weights.npz")
    assert weights["baseline-cnnm"].endswith("pretrained/cnn_m/weights.npz")
    assert weights["cnn-vggface-random"] is None and weights["recola-affwildnet"] is None
    assert weights["recola-resnet-gru"] == weights["cnn-resnet50"]
    assert weights["emotiw-vgg16"] == weights["cnn-vgg16"]
    assert resolve("cnn-vggface", "small").seeds >= 3 and resolve("cnn-vggface", "tiny").seeds == 1


def test_params_yaml_is_the_one_source_of_the_profiles(tmp_path):
    """No default hides in the code: a profile block without a key is an error naming it."""
    import yaml

    from affwild_lib.config import repo_root

    params = yaml.safe_load((repo_root() / "params.yaml").read_text())
    del params["profiles"]["tiny"]["train"]["epochs"]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(KeyError, match="profiles.tiny.train lacks epochs"):
        resolve("cnn-vggface", "tiny", root=tmp_path)
    params = yaml.safe_load((repo_root() / "params.yaml").read_text())
    params["profiles"]["tiny"]["transfer"]["epochs"] = 9
    params["profiles"]["tiny"]["train"]["seed"] = 4
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    row = resolve("recola-affwildnet", "tiny", root=tmp_path)
    assert (row.epochs, row.seed) == (9, 4)  # the transfer block's schedule, train's seed


def test_sect5_rows_take_the_transfer_block_and_the_prior():
    fine, frozen = resolve("recola-affwildnet", "tiny"), resolve("recola-affwildnet-frozen", "tiny")
    assert fine.prior and fine.prior_path.endswith("experiments/affwildnet/model.keras")
    assert fine.learning_rate == 1e-4 and frozen.learning_rate == 1e-3  # Sect. 4.2's two modes
    assert fine.store.endswith("data/prepared/recola") and fine.data_root.endswith("recola")
    assert resolve("emotiw-vgg16", "tiny").loss == "crossentropy"
    paper = resolve("afewva-affwildnet", "paper")
    assert (paper.seq_len, paper.seq_stride, paper.folds) == (10, 5, 5)  # per-dataset windows
    assert not resolve("recola-resnet-gru", "tiny").prior


@pytest.mark.parametrize("name", NAMES)
def test_configs_build(name):
    e = resolve(name, "tiny")
    assert count_params(e.model, **e.model_config()) > 0


def test_paper_sizes_count_without_allocating():
    e = resolve("affwildnet", "paper")
    # VGG-Face conv (14.7M) + FC 4096 on 3x3x512+136 inputs + 2 GRU 128 + head
    assert 30e6 < count_params(e.model, **e.model_config()) < 40e6
