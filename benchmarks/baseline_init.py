"""Why the miniatures start CNN-M's FC layers from Keras' default (issue 23): the challenge
baseline trained on a profile twice, with Sect. 4.1.1's FC start (``fc_init=paper``: truncated
normal of variance 0.1, biases 1) and with Glorot-uniform weights and zero biases
(``fc_init=glorot``), everything else as the profile trains it. For each, the MSE on its own
training frames (inference mode and with batch statistics), on the held-out validation
subjects and on the test split, beside the constant predictor (the training labels' mean).

    .venv/bin/python benchmarks/baseline_init.py [--profile tiny] [--out /tmp/baseline_init]

Needs the profile's frame store and CNN-M's pre-training (``dvc repro prepare-affwild
pretrain@cnn_m``). Prints one line of JSON per start; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np


def run(profile: str, fc_init: str, out: str) -> dict:
    import keras

    from affwild_lib import data as D
    from affwild_lib import train as T
    from affwild_lib.experiments import resolve

    name = "baseline-cnnm"
    start = time.time()
    record = T.train(name, profile, out=out, resume=False, verbose=0, evaluate_after=False, fc_init=fc_init)
    exp = T._sect4(resolve(name, profile, fc_init=fc_init))
    store, train_rows, val_rows, _, _, release, _ = T.prepare_data(exp)
    model = keras.saving.load_model(f"{out}/model.keras", compile=False)
    constant = release[train_rows].mean(0)

    def mse(split, rows, labels):
        x = D.inputs_for(store, split, rows, None)
        inference = np.asarray(model.predict(x, batch_size=80, verbose=0))
        batch_stats = np.concatenate([np.asarray(model(x[i:i + 80], training=True)) for i in range(0, len(rows), 80)])
        r = lambda p: [round(float(v), 3) for v in ((p - labels) ** 2).mean(0)]  # noqa: E731
        return {"inference": r(inference), "batch_statistics": r(batch_stats),
                "constant": r(np.broadcast_to(constant, labels.shape)),
                "prediction_sd": [round(float(v), 3) for v in inference.std(0)]}

    test = np.arange(len(store.table("test")))
    train_rows = train_rows[:800]
    return {"fc_init": fc_init, "profile": profile, "epoch_chosen": record["epoch_chosen"],
            "mse_train_frames": mse("train", train_rows, release[train_rows]),
            "mse_validation": mse("train", val_rows, release[val_rows]),
            "mse_test": mse("test", test, store.labels("test")), "seconds": round(time.time() - start)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--out", default="/tmp/baseline_init", help="where the two runs train")
    args = parser.parse_args()
    for fc_init in ("paper", "glorot"):
        print(json.dumps(run(args.profile, fc_init, f"{args.out}/{fc_init}")), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
