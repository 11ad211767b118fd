"""The training data path: batches from the frame store as ``affwild train`` builds them; prints a
table, asserts nothing (issue 22).

    python benchmarks/data_path.py [--store-frames 20000] [--batches 20] [--workers 2 4] [--repeats 5]

What is measured is the paper profile's AffWildNet batch: 80 sequences of 80 consecutive
96 x 96 frames each, with their landmarks and labels, the windows drawn as ``train`` draws them
(:func:`affwild_lib.data.training_items`: windows of one video, quadrant oversampling), read by
:class:`affwild_lib.data.StoreBatches` from memory-mapped shards. Rows, old beside new:

- **before**: the store's gather as it was (one fancy-index gather per video, then a copy into
  the batch) and the images normalised to float32 [-1, 1] in NumPy, as the batches were built
  until issue 22;
- **now**: uint8 crops (the model normalises them on the device, ``models.heads.pixels``), each
  window one slice copy from the mapped file; one thread, then through Keras' own iterator over
  a ``PyDataset`` with ``--workers`` threads (what ``model.fit`` consumes);
- **ceiling**: one ``memcpy`` of a batch's bytes, RAM to RAM: what a copy of the store can reach
  on this machine.

The store is synthetic noise written here (the contents do not matter to a copy), in the page
cache once written: a real store of Aff-Wild (1.1 M crops at 96 x 96, 30 GB) stays there on a
machine with the RAM for it, after the first epoch. Target: >= 30,000 frames/s on this
project's 2-core machine, a GPU at torch.compile's speed trains about 25,000 (issue 22).
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from affwild_lib import store

SIZE, SEQ_LEN, BATCH = 96, 80, 80  # the paper profile's AffWildNet batch (Sect. 4.2.1.3)


def write_store(work: Path, n_frames: int, videos: int = 10, size: int = SIZE) -> store.FrameStore:
    """A store of ``videos`` videos of noise crops, labels and landmarks, ``n_frames`` in all."""
    rng = np.random.default_rng(0)
    per_video = n_frames // videos
    records = []
    tile = rng.integers(0, 255, (per_video, size, size, 3), dtype=np.uint8)
    for v in range(videos):
        paths = store.shard_paths(work, "train", f"v{v}")
        writer = store.ShardWriter(paths["frames"], size)
        for image in tile:
            writer.append(image)
        writer.close()
        table = store.empty_table().reindex(range(per_video))
        table["video"], table["split"], table["frame_index"] = f"v{v}", "train", np.arange(per_video)
        table["row"] = np.arange(per_video)
        table[["valence", "arousal"]] = rng.uniform(-1, 1, (per_video, 2)).astype(np.float32)
        table[store.LANDMARK_COLUMNS] = rng.uniform(0, 1, (per_video, len(store.LANDMARK_COLUMNS))).astype(np.float32)
        table[["x0", "y0", "side"]] = 0
        table.to_parquet(paths["table"], index=False)
        records.append({"video": f"v{v}", "split": "train"})
    store.atomic_write_json(work / store.STORE_FILE, {"size": size})
    store.write_manifest(work, records)
    return store.FrameStore(work)


def gather_before(fs: store.FrameStore, split: str, rows: np.ndarray) -> np.ndarray:
    """``FrameStore.images`` as it was at 32571f9 (kept here to time it beside the new one)."""
    flat = rows.ravel()
    out = np.empty((flat.size, fs.size, fs.size, 3), dtype=np.uint8)
    codes, names = fs._codes[split]
    wanted, shard_rows = codes[flat], fs._rows[split][flat]
    order = np.argsort(wanted, kind="stable")
    bounds = np.flatnonzero(np.diff(wanted[order])) + 1
    for group in np.split(order, bounds):
        shard = fs.shard(split, names[wanted[group[0]]])
        out[group] = shard[shard_rows[group]]
    return out.reshape(rows.shape + (fs.size, fs.size, 3))


def normalise_before(images: np.ndarray) -> np.ndarray:
    """``faces.normalise`` as it was: uint8 -> float32 ``x / 127.5 - 1`` in NumPy."""
    out = np.multiply(images, np.float32(1.0 / 127.5), dtype=np.float32)
    return np.subtract(out, np.float32(1.0), out=out)


def timed(fn, frames: int, repeats: int) -> list[tuple[float, float]]:
    """Per pass of ``fn`` (``repeats`` of them): (frames per wall second, frames per CPU second
    of this process)."""
    out = []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        out.append((frames / wall, frames / max(cpu, 1e-9)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store-frames", type=int, default=20000, help="crops in the benchmark store (default 20000)")
    parser.add_argument("--batches", type=int, default=20, help="batches timed per row (default 20)")
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 4],
                        help="PyDataset worker threads to time (default: 2 4)")
    parser.add_argument("--repeats", type=int, default=5, help="passes timed per row (default 5)")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from keras.src.trainers.data_adapters.py_dataset_adapter import PyDatasetAdapter

    from affwild_lib import data as D

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (1 min) at start")
    with tempfile.TemporaryDirectory() as tmp:
        fs = write_store(Path(tmp) / "store", args.store_frames)
        n = len(fs.table("train"))
        labels = fs.labels("train")
        items = D.training_items(fs, "train", np.arange(n), labels, SEQ_LEN, SEQ_LEN // 2,
                                 oversampling=True, seed=0)
        def batches(workers):
            return D.StoreBatches(fs, "train", items, labels, BATCH, landmarks=True, seed=0,
                                  max_steps=args.batches, workers=workers)
        one = batches(1)
        k = len(one)
        frames = k * BATCH * SEQ_LEN
        print(f"store: {n} crops of {SIZE} x {SIZE}; {len(items)} training windows of {SEQ_LEN} "
              f"(oversampled); {k} batches of {BATCH} x {SEQ_LEN} frames with landmarks\n")
        for index in range(k):  # touch every page once, so no row pays the first read
            gather_before(fs, "train", one.rows(index))
        rows = []

        def before():
            for index in range(k):
                r = one.rows(index)
                _ = (normalise_before(gather_before(fs, "train", r)), one.points[r]), labels[r]
        rows.append(("before: gather, then float32 [-1, 1] in NumPy (1 thread)", timed(before, frames, args.repeats)))
        rows.append(("now: uint8, a slice copy per window (1 thread)",
                     timed(lambda: [one[i] for i in range(k)], frames, args.repeats)))
        for workers in args.workers:
            adapter = PyDatasetAdapter(batches(workers), shuffle=False)
            def through_keras():
                for _ in adapter.get_numpy_iterator():
                    pass
                adapter.on_epoch_end()
            rows.append((f"now: through Keras' PyDataset iterator, {workers} worker threads",
                         timed(through_keras, frames, args.repeats)))
        batch = one[0][0][0]
        target = np.empty_like(batch)
        rows.append(("ceiling: memcpy of a batch's crops, RAM to RAM",
                     timed(lambda: [np.copyto(target, batch) for _ in range(k)], frames, args.repeats)))
    print(f"{frames} frames a pass, {args.repeats} passes a row; frames/s (wall) median [min - max], "
          "then each pass, then the median per CPU-second of this process")
    print(f"{'':<62} {'median':>8} {'range':>17}  passes")
    for name, passes in rows:
        wall = np.array([w for w, _ in passes])
        cpu = np.median([c for _, c in passes])
        print(f"{name:<62} {np.median(wall):>8.0f} [{wall.min():>6.0f} - {wall.max():>6.0f}]  "
              + " ".join(f"{w:.0f}" for w in wall) + f"  (CPU {cpu:.0f})")
    print(f"\nload average {os.getloadavg()[0]:.2f} (1 min) at the end; target >= 30,000 frames/s")


if __name__ == "__main__":
    main()
