"""SynthAffWild: layouts as book/data_formats.md describes them, honesty, determinism, the signal.

The `tiny` profile is generated once per session. The files are parsed here with a few
lines each, on purpose independent of `affwild_lib.datasets`.
"""
import csv
import json
from collections import Counter
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from affwild_lib.annotation import fuse, match_to_frames
from affwild_lib.synth import PROFILES, generate
from affwild_lib.synth.plan import plan
from affwild_lib.synth.writers import run_job

EMOTIONS = {"Angry", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise"}


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "data"
    summary = generate("tiny", out, seed=0, progress=False)
    return out, summary


def ccc(x, y):
    """Pooled CCC with biased moments, as the official Aff-Wild evaluation."""
    mx, my = x.mean(), y.mean()
    return 2 * np.mean((x - mx) * (y - my)) / (x.var() + y.var() + (mx - my) ** 2)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def read_labels(path):
    return np.array([float(line) for line in Path(path).read_text().splitlines()])


def read_raw(path):
    rows = read_csv(path)
    assert list(rows[0]) == ["time_s", "value"]
    return (np.array([float(r["time_s"]) for r in rows]),
            np.array([float(r["value"]) for r in rows]))


def read_arff(path):
    lines = Path(path).read_text().splitlines()
    data = lines.index("@data")
    header = [ln for ln in lines[:data] if ln.startswith("@attribute")]
    assert lines[0].startswith("@relation")
    assert header == ["@attribute Instance_name string", "@attribute frameTime numeric",
                      "@attribute GoldStandard numeric"]
    rows = [ln.split(",") for ln in lines[data + 1:] if ln.strip()]
    return [r[0] for r in rows], np.array([[float(r[1]), float(r[2])] for r in rows])


def video_info(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        n = sum(1 for _ in container.decode(stream))
        return n, float(stream.average_rate), (stream.width, stream.height)


def truth(root, dataset, video):
    return np.load(root / dataset / "synth_truth" / f"{video}.npz")


# -- layouts ---------------------------------------------------------------------------------

def test_summary_and_honesty(tiny):
    out, summary = tiny
    assert set(summary["datasets"]) == {"affwild", "recola", "afew-va", "afew"}
    for d in summary["datasets"].values():
        assert d["videos"] > 0 and d["frames"] > 0 and d["bytes"] > 0 and d["seconds"] > 0
    text = (out / "SYNTHETIC.md").read_text()
    assert "synthetic" in text.lower() and "tiny" in text
    assert json.loads((out / "synth_summary.json").read_text())["seed"] == 0
    assert not list(out.parent.glob(f".{out.name}.*")), "temporary folders left behind"


def test_affwild_layout(tiny):
    out, _ = tiny
    root = out / "affwild"
    videos = read_csv(root / "synth_truth" / "videos.csv")
    assert {v["split"] for v in videos} == {"train", "test"}
    for v in videos:
        (media,) = list((root / "videos" / v["split"]).glob(f"{v['video']}.*"))
        assert media.suffix in {".mp4", ".avi"}
        labels = {d: read_labels(root / "annotations" / v["split"] / d / f"{v['video']}.txt")
                  for d in ("valence", "arousal")}
        for d, y in labels.items():
            assert len(y) == int(v["frames"]) and np.all(np.abs(y) <= 1)
            raw = sorted((root / "annotations_raw" / d / v["video"]).glob("*.csv"))
            assert 6 <= len(raw) <= 8
    n, fps, size = video_info(media)  # the last one
    assert n == int(videos[-1]["frames"]) and abs(fps - 30) < 0.1 and size == (320, 180)


def test_affwild_labels_are_sect34_fusion_of_raw_traces(tiny):
    out, _ = tiny
    root = out / "affwild"
    v = read_csv(root / "synth_truth" / "videos.csv")[0]
    times = truth(out, "affwild", v["video"])["frame_times"]
    for d in ("valence", "arousal"):
        folder = root / "annotations_raw" / d / v["video"]
        raw = {p.stem: read_raw(p) for p in folder.glob("*.csv")}
        labels, chosen = fuse(raw, times)
        stored = read_labels(root / "annotations" / v["split"] / d / f"{v['video']}.txt")
        np.testing.assert_allclose(stored, labels, atol=1e-6)
        assert 2 <= len(chosen) <= 4


def test_recola_layout(tiny):
    out, _ = tiny
    root = out / "recola"
    for split in ("train", "dev", "test"):
        for k in (1, 2, 3):
            name = f"{split}_{k}"
            n, fps, _ = video_info(root / "recordings_video" / f"{name}.mp4")
            assert fps == 25
            for d in ("arousal", "valence"):
                names, rows = read_arff(root / "ratings_gold_standard" / d / f"{name}.arff")
                assert set(names) == {name}
                assert len(rows) == n + 1  # 0 .. end inclusive, like 7,501 rows for 300 s
                np.testing.assert_allclose(rows[:, 0], np.arange(n + 1) * 0.04, atol=1e-9)
                assert np.all(np.abs(rows[:, 1]) <= 1)
            assert truth(out, "recola", name)["raters_valence"].shape == (6, n + 1)
    assert (root / "ratings_gold_standard" / "arousal" / "dev_1.arff").read_text() \
        .splitlines()[-1].startswith("dev_1,")


def test_afew_va_layout(tiny):
    out, _ = tiny
    root = out / "afew-va"
    clips = sorted(p for p in root.iterdir() if p.is_dir() and p.name != "synth_truth")
    assert len(clips) == PROFILES["tiny"].afew_va.clips
    for clip in clips:
        meta = json.loads((clip / f"{clip.name}.json").read_text())
        assert meta["video_id"] == clip.name and len(clip.name) == 3
        pngs = sorted(clip.glob("*.png"))
        assert [p.stem for p in pngs] == sorted(meta["frames"])
        assert pngs[0].name == "00000.png"
        for frame in meta["frames"].values():
            assert isinstance(frame["valence"], int) and -10 <= frame["valence"] <= 10
            assert isinstance(frame["arousal"], int) and -10 <= frame["arousal"] <= 10
            assert np.array(frame["landmarks"]).shape == (68, 2)
    w, h = Image.open(pngs[0]).size
    marks = np.array(frame["landmarks"])
    assert 0 < marks[:, 0].mean() < w and 0 < marks[:, 1].mean() < h  # the PNG's pixel frame


def test_afew_layout_and_imbalance(tiny):
    out, _ = tiny
    root = out / "afew"
    counts = Counter()
    for split in ("Train_AFEW", "Val_AFEW"):
        for clip in (root / split).glob("*/*.avi"):
            assert clip.parent.name in EMOTIONS
            counts[clip.parent.name] += 1
    assert set(counts) == EMOTIONS
    size = PROFILES["tiny"].afew
    assert sum(counts.values()) == size.train_clips + size.val_clips
    # Sect. 2.2: "quite imbalanced (fear, disgust, surprise)".
    assert max(counts[e] for e in ("Disgust", "Fear", "Surprise")) < \
        min(counts[e] for e in ("Angry", "Happy", "Neutral"))
    n, fps, _ = video_info(clip)
    assert fps == 25 and n >= PROFILES["tiny"].afew.frames[0]


def test_ground_truth_and_person_independence(tiny):
    out, _ = tiny
    for dataset in ("affwild", "recola", "afew-va", "afew"):
        subjects = read_csv(out / dataset / "synth_truth" / "subjects.csv")
        assert len({s["subject"] for s in subjects}) == len(subjects)  # one row, one split
        assert {s["sex"] for s in subjects} == {"M", "F"}
        videos = read_csv(out / dataset / "synth_truth" / "videos.csv")
        split_of = {s["subject"]: s["split"] for s in subjects}
        for v in videos:
            assert split_of[v["subject"]] == v["split"]
            assert v["video"] in next(s["videos"].split() for s in subjects
                                      if s["subject"] == v["subject"])
        z = truth(out, dataset, videos[0]["video"])
        n = int(videos[0]["frames"])
        assert z["landmarks"].shape == (n, 68, 2) and z["valence"].shape == (n,)
        assert np.all(np.abs(z["valence"]) <= 1) and np.all(np.abs(z["arousal"]) <= 1)
        assert str(z["subject"]) == videos[0]["subject"]


def test_refuses_to_overwrite_foreign_folder(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        generate("tiny", tmp_path, progress=False)
    with pytest.raises(ValueError, match="profile"):
        generate("huge", tmp_path / "x", progress=False)
    assert {"tiny", "small", "medium"} <= set(PROFILES)


# -- determinism -----------------------------------------------------------------------------

def test_same_seed_same_bytes_other_seed_other_labels(tiny, tmp_path):
    out, _ = tiny
    jobs = plan(0, PROFILES["tiny"])
    for dataset in jobs:
        run_job(jobs[dataset][0], tmp_path)  # in-process; the fixture used worker processes
    first = jobs["affwild"][0]
    rel = [Path("affwild/annotations") / first.split / d / f"{first.video}.txt"
           for d in ("valence", "arousal")]
    rel += [Path("recola/ratings_gold_standard/arousal/train_1.arff"),
            Path("afew-va") / jobs["afew-va"][0].video / f"{jobs['afew-va'][0].video}.json",
            Path("affwild/videos") / first.split / f"{first.video}{first.ext}"]
    for r in rel:
        assert (tmp_path / r).read_bytes() == (out / r).read_bytes(), r
    other = plan(1, PROFILES["tiny"])["affwild"][0]
    run_job(other, tmp_path / "seed1")
    a = read_labels(out / rel[0])
    b = read_labels(tmp_path / "seed1" / "affwild/annotations" / other.split / "valence"
                    / f"{other.video}.txt")
    assert len(a) != len(b) or not np.allclose(a, b)


# -- the signal ------------------------------------------------------------------------------

def _pose_free(landmarks):
    """Centre, undo the roll (eye line) and scale each frame: what is left is expression,
    identity and yaw."""
    c = landmarks - landmarks.mean(axis=1, keepdims=True)
    eye = landmarks[:, 45] - landmarks[:, 36]
    a = np.arctan2(eye[:, 1], eye[:, 0])
    rot = np.stack([np.stack([np.cos(a), np.sin(a)], -1),
                    np.stack([-np.sin(a), np.cos(a)], -1)], -2)
    c = np.einsum("tij,tnj->tni", rot, c)
    c /= np.sqrt((c ** 2).sum(axis=(1, 2), keepdims=True) / 68)
    return c.reshape(len(c), -1)


def test_landmarks_predict_affect_of_unseen_subjects(tiny):
    out, _ = tiny
    videos = read_csv(out / "affwild" / "synth_truth" / "videos.csv")
    data = {"train": ([], []), "test": ([], [])}
    for v in videos:
        z = truth(out, "affwild", v["video"])
        data[v["split"]][0].append(_pose_free(z["landmarks"]))
        data[v["split"]][1].append(np.stack([z["valence"], z["arousal"]], 1))
    x, y = (np.concatenate(a) for a in data["train"])
    xt, yt = (np.concatenate(a) for a in data["test"])
    mu, sd = x.mean(0), x.std(0) + 1e-6
    a = (x - mu) / sd
    w = np.linalg.solve(a.T @ a + 30.0 * np.eye(a.shape[1]), a.T @ (y - y.mean(0)))
    pred = ((xt - mu) / sd) @ w + y.mean(0)
    assert ccc(yt[:, 0], pred[:, 0]) > 0.3, "valence"
    assert ccc(yt[:, 1], pred[:, 1]) > 0.3, "arousal"


def test_fused_label_tracks_latent_better_than_one_annotator(tiny):
    out, _ = tiny
    root = out / "affwild"
    rng = np.random.default_rng(0)
    fused, single = [], []
    for v in read_csv(root / "synth_truth" / "videos.csv"):
        z = truth(out, "affwild", v["video"])
        for d in ("valence", "arousal"):
            latent = z[d]
            labels = read_labels(root / "annotations" / v["split"] / d / f"{v['video']}.txt")
            raw = sorted((root / "annotations_raw" / d / v["video"]).glob("*.csv"))
            one = match_to_frames(*read_raw(raw[rng.integers(len(raw))]), z["frame_times"])
            fused.append(ccc(latent, labels))
            single.append(ccc(latent, one))
    assert np.mean(fused) > np.mean(single) + 0.05


def test_affect_distribution_like_figs_6_and_10(tiny):
    out, _ = tiny
    root = out / "affwild"
    va = []
    for v in read_csv(root / "synth_truth" / "videos.csv"):
        va.append(np.stack([read_labels(root / "annotations" / v["split"] / d /
                                        f"{v['video']}.txt") for d in ("valence", "arousal")], 1))
    va = np.concatenate(va)
    assert va[:, 0].mean() > 0  # more positive than negative valence
    for sv, sa in ((1, 1), (-1, 1), (-1, -1), (1, -1)):
        assert np.mean((np.sign(va[:, 0]) == sv) & (np.sign(va[:, 1]) == sa)) > 0.01


@pytest.mark.parametrize("fmt", ["affwild", "recola", "afew-va", "afew"])
def test_the_real_format_readers_load_it(tiny, fmt):
    """One code path for real and synthetic data: the readers of affwild_lib.datasets, written
    against hand-made files in the real layouts, read the generated copy without complaint."""
    from affwild_lib import datasets

    out, summary = tiny
    checked = datasets.check(fmt, out / fmt)
    assert checked.get("videos", checked.get("clips")) == summary["datasets"][fmt]["videos"]
    if fmt != "afew":
        assert checked["labelled_frames"] > 0
        assert -1 <= checked["labels"]["valence"]["min"] < 0 < checked["labels"]["valence"]["max"] <= 1
    assert not any(checked["dropped"].values())
