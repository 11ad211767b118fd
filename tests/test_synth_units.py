"""Building blocks of SynthAffWild: face geometry, expression, motion, affect, annotators."""
import io
import zipfile

import numpy as np
import pytest

from affwild_lib.synth.affect import EMOTIONS, AffectStyle, emotion_affect, latent_affect
from affwild_lib.synth.annotators import annotate, annotator_pool
from affwild_lib.synth.domains import DOMAINS
from affwild_lib.synth.face import AU, AUS, expression_shapes, project, random_identity
from affwild_lib.synth.signals import wander
from affwild_lib.synth.video import simulate
from affwild_lib.synth.writers import save_npz


@pytest.fixture
def person():
    return random_identity(np.random.default_rng(0), "s001", "F")


def test_template_follows_ibug_order(person):
    p = person.shape
    assert p[36:42, 0].max() < p[42:48, 0].min()        # image-left eye, then right eye
    assert p[17:27, 1].max() < p[36:48, 1].min()        # brows above the eyes
    assert p[36:48, 1].max() < p[31:36, 1].min() < p[48:68, 1].min()  # eyes, nose, mouth
    assert np.argmax(p[0:17, 1]) == 8                   # the chin is the lowest jaw point
    assert p[0, 0] < 0 < p[16, 0] and p[48, 0] < p[54, 0]
    assert p[17, 0] < p[21, 0] < p[22, 0] < p[26, 0]    # brows run outer->inner, inner->outer


def test_expressions_move_the_right_features(person):
    aus = np.zeros((4, len(AUS)))
    aus[1, AU["blink"]] = 1.0
    aus[2, AU["smile"]] = 1.0
    aus[3, AU["mouth_open"]] = 1.0
    neutral, blink, smile, open_ = expression_shapes(person, aus)
    np.testing.assert_allclose(blink[[37, 38], 1], blink[[41, 40], 1])  # lids meet
    assert smile[48, 1] < neutral[48, 1] and smile[54, 1] < neutral[54, 1]  # corners up
    assert open_[66, 1] - open_[62, 1] > neutral[66, 1] - neutral[62, 1] + 0.1


def test_projection_pose(person):
    shapes = person.shape[None].repeat(2, 0)
    zero = np.zeros(2)
    pts = project(shapes, zero, zero, zero, np.array([50.0, 100.0]), np.array([160.0, 0]),
                  np.array([90.0, 0]))
    np.testing.assert_allclose(pts[0], person.shape[:, :2] * 50 + [160, 90])
    np.testing.assert_allclose(pts[1], person.shape[:, :2] * 100)
    turned = project(shapes[:1], np.array([0.5]), zero[:1], zero[:1], np.ones(1), zero[:1],
                     zero[:1])
    assert not np.allclose(turned[0, 30, 0], 0)  # yaw moves the nose tip sideways


def test_wander_is_smooth_with_the_requested_spread():
    x = wander(np.random.default_rng(0), 30 * 600, 30.0, 5.0, 2.0, dims=2)
    assert x.shape == (18000, 2)
    assert 1.0 < x.std() < 3.0
    assert np.abs(np.diff(x, axis=0)).max() < 0.3  # no frame-to-frame jumps (OU: ~1)


def test_latent_affect_range_and_lean():
    rng = np.random.default_rng(0)
    va = np.concatenate([latent_affect(rng, 900, 30.0, AffectStyle()) for _ in range(20)])
    assert va.shape == (18000, 2) and np.abs(va).max() <= 1
    assert va[:, 0].mean() > 0 and va[:, 0].std() > 0.2


def test_emotions_sit_in_their_region_but_overlap():
    rng = np.random.default_rng(0)
    means = {e: np.mean([emotion_affect(rng, 50, 25.0, e)[0][-1] for _ in range(60)], axis=0)
             for e in EMOTIONS}
    assert means["Happy"][0] > means["Neutral"][0] > means["Sad"][0]
    assert means["Surprise"][1] > means["Sad"][1]
    happy = [emotion_affect(rng, 50, 25.0, "Happy")[0][-1, 0] for _ in range(200)]
    assert min(happy) < 0.2  # overlapping: the plane alone does not decide the category


def test_annotators_lag_and_some_are_poor():
    rng = np.random.default_rng(0)
    pool = annotator_pool(rng, n=8, n_poor=2)
    assert sum(a.poor for a in pool) == 2 and len({a.name for a in pool}) == 8
    t = np.arange(600) / 30
    latent = np.stack([np.sin(t / 2), np.cos(t / 3)], 1) * 0.8
    traces = annotate(rng, pool, latent, 30.0, 0)
    for ann in pool:
        times, values = traces[ann.name]
        assert np.all(np.diff(times) > 0) and np.abs(values).max() <= 1
        assert 0.02 < np.median(np.diff(times)) < 0.2  # a variable-rate joystick log


def test_frames_render(person):
    rng = np.random.default_rng(0)
    clip = simulate(rng, person, DOMAINS["affwild"], 12, 30.0, (320, 180))
    frames = list(clip.frames())
    assert len(frames) == 12 and frames[0].shape == (180, 320, 3)
    assert frames[0].dtype == np.uint8 and frames[0].std() > 10
    assert clip.landmarks.shape == (12, 68, 2)


def test_npz_bytes_are_reproducible(tmp_path):
    arrays = {"a": np.arange(5), "s": np.array("aw001")}
    save_npz(tmp_path / "x.npz", arrays)
    save_npz(tmp_path / "y.npz", arrays)
    assert (tmp_path / "x.npz").read_bytes() == (tmp_path / "y.npz").read_bytes()
    z = np.load(tmp_path / "x.npz")
    assert str(z["s"]) == "aw001" and z["a"].sum() == 10
    assert zipfile.ZipFile(io.BytesIO((tmp_path / "x.npz").read_bytes())).testzip() is None
