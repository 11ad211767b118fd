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
