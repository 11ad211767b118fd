"""Shared test machinery: the tiers, and the one toy frame store the training tests use.

Tiers (``pytest -m unit`` etc.; ``make test`` runs them all):

* ``unit``: fast tests of the library's pieces (the default for a test file without a mark);
* ``train``: tests that build, train or run Keras models on toy stores (seconds to a minute each);
* ``pipeline``: ``dvc repro`` of the ``ci`` profile in a throwaway copy of the repository
  (tests/test_pipeline.py): every stage and notebook, the book built with warnings as errors;
* ``browser``: the annotation tool in Debian's Chromium.

A test file says its tier with ``pytestmark = pytest.mark.<tier>``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

TIERS = ("unit", "train", "pipeline", "browser")
#: Crop side of the toy store.
TOY_SIZE = 32


def as_pixels(x) -> np.ndarray:
    """Values in [-1, 1] as the uint8 crops a model takes (``p / 127.5 - 1`` undone)."""
    return np.clip(np.round((np.asarray(x) + 1.0) * 127.5), 0, 255).astype(np.uint8)


_yielded = False


def pytest_runtest_setup(item):
    """Under ``make test``'s two workers the pipeline test is the critical path (about 15 of the
    suite's minutes) and the other worker's tests have time to spare: that worker lowers its own
    priority (nice 10) before its first test, so that the pipeline's stages get the CPU first."""
    global _yielded
    if (not _yielded and os.environ.get("PYTEST_XDIST_WORKER")
            and item.get_closest_marker("pipeline") is None):
        _yielded = True
        try:
            os.nice(10)
        except OSError:  # not permitted here: only slower
            pass


def pytest_collection_modifyitems(config, items):
    for item in items:
        if not any(item.get_closest_marker(t) for t in TIERS):
            item.add_marker(pytest.mark.unit)
    # The pipeline test is the longest by far (one `dvc repro`, about 12 minutes on 2 cores):
    # first, so that under `make test`'s two workers (pytest-xdist, one file per worker) the
    # other tiers run beside it rather than after it.
    items.sort(key=lambda item: item.get_closest_marker("pipeline") is None)


def write_toy_store(root: Path, splits: dict[str, int] | None = None, frames: int = 80,
                    emotions: bool = False, fps: float = 30.0, size: int = TOY_SIZE) -> Path:
    """A frame store of short clips whose labels a small network can learn from the images.

    Per clip ``k``: valence = 0.8 sin(t / 9 + k) sets the brightness, arousal = 0.8 cos(t / 13 +
    2k) the red-blue balance, both smooth in time so that windows make sense. With ``emotions``
    the valence-arousal labels are NaN (as AFEW's) and the clip's emotion, Happy (even k) or
    Angry (odd k), tints it red or blue. Clips are named ``000``, ``001``, ... in split order;
    ``splits`` maps split -> number of clips (default: 6 train, 2 test); ``size``: the crop side.
    """
    from affwild_lib.store import LANDMARK_COLUMNS, ShardWriter, shard_paths, write_manifest

    root = Path(root)
    rng = np.random.default_rng(0)
    records, k = [], 0
    for split, n in (splits or {"train": 6, "test": 2}).items():
        for _ in range(n):
            video, t = f"{k:03d}", np.arange(frames)
            valence, arousal = 0.8 * np.sin(t / 9 + k), 0.8 * np.cos(t / 13 + 2 * k)
            tint = (60 if k % 2 == 0 else -60) if emotions else 0
            writer = ShardWriter(shard_paths(root, split, video)["frames"], size)
            for v, a in zip(valence, arousal):
                base = 127.5 + 100 * v
                pixel = np.array([base + 25 * a + tint, base, base - 25 * a - tint])
                image = pixel + rng.normal(0, 8, (size, size, 3))
                writer.append(np.clip(image, 0, 255).astype(np.uint8))
            writer.close()
            nan = np.full(frames, np.nan, np.float32)
            table = pd.DataFrame({
                "video": video, "split": split, "frame_index": t, "time_s": t / fps,
                "valence": nan if emotions else valence.astype(np.float32),
                "arousal": nan if emotions else arousal.astype(np.float32),
                "emotion": ("Happy" if k % 2 == 0 else "Angry") if emotions else "",
                "row": t, "x0": 0, "y0": 0, "side": size})
            points = rng.uniform(0.2, 0.8, (frames, len(LANDMARK_COLUMNS))).astype(np.float32)
            pd.concat([table, pd.DataFrame(points, columns=LANDMARK_COLUMNS)], axis=1).to_parquet(
                shard_paths(root, split, video)["table"], index=False)
            records.append({"video": video, "split": split, "kept": frames})
            k += 1
    (root / "store.json").write_text(json.dumps({"size": size, "format": "toy"}))
    write_manifest(root, records)
    return root


@pytest.fixture(scope="session")
def toy_store(tmp_path_factory) -> Path:
    """The default toy store (6 training clips, 2 test clips of 80 frames), made once."""
    return write_toy_store(tmp_path_factory.mktemp("toy-store"))
