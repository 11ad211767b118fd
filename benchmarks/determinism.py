"""What TensorFlow's op determinism costs a training run on this machine; asserts nothing.

    python benchmarks/determinism.py [--experiments cnn-vggface affwildnet] [--steps 40] [--repeats 3]

Each run is a separate process (determinism is process-wide, and cannot be switched off once on)
training one tiny-profile experiment for ``--steps`` steps on a toy frame store (32 x 32 crops,
width 1/16), once with ``tf.config.experimental.enable_op_determinism`` and once without; the
seconds of ``model.fit`` alone (tracing included) are printed side by side, and whether the two
gave the same loss. :func:`affwild_lib.engine.seed_everything` turns it on for every run.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(sys.argv[1]) / "tests"))
import keras, numpy as np
from conftest import write_toy_store
from affwild_lib import data as D, engine
from affwild_lib.experiments import resolve
from affwild_lib.store import FrameStore
from affwild_lib.train import build_model
store_dir, name, steps, det = Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"
if not (store_dir / "manifest.parquet").is_file():
    write_toy_store(store_dir)
keras.utils.set_random_seed(0)
if det:
    import tensorflow as tf
    tf.config.experimental.enable_op_determinism()
exp = resolve(name, "tiny", width=1 / 16, input_size=32, seq_len=8, seq_stride=4, batch_size=16,
              store=str(store_dir), data_root=str(store_dir))
store = FrameStore(store_dir)
rows = np.arange(len(store.table("train")))
labels = store.labels("train")
items = D.training_items(store, "train", rows, labels, exp.seq_len if exp.is_rnn else None,
                         exp.seq_stride, False)
data = D.StoreBatches(store, "train", items, labels, exp.batch_size, exp.landmarks, max_steps=steps)
model, _ = build_model(exp)
engine.compile_model(model, exp)
start = time.perf_counter()
fit = model.fit(data, epochs=1, verbose=0, shuffle=False)
print(json.dumps({"seconds": time.perf_counter() - start, "loss": fit.history["loss"][-1]}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--experiments", nargs="+", default=["cnn-vggface", "affwildnet"])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'experiment':<14} {'steps':>5}  {'without (s)':>12}  {'with (s)':>9}  {'ratio':>6}  same loss")
        for name in args.experiments:
            seconds = {"0": [], "1": []}
            losses = {}
            for _ in range(args.repeats):
                for det in ("0", "1"):
                    out = subprocess.run([sys.executable, "-c", CHILD, str(root), tmp, name, str(args.steps), det],
                                         capture_output=True, text=True, env=env, check=True)
                    result = json.loads(out.stdout.strip().splitlines()[-1])
                    seconds[det].append(result["seconds"])
                    losses.setdefault(det, set()).add(round(result["loss"], 7))
            off, on = statistics.median(seconds["0"]), statistics.median(seconds["1"])
            print(f"{name:<14} {args.steps:>5}  {off:>12.2f}  {on:>9.2f}  {on / off:>6.2f}  "
                  f"{losses['0'] == losses['1'] and len(losses['1']) == 1}")
        print(f"medians of {args.repeats} runs each, one process per run")


if __name__ == "__main__":
    main()
