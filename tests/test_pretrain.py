"""Pre-training in the synthetic world (affwild_lib.pretrain, issue 17): the two corpora, a
backbone's conv part trained on one and read back by the loader the paper profile uses, and
the experiments that start from it."""
import json

import numpy as np
import pytest

from affwild_lib import pretrain as P
from conftest import TOY_SIZE as SIZE

pytestmark = pytest.mark.train


def test_the_corpora_are_deterministic_labelled_and_of_the_crop_size(tmp_path):
    faces = P.face_images(3, 4, SIZE, seed=0)
    assert faces.shape == (4, SIZE, SIZE, 3) and faces.dtype == np.uint8
    assert np.array_equal(faces, P.face_images(3, 4, SIZE, seed=0))
    assert not np.array_equal(faces, P.face_images(4, 4, SIZE, seed=0))  # another person
    assert faces.std() > 10  # a picture, not a blank
    objects = P.object_images(3, 4, SIZE, seed=0)
    assert objects.shape == faces.shape and np.array_equal(objects, P.object_images(3, 4, SIZE, seed=0))
    record = P.make_corpus("objects", tmp_path / "objects", classes=3, images_per_class=4, size=SIZE,
                           progress=False)
    images, labels, info = P.load_corpus(tmp_path / "objects")
    assert images.shape == (12, SIZE, SIZE, 3) and list(np.bincount(labels)) == [4, 4, 4]
    assert info == json.loads((tmp_path / "objects" / "corpus.json").read_text()) == record


def test_corpus_people_are_not_synthaffwild_subjects():
    """Identity pre-training must not have seen the people it is tested on."""
    from affwild_lib.synth.plan import plan
    from affwild_lib.synth.profiles import PROFILES

    jobs = plan(0, PROFILES["tiny"])["affwild"]
    subjects = {tuple(np.round(j.identity.shape[:5].ravel(), 6)) for j in jobs}
    from affwild_lib.synth.face import random_identity  # the corpus draws its people like this
    rng = np.random.default_rng(np.random.SeedSequence(0, spawn_key=(P._FACES_KEY, 0)))
    rng.random()
    person = random_identity(rng, "P0000", "M")
    assert tuple(np.round(person.shape[:5].ravel(), 6)) not in subjects


def test_bad_sizes_are_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match="classes must be an integer >= 2"):
        P.make_corpus("faces", tmp_path / "c", classes=1, images_per_class=4, size=SIZE)
    with pytest.raises(ValueError, match="corpus must be one of"):
        P.make_corpus("cars", tmp_path / "c", classes=3, images_per_class=4, size=SIZE)
    assert not (tmp_path / "c").exists()


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """VGG-Face's conv part pre-trained on a few synthetic people, VGG-16's on objects."""
    root = tmp_path_factory.mktemp("pretrain")
    out = {}
    for backbone, corpus in (("vgg_face", "faces"), ("vgg16", "objects")):
        P.make_corpus(corpus, root / corpus, classes=3, images_per_class=4, size=SIZE, progress=False)
        out[backbone] = P.pretrain(backbone, root / corpus, root / backbone, width=1 / 16,
                                   input_size=SIZE, epochs=2, batch=8, learning_rate=1e-3,
                                   val_per_class=1, log=lambda line: None)
        out[backbone]["folder"] = root / backbone
    return out


def test_pretraining_writes_the_loader_layout_and_a_record(pretrained):
    import keras

    from affwild_lib.models import build, load_npz_weights

    record = pretrained["vgg_face"]
    folder = record["folder"]
    assert record["corpus"] == "faces" and record["steps"] == 2 * 2 and record["chance_accuracy"] == 1 / 3
    assert len(json.loads((folder / "weights.json").read_text())["layers"]) == 13
    with np.load(folder / "weights.npz") as archive:
        assert "block1_conv1/kernel" in archive.files and not any("pretrain" in k for k in archive.files)
    for name, config in (("vgg_face", {}), ("cnn_rnn", {"rnn_units": 8})):
        model = build(name, input_size=SIZE, width=1 / 16, **config)
        assert len(load_npz_weights(model, folder / "weights.npz")) == 13
        with np.load(folder / "weights.npz") as archive:
            assert np.array_equal(model.get_layer("block3_conv2").get_weights()[0],
                                  archive["block3_conv2/kernel"])
    from affwild_lib.models.weights import WeightsFileError
    with pytest.raises(WeightsFileError, match="expected shape"):  # another width does not fit
        load_npz_weights(build("vgg_face", input_size=SIZE, width=1 / 8), folder / "weights.npz")
    keras.backend.clear_session()


