"""Annotation matching and fusion (paper Sects. 3.3-3.4, Table 11), and the re-fusion of a
video's labels from its traces on disk (the release's, people's and an expert's choice) that
``prepare`` does."""
import dataclasses

import numpy as np
import pytest

from affwild_lib.annotation import (TraceError, annotator_correlations, fuse, fuse_video,
                                    match_to_frames, most_landmark_correlated, needs_fusion,
                                    relabel, top_k_mean, trace_path, traces_root)
from affwild_lib.annotation_tool import traces as tr  # writes the traces, as the tool does
from affwild_lib.datasets.affwild import read_raw_traces
from annotate_release import SECONDS, make_release, whole


def test_nearest_timestamp():
    times = [0.0, 0.1, 0.25, 0.4]
    values = [1.0, 2.0, 3.0, 4.0]
    frames = [-0.5, 0.02, 0.09, 0.2, 0.33, 0.39, 9.0]
    np.testing.assert_allclose(match_to_frames(times, values, frames),
                               [1.0, 1.0, 2.0, 3.0, 4.0, 4.0, 4.0])


def test_tie_takes_the_average():
    # Frame 0.05 is 0.05 from both 0.0 and 0.1; frame 0.175 is halfway between 0.1 and 0.25.
    out = match_to_frames([0.0, 0.1, 0.25], [1.0, 2.0, 4.0], [0.05, 0.175, 0.1])
    np.testing.assert_allclose(out, [1.5, 3.0, 2.0])


def test_tie_with_float_timestamps():
    # 1/30-s frames against ms timestamps: frame 0.1 (= 3/30) is halfway from 0.08 and 0.12.
    out = match_to_frames([0.08, 0.12], [0.0, 1.0], np.arange(5) / 30)
    assert out[3] == pytest.approx(0.5)


def test_unsorted_and_duplicate_timestamps():
    sorted_out = match_to_frames([0.0, 0.1, 0.2], [0.0, 1.0, 2.0], [0.04, 0.11, 0.19])
    shuffled = match_to_frames([0.2, 0.0, 0.1], [2.0, 0.0, 1.0], [0.04, 0.11, 0.19])
    np.testing.assert_allclose(shuffled, sorted_out)
    # Two samples at the same instant act as one sample with their mean value.
    dup = match_to_frames([0.0, 0.1, 0.1], [0.0, 1.0, 3.0], [0.09, 0.05])
    np.testing.assert_allclose(dup, [2.0, 1.0])


def test_empty_and_malformed_traces():
    with pytest.raises(ValueError, match="empty"):
        match_to_frames([], [], [0.0, 0.1])
    with pytest.raises(ValueError):
        match_to_frames([0.0, 0.1], [1.0], [0.0])
    np.testing.assert_allclose(match_to_frames([0.3], [0.7], [0.0, 1.0]), [0.7, 0.7])


def test_correlations_of_constant_trace():
    r = annotator_correlations([[0, 1, 2, 3], [0, 2, 4, 7], [1, 1, 1, 1]])
    assert r.shape == (3, 3)
    np.testing.assert_allclose(np.diag(r), 1.0)
    assert r[0, 2] == 0.0 and r[0, 1] > 0.95


