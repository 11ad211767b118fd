"""The frame store: atomic shards, the sequence sampler, quadrant oversampling (Sect. 4.2)."""
from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from affwild_lib import store


def table(videos: dict[str, list[int]]) -> pd.DataFrame:
    rows = [(v, i) for v, frames in videos.items() for i in frames]
    return pd.DataFrame(rows, columns=["video", "frame_index"])


def test_sequences_never_cross_videos_or_gaps():
    t = table({"a": list(range(10)), "b": list(range(7)), "c": [0, 1, 2, 3, 10, 11, 12, 13, 14]})
    w = store.sequences(t, None, length=4, stride=2)
    video, frame = t["video"].to_numpy()[w], t["frame_index"].to_numpy()[w]
    assert (video == video[:, :1]).all()                 # one video per window
    assert (np.diff(frame, axis=1) == 1).all()            # consecutive frames
    assert (np.diff(w, axis=1) == 1).all()
    # a: starts 0,2,4,6 ; b: 0,2 ; c: run 0-3 -> 0 ; run 10-14 -> 10 (next would need 12..15)
    assert len(w) == 4 + 2 + 1 + 1
    assert store.sequences(t, None, length=11).shape == (0, 11)


def test_sequences_can_bridge_dropped_frames_but_not_videos():
    t = table({"a": [0, 1, 2, 5, 6], "b": [0, 1, 2]})
    w = store.sequences(t, None, length=5, stride=1, max_gap=None)
    assert w.tolist() == [[0, 1, 2, 3, 4]]
    assert store.sequences(t, None, length=5, max_gap=1).shape == (0, 5)


def labels(n: int, shares, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.choice(4, size=n, p=shares)
    v = np.where(q % 2 == 0, 1, -1) * rng.uniform(0.01, 1, n)
    a = np.where(q < 2, 1, -1) * rng.uniform(0.01, 1, n)
    return v, a


@pytest.mark.parametrize("mode", ["duplicate", "resample"])
def test_oversampling_reaches_the_paper_proportions(mode):
    v, a = labels(5000, [0.6, 0.2, 0.15, 0.05])
    idx = store.oversample(v, a, seed=0, mode=mode)
    shares = np.bincount(store.quadrant(v[idx], a[idx]), minlength=4) / len(idx)
    tolerance = 0.005 if mode == "duplicate" else 0.03
    np.testing.assert_allclose(shares, store.PAPER_QUADRANTS, atol=tolerance)
    if mode == "duplicate":
        assert set(idx.tolist()) == set(range(len(v)))    # nothing is thrown away
        assert len(idx) > len(v)
    else:
        assert len(idx) == len(v)
    np.testing.assert_array_equal(idx, store.oversample(v, a, seed=0, mode=mode))  # seedable
    assert not np.array_equal(idx, store.oversample(v, a, seed=1, mode=mode)) or mode == "duplicate"


def test_oversampling_target_is_a_parameter_and_empty_quadrants_warn():
    v, a = labels(2000, [0.25, 0.25, 0.25, 0.25])
    idx = store.oversample(v, a, target=(0.1, 0.2, 0.3, 0.4))
    shares = np.bincount(store.quadrant(v[idx], a[idx]), minlength=4) / len(idx)
    np.testing.assert_allclose(shares, [0.1, 0.2, 0.3, 0.4], atol=0.005)
    keep = store.quadrant(v, a) != 3
    with pytest.warns(UserWarning, match="V-A-"):
        idx = store.oversample(v[keep], a[keep])
    shares = np.bincount(store.quadrant(v[keep][idx], a[keep][idx]), minlength=4) / len(idx)
    np.testing.assert_allclose(shares[:3], np.array(store.PAPER_QUADRANTS[:3]) / 0.86, atol=0.005)
    with pytest.raises(ValueError, match="NaN"):
        store.oversample([np.nan], [0.5])


def test_oversampling_sequences_by_their_mean_label():
    t = table({"a": list(range(40)), "b": list(range(40))})
    t["valence"] = np.where(t["video"] == "a", 0.5, -0.5)
    t["arousal"] = np.where(t["frame_index"] < 20, 0.5, -0.5)
    w = store.sequences(t, None, length=5, stride=5)
    picked = store.oversample_sequences(t, None, w)
    mean_v = t["valence"].to_numpy()[picked].mean(1)
    mean_a = t["arousal"].to_numpy()[picked].mean(1)
    shares = np.bincount(store.quadrant(mean_v, mean_a), minlength=4) / len(picked)
    np.testing.assert_allclose(shares, store.PAPER_QUADRANTS, atol=0.02)
    assert (np.diff(picked, axis=1) == 1).all()


def test_shard_writer_is_atomic(tmp_path):
    path = tmp_path / "videos" / "train" / "v.npy"
    writer = store.ShardWriter(path, 8)
    for i in range(3):
        writer.append(np.full((8, 8, 3), i, np.uint8))
    assert not path.exists()                 # nothing final before close
    with pytest.raises(ValueError, match="v.npy"):
        writer.append(np.zeros((4, 4, 3), np.uint8))
    writer.close()
    shard = np.load(path, mmap_mode="r")
    assert isinstance(shard, np.memmap) and shard.shape == (3, 8, 8, 3)
    assert shard[2].max() == 2
    assert not writer.tmp.exists()
    other = store.ShardWriter(tmp_path / "w.npy", 8)
    other.append(np.zeros((8, 8, 3), np.uint8))
    other.abort()
    assert not (tmp_path / "w.npy").exists() and not other.tmp.exists()


def test_is_complete_needs_the_record_and_matching_sizes(tmp_path):
    settings = {"size": 8}
    paths = store.shard_paths(tmp_path, "train", "v")
    writer = store.ShardWriter(paths["frames"], 8)
    writer.append(np.zeros((8, 8, 3), np.uint8))
    size = writer.close()
    store.empty_table().to_parquet(paths["table"])
    assert not store.is_complete(tmp_path, "train", "v", settings)   # no completion record
    record = {"frames_bytes": size, "table_bytes": paths["table"].stat().st_size, "settings": settings}
    store.atomic_write_json(paths["done"], record)
    assert store.is_complete(tmp_path, "train", "v", settings)
    assert not store.is_complete(tmp_path, "train", "v", {"size": 16})
    with open(paths["frames"], "ab") as handle:   # a shard that changed after its record
        handle.write(b"x")
    assert not store.is_complete(tmp_path, "train", "v", settings)


def test_images_read_windows_and_scattered_rows_alike(tmp_path):
    # issue 22: windows are copied as slices of the mapped shard, scattered frames gathered;
    # both must give each row's own crop, in the order asked, across videos
    from conftest import write_toy_store

    fs = store.FrameStore(write_toy_store(tmp_path / "s", {"train": 3}, frames=40, size=8))
    table = fs.table("train")
    def one_by_one(rows):
        return np.stack([fs.shard("train", table["video"].iloc[r])[table["row"].iloc[r]]
                         for r in np.ravel(rows)]).reshape(np.shape(rows) + (8, 8, 3))
    windows = np.array([np.arange(3, 11), np.arange(80, 88), np.arange(36, 44)])  # the last crosses videos
    scattered = np.random.default_rng(0).permutation(len(table))[:30]
    for rows in (windows, scattered, np.array([7]), windows[::-1]):
        got = fs.images("train", rows)
        assert got.shape == np.shape(rows) + (8, 8, 3) and got.dtype == np.uint8
        np.testing.assert_array_equal(got, one_by_one(rows))
    assert fs.images("train", np.zeros((0, 4), np.int64)).shape == (0, 4, 8, 8, 3)
