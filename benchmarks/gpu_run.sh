#!/usr/bin/env bash
# Issue 22's GPU check, as one prepared script: throughput, then as much of the paper-synth
# pipeline as fits, every figure in one JSON file.
#
#   bash benchmarks/gpu_run.sh          # on a GPU machine: JAX and PyTorch, no TensorFlow, no network
#   bash benchmarks/gpu_run.sh --cpu    # the same steps at CPU sizes: to test the script here first
#
# It installs nothing but what it carries: wheels in .whl/ (keras, namex, optree, av for Python
# 3.12; DEVELOPERS.md, "A GPU machine", says how to fetch them and reach the machine), unpacked
# to /tmp/site. Without .whl/ it uses the Python it is given (PYTHON, default python3), as on
# this project's machines. Steps, each under its own time limit (seconds, overridable):
#   1. throughput (THROUGHPUT_S): benchmarks/train_throughput.py, AffWildNet (Table 8) at 96 x 96
#      on 80-frame sequences: Keras on JAX, mixed bfloat16, beside PyTorch eager and
#      torch.compile, the same network, bf16, in one process;
#   2. data (DATA_S): SynthAffWild (`affwild synth`, small on a GPU, tiny with --cpu) and its
#      frame store at the paper-synth profile's 96 x 96 (`affwild prepare`, the generator's
#      landmarks: dlib's models are not carried);
#   3. training (TRAIN_S): `affwild train affwildnet --profile paper-synth` (full width, the
#      paper's 80 x 80-frame batches on a GPU; --cpu: 1 sequence, 2 steps), on JAX.
# Writes $OUT/gpu_run.json (OUT: the folder to write to; default ./_gpu_run) with each
# step's exit status and seconds, the throughput table and the training's train.json,
# metrics.json and history.csv (seconds per epoch), then prints it. A step past its limit
# is recorded as such and the next runs.
set -uo pipefail
cd "$(dirname "$0")/.."
MODE=gpu
[ "${1:-}" = "--cpu" ] && MODE=cpu
OUT_DIR="${OUT:-$PWD/_gpu_run}"
WORK="${WORK:-/tmp/affwild-gpu-run}"
PY="${PYTHON:-python3}"
mkdir -p "$OUT_DIR" "$WORK"
if compgen -G ".whl/*.whl" >/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || { echo "gpu_run: the carried wheels did not install" >&2; exit 1; }
  export PYTHONPATH="/tmp/site:$PWD"
else
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
export KERAS_BACKEND=jax TF_CPP_MIN_LOG_LEVEL=2 PYTHONUNBUFFERED=1
if [ "$MODE" = gpu ]; then
  THROUGHPUT_ARGS="--bf16 --sizes 96 --batch 4 --seq-len 80 --steps 20 --warmup 3"
  SYNTH=small; TRAIN_SET="--set epochs=2"
else
  THROUGHPUT_ARGS="--bf16 --cpu-small --sizes 48"
  SYNTH=tiny; TRAIN_SET="--set epochs=1 --set batch_size=1 --set max_steps_per_epoch=2"
fi
STEPS="$WORK/steps.tsv"
: >"$STEPS"

step() {  # step NAME LIMIT_S COMMAND...: run it under a time limit, log it, record status and seconds
  local name=$1 limit=$2
  shift 2
  local started=$SECONDS
  echo "gpu_run: $name (limit ${limit} s): $*"
  timeout "$limit" "$@" >"$OUT_DIR/$name.log" 2>&1
  local code=$?
  printf '%s\t%s\t%s\n' "$name" "$code" "$((SECONDS - started))" >>"$STEPS"
  tail -n 15 "$OUT_DIR/$name.log"
  [ "$code" -eq 124 ] && echo "gpu_run: $name ran past ${limit} s"
  return 0
}

"$PY" -c "import jax; print('gpu_run: jax', jax.__version__, jax.devices())" || true
step throughput "${THROUGHPUT_S:-240}" "$PY" benchmarks/train_throughput.py $THROUGHPUT_ARGS \
  --json "$OUT_DIR/throughput.json"
step synth "${DATA_S:-240}" "$PY" -m affwild_lib synth --profile "$SYNTH" --seed 0 \
  --out "$WORK/synth" --no-progress
step prepare "${DATA_S:-240}" "$PY" -m affwild_lib prepare --format affwild "$WORK/synth/affwild" \
  --profile paper-synth --landmarks truth --out "$WORK/prepared/affwild" --no-progress
step train "${TRAIN_S:-300}" "$PY" -m affwild_lib train affwildnet --profile paper-synth \
  --set "store=$WORK/prepared/affwild" --set "data_root=$WORK/synth/affwild" $TRAIN_SET --out "$WORK/affwildnet" --no-progress

"$PY" - "$STEPS" "$OUT_DIR" "$WORK" "$MODE" <<'EOF'
import json, os, sys
from pathlib import Path

steps, out, work, mode = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
def read(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
record = {"mode": mode, "backend": os.environ.get("KERAS_BACKEND"), "cpus": os.cpu_count(),
          "steps": [{"step": s, "exit": int(c), "seconds": int(t), "timed_out": c == "124"}
                    for s, c, t in (line.split("\t") for line in steps.read_text().splitlines())],
          "throughput": read(out / "throughput.json"),
          "train": read(work / "affwildnet" / "train.json"),
          "metrics": read(work / "affwildnet" / "metrics.json")}
history = work / "affwildnet" / "history.csv"  # per epoch: loss, validation CCC, seconds
if history.is_file():
    import csv
    record["history"] = list(csv.DictReader(history.open()))
try:
    import jax
    record["devices"] = [str(d) for d in jax.devices()]
except Exception as error:  # the record still says what ran
    record["devices"] = f"jax did not start: {error}"
(out / "gpu_run.json").write_text(json.dumps(record, indent=2) + "\n")
print(json.dumps(record, indent=2)[:6000])
EOF