def _panel(seed=0, n=600):
    """Four annotators following one signal closely, two noisy ones, one anti-correlated."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 20, n)
    truth = np.sin(t) + 0.5 * np.sin(2.3 * t)
    good = [truth + rng.normal(0, s, n) for s in (0.1, 0.15, 0.2, 0.25)]
    bad = [0.3 * truth + rng.normal(0, 1.0, n), rng.normal(0, 1.0, n), -truth]
    matrix = np.stack([bad[0], good[0], bad[1], good[1], good[2], bad[2], good[3]])
    return matrix, truth


def test_top_k_picks_the_consistent_annotators():
    matrix, truth = _panel()
    mean, chosen = top_k_mean(matrix)
    assert sorted(chosen) == [1, 3, 4, 6]
    np.testing.assert_allclose(mean, matrix[chosen].mean(axis=0))
    assert np.corrcoef(mean, truth)[0, 1] > np.corrcoef(matrix[6], truth)[0, 1]


def test_top_k_bounds():
    matrix, _ = _panel()
    _, chosen = top_k_mean(matrix, k_min=2, k_max=3)
    assert len(chosen) == 3
    # With a threshold nobody reaches, the rule still returns k_min annotators...
    _, chosen = top_k_mean(matrix, threshold=1.1)
    assert len(chosen) == 2 and sorted(chosen) == [1, 3]
    # ...and never more than k_max, however many agree.
    rng = np.random.default_rng(1)
    base = rng.normal(size=200)
    _, chosen = top_k_mean(np.stack([base + rng.normal(0, 0.01, 200) for _ in range(8)]))
    assert len(chosen) == 4
    # Fewer annotators than k_min: all of them.
    mean, chosen = top_k_mean(matrix[:1])
    assert chosen == [0]
    # Three who agree, k_max 4: all three, not a search for a fourth (a lab with 3 annotators).
    _, chosen = top_k_mean(np.stack([base + rng.normal(0, 0.01, 200) for _ in range(3)]))
    assert sorted(chosen) == [0, 1, 2]
    with pytest.raises(ValueError):
        top_k_mean(matrix, k_min=3, k_max=2)


def test_single_annotator_most_correlated_with_landmarks():
    rng = np.random.default_rng(2)
    n = 400
    expression = np.cumsum(rng.normal(size=n)) / 10
    # 136 landmark coordinates: a few move with the expression, the rest is noise.
    features = rng.normal(0, 0.05, (n, 136))
    features[:, :6] += expression[:, None] * rng.uniform(0.5, 1.0, 6)
    traces = np.stack([expression + rng.normal(0, s, n) for s in (0.8, 0.1, 0.4)])
    best, r2 = most_landmark_correlated(traces, features)
    assert best == 1 and r2.shape == (3,)
    assert np.all((r2 >= 0) & (r2 <= 1))


def test_fuse_from_raw_traces():
    rng = np.random.default_rng(3)
    frames = np.arange(300) / 30.0
    signal = lambda t: np.sin(t)  # noqa: E731
    raw = {}
    for k, noise in enumerate((0.02, 0.03, 0.05, 2.0, 2.0, 2.0)):
        t = np.sort(rng.uniform(0, 10, 250))
        raw[f"A{k + 1}"] = (t, signal(t) + rng.normal(0, noise, t.size))
    labels, chosen = fuse(raw, frames)
    assert labels.shape == frames.shape
    assert set(chosen) <= {"A1", "A2", "A3"} and len(chosen) >= 2
    assert np.abs(labels - signal(frames)).mean() < 0.1
    with pytest.raises(ValueError):
        fuse({}, frames)


# -- traces on disk, fused again for prepare (Sect. 3.4) ----------------------------------------

@pytest.fixture
def release(tmp_path):
    return make_release(tmp_path)


def test_fusion_uses_the_experts_choice_over_the_automatic_one(release):
    root = traces_root(release)
    frame_times = np.arange(75) / 25
    assert not needs_fusion(release, root, "valence", "clip")
    release_traces = read_raw_traces(release, "clip", "valence")
    labels, chosen, how = fuse_video(release, root, "valence", "clip", frame_times)
    expected, expected_chosen = fuse(release_traces, frame_times)
    np.testing.assert_array_equal(labels, expected)
    assert how == "automatic" and chosen == expected_chosen

    tr.save_selection(release, root, "valence", "clip", ["A1", "A3"], "e")
    assert needs_fusion(release, root, "valence", "clip")
    labels, chosen, how = fuse_video(release, root, "valence", "clip", frame_times)
    pair, _ = fuse({k: release_traces[k] for k in ("A1", "A3")}, frame_times)
    np.testing.assert_array_equal(labels, pair)
    assert how == "expert" and chosen == ["A1", "A3"]


def test_prepare_gets_the_fusion_of_all_traces_for_an_annotated_video_only(release):
    """``relabel`` (what prepare calls): the release's per-frame labels stand until a human trace
    exists; then that video's labels are the fusion of all its traces, and its shard settings
    carry a digest of them, so that a store made before is redone for it, resumed for the rest."""
    from affwild_lib.datasets import affwild
    from affwild_lib.prepare import _settings

    for vid in ("clip", "bad"):
        for dim, level in (("valence", 0.1), ("arousal", -0.2)):
            path = release / "annotations" / "train" / dim / f"{vid}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(f"{level:.6f}\n" for _ in range(75)))
    root = traces_root(release)
    records = affwild.read(release)
    same, log = relabel(records, release, root)
    assert log == [] and all(a is b for a, b in zip(same, records))

    tr.save_trace(root, "valence", "clip", "me", *whole(level=0.9).values(), SECONDS)
    relabelled, log = relabel(affwild.read(release), release, root)
    assert [(x["video"], x["dimension"], x["how"]) for x in log] == [("clip", "valence", "automatic")]
    clip = next(r for r in relabelled if r.video_id == "clip")
    bad = next(r for r in relabelled if r.video_id == "bad")
    everyone = read_raw_traces(release, "clip", "valence") | read_raw_traces(root, "clip", "valence")
    expected, _ = fuse(everyone, np.arange(75) / 25)
    np.testing.assert_allclose(clip.valence, expected.astype(np.float32))
    assert np.allclose(clip.arousal, -0.2) and np.allclose(bad.valence, 0.1)
    base = {"format": "affwild"}
    assert _settings(bad, base, log) == base
    digest = _settings(clip, base, log)["labels"]
    changed = dataclasses.replace(clip, valence=clip.valence + np.float32(0.01))
    assert _settings(changed, base, log)["labels"] != digest


def test_one_trace_alone_never_replaces_a_releases_labels_and_stale_traces_are_refused(tmp_path):
    """A release without raw traces (as the real Aff-Wild): one person's trace is not fused
    alone; two are. A trace of another copy of the video (other length) stops prepare."""
    from affwild_lib.datasets import affwild

    release = make_release(tmp_path)
    for vid in ("clip", "bad"):
        for dim in ("valence", "arousal"):
            path = release / "annotations" / "train" / dim / f"{vid}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("0.1\n" * 75)
    import shutil

    shutil.rmtree(release / "annotations_raw")
    root = traces_root(release)
    tr.save_trace(root, "arousal", "clip", "one", *whole().values(), SECONDS)
    assert not needs_fusion(release, root, "arousal", "clip")
    tr.save_trace(root, "arousal", "clip", "two", *whole(level=0.3).values(), SECONDS)
    assert needs_fusion(release, root, "arousal", "clip")
    _, log = relabel(affwild.read(release), release, root)
    assert [x["chosen"] for x in log] == [["one", "two"]]

    short = trace_path(root, "arousal", "clip", "two")
    short.write_text("time_s,value\n0.0,0.1\n1.0,0.2\n")
    with pytest.raises(TraceError, match="made for another copy"):
        relabel(affwild.read(release), release, root)


def test_a_trace_the_fusion_leaves_out_changes_no_label(release):
    """Labels written by the release as this same fusion (the synthetic one's, to 6 decimals):
    a human trace that is not among the chosen leaves the record, and its shard, as they were."""
    from affwild_lib.datasets import affwild
    from affwild_lib.prepare import _settings

    frame_times = np.arange(75) / 25
    for dim in ("valence", "arousal"):
        for vid in ("clip", "bad"):
            path = release / "annotations" / "train" / dim / f"{vid}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            labels = (fuse(read_raw_traces(release, "clip", "valence"), frame_times)[0]
                      if (vid, dim) == ("clip", "valence") else np.zeros(75))
            path.write_text("".join(f"{x:.6f}\n" for x in labels))
    root = traces_root(release)
    noise = np.random.default_rng(5).uniform(-1, 1, 40)
    tr.save_trace(root, "valence", "clip", "me", np.linspace(0, SECONDS, 40), noise, SECONDS)
    records = affwild.read(release)
    out, log = relabel(records, release, root)
    assert log[0]["video"] == "clip" and "me" not in log[0]["chosen"] and log[0]["labels_changed"] is False
    assert out[records.index(next(r for r in records if r.video_id == "clip"))] is next(
        r for r in records if r.video_id == "clip")
    base = {"format": "affwild"}
    assert all(_settings(r, base, log) == base for r in out)