def test_vggface_and_vgg16_become_different_networks(pretrained, toy_store, tmp_path):
    """Table 9 is testable: same architecture, other pre-training, other predictions; and
    metrics.json says which start each run had."""
    from affwild_lib.train import train

    metrics = {}
    for name, backbone in (("cnn-vggface", "vgg_face"), ("cnn-vgg16", "vgg16")):
        metrics[name] = train(name, "tiny", out=tmp_path / name, store=str(toy_store),
                              data_root=str(toy_store), width=1 / 16, input_size=SIZE, epochs=1,
                              max_steps_per_epoch=3, batch_size=16, seed=0, verbose=0,
                              weights=str(pretrained[backbone]["folder"] / "weights.npz"))
    init = metrics["cnn-vggface"]["initialisation"]
    assert init["used"] == "vggface" and init["pretrained_on"]["corpus"] == "faces"
    assert metrics["cnn-vgg16"]["initialisation"]["pretrained_on"]["corpus"] == "objects"
    a, b = (np.loadtxt(tmp_path / n / "predictions.csv", delimiter=",", skiprows=1, usecols=(4, 5))
            for n in metrics)
    assert not np.allclose(a, b)


def test_a_profile_without_pretrain_block_pretrains_nothing(tmp_path):
    import shutil

    from affwild_lib.config import repo_root

    shutil.copy(repo_root() / "params.yaml", tmp_path / "params.yaml")
    record = P.run("vgg_face", "paper", root=tmp_path)
    assert record["pretrained"] is False and "converted real weights" in record["note"]
    assert not (tmp_path / "pretrained" / "vgg_face" / "weights.npz").exists()


# --------------------------------------------------------------------------------------------
# FATAUVA-Net's attribute and AU stages (Table 6, issue 21)


def test_the_attributes_corpus_labels_each_person_and_each_frame_never_the_affect(tmp_path):
    from affwild_lib.synth.face import AUS

    images, attributes, aus = P.attribute_images(2, 6, SIZE, seed=0)
    assert images.shape == (6, SIZE, SIZE, 3) and attributes.shape == (6, len(P.ATTRIBUTES))
    assert aus.shape == (6, len(AUS)) and np.isin(attributes, (0, 1)).all()
    assert (attributes == attributes[0]).all()  # the person's look, the same in every image
    assert aus.std(axis=0).max() > 0.01  # the face's actions change from frame to frame
    assert (attributes[0, 3] + attributes[0, 4] + attributes[0, 2]) <= 1  # one hair style
    # other people than the faces corpus's (and so than SynthAffWild's: another seed key)
    assert not np.array_equal(images, P.face_images(2, 6, SIZE, seed=0))
    P.make_corpus("attributes", tmp_path / "a", classes=3, images_per_class=4, size=SIZE, progress=False)
    got, info = P._read_corpus(tmp_path / "a", ["images", "labels", "attributes", "aus"])
    assert got["attributes"].shape == (12, 5) and got["aus"].shape == (12, len(AUS))
    assert sorted(got) == ["attributes", "aus", "images", "labels"]  # no valence, no arousal
    assert info["attributes"] == list(P.ATTRIBUTES)


def test_fatauva_stages_run_in_order_and_start_the_va_network(tmp_path):
    """Attributes, then AUs from the attribute stage's layers, then the V-A model loads them."""
    import keras

    from affwild_lib.models import build, load_npz_weights

    P.make_corpus("attributes", tmp_path / "a", classes=4, images_per_class=4, size=SIZE, progress=False)
    lines = []
    record = P.pretrain("fatauva_net", tmp_path / "a", tmp_path / "f", width=1 / 16, input_size=SIZE,
                        epochs=2, batch=8, learning_rate=1e-3, val_per_class=1, log=lines.append)
    assert record["stages"] == ["attributes", "aus"] and record["held_out_people"] == 1
    assert any(line.startswith("aus stage: starts from the 8 layers") for line in lines)
    history = __import__("pandas").read_csv(tmp_path / "f" / "history.csv")
    assert list(history["stage"]) == ["attributes"] * 2 + ["aus"] * 2
    assert 0 <= record["chance_accuracy"] <= 1 and record["final_val_au_mse"] > 0
    model = build("fatauva_net", input_size=SIZE, width=1 / 16)
    before = model.get_layer("core1_conv").get_weights()[0].copy()
    loaded = load_npz_weights(model, tmp_path / "f" / "weights.npz")
    assert "core1_conv" in loaded and "au_out" in loaded and "fc_out" not in loaded
    assert not np.allclose(before, model.get_layer("core1_conv").get_weights()[0])
    # the V-A layer reads the AU intensities: the AU stage's own network, unchanged
    aus = keras.Model(model.inputs, model.get_layer("au_out").output)
    stage = P._read_corpus(tmp_path / "a", ["images"])[0]["images"][:2]
    from affwild_lib.models import fatauva_net

    reference = fatauva_net.au_model(SIZE, 1 / 16)
    load_npz_weights(reference, tmp_path / "f" / "weights.npz")
    np.testing.assert_allclose(aus.predict_on_batch(stage), reference.predict_on_batch(stage), atol=1e-5)
    P.make_corpus("faces", tmp_path / "faces", classes=2, images_per_class=2, size=SIZE, progress=False)
    with pytest.raises(ValueError, match="attributes corpus"):
        P.pretrain("fatauva_net", tmp_path / "faces", tmp_path / "g", width=1 / 16, input_size=SIZE,
                   epochs=1, batch=8, learning_rate=1e-3, val_per_class=1)
