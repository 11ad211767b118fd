"""The ``paper-synth`` profile end to end on a CPU, on the JAX backend, TensorFlow hidden: a smoke
test of the paper's settings (issue 22); prints a table per stage and writes it as JSON.

    python benchmarks/paper_synth_smoke.py [--out .paper-synth-smoke] [--json FILE]

``paper-synth`` is the ``paper`` profile (width 1, 96 x 96 crops, 80-frame sequences, Sect. 5's
windows) on SynthAffWild, pre-trained in the synthetic world. On a GPU it runs as
``dvc exp run -S profile=paper-synth -S synth.profile=medium``. Here, to fit a CPU, a copy of the
repository (``--out``, git-ignored; the pipeline test's copy machinery) runs it with the
``tiny`` generator profile and a handful of steps at full width:

- every training and fine-tuning: 1 epoch of 2 steps, batches of 4 frames or 1 sequence
  (the paper's 80 frames), 2 AFEW-VA folds;
- the pre-training: 4 classes of 4 images, 1 epoch.

Everything else is the profile's: full width, full crop size, every stage of ``dvc.yaml``
(preparation, pre-training, Sect. 4's experiments, Sect. 5's transfers, the chapters and the
book). ``KERAS_BACKEND=jax``, and ``import tensorflow`` fails in every process (a stand-in
module on ``PYTHONPATH``), as on a GPU machine without TensorFlow: a stage that needs it fails.
The scores mean nothing (two steps); what is checked is that every stage runs. The copy keeps
DVC's state, so a second run resumes after the last stage that finished.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from test_pipeline import sync_copy  # noqa: E402  (the pipeline test's copy of the checkout)

PROFILE = "paper-synth"
#: The smoke's settings over the profile's (see the docstring).
SMOKE = {
    "train": {"epochs": 1, "max_steps_per_epoch": 2, "batch": 4, "rnn_batch": 1},
    "transfer": {"epochs": 1, "max_steps_per_epoch": 2, "batch": 4, "rnn_batch": 1, "folds": 2},
    "pretrain": {"classes": 4, "images_per_class": 4, "val_per_class": 1, "epochs": 1, "batch": 8},
}
NO_TENSORFLOW = 'raise ImportError("TensorFlow is hidden: the paper-synth smoke test runs without it")\n'


def configure(copy: Path) -> dict:
    """The copy's params.yaml: profile paper-synth, the tiny generator, the smoke's settings."""
    path = copy / "params.yaml"
    params = yaml.safe_load(path.read_text())
    params["profile"], params["synth"]["profile"] = PROFILE, "tiny"
    for block, values in SMOKE.items():
        params["profiles"][PROFILE][block].update(values)
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    shim = copy / ".no-tensorflow" / "tensorflow"
    shim.mkdir(parents=True, exist_ok=True)
    (shim / "__init__.py").write_text(NO_TENSORFLOW)
    return params["profiles"][PROFILE]


def repro(copy: Path, log) -> tuple[int, list[dict]]:
    """``dvc repro`` in ``copy``; (exit status, one row per stage run: name, seconds, ok: False
    where DVC reported the stage failed)."""
    env = {**os.environ, "KERAS_BACKEND": "jax", "DVC_NO_ANALYTICS": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": f"{copy / '.no-tensorflow'}{os.pathsep}{copy}"}
    # --keep-going: a stage that fails leaves the stages that do not need it to run, and be seen
    proc = subprocess.Popen(["dvc", "repro", "--keep-going"], cwd=copy, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    rows, started = [], None
    for line in proc.stdout:
        log.write(line)
        log.flush()
        if line.startswith("ERROR: failed to reproduce '"):
            failed = line.split("'")[1]
            for row in rows:
                if row["stage"] == failed:
                    row["ok"] = False
        if line.startswith("Running stage '"):
            now = time.perf_counter()
            if rows:
                rows[-1]["seconds"] = round(now - started, 1)
            rows.append({"stage": line.split("'")[1], "seconds": None, "ok": True})
            started = now
            print(f"  {rows[-1]['stage']}", flush=True)
    code = proc.wait()
    if rows:
        rows[-1]["seconds"] = round(time.perf_counter() - started, 1)
    return code, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / ".paper-synth-smoke",
                        help="the copy of the repository to run in (default .paper-synth-smoke/)")
    parser.add_argument("--json", type=Path, help="where to write the figures (default OUT/smoke.json)")
    args = parser.parse_args()
    copy = sync_copy(args.out.resolve(), PROFILE)
    settings = configure(copy)
    log_path = copy / "smoke.log"
    print(f"paper-synth smoke test in {copy} (log {log_path}), KERAS_BACKEND=jax, TensorFlow hidden")
    wall = time.perf_counter()
    with log_path.open("a") as log:
        code, rows = repro(copy, log)
    wall = time.perf_counter() - wall
    status = subprocess.run(["dvc", "status", "--json"], cwd=copy, capture_output=True, text=True,
                            env={**os.environ, "DVC_NO_ANALYTICS": "1"})
    pending = sorted(json.loads(status.stdout or "{}")) if status.returncode == 0 else ["(dvc status failed)"]
    record = {"profile": PROFILE, "backend": "jax", "tensorflow": "hidden", "exit": code,
              "wall_s": round(wall, 1), "stages_run": rows, "stages_pending": pending,
              "smoke_settings": SMOKE, "train": {k: settings["train"][k] for k in ("width", "input_size", "seq_len")},
              "machine": f"{os.cpu_count()} CPUs"}
    out = args.json or copy / "smoke.json"
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"\n{'stage':<48} {'seconds':>8}  ok")
    for row in rows:
        print(f"{row['stage']:<48} {row['seconds'] or 0:>8.1f}  {'yes' if row['ok'] else 'NO'}")
    print(f"\nexit {code}; {len(rows)} stages run in {wall:.0f} s; still pending: {len(pending)}"
          f"{' (' + ', '.join(pending[:5]) + ')' if pending else ''}; figures in {out}")
    sys.exit(0 if code == 0 and not pending else 1)


if __name__ == "__main__":
    main()
